"""VAT, billing and delivery addresses, shipping methods, shipments, backorders.

- `products.tax_class` (standard, reduced, zero): which of the seller's rates applies.
- `companies`: structured billing address (`address` keeps the street lines; `postcode`,
  `city`, `country`), and `reference_required` for checkout. Existing companies are put in
  Germany, the seller country a fresh portal starts with; staff correct them.
- `delivery_addresses`: each company's address book. `shipping_methods` (with the groups
  that may use each), `carriers` (tracking link templates), `shipments` and their lines.
- `carts`: checkout's choices, which travel with an approval request. `orders`: the
  reference, the requested date, the shipping method and its price, the delivery address
  and the buyer's country and VAT ID as they were, the VAT rule applied and the VAT;
  status "partly_shipped". `order_lines`: tax class, VAT rate, back-ordered quantity.
- `invoices`: net and VAT beside the total (which stays what is owed; shipping is a line);
  `invoice_lines.vat_rate`; `credit_notes`: net, rate and VAT beside the amount. Existing
  documents bore no VAT: their net is their total.
- `customer_groups.backorders_allowed`; stock movements of kind "receipt" (goods in).
- The "Shipping" permissions (`shipping.view`, `shipping.edit`) for the preset roles of a
  portal that already has them, as the presets in core.access grant them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)
PERCENT = sa.Numeric(precision=5, scale=2)
OLD_ORDER_STATUSES = "status IN ('placed', 'confirmed', 'shipped', 'delivered', 'cancelled')"
ORDER_STATUSES = (
    "status IN ('placed', 'confirmed', 'partly_shipped', 'shipped', 'delivered', 'cancelled')"
)
SHIPPING_GRANTS = {
    "shipping.view": ("admin", "manager", "sales", "warehouse", "finance", "readonly"),
    "shipping.edit": ("admin", "manager", "warehouse"),
}
OLD_MOVEMENTS = "kind IN ('initial', 'order', 'cancellation', 'adjustment', 'import')"
MOVEMENTS = "kind IN ('initial', 'order', 'cancellation', 'adjustment', 'import', 'receipt')"


# What the customer presets gained with this migration (core/access.py's PRESETS).
NEW_GRANTS = {"decision_maker": ("shop.addresses",)}


def text(name: str, length: int, default: str = "") -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=False, server_default=default)


def zero(name: str, kind=MONEY) -> sa.Column:
    return sa.Column(name, kind, nullable=False, server_default="0")


def flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade():
    op.create_table(
        "carriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("tracking_url", sa.String(length=300), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carriers")),
        sa.UniqueConstraint("name", name=op.f("uq_carriers_name")),
    )
    op.create_table(
        "shipping_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("free_above", MONEY, nullable=True),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "lead_days >= 0", name=op.f("ck_shipping_methods_lead_days_not_negative")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_shipping_methods_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
        sa.UniqueConstraint("name", name=op.f("uq_shipping_methods_name")),
    )
    op.create_table(
        "shipping_method_groups",
        sa.Column("method_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["customer_groups.id"],
            name=op.f("fk_shipping_method_groups_group_id_customer_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["method_id"],
            ["shipping_methods.id"],
            name=op.f("fk_shipping_method_groups_method_id_shipping_methods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("method_id", "group_id", name=op.f("pk_shipping_method_groups")),
    )
    op.create_table(
        "delivery_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("street", sa.String(length=300), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_delivery_addresses_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_addresses")),
    )
    with op.batch_alter_table("delivery_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_addresses_company_id"), ["company_id"], unique=False
        )
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=True),
        sa.Column("tracking_number", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('prepared', 'shipped', 'delivered')", name=op.f("ck_shipments_status")
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_shipments_carrier_id_carriers")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_shipments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_shipments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("number", name=op.f("uq_shipments_number")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_order", ["order_id"], unique=False)
    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_shipment_lines_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_lines_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
    )
    with op.batch_alter_table("shipment_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_lines_order_line_id"), ["order_line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipment_lines_shipment_id"), ["shipment_id"], unique=False
        )

    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_address_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("shipping_method_id", sa.Integer(), nullable=True))
        batch_op.add_column(text("customer_reference", 60))
        batch_op.add_column(sa.Column("requested_date", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_carts_delivery_address_id_delivery_addresses"),
            "delivery_addresses",
            ["delivery_address_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_carts_shipping_method_id_shipping_methods"),
            "shipping_methods",
            ["shipping_method_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(text("postcode", 16))
        batch_op.add_column(text("city", 100))
        batch_op.add_column(text("country", 2, "DE"))
        batch_op.add_column(flag("reference_required"))
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.add_column(zero("net_amount"))
        batch_op.add_column(zero("vat_rate", PERCENT))
        batch_op.add_column(zero("vat_amount"))
    with op.batch_alter_table("customer_groups", schema=None) as batch_op:
        batch_op.add_column(flag("backorders_allowed"))
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(zero("vat_rate", PERCENT))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(zero("net_total"))
        batch_op.add_column(zero("vat_total"))
        batch_op.add_column(text("tax_kind", 16, "domestic"))
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=12), type_=sa.String(length=16),
            existing_nullable=False,
        )  # fmt: skip
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(text("tax_class", 10, "standard"))
        batch_op.add_column(zero("vat_rate", PERCENT))
        batch_op.add_column(
            sa.Column("backordered", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(text("customer_reference", 60))
        batch_op.add_column(sa.Column("requested_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("shipping_method_id", sa.Integer(), nullable=True))
        batch_op.add_column(text("shipping_name", 80))
        batch_op.add_column(zero("shipping_price"))
        batch_op.add_column(zero("shipping_vat_rate", PERCENT))
        batch_op.add_column(text("delivery_name", 160))
        batch_op.add_column(text("delivery_street", 300))
        batch_op.add_column(text("delivery_postcode", 16))
        batch_op.add_column(text("delivery_city", 100))
        batch_op.add_column(text("delivery_country", 2))
        batch_op.add_column(text("tax_kind", 16, "domestic"))
        batch_op.add_column(text("buyer_country", 2))
        batch_op.add_column(text("buyer_vat_number", 40))
        batch_op.add_column(zero("vat_total"))
        batch_op.alter_column(
            "status", existing_type=sa.String(length=12), type_=sa.String(length=16),
            existing_nullable=False,
        )  # fmt: skip
        batch_op.drop_constraint(batch_op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint("status", ORDER_STATUSES)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_shipping_method_id_shipping_methods"),
            "shipping_methods",
            ["shipping_method_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(text("tax_class", 10, "standard"))
        batch_op.create_check_constraint(
            "tax_class", "tax_class IN ('standard', 'reduced', 'zero')"
        )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_stock_movements_kind"), type_="check")
        batch_op.create_check_constraint("kind", MOVEMENTS)

    # The new permissions for the roles made from presets before they existed (a role's
    # preset names it; edited roles keep what was given to them and gain only these).
    for preset, permissions in NEW_GRANTS.items():
        for permission in permissions:
            op.execute(
                sa.text(
                    "INSERT INTO role_permissions (role_id, permission) "
                    "SELECT id, :permission FROM roles WHERE preset = :preset"
                ).bindparams(permission=permission, preset=preset)
            )

    # Documents issued before VAT was kept bore none: their net is what they say.
    op.execute("UPDATE invoices SET net_total = total")
    op.execute("UPDATE credit_notes SET net_amount = amount")
    # The new "Shipping" module, granted to the preset roles as core.access's presets grant
    # it: otherwise nobody of an existing portal could ship (or see shipments) after this.
    for permission, presets in SHIPPING_GRANTS.items():
        op.execute(
            sa.text(
                "INSERT INTO role_permissions (role_id, permission) SELECT id, :permission "
                "FROM roles WHERE preset IN :presets"
            ).bindparams(
                sa.bindparam("permission", permission),
                sa.bindparam("presets", list(presets), expanding=True),
            )
        )


def downgrade():
    op.execute(
        "DELETE FROM role_permissions WHERE permission IN "
        "('shipping.view', 'shipping.edit', 'shop.addresses')"
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_stock_movements_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_MOVEMENTS)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_products_tax_class"), type_="check")
        batch_op.drop_column("tax_class")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_orders_shipping_method_id_shipping_methods"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint("status", OLD_ORDER_STATUSES)
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=12),
            existing_nullable=False,
        )  # fmt: skip
        for column in (
            "vat_total", "buyer_vat_number", "buyer_country", "tax_kind", "delivery_country",
            "delivery_city", "delivery_postcode", "delivery_street", "delivery_name",
            "shipping_vat_rate", "shipping_price", "shipping_name", "shipping_method_id", "requested_date",
            "customer_reference",
        ):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        for column in ("backordered", "vat_rate", "tax_class"):
            batch_op.drop_column(column)
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=12),
            existing_nullable=False,
        )  # fmt: skip
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        for column in ("tax_kind", "vat_total", "net_total"):
            batch_op.drop_column(column)
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_column("vat_rate")
    with op.batch_alter_table("customer_groups", schema=None) as batch_op:
        batch_op.drop_column("backorders_allowed")
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        for column in ("vat_amount", "vat_rate", "net_amount"):
            batch_op.drop_column(column)
    with op.batch_alter_table("companies", schema=None) as batch_op:
        for column in ("reference_required", "country", "city", "postcode"):
            batch_op.drop_column(column)
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_carts_shipping_method_id_shipping_methods"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_carts_delivery_address_id_delivery_addresses"), type_="foreignkey"
        )
        for column in (
            "requested_date", "customer_reference", "shipping_method_id", "delivery_address_id"
        ):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table("shipment_lines")
    op.drop_table("shipments")
    op.drop_table("delivery_addresses")
    op.drop_table("shipping_method_groups")
    op.drop_table("shipping_methods")
    op.drop_table("carriers")
