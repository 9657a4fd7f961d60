"""Documents as PDF, drawn from the same context as their pages.

Each document has one context function in blueprints/fragments (`invoice_context`,
`credit_note_context`, `order_context`, `quote_context`), used by its page in both faces.
The functions here map such a context to core.pdf's `Document`, with the pages' own
filters for money and dates and core.tax's figures (the ones the pages print), so that a
PDF and its page never disagree. Costs, margins and stock never print: no mapping reads
them, whatever the context holds for its viewer.

The PDF views of both faces answer with `pdf_answer`; notification mails get the same
drawings through core.notify's renderers, registered at the bottom of this module. Labels
are translated as a document is mapped: in the request's language, or in the reader's
for a mail (core.notify maps it within their language).
"""

from collections.abc import Callable
from contextlib import contextmanager

from flask import Response, current_app, has_request_context
from flask_babel import gettext as _
from flask_babel import ngettext

from core import acting, billing, countries, i18n, mail, notify, orders, pdf, quotes, tax
from core.models import Company, CreditNote, Invoice, Order, Quote

from .filters import day, money
from .fragments.billing import credit_note_context, invoice_context
from .fragments.orders import order_context
from .fragments.quotes import quote_context
from .fragments.shipments import note_context

MIME = "application/pdf"
# The browser shows a PDF in its own viewer, which builds a page of its own: a page's CSP
# (no inline style, `object-src 'none'`) would break that viewer in some browsers
# (Chromium issue 271452), and a PDF of ours carries no script to contain. Framing stays
# refused like every page's.
PDF_CSP = "frame-ancestors 'none'"
# A quote that ended without an order is labelled across the page, so that nobody takes
# it for a standing offer.
QUOTE_STAMPS = ("rejected", "withdrawn", "expired")


# --- parts shared by every document ---------------------------------------------------------


def seller_of(context: dict) -> dict:
    """The seller's details: the context's (an invoice's has them), else Settings'."""
    return context["seller"] if "seller" in context else billing.seller_details()


def seller_party(seller: dict) -> pdf.Party | None:
    """The seller as Settings hold it (`billing.seller_details()`); None if never set up."""
    if not seller:
        return None
    lines = [seller.get("address", "")]
    if seller.get("vat_number"):
        lines.append(_("VAT number %(number)s", number=seller["vat_number"]))
    lines += [seller.get("email", ""), seller.get("phone", "")]
    return pdf.Party(seller.get("name", ""), tuple(line for line in lines if line))


def company_party(company: Company, order: Order | None = None) -> pdf.Party:
    """The buyer as its invoice prints it: name, address, country and VAT number as they
    were when the order was placed (the order keeps them), else as they are now."""
    address = company.address or ""
    if address.startswith(company.name):  # addresses often start with the name: print it once
        address = address[len(company.name) :].lstrip(" ,\n")
    lines = [address, " ".join(p for p in (company.postcode, company.city) if p)]
    country = (order.buyer_country if order is not None else "") or company.country
    lines.append(countries.name(country))
    vat_number = (order.buyer_vat_number if order is not None else "") or company.vat_number
    if vat_number:
        lines.append(_("VAT number %(number)s", number=vat_number))
    return pdf.Party(company.name, tuple(line for line in lines if line))


def delivery_party(order: Order) -> pdf.Party | None:
    """Where the order's goods go, as copied from the address book when it was placed."""
    if not order.delivery_name:
        return None
    place = " ".join(p for p in (order.delivery_postcode, order.delivery_city) if p)
    lines = (order.delivery_street, place, countries.name(order.delivery_country))
    return pdf.Party(order.delivery_name, tuple(line for line in lines if line))


def vat_figures(
    context: dict, computed: Callable[[], tax.Totals] | None = None
) -> tax.Totals | None:
    """The document's net, VAT per rate and gross: the context's own when it carries them,
    else core.tax's, which the page's template asks for the same record (None: neither)."""
    for key in ("figures", "totals", "taxes", "tax"):
        found = context.get(key)
        if hasattr(found, "lines") and hasattr(found, "gross"):
            return found
    return computed() if computed is not None else None


