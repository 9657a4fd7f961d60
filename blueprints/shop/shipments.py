"""Storefront shipments: the delivery note of a shipment of one of the company's orders,
as a page and as a PDF, with the order's own access rules."""

from functools import wraps

from flask import abort
from flask_login import current_user

from blueprints.common import or_404, render
from blueprints.documents import delivery_note_document, pdf_answer
from blueprints.fragments.shipments import load_shipment, note_context
from core import access

from . import bp


def order_reader_required(view):
    """Route guard: whoever may not read the company's orders gets a 403, as for orders."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not access.may_read(current_user, "orders"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/orders/<int:order_id>/shipments/<int:shipment_id>")
@order_reader_required
def shipment(order_id: int, shipment_id: int):
    """The delivery note of a shipment of one of the company's orders."""
    found = or_404(load_shipment(current_user, shipment_id, order_id=order_id))
    return render("shop/orders/shipment.html", **note_context(found, current_user))


@bp.route("/orders/<int:order_id>/shipments/<int:shipment_id>.pdf")
@order_reader_required
def shipment_pdf(order_id: int, shipment_id: int):
    """The delivery note as a PDF: the page's content, to the page's readers."""
    found = or_404(load_shipment(current_user, shipment_id, order_id=order_id))
    return pdf_answer(delivery_note_document(note_context(found, current_user)))
