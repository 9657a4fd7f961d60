"""Back-office shipments: created from an order's open quantities, marked shipped and
delivered, each with its delivery note (page and PDF); the list of one's customers'
shipments."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.boundary import attempt
from blueprints.common import (
    checked_csrf,
    choice_arg,
    client_ip,
    go,
    is_htmx,
    or_404,
    page_arg,
    permission_required,
    render,
    search_arg,
)
from blueprints.documents import delivery_note_document, pdf_answer
from blueprints.fragments.shipments import (
    SHIPMENTS,
    STANDING,
    list_context,
    load_shipment,
    note_context,
    shipments_context,
    standing_context,
)
from core import access, carriers, orders, shipments
from core.models import Order, Shipment

from . import bp
from .shipments_forms import ShipForm, TrackingForm, carrier_choices


def status_arg() -> str:
    """The `status` filter of the list; an unknown one is a clear 400."""
    return choice_arg(
        "status", shipments.STATUS_LABELS, _("There is no shipment status “{value}”.")
    )


def shipment_or_404(shipment_id: int) -> Shipment:
    """A shipment of an order of one of this person's customers; any other is a 404."""
    return or_404(load_shipment(current_user, shipment_id))


def order_or_404(order_id: int) -> Order:
    """An order of one of this person's customers; any other is a 404."""
    return or_404(orders.load_visible(current_user, order_id))


@bp.route("/shipments", endpoint="shipments")
@permission_required("shipping.view")
def shipments_list():
    """Shipments of this person's customers' orders, newest first, by status or search."""
    context = list_context(current_user, status=status_arg(), q=search_arg(), page=page_arg())
    return render("office/shipments/index.html", "office/shipments/_table.html", **context)


# --- a new shipment -----------------------------------------------------------------------


def new_context(order: Order, form: TrackingForm, typed: dict | None = None, **extra) -> dict:
    """The new shipment page: each line's open quantity, pre-filled (or as typed)."""
    return {
        "order": order,
        "form": form,
        "lines": shipments.open_lines(order),
        "typed": typed or {},
        "line_errors": {},
        **extra,
    }


@bp.route("/orders/<int:order_id>/shipments/new", methods=["GET", "POST"])
@permission_required("shipping.edit")
def shipment_new(order_id: int):
    """Ship some of an order: its open quantities, editable down to 0, a carrier and a
    tracking number (which may follow when it is marked shipped)."""
    order = order_or_404(order_id)
    choices = carrier_choices(carriers.active_carriers())
    if request.method == "GET":
        form = TrackingForm(formdata=None, choices=choices)
        return render("office/shipments/new.html", **new_context(order, form))
    form = TrackingForm(choices=choices)
    # Each line's quantity is read by its name (never by walking the form).
    typed = {line.id: request.form.get(f"quantity-{line.id}", "") for line in order.lines}
    line_errors: dict[int, str] = {}
    if form.validate_on_submit():

        def work():
            # Locked and re-read: two people shipping the order at once never ship more
            # than was ordered; the second sees what the first took.
            locked = or_404(orders.load_visible(current_user, order_id, lock=True))
            return shipments.create(
                locked,
                typed,
                carrier_id=form.carrier.data,
                tracking_number=form.tracking_number.data or "",
                actor=current_user,
                ip=client_ip(),
            )

        created = attempt(work, replay=True)
        if not created.refused:
            shipment = created.value
            flash(
                _(
                    "Shipment %(number)s created: mark it shipped when it leaves.",
                    number=shipment.number,
                ),
                "info",
            )
            if access.can(current_user, "orders.view"):
                return redirect(url_for("office.order", order_id=order_id))
            return redirect(url_for("office.shipment", shipment_id=shipment.id))
        field = getattr(created.refusal, "field", None) or ""
        if field.startswith("quantity-") and field[len("quantity-") :].isdigit():
            line_errors[int(field[len("quantity-") :])] = created.message
        else:
            form.refuse(created.refusal)
        order = order_or_404(order_id)
    context = new_context(order, form, typed)
    context["line_errors"] = line_errors
    return render("office/shipments/new.html", code=422, **context)


# --- one shipment: its delivery note, and its next steps ----------------------------------


@bp.route("/shipments/<int:shipment_id>")
@permission_required("shipping.view")
def shipment(shipment_id: int):
    """A shipment's delivery note (no prices), with where it stands and its next steps."""
    found = shipment_or_404(shipment_id)
    return render("office/shipments/show.html", **note_context(found, current_user))


