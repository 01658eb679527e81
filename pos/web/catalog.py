"""(being written)"""

from flask import Blueprint, render_template

from pos.permissions import require

bp = Blueprint("catalog", __name__, url_prefix="/produk")


@bp.get("/")
@require("catalog.view")
def index():
    return render_template("base.html")