def tax_rows(figures: tax.Totals, currency: str) -> tuple[pdf.Row, ...]:
    """Net, VAT per rate and gross, in the words of the pages' totals (templates/_tax.html)."""
    rows = [pdf.Row(_("Net total"), money(figures.net, currency))]
    rows += [
        pdf.Row(
            _(
                "VAT %(rate)s on %(amount)s",
                rate=tax.rate_label(line.rate),
                amount=money(line.net, currency),
            ),
            money(line.vat, currency),
        )
        for line in figures.lines
    ]
    rows.append(
        pdf.Row(
            _("Total including VAT (%(currency)s)", currency=currency),
            money(figures.gross, currency),
            strong=True,
        )
    )
    return tuple(rows)


def mentions(figures: tax.Totals) -> tuple[str, ...]:
    """The legal sentence the sale must carry ("Reverse charge ...", "Export ..."), if any."""
    return (str(figures.mention),) if figures.mention else ()


def _facts(*pairs: tuple[str, object]) -> tuple[tuple[str, str], ...]:
    """(label, value) pairs, leaving out those without a value."""
    return tuple((label, str(value)) for label, value in pairs if value)


def _sold(line, description: str, currency: str) -> pdf.Line:
    """A line of an order or its invoice: what was sold, at its price, rate and total."""
    return pdf.Line(
        sku=line.sku,
        description=description,
        quantity=i18n.format_number(line.quantity),
        unit_price=money(line.unit_price, currency),
        vat=tax.rate_label(line.vat_rate),
        amount=money(line.line_total, currency),
    )


# --- one mapping per document ---------------------------------------------------------------


def invoice_document(context: dict) -> pdf.Document:
    """An invoice as its page shows it (`invoice_context`), "VOID" across it once voided."""
    invoice: Invoice = context["invoice"]
    order = invoice.order
    currency = invoice.currency
    seller = seller_of(context)
    terms = (invoice.due_on - invoice.issued_at.date()).days
    figures = vat_figures(context, lambda: tax.of_invoice(invoice))
    paragraphs = ()
    if invoice.voided_at is None:
        if seller.get("bank"):
            pay = _(
                "Please pay by %(day)s to %(name)s, %(bank)s, quoting %(number)s.",
                day=day(invoice.due_on),
                name=seller["name"],
                bank=seller["bank"],
                number=invoice.display_number,
            )
        else:
            pay = _(
                "Please pay by %(day)s, quoting %(number)s.",
                day=day(invoice.due_on),
                number=invoice.display_number,
            )
        paragraphs = (pay,)
    return pdf.Document(
        title=_("Invoice"),
        number=invoice.display_number,
        seller=seller_party(seller),
        buyer=company_party(invoice.company, order),
        buyer_heading=_("Billed to"),
        ship_to=delivery_party(order),
        facts=_facts(
            (_("Issued"), day(invoice.issued_at)),
            (_("Due"), day(invoice.due_on)),
            (_("Payment terms"), ngettext("%(num)d day", "%(num)d days", terms)),
            (_("Order"), order.number),
            (_("Your reference"), order.customer_reference),
            (_("Voided"), invoice.voided_at and day(invoice.voided_at)),
        ),
        lines=tuple(
            _sold(line, str(billing.line_description(line)), currency) for line in invoice.lines
        ),
        totals=tax_rows(figures, currency),
        mentions=mentions(figures),
        paragraphs=paragraphs,
        footer=seller.get("footer", ""),
        stamp=_("VOID") if invoice.voided_at else "",
    )


