"""Records as the API shows them to one reader: plain dicts for the schemas to dump.

What a reader may not see never enters the dict: an exact stock count only for a group
shown counts (core.offer's StockView) or for staff with `stock.view`; a cost only with
`finance.costs`; back-ordered quantities only where core.orders says the reader may see
them. The schemas then decide the JSON shape.
"""

from decimal import Decimal

from sqlalchemy import select

from blueprints.fragments.shipments import may_see_shipments
from core import access, billing, orders, products, quotes, shipments
from core.models import CustomerGroup, GroupPrice, Invoice, Product
from core.offer import Offer
from extensions import db

CURRENCY = "EUR"  # the portal's one currency (core.i18n.money's default)


def category(product) -> dict | None:
    found = product.category
    if found is None:
        return None
    return {"id": found.id, "name": found.name, "slug": found.slug}


def stock(view) -> dict:
    """Stock as the offer's view shows it: a count only when the view holds one."""
    shown = {"level": view.level, "label": str(view.label)}
    if view.exact is not None:
        shown["count"] = view.exact
    return shown


PRICE_KEYS = ("list_price", "price", "price_source", "promotion", "breaks")


def offer(found: Offer, prices: bool = True) -> dict:
    """The offer as the reader sees it; without `prices` (a reader lacking shop.prices)
    its prices, promotion and breaks are absent, not null."""
    shown = {
        "currency": CURRENCY,
        "list_price": found.single.list_price,
        "price": found.single.price,
        "price_source": found.price_source,
        "promotion": (
            {
                "name": found.promotion.name,
                "discount_percent": found.promotion.discount_percent,
                "ends_at": found.promotion.ends_at,
            }
            if found.promotion is not None
            else None
        ),
        "breaks": [
            {"min_quantity": t.min_quantity, "list_price": t.list_price, "price": t.price}
            for t in found.breaks
        ],
        "min_quantity": found.min_quantity,
        "order_multiple": found.order_multiple,
        "stock": stock(found.stock),
        "orderable": found.orderable,
        "backorders": found.backorders,
    }
    if not prices:
        for key in PRICE_KEYS:
            shown.pop(key)
    return shown


def product_summary(product, found: Offer, prices: bool = True) -> dict:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "category": category(product),
        "offer": offer(found, prices),
    }


def product_detail(product, found: Offer, prices: bool = True) -> dict:
    return {
        **product_summary(product, found, prices),
        "description": product.description or "",
        "specs": {str(k): str(v) for k, v in (product.specs or {}).items()},
    }


def sees_costs(user) -> bool:
    return access.can(user, "finance.costs")


def party(record) -> dict | None:
    return {"id": record.id, "name": record.name} if record is not None else None


def cart(priced, found) -> dict:
    """The open cart as the group sees it now (an empty one when there is none)."""
    if found is None:
        return {
            "id": None,
            "currency": CURRENCY,
            "lines": [],
            "total": Decimal("0"),
            "delivery_address_id": None,
            "shipping_method_id": None,
            "customer_reference": "",
            "requested_date": None,
            "needs_two_approvals": False,
        }
    lines = []
    for line in priced.lines if priced is not None else []:
        refusal = line.refusal if line.sold else None
        lines.append(
            {
                "id": line.line.id,
                "product_id": line.product.id,
                "sku": line.product.sku,
                "name": line.product.name,
                "quantity": line.line.quantity,
                "unit_price": line.offer.at(line.line.quantity).price if line.sold else None,
                "line_total": line.line_total if line.sold else None,
                "sold": line.sold,
                "problem": str(refusal) if refusal else None,
                "stock": stock(line.offer.stock) if line.sold else None,
            }
        )
    return {
        "id": found.id,
        "currency": CURRENCY,
        "lines": lines,
        "total": priced.total if priced is not None else Decimal("0"),
        "delivery_address_id": found.delivery_address_id,
        "shipping_method_id": found.shipping_method_id,
        "customer_reference": found.customer_reference or "",
        "requested_date": found.requested_date,
        "needs_two_approvals": bool(priced is not None and priced.needs_two_approvals),
    }


