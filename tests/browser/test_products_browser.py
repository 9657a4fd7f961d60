"""In real browsers: an admin creates a product with a photo and a Wholesale price, and it
appears by itself in a Wholesale and a Standard customer's open catalogues, each with the
offer of its own group."""

import io

import pytest
from PIL import Image

from tests.conftest import wait_live
from tests.costs import shows

pytestmark = pytest.mark.browser

SKU = "SEN-QX7741"
WITHIN = 3000  # ms: the push, then the list re-fetching itself


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 110, 200)).save(out, "PNG")
    return out.getvalue()


def open_catalogue(page):
    page.goto(f"/shop/?q={SKU}")
    page.wait_for_selector("#catalog-results .empty")
    wait_live(page)


def offer_text(page, part: str) -> str:
    return page.locator(f'[data-sku="{SKU}"] .{part}').first.inner_text()


def test_a_new_product_with_a_photo_appears_live_in_each_groups_catalogue(sign_in):
    wholesale = sign_in("orders@acme.test")
    standard = sign_in("orders@carpathia.test")
    admin = sign_in("admin@portal.test")
    for page in (wholesale, standard):
        open_catalogue(page)
    violations = []
    admin.on("console", lambda m: violations.append(m.text) if "Security" in m.text else None)

    admin.goto("/office/products/new")
    admin.fill("input[name=sku]", SKU)
    admin.fill("input[name=name]", "QX7741 air quality sensor")
    admin.select_option("select[name=category]", label="Semiconductors › Sensors")
    admin.fill("input[name=base_price]", "3.20")
    admin.fill("input[name=cost]", "1.15")
    admin.get_by_label("Wholesale price (EUR)").fill("2.75")
    admin.fill("input[name=stock]", "120")
    admin.fill("#spec-key-1", "Interface")
    admin.fill("#spec-value-1", "I2C")
    admin.set_input_files(
        "input[name=photos]",
        files=[{"name": "front.png", "mimeType": "image/png", "buffer": png()}],
    )
    admin.get_by_role("button", name="Create the product").click()
    admin.wait_for_selector("text=is created and on sale")

    # The product page shows the photo's thumbnail, really served and decoded.
    thumbnail = admin.locator(".photo-list img").first
    thumbnail.wait_for()
    admin.wait_for_function(
        "() => { const i = document.querySelector('.photo-list img'); "
        "return i && i.complete && i.naturalWidth === 320; }"
    )
    assert "€1.15" in admin.locator(".product-facts").inner_text()

    # No reload: each open catalogue re-fetches itself, with its group's offer.
    wholesale.wait_for_selector(f'[data-sku="{SKU}"]', timeout=WITHIN)
    standard.wait_for_selector(f'[data-sku="{SKU}"]', timeout=WITHIN)
    assert offer_text(wholesale, "price") == "€2.75"
    assert offer_text(wholesale, "stock") == "120 in stock"
    assert offer_text(standard, "price") == "€3.20"
    assert offer_text(standard, "stock") == "Many"
    assert "120" not in standard.locator(f'[data-sku="{SKU}"]').inner_text()
    assert not shows(wholesale.content(), "1.15") and not shows(standard.content(), "1.15")

    # The storefront product page shows the photo too.
    wholesale.locator(".product-card__name", has_text="QX7741").click()
    wholesale.wait_for_function(
        "() => { const i = document.querySelector('.product__photo'); "
        "return i && i.complete && i.naturalWidth === 320; }"
    )
    assert violations == []
