"""The warehouse forms' product type-ahead in a real browser (Debian's Chromium; skipped without it): typing part of
a name offers matching products under the field, and a chosen one puts its SKU there; a scanned barcode is left
alone and the form resolves it on the server."""

from __future__ import annotations

from tests.e2e.test_browser import browser, page, recorder, sign_in_by_keyboard  # noqa: F401 (fixtures)


def options_of(page, field: str) -> list[dict]:  # noqa: F811
    return page.evaluate(
        """(name) => {
             const input = document.querySelector(`input[name="${name}"]`);
             const list = input && input.list;
             return list ? Array.from(list.options).map((o) => ({value: o.value, label: o.label})) : [];
           }""",
        field,
    )


def test_a_receipt_line_offers_products_by_name_and_keeps_a_scanned_code(page, recorder):  # noqa: F811
    sign_in_by_keyboard(page, "gudang", "demo123")
    page.goto("/gudang/penerimaan")
    field = page.locator('input[name="sku_0"]')
    field.click()
    page.keyboard.type("beras pandan")
    page.wait_for_function(
        """() => { const l = document.querySelector('input[name="sku_0"]').list; return l && l.options.length > 0; }""")
    offered = options_of(page, "sku_0")
    assert offered and all("Pandan" in option["label"] for option in offered)
    field.fill(offered[0]["value"])  # what choosing the suggestion does: the SKU in the field
    assert field.input_value() == offered[0]["value"] and " " not in offered[0]["value"]

    other = page.locator('input[name="sku_1"]')
    other.click()
    page.keyboard.type("8999999002503")  # a barcode, as a scanner types it: never searched
    page.wait_for_timeout(600)
    assert options_of(page, "sku_1") == []
    assert any("/api/v1/products/search" in url for url in recorder.requests)
    assert not any("q=8999999002503" in url for url in recorder.requests)
    recorder.assert_offline()
    assert not recorder.errors, recorder.errors
