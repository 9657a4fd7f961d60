"""The demo's trade history: orders with invoices and payments, quotes, carts, credit notes."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import tax
from core.billing import build_invoice
from core.models import (
    CENT,
    UNIT,
    Cart,
    CartLine,
    Company,
    CreditNote,
    Invoice,
    Order,
    OrderEvent,
    Payment,
    Product,
    Quote,
    QuoteLine,
    QuoteRound,
    QuoteRoundLine,
    Sequence,
    User,
)
from core.offer import offers_for
from core.orders import order_line
from extensions import db


def next_number(name: str) -> int:
    """Advance a gapless counter (the demo is the only writer while it loads)."""
    seq = db.session.get(Sequence, name)
    if seq is None:
        seq = Sequence(name=name, next_value=1)
        db.session.add(seq)
    value = seq.next_value
    seq.next_value = value + 1
    return value


def build_trade(
    rng: random.Random,
    now: datetime,
    companies: dict[str, Company],
    people: dict[str, User],
    products: dict[str, Product],
) -> None:
    """The trade history, then credit notes against some of its invoices."""
    _trade_history(rng, now, companies, people, products)
    _credit_notes(now, companies, people)


def _credit_notes(now, companies, people):
    """Two credit notes against open invoices (Baltic's confirmed, Delft's shipped order)."""
    finance = people["finance@portal.test"]
    plan = (
        ("baltic", "confirmed", None, "Two reels arrived damaged: credited as agreed."),
        ("delft", "shipped", Decimal("25.00"), "Goodwill credit for the late shipment."),
    )
    for slug, status, amount, reason in plan:
        invoice = db.session.scalar(
            select(Invoice)
            .join(Order, Order.id == Invoice.order_id)
            .where(Invoice.company_id == companies[slug].id, Order.status == status)
            .order_by(Invoice.number)
            .limit(1)
        )
        if invoice is None or invoice.balance <= 0:
            continue
        credit = min(amount or (invoice.total / 10).quantize(CENT), invoice.balance)
        invoice.credited_total = credit
        db.session.add(
            CreditNote(
                number=next_number("credit_note"),
                company_id=invoice.company_id,
                invoice_id=invoice.id,
                amount=credit,
                reason=reason,
                currency=invoice.currency,
                issued_at=min(invoice.issued_at + timedelta(days=3), now),
                issued_by=finance,
            )
        )
    db.session.flush()


def _lines_for(rng, products, count):
    pool = [p for p in products.values() if p.stock > 0]
    return [(p, rng.choice([1, 2, 5, 10, 25, 50, 100])) for p in rng.sample(pool, count)]


def _order(company, placed_by, lines, offers, created, status, staff, number, rng):
    order = Order(
        number=f"SO-{number:05d}",
        company=company,
        placed_by=placed_by,
        status=status,
        created_at=created,
        updated_at=created,
    )
    order.lines = [order_line(product, offers[product.id], quantity) for product, quantity in lines]
    order.total = sum((line.line_total for line in order.lines), Decimal(0))
    tax.apply(order)
    steps = ["placed", "confirmed", "shipped", "delivered"]
    path = ["placed", "cancelled"] if status == "cancelled" else steps[: steps.index(status) + 1]
    when = created
    for step in path:
        who = placed_by if step == "placed" else staff
        order.events.append(
            OrderEvent(
                status=step,
                user=who,
                created_at=when,
                note="Cancelled at the customer's request" if step == "cancelled" else "",
            )
        )
        when += timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 8))
    return order


def _invoice(order, issued):
    return build_invoice(order, next_number("invoice"), issued)


def _trade_history(rng, now, companies, people, products):
    """Orders in every state with invoices and payments; quotes in every state; carts."""
    finance = people["finance@portal.test"]
    warehouse = people["warehouse@portal.test"]
    plan = {
        "acme": ["delivered", "delivered", "shipped", "confirmed", "placed", "cancelled"],
        "baltic": ["delivered", "shipped", "confirmed", "placed"],
        "carpathia": ["delivered", "confirmed", "placed"],
        "delft": ["delivered", "shipped", "placed", "cancelled"],
        "etna": ["delivered", "confirmed"],
    }
    # Interleave companies by date, so order and invoice numbers follow time.
    entries = [(slug, status) for slug, statuses in plan.items() for status in statuses]
    dated = sorted(
        (
            (now - timedelta(days=rng.randint(3, 110), hours=rng.randint(0, 20)), slug, status)
            for slug, status in entries
        ),
        key=lambda e: e[0],
    )
    for created, slug, status in dated:
        company = companies[slug]
        buyer = people[f"orders@{slug}.test"]
        lines = _lines_for(rng, products, rng.randint(1, 4))
        offers = offers_for(company.group, [p for p, _ in lines], at=created)
        order = _order(
            company, buyer, lines, offers, created, status, warehouse, next_number("order"), rng
        )
        db.session.add(order)
        if status in ("confirmed", "shipped", "delivered"):
            issued = created + timedelta(days=1)
            invoice = _invoice(order, issued)
            db.session.add(invoice)
            if status == "delivered" or (status == "shipped" and rng.random() < 0.5):
                paid = (
                    invoice.total if status == "delivered" else (invoice.total / 2).quantize(CENT)
                )
                invoice.payments.append(
                    Payment(
                        amount=paid,
                        received_on=(issued + timedelta(days=rng.randint(5, 25))).date(),
                        method="transfer",
                        reference=f"BANK-{rng.randrange(10**6, 10**7)}",
                        recorded_by=finance,
                        created_at=issued + timedelta(days=26),
                    )
                )
                invoice.paid_total = paid
    db.session.flush()

    quote_plan = [
        ("acme", "requested", None),
        ("acme", "offered", 20),
        ("acme", "accepted", 10),
        ("baltic", "countered", 15),
        ("baltic", "expired", -5),
        ("delft", "offered", 25),
        ("etna", "rejected", None),
    ]
    for slug, status, valid_days in quote_plan:
        company = companies[slug]
        requester = people[f"request@{slug}.test"]
        rep = company.reps[0] if company.reps else people["manager@portal.test"]
        created = now - timedelta(days=rng.randint(10, 40))
        quote = Quote(
            number=f"QT-{next_number('quote'):05d}",
            company=company,
            requested_by=requester,
            status=status,
            created_at=created,
            note="Volume pricing for our next production run, please.",
            valid_until=(now + timedelta(days=valid_days)).date()
            if valid_days is not None
            else None,
        )
        chosen = _lines_for(rng, products, rng.randint(1, 3))
        quantities = [(p, q * 10) for p, q in chosen]
        quote.lines = [QuoteLine(product=p, quantity=q) for p, q in quantities]
        request = QuoteRound(
            author=requester, side="customer", action="request", created_at=created, note=quote.note
        )
        request.lines = [QuoteRoundLine(product=p, quantity=q) for p, q in quantities]
        quote.rounds.append(request)
        if status != "requested":
            offered = [
                (p, q, (p.base_price * Decimal("0.85")).quantize(UNIT)) for p, q in quantities
            ]
            offer_round = QuoteRound(
                author=rep,
                side="staff",
                action="offer",
                created_at=created + timedelta(days=1),
                valid_until=quote.valid_until,
                note="Our best price for these quantities.",
            )
            offer_round.lines = [
                QuoteRoundLine(product=p, quantity=q, unit_price=price) for p, q, price in offered
            ]
            quote.rounds.append(offer_round)
            for line, (_, _, price) in zip(quote.lines, offered, strict=True):
                line.unit_price = price
        if status == "countered":
            counter = QuoteRound(
                author=people[f"orders@{slug}.test"],
                side="customer",
                action="counter",
                created_at=created + timedelta(days=2),
                note="Could you go a little lower?",
            )
            counter.lines = [
                QuoteRoundLine(
                    product=line.product,
                    quantity=line.quantity,
                    unit_price=(line.unit_price * Decimal("0.95")).quantize(UNIT),
                )
                for line in quote.lines
            ]
            quote.rounds.append(counter)
        if status in ("accepted", "rejected"):
            decider = people[f"orders@{slug}.test"]
            quote.rounds.append(
                QuoteRound(
                    author=decider,
                    side="customer",
                    action="accept" if status == "accepted" else "reject",
                    created_at=created + timedelta(days=3),
                    note="Thank you." if status == "accepted" else "We found another source.",
                )
            )
        if status == "expired":
            quote.rounds.append(
                QuoteRound(
                    side="staff",
                    action="expire",
                    created_at=now - timedelta(days=4),
                    note="The offer's validity ended.",
                )
            )
        db.session.add(quote)
        if status == "accepted":
            offers = {line.product.id: line for line in quote.lines}
            order = Order(
                number=f"SO-{next_number('order'):05d}",
                company=company,
                placed_by=people[f"orders@{slug}.test"],
                status="placed",
                quote=quote,
                created_at=created + timedelta(days=3),
            )
            quoted = offers_for(company.group, [line.product for line in offers.values()])
            order.lines = [
                order_line(line.product, quoted[line.product.id], line.quantity, line.unit_price)
                for line in offers.values()
            ]
            order.total = sum((line.line_total for line in order.lines), Decimal(0))
            tax.apply(order)
            order.events.append(
                OrderEvent(
                    status="placed",
                    user=order.placed_by,
                    created_at=order.created_at,
                    note=f"From quote {quote.number}",
                )
            )
            db.session.add(order)
            db.session.flush()
            quote.order_id = order.id

    acme_cart = Cart(
        company=companies["acme"],
        owner=people["request@acme.test"],
        status="submitted",
        submitted_at=now - timedelta(hours=5),
        note="Parts for the next batch of arm controllers.",
    )
    acme_cart.lines = [
        CartLine(product=products["MCU-STM32F401"], quantity=40),
        CartLine(product=products["CAP-1206-10U"], quantity=20),
    ]
    baltic_cart = Cart(company=companies["baltic"], owner=people["request@baltic.test"])
    baltic_cart.lines = [CartLine(product=p, quantity=q) for p, q in _lines_for(rng, products, 2)]
    db.session.add_all([acme_cart, baltic_cart])