def credit_note_document(context: dict) -> pdf.Document:
    """A credit note as its page shows it (`credit_note_context`)."""
    note: CreditNote = context["note"]
    currency = note.currency
    seller = seller_of(context)
    invoice = note.invoice
    rows = ()
    if note.net_amount:  # credit notes issued before VAT was kept have the amount alone
        rows = (
            pdf.Row(_("Net credited"), money(note.net_amount, currency)),
            pdf.Row(
                _(
                    "VAT %(rate)s on %(amount)s",
                    rate=tax.rate_label(note.vat_rate),
                    amount=money(note.net_amount, currency),
                ),
                money(note.vat_amount, currency),
            ),
        )
    if note.net_amount:
        label = _("Credited including VAT (%(currency)s)", currency=currency)
    else:
        label = _("Credited (%(currency)s)", currency=currency)
    rows += (pdf.Row(label, money(note.amount, currency), strong=True),)
    return pdf.Document(
        title=_("Credit note"),
        number=note.display_number,
        seller=seller_party(seller),
        buyer=company_party(note.company, invoice.order if invoice is not None else None),
        buyer_heading=_("Credited to"),
        facts=_facts(
            (_("Issued"), day(note.issued_at)),
            (_("Against invoice"), invoice.display_number if invoice is not None else ""),
            (_("Order"), invoice.order.number if invoice is not None else ""),
            (_("Set against"), "" if invoice is not None else _("the company's account")),
        ),
        totals=rows,
        mentions=(str(context["mention"]),) if context.get("mention") else (),
        paragraphs=(_("Reason: %(reason)s", reason=note.reason),),
        footer=seller.get("footer", ""),
        stamp=_("VOID") if getattr(note, "voided_at", None) else "",
    )


def order_document(context: dict) -> pdf.Document:
    """An order confirmation as the order's page shows it (`order_context`). Its unit
    costs and margin, which the context holds for some staff, are not read."""
    order: Order = context["order"]
    currency = order.currency
    seller = seller_of(context)
    labels = context.get("labels", orders.STATUS_LABELS)
    figures = vat_figures(context, lambda: tax.of_order(order))
    rows = [pdf.Row(_("Goods"), money(order.total, currency))]
    if order.shipping_name or order.shipping_price:
        shipping = money(order.shipping_price, currency) if order.shipping_price else _("free")
        if order.shipping_name:
            name = _("Shipping: %(method)s", method=order.shipping_name)
        else:
            name = _("Shipping")
        rows.append(pdf.Row(name, shipping))
    return pdf.Document(
        title=_("Order confirmation"),
        number=order.number,
        seller=seller_party(seller),
        buyer=company_party(order.company, order),
        ship_to=delivery_party(order),
        ship_to_heading=_("Deliver to"),
        facts=_facts(
            (_("Placed"), day(order.created_at)),
            (_("Placed by"), acting.by_whom(order)),
            (_("Approved by"), order.approved_by.name if order.approved_by else ""),
            (_("Status"), labels.get(order.status, order.status)),
            (_("Your reference"), order.customer_reference),
            (_("Delivery wanted"), order.requested_date and day(order.requested_date)),
            (_("Shipping"), order.shipping_name),
            (_("From quote"), order.quote.number if order.quote is not None else ""),
        ),
        lines=tuple(_sold(line, line.name, currency) for line in order.lines),
        totals=(*rows, *tax_rows(figures, currency)),
        mentions=mentions(figures),
        paragraphs=(_("Note: %(note)s", note=order.note),) if order.note else (),
        footer=seller.get("footer", ""),
        stamp=str(labels["cancelled"]) if order.status == "cancelled" else "",
    )


