"""(being written)"""

from flask import Blueprint, render_template

from pos.permissions import require

bp = Blueprint("stock_reports", __name__, url_prefix="/stok")


@bp.get("/")
@require("stock.view")
def index():
    return render_template("base.html")
