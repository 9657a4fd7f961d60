"""What the Standard group may not see: the Displays category (core.visibility).

Standard's customers (Carpathia Makers) browse the catalogue without Optoelectronics >
Displays: its seven products are not in their catalogue, search, quick order or quote
form, and their pages are a 404 for them. No product of the contract rows is in it, nor
any product of Carpathia's history (drawing nothing).
"""

from sqlalchemy import insert, select

from core.models import Category, CustomerGroup, group_hidden_categories
from extensions import db

HIDDEN = {"Standard": ("displays",)}  # group -> slugs of the categories it does not see


def build_visibility(groups: dict[str, CustomerGroup]) -> None:
    """Hide the chosen categories from their groups (with any subcategories they have)."""
    for group_name, slugs in HIDDEN.items():
        ids = db.session.scalars(select(Category.id).where(Category.slug.in_(slugs))).all()
        db.session.execute(
            insert(group_hidden_categories),
            [{"group_id": groups[group_name].id, "category_id": c} for c in sorted(ids)],
        )
