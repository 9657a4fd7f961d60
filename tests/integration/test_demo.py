"""The demo data contract of DESIGN.md section 8, and its loader's idempotency."""

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

import demo
from core import access
from core.models import (
    Company,
    CustomerGroup,
    GroupPrice,
    Invoice,
    Order,
    Payment,
    Product,
    Promotion,
    Quote,
    Role,
    User,
)
from extensions import db


def test_demo_is_idempotent(runner, ctx):
    counts = [
        db.session.scalar(select(func.count()).select_from(m)) for m in (User, Product, Order)
    ]
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "already loaded" in result.output
    db.session.expire_all()
    again = [db.session.scalar(select(func.count()).select_from(m)) for m in (User, Product, Order)]
    assert again == counts


@pytest.mark.parametrize(("email", "preset", "assigned"), [(e, p, a) for e, _, p, a in demo.STAFF])
def test_staff_accounts(ctx, email, preset, assigned):
    user = db.session.scalar(select(User).where(User.email == email))
    assert user.kind == "staff" and user.status == "active"
    assert [r.preset for r in user.roles] == [preset]
    assert sorted(c.slug for c in user.assigned_companies) == sorted(assigned)


def test_customer_accounts_and_groups(ctx):
    expected_groups = {
        "acme": "Wholesale",
        "baltic": "Partner",
        "carpathia": "Standard",
        "delft": "Partner",
        "etna": "Wholesale",
    }
    for slug, group in expected_groups.items():
        company = db.session.scalar(select(Company).where(Company.slug == slug))
        assert company.group.name == group
        for local, preset in (
            ("orders", "decision_maker"),
            ("request", "requester"),
            ("browse", "browse_only"),
        ):
            user = db.session.scalar(select(User).where(User.email == f"{local}@{slug}.test"))
            assert user.company_id == company.id
            assert [r.preset for r in user.roles] == [preset]
    etna = db.session.scalar(select(Company).where(Company.slug == "etna"))
    assert etna.reps == []


def test_group_policies(ctx):
    groups = {g.name: g for g in db.session.scalars(select(CustomerGroup))}
    assert (
        groups["Wholesale"].shows_promotions,
        groups["Wholesale"].quotes_allowed,
        groups["Wholesale"].stock_display,
    ) == (True, True, "exact")
    assert (
        groups["Partner"].shows_promotions,
        groups["Partner"].quotes_allowed,
        groups["Partner"].stock_display,
    ) == (True, True, "levels")
    assert (
        groups["Standard"].shows_promotions,
        groups["Standard"].quotes_allowed,
        groups["Standard"].stock_display,
    ) == (False, False, "levels")
    for group in groups.values():
        assert (group.few_from, group.many_from) == (1, 50)


@pytest.mark.parametrize("row", demo.EXACT_ROWS, ids=lambda r: r[0])
def test_exact_product_rows(ctx, row):
    sku, name, _, base, cost, wholesale, partner, stock = row
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    assert product.name == name
    assert (product.base_price, product.cost, product.stock) == (
        Decimal(base),
        Decimal(cost),
        stock,
    )
    prices = {
        gp.group.name: gp.price
        for gp in db.session.scalars(select(GroupPrice).where(GroupPrice.product_id == product.id))
    }
    assert prices == {"Wholesale": Decimal(wholesale), "Partner": Decimal(partner)}


def test_spring_promotion(ctx):
    promo = db.session.scalar(select(Promotion).where(Promotion.name == "MCU spring sale"))
    assert [p.sku for p in promo.products] == ["MCU-STM32F401"]
    terms = {t.group.name: t.discount_percent for t in promo.group_terms}
    assert terms == {"Wholesale": Decimal("10"), "Partner": Decimal("5")}


def test_realistic_catalogue_and_trade_history(ctx):
    assert 250 <= db.session.scalar(select(func.count(Product.id))) <= 1000
    statuses = set(db.session.scalars(select(Order.status)))
    assert statuses == {
        "placed",
        "confirmed",
        "partly_shipped",
        "shipped",
        "delivered",
        "cancelled",
    }
    quote_statuses = set(db.session.scalars(select(Quote.status)))
    assert {"requested", "offered", "countered", "accepted", "expired"} <= quote_statuses
    assert db.session.scalar(select(func.count(Invoice.id))) >= 5
    assert db.session.scalar(select(func.count(Payment.id))) >= 3
    numbers = sorted(db.session.scalars(select(Invoice.number)))
    assert numbers == list(range(1, len(numbers) + 1)), "invoice numbers have no gaps"
    for order in db.session.scalars(select(Order)):
        assert order.total == sum(line.line_total for line in order.lines)


def test_preset_roles_match_the_catalogue(ctx):
    for preset in access.PRESETS:
        role = db.session.scalar(select(Role).where(Role.preset == preset.key))
        assert role.permissions == preset.permissions


def test_models_and_migrations_agree(app, ctx):
    """The schema changes only through migrations: autogenerate finds nothing to add."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
