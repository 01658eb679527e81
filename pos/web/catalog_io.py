"""(being written)"""

from flask import Blueprint, render_template

from pos.permissions import require

bp = Blueprint("catalog_io", __name__, url_prefix="/produk/berkas")


@bp.get("/")
@require("catalog.manage")
def index():
    return render_template("base.html")
