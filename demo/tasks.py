"""Follow-up tasks of the seller's staff (drawing nothing): Anna's call-back on Acme
Robotics' latest quote, Marco's payment chase at Carpathia Makers (overdue), and one of
Anna's own without a customer."""

from datetime import datetime, timedelta

from sqlalchemy import select

from core.models import Company, Quote, Task, User
from extensions import db


def build_tasks(now: datetime, companies: dict[str, Company], people: dict[str, User]):
    anna, marco = people["anna.sales@portal.test"], people["marco.sales@portal.test"]
    acme, carpathia = companies["acme"], companies["carpathia"]
    quote = db.session.scalar(
        select(Quote.id).where(Quote.company_id == acme.id).order_by(Quote.id.desc())
    )
    made = [
        Task(
            title="Call Acme about their quote",
            notes="They asked whether the lead time can be shortened.",
            due_at=(now + timedelta(days=2)).replace(hour=8, minute=0, second=0),
            remind_at=None,
            status="open",
            assignee=anna,
            created_by=anna,
            company_id=acme.id,
            quote_id=quote,
            created_at=now - timedelta(days=1),
            updated_at=now - timedelta(days=1),
        ),
        Task(
            title="Chase Carpathia's overdue payment",
            notes="",
            due_at=(now - timedelta(days=1)).replace(hour=13, minute=0, second=0),
            remind_at=None,
            status="open",
            assignee=marco,
            created_by=marco,
            company_id=carpathia.id,
            created_at=now - timedelta(days=4),
            updated_at=now - timedelta(days=4),
        ),
        Task(
            title="Prepare the trade fair samples",
            notes="",
            due_at=(now + timedelta(days=9)).replace(hour=9, minute=0, second=0),
            remind_at=None,
            status="open",
            assignee=anna,
            created_by=anna,
            created_at=now - timedelta(days=2),
            updated_at=now - timedelta(days=2),
        ),
    ]
    db.session.add_all(made)
    return made
