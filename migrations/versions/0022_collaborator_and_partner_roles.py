"""External collaborator and Partner presets, and the permission to see prices.

- `shop.prices` ("see prices and promotions") is new: before it, every customer person
  saw prices. So that nobody loses them on upgrade, it is granted to every existing
  customer-scope role: those made from the Decision-maker, Requester and Browse-only
  presets, and every role an admin made (no preset).
- The presets "External collaborator" (customer: prepares quote requests, sees no price)
  and "Partner" (staff: reads chosen modules for assigned customers, no costs) become
  roles on an installation that already has its preset roles (a new one gets them from
  core.roles.ensure_presets with the others). Their permissions are written here as the
  presets stood when this migration was written, not read from core.access.

No table changes.

Revision ID: 0022
Revises: 0021
Create Date: 2027-02-01 10:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

PRICES = "shop.prices"
PRICED_PRESETS = ("decision_maker", "requester", "browse_only")

NEW_PRESETS = (
    # key, name, scope, description, permissions
    (
        "collaborator",
        "External collaborator",
        "customer",
        "Prepares quote requests for a decision-maker; sees no prices, orders or invoices",
        ("shop.quote",),
    ),
    (
        "partner",
        "Partner",
        "staff",
        "An outside partner: reads the chosen modules for assigned customers; no costs",
        (
            "customers.view",
            "orders.view",
            "products.view",
            "quotes.view",
            "shipping.view",
            "stock.view",
        ),
    ),
)

roles = sa.table(
    "roles",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("scope", sa.String),
    sa.column("preset", sa.String),
    sa.column("description", sa.String),
    sa.column("requires_two_factor", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
role_permissions = sa.table(
    "role_permissions", sa.column("role_id", sa.Integer), sa.column("permission", sa.String)
)


def _free_name(conn, name: str, scope: str) -> str:
    """The preset's name, or with " (preset)" when an admin already used it in that scope."""
    taken = {
        found.lower()
        for found in conn.execute(sa.select(roles.c.name).where(roles.c.scope == scope)).scalars()
    }
    if name.lower() not in taken:
        return name
    candidate, n = f"{name} (preset)", 2
    while candidate.lower() in taken:
        candidate, n = f"{name} (preset {n})", n + 1
    return candidate


def upgrade():
    conn = op.get_bind()
    # Everyone who saw prices yesterday sees them today.
    conn.execute(
        sa.text(
            "INSERT INTO role_permissions (role_id, permission) SELECT id, :permission "
            "FROM roles WHERE scope = 'customer' AND (preset IS NULL OR preset IN :presets) "
            "AND id NOT IN (SELECT role_id FROM role_permissions WHERE permission = :permission)"
        ).bindparams(
            sa.bindparam("permission", PRICES),
            sa.bindparam("presets", list(PRICED_PRESETS), expanding=True),
        )
    )
    # The new presets, on an installation whose presets exist already.
    has_presets = conn.execute(
        sa.select(roles.c.id).where(roles.c.preset.is_not(None)).limit(1)
    ).first()
    if has_presets is None:
        return
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    for key, name, scope, description, permissions in NEW_PRESETS:
        if conn.execute(sa.select(roles.c.id).where(roles.c.preset == key)).first():
            continue
        conn.execute(
            roles.insert().values(
                name=_free_name(conn, name, scope),
                scope=scope,
                preset=key,
                description=description,
                requires_two_factor=False,
                created_at=now,
                updated_at=now,
            )
        )
        role_id = conn.execute(sa.select(roles.c.id).where(roles.c.preset == key)).scalar_one()
        conn.execute(
            role_permissions.insert(),
            [{"role_id": role_id, "permission": p} for p in permissions],
        )


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM role_permissions WHERE permission = :p"), {"p": PRICES})
    keys = [key for key, *__ in NEW_PRESETS]
    # A preset role nobody holds goes; one that is held stays, as an ordinary role.
    conn.execute(
        sa.text(
            "DELETE FROM role_permissions WHERE role_id IN (SELECT id FROM roles WHERE "
            "preset IN :keys AND id NOT IN (SELECT role_id FROM user_roles))"
        ).bindparams(sa.bindparam("keys", keys, expanding=True))
    )
    conn.execute(
        sa.text(
            "DELETE FROM roles WHERE preset IN :keys AND id NOT IN (SELECT role_id FROM user_roles)"
        ).bindparams(sa.bindparam("keys", keys, expanding=True))
    )
    conn.execute(
        sa.text("UPDATE roles SET preset = NULL WHERE preset IN :keys").bindparams(
            sa.bindparam("keys", keys, expanding=True)
        )
    )
