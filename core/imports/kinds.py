"""What can be imported: the kinds of file, their columns, and who may import each."""

from dataclasses import dataclass, field

from .. import access
from ..i18n import N_, _
from ..models import User

translate = _  # a label kept in English (N_), shown in the reader's language


@dataclass(frozen=True)
class Column:
    """One column a kind of import understands."""

    name: str  # the column's key in the file: the same in every language
    required: bool
    help: str
    costs: bool = False  # only for people who may see costs


@dataclass(frozen=True)
class Kind:
    """A kind of import: its columns, and hints for columns of other kinds (who may run it is
    core.access's to say)."""

    key: str
    label: str  # in English, as the audit log records it; `title` is the label as shown
    columns: tuple[Column, ...]
    hints: dict[str, str] = field(default_factory=dict)  # lazy messages, by column key

    @property
    def title(self):
        """The kind's label in the reader's language."""
        return translate(self.label)

    def columns_for(self, may_see_costs: bool) -> tuple[Column, ...]:
        """The columns this person may use (no cost column without `finance.costs`)."""
        return tuple(c for c in self.columns if may_see_costs or not c.costs)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


_PRODUCT_COLUMNS = (
    "name",
    "category",
    "base_price",
    "cost",
    "description",
    "unit",
    "tax_class",
)
KINDS: dict[str, Kind] = {
    "products": Kind(
        "products",
        N_("Products"),
        (
            Column("sku", True, _("Finds the product; a new SKU creates a product.")),
            Column("name", False, _("Needed for a new product; at most 200 characters.")),
            Column("category", False, _("A category's name or slug, such as capacitors.")),
            Column("base_price", False, _("Needed for a new product: 12.50 or 0.0125.")),
            Column("cost", False, _("What the product costs you; new products get 0."), costs=True),
            Column("description", False, _("At most 5,000 characters.")),
            Column("unit", False, _("pcs, reel, m…; new products get pcs.")),
            Column("tax_class", False, _("VAT class: standard, reduced or zero; new: standard.")),
        ),
        {
            "stock": _(
                "Stock is set by a stock-levels import (sku, stock, reason): "
                "remove this column here."
            ),
            "group": _("Group prices have their own import (sku, group, price)."),
            "price": _(
                "Name the column base_price; group prices have their own import "
                "(sku, group, price)."
            ),
            "id": _("Products are found by their SKU: remove the id column."),
            "specs": _("Specifications are edited on the product page, not imported."),
        },
    ),
    "stock": Kind(
        "stock",
        N_("Stock levels"),
        (
            Column("sku", True, _("The product whose stock was counted.")),
            Column("stock", True, _("The counted stock: a whole number from 0.")),
            Column("reason", False, _("Why, such as “stocktake May”; the file name otherwise.")),
        ),
        {
            **dict.fromkeys(
                _PRODUCT_COLUMNS,
                _(
                    "A stock-levels file sets stock only (sku, stock, reason): remove this "
                    "column, or import it with products."
                ),
            ),
            **dict.fromkeys(("quantity", "qty", "level", "counted"), _("Name the column stock.")),
        },
    ),
    "group_prices": Kind(
        "group_prices",
        N_("Group prices"),
        (
            Column("sku", True, _("The product.")),
            Column("group", True, _("The customer group's name, such as Wholesale.")),
            Column("price", True, _("The group's price; an empty cell removes the group price.")),
            Column(
                "breaks",
                False,
                _(
                    "The group's quantity breaks, such as “10:5.00 100:4.80” (from 10 units "
                    "5.00 each, from 100 4.80); an empty cell removes them, a file without "
                    "this column leaves them as they are."
                ),
            ),
        ),
        {
            "base_price": _("Base prices are set by a products import: remove this column."),
            "group_price": _("Name the column price."),
            "customer_group": _("Name the column group."),
            **dict.fromkeys(
                ("min_quantity", "min_qty", "quantity_breaks", "tiers"),
                _("Quantity breaks go in one column named breaks, such as “10:5.00 100:4.80”."),
            ),
            "name": _(
                "A group-prices file has the columns sku, group and price: remove this column."
            ),
        },
    ),
}


def may_import(user: User | None, kind: str) -> bool:
    """May this person run this kind of import?"""
    return kind in KINDS and access.may_import(user, kind)


def kinds_for(user: User | None) -> list[Kind]:
    """The kinds of import this person may run."""
    return [k for k in KINDS.values() if access.may_import(user, k.key)]


def template_header(kind: str, may_see_costs: bool) -> list[str]:
    """The columns of an empty file to fill in, for this person."""
    return [c.name for c in KINDS[kind].columns_for(may_see_costs)]
