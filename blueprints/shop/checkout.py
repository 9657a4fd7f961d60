"""What checkout's delivery choices show: the company's addresses, the shipping methods its
group may use at their price for this cart, the reference and the requested date.

Used by the cart (checking out, submitting for approval) and by the approval of a
request, which carries the requester's choices; no routes here (the cart's views use it).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core import addresses, carts, delivery, i18n, shipping_methods, tax
from core.models import Cart, Company, DeliveryAddress, ShippingMethod


@dataclass(frozen=True)
class MethodOffer:
    """A shipping method as this cart is offered it: its price now, and its first day."""

    method: ShippingMethod
    price: Decimal
    earliest: date

    @property
    def free(self) -> bool:
        return not self.price


@dataclass(frozen=True)
class DeliveryChoice:
    """The delivery fields of a cart's form: what may be chosen, what is, and why not."""

    addresses: list[DeliveryAddress]
    offers: list[MethodOffer]
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    reference_required: bool = False
    goods: Decimal = Decimal("0.00")
    company_name: str = ""
    company: Company | None = None
    # The goods' (tax class, net amount) pairs: with the chosen shipping, the VAT.
    goods_lines: tuple[tuple[str, Decimal], ...] = ()

    @property
    def offer(self) -> MethodOffer | None:
        """The chosen method's offer, if one of the list is chosen."""
        chosen = self.values.get("shipping_method", "")
        return next((o for o in self.offers if str(o.method.id) == chosen), None)

    @property
    def address(self) -> DeliveryAddress | None:
        chosen = self.values.get("delivery_address", "")
        return next((a for a in self.addresses if str(a.id) == chosen), None)

    @property
    def total(self) -> Decimal:
        """Goods and the chosen shipping, net."""
        offer = self.offer
        return self.goods + (offer.price if offer else Decimal("0.00"))

    @property
    def taxes(self) -> tax.Totals | None:
        """What the order would bear: net, VAT per rate and gross, shipping included."""
        if self.company is None:
            return None
        offer = self.offer
        shipping = [(tax.SHIPPING_CLASS, offer.price)] if offer and offer.price else []
        return tax.of_lines(self.company, [*self.goods_lines, *shipping])


def person_today() -> date:
    """Today where the signed-in person is, which the lead time counts from: the requested
    date they enter is a day in their own time zone (theirs, else the seller's)."""
    return i18n.to_local(delivery.now()).date()


def delivery_choice(
    cart: Cart,
    pricing: carts.PricedCart,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> DeliveryChoice:
    """The delivery fields for a cart priced as `pricing`: what it keeps (or the default
    address and cheapest method), or what was just typed."""
    goods = pricing.total
    start = delivery.suggested(cart)
    values = {
        "delivery_address": str(start.address_id or ""),
        "shipping_method": str(start.method_id or ""),
        "customer_reference": start.reference,
        "requested_date": start.requested_date.isoformat() if start.requested_date else "",
        **(typed or {}),
    }
    today = person_today()
    offers = [
        MethodOffer(m, shipping_methods.price_for(m, goods), delivery.earliest(m, today))
        for m in shipping_methods.allowed_for(cart.company.group_id)
    ]
    return DeliveryChoice(
        addresses=addresses.book(cart.company_id),
        offers=offers,
        values=values,
        errors=errors or {},
        reference_required=cart.company.reference_required,
        goods=goods,
        company_name=cart.company.name,
        company=cart.company,
        goods_lines=tuple((p.product.tax_class, p.line_total) for p in pricing.lines if p.sold),
    )


def field_errors(form) -> dict[str, str]:
    """The first message of each wrong field of a form."""
    return {name: messages[0] for name, messages in form.errors.items() if messages}


def refusal_errors(refusal) -> dict[str, str]:
    """A service's refusal as a field's message, when it names a field."""
    name = getattr(refusal, "field", None)
    return {name: str(refusal)} if name else {}
