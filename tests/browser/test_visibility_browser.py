"""What a group may see, in real browsers: staff hide a product from a group on its page,
and the group's open pages let go of it at once (its product page says it is no longer
available, the catalogue drops it); another group's pages stay as they were; showing it
again brings it back."""

import pytest
from sqlalchemy import select

from core.models import CustomerGroup, Product
from extensions import db
from tests.conftest import wait_live

pytestmark = pytest.mark.browser

WITHIN = 2000  # ms
RELAY = "RLY-AQY212"


def ids(app) -> tuple[int, int]:
    with app.app_context():
        relay = db.session.scalar(select(Product.id).where(Product.sku == RELAY))
        standard = db.session.scalar(
            select(CustomerGroup.id).where(CustomerGroup.name == "Standard")
        )
        return relay, standard


def test_hiding_a_product_takes_it_off_the_groups_open_pages(app, sign_in):
    relay, standard = ids(app)
    product_page = sign_in("orders@carpathia.test")
    catalogue = sign_in("browse@carpathia.test")
    other_group = sign_in("orders@baltic.test")
    manager = sign_in("manager@portal.test")
    for page in (product_page, other_group):
        page.goto(f"/shop/products/{relay}")
        wait_live(page)
    catalogue.goto("/shop/?q=RLY-")
    wait_live(catalogue)
    card = f'#catalog-results [data-sku="{RELAY}"]'
    assert catalogue.locator(card).count() == 1
    assert product_page.locator(f"#offer-{relay}").is_visible()

    manager.goto(f"/office/groups/{standard}")
    section = manager.locator("#group-visibility")
    section.get_by_label("SKU").fill(RELAY.lower())
    section.get_by_role("button", name="Hide from the group").click()
    manager.wait_for_selector(f"text={RELAY} is hidden from Standard")

    # No reload: the product page says so, and its offer and buttons are gone.
    status = f"#product-status-{relay}.product-status--gone"
    product_page.wait_for_selector(status, timeout=WITHIN)
    assert "This product is no longer available." in product_page.locator(status).inner_text()
    assert not product_page.locator(f"#offer-{relay}").is_visible()
    assert not product_page.locator(f"#add-{relay}").is_visible()
    catalogue.wait_for_selector(card, state="detached", timeout=WITHIN)
    # Partner's customers still see it as before.
    assert other_group.locator(f"#offer-{relay}").is_visible()
    assert other_group.locator(".product-status--gone").count() == 0

    # Shown again, after the confirmation: the product page offers it again.
    manager.once("dialog", lambda dialog: dialog.accept())
    row = manager.locator(f'#group-visibility tr[data-sku="{RELAY}"]')
    row.get_by_role("button", name="Show again").click()
    manager.wait_for_selector(f"text={RELAY} is shown to Standard again.")
    product_page.wait_for_selector(
        f"#product-status-{relay}:not(.product-status--gone)", state="attached", timeout=WITHIN
    )
    product_page.wait_for_selector(f"#offer-{relay}", state="visible", timeout=WITHIN)
    catalogue.wait_for_selector(card, timeout=WITHIN)