def order_summary(order) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "status_label": str(orders.STATUS_LABELS.get(order.status, order.status)),
        "company": party(order.company),
        "placed_by": party(order.placed_by),
        "created_at": order.created_at,
        "currency": order.currency,
        "customer_reference": order.customer_reference or "",
        "totals": {
            "goods": order.total,
            "shipping": order.shipping_price,
            "net": order.net_total,
            "vat": order.vat_total,
            "gross": order.gross_total,
        },
    }


def order(found, user) -> dict:
    """An order as this reader may see it: back-ordered quantities and costs only where
    core.orders and core.access allow, the invoice only to its readers."""
    counts = orders.sees_backordered_counts(user, found)
    waiting = found.status != "cancelled"
    costs = sees_costs(user)
    lines = []
    for line in found.lines:
        shown = {
            "product_id": line.product_id,
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "list_price": line.list_price,
            "unit_price": line.unit_price,
            "line_total": line.line_total,
            "vat_rate": line.vat_rate,
            "backordered_waiting": waiting and line.backordered > 0,
        }
        if counts:
            shown["backordered"] = line.backordered if waiting else 0
        if costs:
            shown["unit_cost"] = line.unit_cost
        lines.append(shown)
    invoice_id = None
    if access.sees_order_invoice(user) and access.may_read(user, "invoices"):
        invoice_id = db.session.scalar(select(Invoice.id).where(Invoice.order_id == found.id))
    shown_shipments = []
    if may_see_shipments(user):
        shown_shipments = [shipment(s) for s in found.shipments]
    return {
        **order_summary(found),
        "note": found.note or "",
        "requested_date": found.requested_date,
        "delivery": {
            "name": found.delivery_name,
            "street": found.delivery_street,
            "postcode": found.delivery_postcode,
            "city": found.delivery_city,
            "country": found.delivery_country,
            "method": found.shipping_name,
            "price": found.shipping_price,
        },
        "lines": lines,
        "invoice_id": invoice_id,
        "next_states": list(orders.next_states(found)) if access.can(user, "orders.edit") else [],
        "shipments": shown_shipments,
    }


def shipment(found) -> dict:
    """A shipment: what went, with which carrier; quantities shipped, never stock."""
    link = shipments.link_of(found)
    return {
        "id": found.id,
        "number": found.number,
        "order_id": found.order_id,
        "order_number": found.order.number,
        "status": found.status,
        "carrier": found.carrier.name if found.carrier is not None else None,
        "tracking_number": found.tracking_number or "",
        "tracking_url": link or None,
        "shipped_at": found.shipped_at,
        "delivered_at": found.delivered_at,
        "lines": [
            {"sku": line.order_line.sku, "name": line.order_line.name, "quantity": line.quantity}
            for line in found.lines
        ],
    }


def address(found) -> dict:
    return {
        "id": found.id,
        "name": found.name,
        "street": found.street,
        "postcode": found.postcode,
        "city": found.city,
        "country": found.country,
        "is_default": bool(found.is_default),
    }


def quote_summary(found, prices: bool = True) -> dict:
    """A quote; without `prices` its total is absent (a reader lacking shop.prices)."""
    shown = {
        "id": found.id,
        "number": found.number,
        "status": quotes.shown_status(found),
        "status_label": str(quotes.STATUS_LABELS.get(quotes.shown_status(found), found.status)),
        "company": party(found.company),
        "requested_by": party(found.requested_by),
        "created_at": found.created_at,
        "valid_until": found.valid_until,
        "turn": quotes.turn(found),
        "total": quotes.total(found),
    }
    if not prices:
        shown.pop("total")
    return shown


