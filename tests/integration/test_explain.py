"""The price explainer: each step of a customer's offer, in agreement with compute_offer,
scoped to the viewer's companies, with cost and margin only for finance.costs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from blueprints.filters import money
from core import offer
from core.models import (
    Company,
    CustomerGroup,
    Promotion,
    PromotionGroup,
    Quote,
    QuoteLine,
    utcnow,
)
from extensions import db
from tests.html import find
from tests.records import company, product

EXACT_ROWS = ("MCU-STM32F401", "CAP-1206-10U", "CON-USBC-16P")
GROUPS = ("Wholesale", "Partner", "Standard")
COMPANY_OF = {"Wholesale": "acme", "Partner": "baltic", "Standard": "carpathia"}
ADMIN = "admin@portal.test"
ANNA = "anna.sales@portal.test"
MANAGER = "manager@portal.test"


def group(name: str) -> CustomerGroup:
    return db.session.scalar(select(CustomerGroup).where(CustomerGroup.name == name))


@pytest.mark.parametrize("group_name", GROUPS)
@pytest.mark.parametrize("sku", EXACT_ROWS)
def test_the_explanation_agrees_with_compute_offer(ctx, group_name, sku):
    at = utcnow()
    g, p = group(group_name), product(sku)
    explained = offer.explain(g, p, at=at)
    assert explained.offer == offer.offers_for(g, [p], at=at)[p.id]
    assert explained.base_price == p.base_price
    chosen = [c for c in explained.promotions if c.chosen]
    assert [c.promotion_id for c in chosen] == (
        [explained.offer.promotion.promotion_id] if explained.offer.promotion else []
    )


@pytest.mark.parametrize(
    ("group_name", "sku", "expected"),
    [
        ("Wholesale", "MCU-STM32F401", ("€6.40", "€5.20", "€4.68", "4,217 in stock")),
        ("Partner", "MCU-STM32F401", ("€6.40", "€6.00", "€5.70", "Level: Many")),
        ("Standard", "MCU-STM32F401", ("€6.40", "None: base price applies", "€6.40", "Many")),
        ("Wholesale", "CAP-1206-10U", ("€0.18", "€0.12", "€0.12", "36 in stock")),
        ("Partner", "CAP-1206-10U", ("€0.18", "€0.16", "€0.16", "Level: Few")),
        ("Standard", "CON-USBC-16P", ("€0.95", "None: base price applies", "€0.95", "Out")),
    ],
)
def test_the_page_shows_each_step(as_user, ctx, group_name, sku, expected):
    slug = COMPANY_OF[group_name]
    html = (
        as_user(ADMIN)
        .get(f"/office/explain?company={company(slug).id}&sku={sku}")
        .get_data(as_text=True)
    )
    base, group_step, final, stock = expected
    assert base in find(html, data_step="base").text
    assert group_step in find(html, data_step="group").text
    assert final in find(html, data_step="final").text
    assert stock in find(html, data_step="stock").text
    computed = offer.offer_for(group(group_name), product(sku))
    assert find(html, data_step="final").text == money(computed.price)


def test_promotions_are_listed_with_why_they_do_or_do_not_apply(as_user, ctx):
    mcu = product("MCU-STM32F401")
    partner, wholesale = group("Partner"), group("Wholesale")
    now = utcnow()
    hidden = Promotion(
        name="Secret partner deal",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
        products=[mcu],
        group_terms=[
            PromotionGroup(group=partner, discount_percent=Decimal("20"), is_visible=False)
        ],
    )
    later = Promotion(
        name="Summer MCU week",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=20),
        products=[mcu],
        group_terms=[PromotionGroup(group=partner, discount_percent=Decimal("15"))],
    )
    smaller = Promotion(
        name="Small MCU thanks",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=5),
        products=[mcu],
        group_terms=[
            PromotionGroup(group=partner, discount_percent=Decimal("2")),
            PromotionGroup(group=wholesale, discount_percent=Decimal("1")),
        ],
    )
    db.session.add_all([hidden, later, smaller])
    db.session.commit()
    explained = offer.explain(partner, mcu)
    reasons = {c.name: (c.reason, c.chosen, c.discount_percent) for c in explained.promotions}
    assert reasons == {
        "MCU spring sale": (None, True, Decimal("5")),
        "Secret partner deal": ("hidden from this group", False, Decimal("20")),
        "Summer MCU week": ("not started yet", False, Decimal("15")),
        "Small MCU thanks": ("a larger discount applies", False, Decimal("2")),
    }
    assert explained.offer.price == Decimal("5.70")
    html = (
        as_user(ADMIN)
        .get(f"/office/explain?company={company('baltic').id}&sku=MCU-STM32F401")
        .get_data(as_text=True)
    )
    table = find(html, class_="table table--compact explain-promotions").text
    assert "Applies: the largest discount" in table
    assert "Does not apply: hidden from this group" in table
    assert "Does not apply: not started yet" in table
    standard = offer.explain(group("Standard"), mcu)
    assert {c.reason for c in standard.promotions} == {"not offered to this group"}
    text = (
        as_user(ADMIN)
        .get(f"/office/explain?company={company('carpathia').id}&sku=MCU-STM32F401")
        .get_data(as_text=True)
    )
    assert "Standard does not see promotions" in find(text, id="explanation").text


def test_cost_and_margin_only_with_finance_costs(as_user, ctx):
    url = f"/office/explain?company={company('acme').id}&sku=MCU-STM32F401"
    for email in (MANAGER, "finance@portal.test"):
        html = as_user(email).get(url).get_data(as_text=True)
        margin = find(html, data_step="margin").text
        assert "€0.78" in margin  # 4.68 - 3.90
        assert "€3.90" in html
    for email in (ANNA, "viewer@portal.test"):
        html = as_user(email).get(url).get_data(as_text=True)
        assert find(html, data_step="margin") is None
        assert "€3.90" not in html and "Margin" not in html


def test_a_companys_open_quote_for_the_product_is_shown(as_user, ctx):
    quote = db.session.scalar(
        select(Quote).join(Company).where(Company.slug == "acme", Quote.status == "offered")
    )
    line = db.session.scalar(select(QuoteLine).where(QuoteLine.quote_id == quote.id).limit(1))
    html = (
        as_user(ANNA)
        .get(f"/office/explain?company={quote.company_id}&sku={line.product.sku}")
        .get_data(as_text=True)
    )
    cell = find(html, data_step="quote")
    assert cell.text == money(line.unit_price)
    assert quote.number in find(html, id="explanation").text
    other = (
        as_user(ANNA)
        .get(f"/office/explain?company={company('baltic').id}&sku={line.product.sku}")
        .get_data(as_text=True)
    )
    assert quote.number not in other


def test_only_the_viewers_companies_may_be_chosen(as_user, ctx):
    anna = as_user(ANNA)
    html = anna.get("/office/explain").get_data(as_text=True)
    options = find(html, id="company").text
    assert "Acme Robotics" in options and "Baltic Drones" in options
    assert "Carpathia" not in options and "Etna" not in options
    for slug in ("carpathia", "delft", "etna"):
        url = f"/office/explain?company={company(slug).id}&sku=MCU-STM32F401"
        assert anna.get(url).status_code == 404
    assert anna.get("/office/explain?company=999999").status_code == 404
    assert anna.get("/office/explain?company=abc").status_code == 400


def test_an_unknown_sku_offers_close_products(as_user, ctx):
    acme = company("acme").id
    html = as_user(ADMIN).htmx(f"/office/explain?company={acme}&sku=stm32").get_data(True)
    assert html.lstrip().startswith('<div id="explanation"')
    assert "No product has the SKU “stm32”" in html
    assert f"/office/explain?company={acme}&amp;sku=MCU-STM32F401" in html
    nothing = as_user(ADMIN).get(f"/office/explain?company={acme}&sku=zzz-none").get_data(True)
    assert "No product has the SKU" in nothing and "Did you mean" not in nothing
    exact = as_user(ADMIN).get(f"/office/explain?company={acme}&sku=mcu-stm32f401")
    assert find(exact.get_data(True), data_step="final").text == "€4.68"  # any case


def test_staff_without_customers_view_get_403(as_user):
    assert as_user("warehouse@portal.test").get("/office/explain").status_code == 403
    assert as_user("orders@acme.test").get("/office/explain").status_code == 403
