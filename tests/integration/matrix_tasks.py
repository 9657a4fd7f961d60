"""Authorization matrix rows of the tasks module and the customer's contact history.

Every staff preset sees tasks (`tasks.view`); all but Read-only change them
(`tasks.edit`). A task follows its customer: the demo's Acme task is a 404 for Marco,
who does not serve Acme. The contact history needs `customers.view` (the warehouse has
none: 403) and the company in scope.
"""

from sqlalchemy import select

from core.models import Task
from tests.matrix_base import ADMIN, ANNA, FINANCE, MANAGER, MARCO, VIEWER, WAREHOUSE, office

SEERS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, FINANCE, VIEWER)
EDITORS = (ADMIN, MANAGER, ANNA, MARCO, WAREHOUSE, FINANCE)
ACME_SEERS = tuple(p for p in SEERS if p != MARCO)
ACME_EDITORS = tuple(p for p in EDITORS if p != MARCO)


def ids(session) -> dict:
    return {
        "acme_task": session.scalar(
            select(Task.id).where(Task.title == "Call Acme about their quote")
        )
    }


TASK = "/office/tasks/{acme_task}"

ROWS = {
    ("office.tasks_page", "GET"): ("/office/tasks", office(SEERS, ok=200)),
    ("office.tasks_calendar", "GET"): ("/office/tasks/calendar", office(SEERS, ok=200)),
    ("office.task_create", "GET"): ("/office/tasks/new", office(EDITORS, ok=200)),
    ("office.task_create", "POST"): ("/office/tasks/new", office(EDITORS, ok=422)),
    ("office.task", "GET"): (TASK, office(ACME_SEERS, not_found=(MARCO,), ok=200)),
    ("office.task_update", "POST"): (TASK, office(ACME_EDITORS, not_found=(MARCO,), ok=422)),
    ("office.task_done", "POST"): (TASK + "/done", office(ACME_EDITORS, not_found=(MARCO,))),
    ("office.task_reopen", "POST"): (TASK + "/reopen", office(ACME_EDITORS, not_found=(MARCO,))),
    ("office.task_delete", "POST"): (TASK + "/delete", office(ACME_EDITORS, not_found=(MARCO,))),
    ("office.record_tasks", "GET"): (
        "/office/tasks/panel?company={acme}",
        office(ACME_SEERS, not_found=(MARCO,), ok=200),
    ),
    ("office.customer_history", "GET"): (
        "/office/customers/{acme}/history",
        office((ADMIN, MANAGER, ANNA, FINANCE, VIEWER), not_found=(MARCO,), ok=200),
    ),
}