def _quote_line(line, prices: bool) -> dict:
    shown = {
        "kind": "custom" if line.is_custom else "product",
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.title,
        "quantity": line.quantity,
    }
    if line.is_custom:  # drawings by name only: the files are read on the portal
        shown |= {
            "description": line.description or "",
            "material": line.material_name or "",
            "thickness": line.thickness or "",
            "drawings": [d.attachment.filename for d in line.drawings],
        }
    if prices:
        shown["unit_price"] = line.unit_price
        shown["line_total"] = quotes.line_total(line.unit_price, line.quantity)
    return shown


def quote(found, prices: bool = True) -> dict:
    latest = quotes.latest_round(found)
    return {
        **quote_summary(found, prices),
        "note": found.note or "",
        "lines": [_quote_line(line, prices) for line in found.lines],
        "rounds": [
            {
                "id": r.id,
                "side": r.side,
                "action": r.action,
                "note": r.note or "",
                "valid_until": r.valid_until,
                "created_at": r.created_at,
            }
            for r in found.rounds
        ],
        "latest_round_id": latest.id if latest is not None else None,
        "order_id": found.order_id,
    }


def invoice_summary(found) -> dict:
    return {
        "id": found.id,
        "number": found.display_number,
        "status": found.status_on(billing.today()),
        "company": party(found.company),
        "order_id": found.order_id,
        "issued_at": found.issued_at,
        "due_on": found.due_on,
        "currency": found.currency,
        "net_total": found.net_total,
        "vat_total": found.vat_total,
        "total": found.total,
        "paid_total": found.paid_total,
        "credited_total": found.credited_total,
        "balance": found.balance,
    }


def payment(found) -> dict:
    return {
        "id": found.id,
        "invoice_id": found.invoice_id,
        "amount": found.amount,
        "received_on": found.received_on,
        "method": found.method,
        "reference": found.reference or "",
    }


def invoice(found) -> dict:
    return {
        **invoice_summary(found),
        "tax_kind": found.tax_kind,
        "lines": [
            {
                "sku": line.sku,
                "description": str(billing.line_description(line)),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "vat_rate": line.vat_rate,
            }
            for line in found.lines
        ],
        "payments": [payment(p) for p in found.payments],
    }


def credit_note(found) -> dict:
    return {
        "id": found.id,
        "number": found.display_number,
        "company": party(found.company),
        "invoice_id": found.invoice_id,
        "amount": found.amount,
        "net_amount": found.net_amount,
        "vat_rate": found.vat_rate,
        "vat_amount": found.vat_amount,
        "reason": found.reason,
        "currency": found.currency,
        "issued_at": found.issued_at,
    }


def staff_product(found: Product, user) -> dict:
    """A product as this staff member may see it."""
    shown = {
        "id": found.id,
        "sku": found.sku,
        "name": found.name,
        "description": found.description or "",
        "category": category(found),
        "unit": found.unit,
        "tax_class": found.tax_class,
        "base_price": found.base_price,
        "breaks": [{"min_quantity": q, "price": p} for q, p in products.breaks_of(found.id)],
        "min_quantity": found.min_quantity,
        "order_multiple": found.order_multiple,
        "is_archived": bool(found.is_archived),
        "specs": {str(k): str(v) for k, v in (found.specs or {}).items()},
    }
    if access.can(user, "stock.view"):
        shown["stock"] = found.stock
    if access.can(user, "finance.costs"):
        shown["cost"] = found.cost
    if access.can(user, "groups.view"):
        rows = db.session.execute(
            select(GroupPrice, CustomerGroup.name)
            .join(CustomerGroup, CustomerGroup.id == GroupPrice.group_id)
            .where(GroupPrice.product_id == found.id)
            .order_by(CustomerGroup.name)
        ).all()
        own_breaks = products.group_breaks(found) if rows else {}
        shown["group_prices"] = [
            {
                "group_id": gp.group_id,
                "group": name,
                "price": gp.price,
                "breaks": [
                    {"min_quantity": q, "price": p} for q, p in own_breaks.get(gp.group_id, ())
                ],
            }
            for gp, name in rows
        ]
    return shown
