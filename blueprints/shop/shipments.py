"""Storefront shipments: the delivery note of a shipment of one of the company's orders,
as a page and as a PDF, with the order's own access rules."""

from flask_login import current_user

from blueprints.common import or_404, reader_required, render
from blueprints.documents import delivery_note_document, pdf_answer
from blueprints.fragments.shipments import load_shipment, note_context

from . import bp


@bp.route("/orders/<int:order_id>/shipments/<int:shipment_id>")
@reader_required("orders")
def shipment(order_id: int, shipment_id: int):
    """The delivery note of a shipment of one of the company's orders."""
    found = or_404(load_shipment(current_user, shipment_id, order_id=order_id))
    return render("shop/orders/shipment.html", **note_context(found, current_user))


@bp.route("/orders/<int:order_id>/shipments/<int:shipment_id>.pdf")
@reader_required("orders")
def shipment_pdf(order_id: int, shipment_id: int):
    """The delivery note as a PDF: the page's content, to the page's readers."""
    found = or_404(load_shipment(current_user, shipment_id, order_id=order_id))
    return pdf_answer(delivery_note_document(note_context(found, current_user)))
