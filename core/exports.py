"""CSV exports of products, group prices, orders and invoices, within the viewer's field
and record rights.

Each export is a header and a stream of rows read from the database in batches, so a
large one never sits in memory whole. The policy decides what is in it: cost and margin
columns only for holders of `finance.costs`, stock only with `stock.view`, and only the
orders and invoices of the companies the person may see (access.company_scope).

Files start with a UTF-8 byte-order mark, so spreadsheet apps read accents right, and
a text cell that a spreadsheet would take for a formula (= + - @ tab CR) is prefixed
with a quote, so opening an export never runs anything a customer typed.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from extensions import db

from . import access, billing, i18n, margins, orders
from .models import (
    Category,
    Company,
    CustomerGroup,
    GroupPrice,
    Invoice,
    Order,
    OrderLine,
    PriceBreak,
    Product,
    User,
)

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STREAM_BATCH = 500  # rows read from the database at a time
CHUNK_BYTES = 64 * 1024  # text handed to the server at a time


def cell(value) -> str:
    """One value as a CSV cell: numbers plainly, dates in ISO form, text formula-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def plain_number(value: Decimal) -> str:
    """12.5 -> "12.50", 0.0125 -> "0.0125": cents always, sub-cent digits when there are some."""
    text = f"{value:.4f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def stream(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text in chunks: byte-order mark, header, then the rows as they are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _batched(stmt) -> Iterator:
    """The rows of a statement, fetched STREAM_BATCH at a time (a server-side cursor)."""
    yield from db.session.execute(stmt.execution_options(yield_per=STREAM_BATCH))


# --- products ------------------------------------------------------------------------------------


PRODUCT_STATUSES = {"": "On sale", "archived": "Archived"}


def product_rows(user: User, *, q: str = "", status: str = "") -> tuple[list[str], Iterator[tuple]]:
    """The products on sale (or the archived ones), searched like the list, in SKU order;
    columns as the person may see them, named as a products import reads them back."""
    show_costs = access.can(user, "finance.costs")
    show_stock = access.can(user, "stock.view")
    header = ["sku", "name", "category", "base_price"]
    columns = [Product.sku, Product.name, Category.slug, Product.base_price]
    if show_costs:
        header.append("cost")
        columns.append(Product.cost)
    header += ["description", "unit", "tax_class"]
    columns += [Product.description, Product.unit, Product.tax_class]
    if show_stock:
        header.append("stock")
        columns.append(Product.stock)
    stmt = (
        select(*columns)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Product.is_archived.is_(True) if status == "archived" else Product.sold())
        .order_by(Product.sku)
    )
    if q:
        stmt = stmt.where(Product.search_key.contains(q.lower(), autoescape=True))
    return header, _batched(stmt)


# --- group prices --------------------------------------------------------------------------------


def breaks_cell(breaks) -> str:
    """Breaks as a group-prices import reads them back: "10:5.00 100:4.80"."""
    return " ".join(f"{quantity}:{plain_number(Decimal(price))}" for quantity, price in breaks)


def group_price_rows(
    group: CustomerGroup, *, product_ids=None
) -> tuple[list[str], Iterator[tuple]]:
    """A group's own prices of the products on sale, in SKU order, with their quantity
    breaks: the columns a group-prices import reads back (sku, group, price, breaks).
    `product_ids`: a statement or list narrowing the products (the price list's filter)."""
    where = [GroupPrice.group_id == group.id, Product.sold()]
    if product_ids is not None:
        where.append(Product.id.in_(product_ids))
    breaks: dict[int, list] = {}
    for product_id, quantity, price in db.session.execute(
        select(PriceBreak.product_id, PriceBreak.min_quantity, PriceBreak.price)
        .where(PriceBreak.group_id == group.id)
        .order_by(PriceBreak.product_id, PriceBreak.min_quantity)
    ):
        breaks.setdefault(product_id, []).append((quantity, price))
    stmt = (
        select(Product.id, Product.sku, GroupPrice.price)
        .join(GroupPrice, GroupPrice.product_id == Product.id)
        .where(*where)
        .order_by(Product.sku)
    )
    rows = (
        (sku, group.name, price, breaks_cell(breaks.get(product_id, ())))
        for product_id, sku, price in _batched(stmt)
    )
    return ["sku", "group", "price", "breaks"], rows


