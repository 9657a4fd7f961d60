"""The back office's start page: the work that waits for this person, and their modules."""

from flask_login import current_user

from blueprints.common import render
from blueprints.fragments.work_queue import WORK_QUEUE, queue_context
from core import access

from . import bp


@bp.route("/")
def dashboard():
    """Start page: live counts of what waits in one's scope (orders to confirm and to ship,
    quotes to answer, overdue invoices, low stock), each opening its list filtered alike."""
    return render(
        "office/dashboard.html",
        WORK_QUEUE,
        modules=access.nav_modules(current_user),
        **queue_context(current_user),
    )
