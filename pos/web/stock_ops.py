"""(being written)"""

from flask import Blueprint, render_template

from pos.permissions import require

bp = Blueprint("stock_ops", __name__, url_prefix="/gudang")


@bp.get("/")
@require("stock.manage")
def index():
    return render_template("base.html")