# --- orders --------------------------------------------------------------------------------------


def order_rows(user: User, *, status: str = "", q: str = "") -> tuple[list[str], Iterator[tuple]]:
    """Orders of the companies this person may see, filtered like the list, newest first;
    cost and margin only with `finance.costs`."""
    show_costs = access.can(user, "finance.costs")
    lines = (
        select(func.count(OrderLine.id))
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )
    columns = [
        Order.number,
        Order.created_at,
        Company.name,
        User.name,
        Order.status,
        lines,
        Order.total,
        Order.currency,
        Order.shipping_price,
        Order.vat_total,
    ]
    header = ["order", "placed_utc", "company", "placed_by", "status", "lines", "total", "currency"]
    header += ["shipping", "vat", "gross"]  # total: the goods, net (what reports count)
    if show_costs:
        cost = (
            select(func.coalesce(func.sum(OrderLine.unit_cost * OrderLine.quantity), 0))
            .where(OrderLine.order_id == Order.id)
            .correlate(Order)
            .scalar_subquery()
        )
        columns.append(cost)
        header += ["cost", "margin", "margin_percent"]  # on the goods' net total
    stmt = (
        select(*columns)
        .join(Company, Company.id == Order.company_id)
        .outerjoin(User, User.id == Order.placed_by_id)
    )
    stmt = access.company_scope(user, stmt, Order.company_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if q:
        stmt = orders.search(stmt, q)
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc())
    # The file's status column reads the same whoever downloads it: the labels in English.
    with i18n.in_language("en"):
        labels = {key: str(label) for key, label in orders.STATUS_LABELS.items()}

    def rows() -> Iterator[tuple]:
        for row in _batched(stmt):
            number, placed, company, placed_by, state, count, total, currency = row[:8]
            out = [number, placed, company, placed_by, labels.get(state, state), count]
            shipping, vat = row[8], row[9]
            out += [total, currency, shipping, vat, total + shipping + vat]
            if show_costs:
                margin = margins.of_total(total, row[10])
                out += [margin.cost, margin.margin, margin.percent]
            yield out

    return header, rows()


# --- invoices ------------------------------------------------------------------------------------


def invoice_rows(
    user: User,
    *,
    status: str = "",
    q: str = "",
    company_id: int | None = None,
    today: date | None = None,
) -> tuple[list[str], Iterator[tuple]]:
    """Invoices of the companies this person may see, filtered like the list, newest first."""
    today = today or billing.today()
    header = [
        "invoice",
        "issued_utc",
        "due",
        "company",
        "order",
        "status",
        "net",
        "vat",
        "total",
        "paid",
        "credited",
        "balance",
        "currency",
    ]
    # Columns, not entities: a long export must not fill the session's identity map.
    stmt = (
        select(
            Invoice.number,
            Invoice.issued_at,
            Invoice.due_on,
            Invoice.total,
            Invoice.paid_total,
            Invoice.credited_total,
            Invoice.currency,
            Invoice.voided_at,
            Company.name,
            Order.number,
            Invoice.net_total,
            Invoice.vat_total,
        )
        .join(Company, Company.id == Invoice.company_id)
        .join(Order, Order.id == Invoice.order_id)
    )
    stmt = access.company_scope(user, stmt, Invoice.company_id)
    if company_id is not None:
        stmt = stmt.where(Invoice.company_id == company_id)
    if status:
        stmt = stmt.where(billing.status_condition(status, today))
    if q:
        stmt = stmt.where(billing.search_condition(q))
    stmt = stmt.order_by(Invoice.issued_at.desc(), Invoice.number.desc())

    def rows() -> Iterator[tuple]:
        for row in _batched(stmt):
            # A transient Invoice (never added to the session) lends its own rules:
            # the display number, the balance and the status on a day.
            invoice = Invoice(
                number=row[0],
                due_on=row[2],
                total=row[3],
                paid_total=row[4],
                credited_total=row[5],
                voided_at=row[7],
            )
            company, order_number = row[8], row[9]
            yield (
                invoice.display_number,
                row[1],
                invoice.due_on,
                company,
                order_number,
                invoice.status_on(today),
                row[10],
                row[11],
                invoice.total,
                invoice.paid_total,
                invoice.credited_total,
                invoice.balance,
                row[6],
            )

    return header, rows()
