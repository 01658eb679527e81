"""The receipt and label stylesheets are served from the receipts package itself (one copy, no drift)."""

from receipts.html import RECEIPT_CSS
from receipts.labels import LABEL_SHEET_CSS


def test_the_package_stylesheets_are_served(app):
    client = app.test_client()
    for name, css in (("receipt", RECEIPT_CSS), ("labels", LABEL_SHEET_CSS)):
        response = client.get(f"/css/{name}.css")
        assert response.status_code == 200 and response.mimetype == "text/css" and response.text == css
    assert client.get("/css/secret.css").status_code == 404