@bp.route("/shipments/<int:shipment_id>.pdf")
@permission_required("shipping.view")
def shipment_pdf(shipment_id: int):
    """The delivery note as a PDF: the page's content, to the page's readers."""
    found = shipment_or_404(shipment_id)
    return pdf_answer(delivery_note_document(note_context(found, current_user)))


def answer(shipment_id: int, order_id: int, *, notice: str = "", error: str = ""):
    """The outcome of a step: the region the request came from (the order's shipments or
    the shipment's standing) for htmx, else a message on the page it came from."""
    code = 422 if error else 200
    from_order = (
        request.headers.get("HX-Target") == f"order-shipments-{order_id}"
        or request.form.get("back") == "order"
    )
    if is_htmx():
        if from_order:
            order = order_or_404(order_id)
            context = shipments_context(order, current_user, notice=notice, error=error)
            return render(SHIPMENTS, code=code, **context)
        found = load_shipment(current_user, shipment_id)
        if found is None:  # removed: its page is gone, the order's page shows the rest
            flash(notice or error, "error" if error else "info")
            return go(url_for("office.order", order_id=order_id))
        context = standing_context(found, current_user, notice=notice, error=error)
        return render(STANDING, code=code, **context)
    flash(error or notice, "error" if error else "info")
    if from_order or load_shipment(current_user, shipment_id) is None:
        return redirect(url_for("office.order", order_id=order_id))
    return redirect(url_for("office.shipment", shipment_id=shipment_id))


def step(shipment_id: int, change) -> tuple[Shipment, object]:
    """Run one change of a shipment, its order locked first (core.shipments does)."""
    found = shipment_or_404(shipment_id)
    return found, attempt(lambda: change(found), replay=True)


def moved_on(found: Shipment, change, done: str):
    """Run a step that moves the shipment on, and answer "Shipment N is <done>." or why not."""
    shipment_id, order_id, number = found.id, found.order_id, found.number
    __, moved = step(shipment_id, change)
    if moved.refused:
        return answer(shipment_id, order_id, error=moved.message)
    notices = {
        "shipped": _("Shipment %(number)s is shipped.", number=number),
        "delivered": _("Shipment %(number)s is delivered.", number=number),
        "removed": _("Shipment %(number)s is removed.", number=number),
    }
    return answer(shipment_id, order_id, notice=notices[done])


@bp.post("/shipments/<int:shipment_id>")
@permission_required("shipping.edit")
def shipment_save(shipment_id: int):
    """Correct a shipment's carrier or tracking number (not once it is delivered)."""
    found = shipment_or_404(shipment_id)
    order_id = found.order_id
    form = TrackingForm(choices=carrier_choices(carriers.active_carriers(), found.carrier))
    if not form.validate_on_submit():
        return answer(shipment_id, order_id, error=str(next(iter(form.errors.values()))[0]))
    __, saved = step(
        shipment_id,
        lambda s: shipments.update(
            s,
            carrier_id=form.carrier.data,
            tracking_number=form.tracking_number.data or "",
            actor=current_user,
            ip=client_ip(),
        ),
    )
    if saved.refused:
        return answer(shipment_id, order_id, error=saved.message)
    notice = _("Carrier and tracking saved.") if saved.value else _("Nothing to change.")
    return answer(shipment_id, order_id, notice=notice)


@bp.post("/shipments/<int:shipment_id>/ship")
@permission_required("shipping.edit")
def shipment_ship(shipment_id: int):
    """Mark a shipment shipped (with its tracking number); the order's status follows."""
    found = shipment_or_404(shipment_id)
    form = ShipForm()
    if not form.validate_on_submit():
        return answer(shipment_id, found.order_id, error=str(next(iter(form.errors.values()))[0]))
    return moved_on(
        found,
        lambda s: shipments.mark_shipped(
            s, actor=current_user, tracking_number=form.tracking_number.data, ip=client_ip()
        ),
        "shipped",
    )


@bp.post("/shipments/<int:shipment_id>/deliver")
@permission_required("shipping.edit")
def shipment_deliver(shipment_id: int):
    """Mark a shipment delivered; the order is delivered once all of it is."""
    found = shipment_or_404(shipment_id)
    checked_csrf()
    return moved_on(
        found,
        lambda s: shipments.mark_delivered(s, actor=current_user, ip=client_ip()),
        "delivered",
    )


@bp.post("/shipments/<int:shipment_id>/remove")
@permission_required("shipping.edit")
def shipment_remove(shipment_id: int):
    """Remove a shipment still being prepared: its quantities are open to ship again."""
    found = shipment_or_404(shipment_id)
    checked_csrf()
    return moved_on(
        found, lambda s: shipments.remove(s, actor=current_user, ip=client_ip()), "removed"
    )
