"""The price explainer's result (`explanation`), live.

How one customer's price and stock form of one product are built depends on nearly
everything: the product's prices, stock and promotions, the customer's group and
company, their open quotes, the seller's VAT. The result is a list region: any of those
changing signals the open explainers, each of which re-fetches its own explanation
through the explainer's view (scoped to its viewer). A page that explains nothing yet
(no customer or no product chosen) does not watch it.
"""

import re

from core import settings
from core.events import Event

from .registry import RegionKind, affects, register

EXPLANATION = "explanation"

register(RegionKind(EXPLANATION, re.compile(EXPLANATION), is_list=True))


@affects(
    "price_changed",
    "stock_changed",
    "product_changed",
    "product_removed",
    "promotion_changed",
    "catalogue_changed",
    "group_changed",
    "company_changed",
    "quote_changed",
)
def _explanations(event: Event) -> set[str]:
    # One signal per batch of events, however many products they name.
    return {EXPLANATION}


@affects("settings_changed")
def _seller_vat(event: Event) -> set[str]:
    return {EXPLANATION} if dict(event.data).get("key") == settings.VAT else set()