def quote_document(context: dict) -> pdf.Document:
    """A quote as its page's live region shows it (`quote_context`), without the costs,
    margins or offers (with their stock) the context also holds."""
    quote: Quote = context["quote"]
    seller = seller_of(context)
    status = context["status"]
    labels = context.get("labels", quotes.STATUS_LABELS)
    line_total = context.get("line_total", quotes.line_total)
    priced = context.get("prices", True)  # a reader without shop.prices: no figure at all
    total = context.get("total") if priced else None
    figures = vat_figures(context) if priced else None
    if figures is not None:
        totals, legal = tax_rows(figures, "EUR"), mentions(figures)
    elif total is not None:
        totals = (pdf.Row(_("Total at the quoted prices"), money(total), strong=True),)
        legal = ()
    else:
        totals, legal = (), ()
    valid = quote.valid_until and (context.get("turn") == quotes.CUSTOMER or status == "expired")
    return pdf.Document(
        title=_("Quote"),
        number=quote.number,
        seller=seller_party(seller),
        buyer=company_party(quote.company),
        facts=_facts(
            (_("Asked"), day(quote.created_at)),
            (_("Asked by"), acting.by_whom(quote)),
            (_("Status"), labels.get(status, status)),
            (_("Prices valid until"), valid and day(quote.valid_until)),
            (_("Order"), quote.order.number if quote.order_id is not None else ""),
        ),
        lines=tuple(
            pdf.Line(
                sku=line.sku,
                description=line.title,
                quantity=i18n.format_number(line.quantity),
                unit_price=money(line.unit_price) if priced else "",
                amount=money(line_total(line.unit_price, line.quantity)) if priced else "",
            )
            for line in quote.lines
        ),
        totals=totals,
        mentions=legal,
        paragraphs=(
            ()
            if total is not None
            else (
                (_("Prices follow when the seller answers."),)
                if priced
                else (_("Prices are shown to your company's decision-makers."),)
            )
        ),
        footer=seller.get("footer", ""),
        stamp=str(labels[status]) if status in QUOTE_STAMPS else "",
    )


def delivery_note_document(context: dict) -> pdf.Document:
    """A shipment's delivery note as its page shows it (`fragments.shipments.note_context`):
    what went, where to, for which order and with which carrier; no prices."""
    shipment = context["shipment"]
    deliver_to = context["deliver_to"]
    return pdf.Document(
        title=_("Delivery note"),
        number=shipment.number,
        seller=seller_party(seller_of(context)),
        buyer=company_party(shipment.order.company, shipment.order),
        ship_to=pdf.Party(deliver_to["name"], tuple(deliver_to["lines"])),
        ship_to_heading=_("Deliver to"),
        # The labels come in English from the note's context (fragments/shipments.py).
        facts=_facts(*((_(label), value) for label, value in context["facts"])),
        lines=tuple(
            pdf.Line(sku=line.sku, description=line.name, quantity=i18n.format_number(quantity))
            for line, quantity in context["lines"]
        ),
        paragraphs=(
            _("Items in this shipment: %(count)s", count=i18n.format_number(context["items"])),
        ),
        footer=seller_of(context).get("footer", ""),
    )


# --- answers and attachments ----------------------------------------------------------------


def pdf_answer(document: pdf.Document) -> Response:
    """The document for the browser to show (`inline`), named after its number."""
    response = Response(pdf.render(document), mimetype=MIME)
    response.headers["Content-Disposition"] = f'inline; filename="{document.filename}"'
    response.headers["Content-Security-Policy"] = PDF_CSP
    return response


def attachment(document: pdf.Document) -> mail.Attachment:
    """The document as a mail's attachment."""
    return mail.Attachment(document.filename, MIME, pdf.render(document))


@contextmanager
def _portal_request():
    """A request context for the contexts' links outside a request (a job), for
    PORTAL_URL's host like live fragments; inside a request, that request's."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=current_app.config["PORTAL_URL"]):
        yield


def _mailed(document_of: Callable[[dict], pdf.Document], context_of: Callable[..., dict]):
    """A renderer for notify: the record's document for this reader, as an attachment."""

    def render(record, reader) -> mail.Attachment:
        with _portal_request():
            return attachment(document_of(context_of(record, reader)))

    return render


for _kind, _document_of, _context_of in (
    ("invoice", invoice_document, invoice_context),
    ("credit_note", credit_note_document, credit_note_context),
    ("order", order_document, order_context),
    ("quote", quote_document, quote_context),
    ("delivery_note", delivery_note_document, note_context),
):
    notify.renders(_kind)(_mailed(_document_of, _context_of))
