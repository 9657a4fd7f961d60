"""Custom parts: quote lines that describe a part from drawings, and the materials staff keep.

- `materials`: a material's name, the thicknesses (mm) it comes in, and whether it is offered.
- `quote_lines`: `product_id` may be empty for a custom part, which has its own reference
  (`custom_sku`), description, material (a copy of its name) and thickness.
- `quote_line_drawings`: the drawings (attachments) of a custom quote line.
- `quote_round_lines`: `product_id` may be empty; `quote_line_id` names the custom line.
- `order_lines`: `product_id` may be empty: a custom part ordered from a quote, whose
  quote line (`quote_line_id`) keeps its drawings for the order's readers.

No new permission: the materials list is kept under `quotes.view` / `quotes.edit`.
Downgrading removes the custom lines of quotes, rounds and orders (their products are gone).

Revision ID: 0021
Revises: 0020
Create Date: 2027-02-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("thicknesses", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("name", name=op.f("uq_materials_name")),
    )
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("custom_sku", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("material_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("material_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("thickness", sa.String(length=12), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_quote_lines_material_id_materials"), "materials", ["material_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_quote_lines_material_id"), ["material_id"])
    op.create_table(
        "quote_line_drawings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_line_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quote_line_id"],
            ["quote_lines.id"],
            name=op.f("fk_quote_line_drawings_quote_line_id_quote_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_quote_line_drawings_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_line_drawings")),
        sa.UniqueConstraint("attachment_id", name=op.f("uq_quote_line_drawings_attachment_id")),
    )
    op.create_index(
        op.f("ix_quote_line_drawings_quote_line_id"), "quote_line_drawings", ["quote_line_id"]
    )
    with op.batch_alter_table("quote_round_lines", schema=None) as batch_op:
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("quote_line_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_quote_round_lines_quote_line_id_quote_lines"),
            "quote_lines",
            ["quote_line_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_quote_round_lines_quote_line_id"), ["quote_line_id"])
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("quote_line_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_order_lines_quote_line_id_quote_lines"),
            "quote_lines",
            ["quote_line_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_order_lines_quote_line_id"), ["quote_line_id"])


def downgrade():
    op.execute(
        "DELETE FROM shipment_lines WHERE order_line_id IN "
        "(SELECT id FROM order_lines WHERE product_id IS NULL)"
    )
    op.execute("DELETE FROM order_lines WHERE product_id IS NULL")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_order_lines_quote_line_id_quote_lines"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_order_lines_quote_line_id"))
        batch_op.drop_column("quote_line_id")
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM quote_round_lines WHERE product_id IS NULL")
    with op.batch_alter_table("quote_round_lines", schema=None) as batch_op:
        # The foreign key first: MariaDB keeps an index while a constraint needs it.
        batch_op.drop_constraint(
            batch_op.f("fk_quote_round_lines_quote_line_id_quote_lines"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_quote_round_lines_quote_line_id"))
        batch_op.drop_column("quote_line_id")
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("quote_line_drawings")  # its index goes with it
    op.execute("DELETE FROM quote_lines WHERE product_id IS NULL")
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_quote_lines_material_id_materials"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_quote_lines_material_id"))
        batch_op.drop_column("thickness")
        batch_op.drop_column("material_name")
        batch_op.drop_column("material_id")
        batch_op.drop_column("description")
        batch_op.drop_column("custom_sku")
        batch_op.alter_column("product_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("materials")
