"""Quotes mailed to a contact without an account: sending, the link page, its decisions.

Staff who answer the quote send it (office.quote_mail); the mail holds /q/<token> and
answers to the quote's conversation. The link shows the quote as the company's group
sees it, accepts (the order is placed, audited with the contact), rejects with a reason,
or writes into the conversation. Expired, used, revoked and unknown links answer 410
and never show the quote; unknown tokens are throttled; every form needs its CSRF token.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core import quote_links
from core.models import (
    AuditEntry,
    Company,
    Conversation,
    Message,
    Order,
    OutboxMail,
    Product,
    Quote,
    QuoteLink,
    utcnow,
)
from core.sessions import token_hash
from extensions import db

ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
CONTACT = "jane.buyer@acme-robotics.example"


def offered_quote(slug: str = "acme") -> Quote:
    return db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == slug, Quote.status == "offered")
        .order_by(Quote.id)
    )


def send(as_user, quote_id: int, *, who=ANNA, htmx=True, **fields):
    data = {"name": "Jane Buyer", "email": CONTACT, "language": "en", "message": ""} | fields
    return as_user(who).send("POST", f"/office/quotes/{quote_id}/mail", data=data, htmx=htmx)


def token_in(mail: OutboxMail) -> str:
    match = re.search(r"/q/([A-Za-z0-9_-]{20,})", mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.fixture
def sent(ctx, as_user):
    """An Acme quote mailed to Jane by Anna: (quote id, token, link id)."""
    quote = offered_quote()
    response = send(as_user, quote.id)
    assert response.status_code == 200, response.get_data(as_text=True)
    mail = db.session.scalar(
        select(OutboxMail).where(OutboxMail.to_addr == CONTACT).order_by(OutboxMail.id.desc())
    )
    token = token_in(mail)
    link = db.session.scalar(select(QuoteLink).where(QuoteLink.token_hash == token_hash(token)))
    return quote.id, token, link.id


def page_of(client, token: str):
    return client.get(f"/q/{token}")


def seen_of(html: str) -> str:
    return re.search(r'name="seen" value="(\d+)"', html).group(1)


def test_sending_mails_a_hashed_single_link_answering_to_the_conversation(ctx, sent):
    quote_id, token, link_id = sent
    link = db.session.get(QuoteLink, link_id)
    assert link.recipient_name == "Jane Buyer" and link.recipient_email == CONTACT
    assert link.token_hash == token_hash(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == timedelta(days=14)
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_addr == CONTACT))
    conversation = db.session.scalar(select(Conversation).where(Conversation.quote_id == quote_id))
    assert mail.reply_to == f"reply+{conversation.reply_token}@127.0.0.1"
    assert "http://127.0.0.1:5000/q/" in mail.body and "Jane Buyer" in mail.body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "quote.mailed"))
    assert entry is not None and CONTACT in entry.summary and token not in entry.summary


def test_the_quote_page_lists_the_link_with_its_state_and_a_revoke_button(ctx, sent, as_user):
    quote_id, _token, link_id = sent
    html = as_user(ANNA).get(f"/office/quotes/{quote_id}").get_data(as_text=True)
    assert 'id="quote-mail-' in html and CONTACT in html
    assert f"/office/quotes/{quote_id}/links/{link_id}/revoke" in html


def test_bad_input_is_refused_clearly_and_nothing_is_sent(ctx, as_user):
    quote = offered_quote()
    for fields in (
        {"email": "not-an-address"},
        {"email": "a@b.example, c@d.example"},
        {"name": ""},
    ):
        response = send(as_user, quote.id, **fields)
        assert response.status_code == 422, fields
        assert 'role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(QuoteLink.id))) == 0
    assert (
        db.session.scalar(
            select(func.count(OutboxMail.id)).where(OutboxMail.to_addr.like("%example%"))
        )
        == 0
    )


def test_only_a_quote_waiting_for_the_customer_can_be_mailed(ctx, as_user):
    requested = db.session.scalar(
        select(Quote)
        .join(Company, Company.id == Quote.company_id)
        .where(Company.slug == "acme", Quote.status == "requested")
    )
    assert requested is not None
    response = send(as_user, requested.id)
    assert response.status_code == 422
    assert "waits for the customer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(QuoteLink.id))) == 0


def test_a_rep_outside_the_scope_gets_404_and_sends_nothing(ctx, as_user):
    quote = offered_quote()
    assert send(as_user, quote.id, who=MARCO).status_code == 404
    assert db.session.scalar(select(func.count(QuoteLink.id))) == 0


def test_the_link_shows_the_quote_as_the_group_sees_it_without_costs(ctx, sent, client):
    quote_id, token, link_id = sent
    response = page_of(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    quote = db.session.get(Quote, quote_id)
    assert quote.number in html and "Accept and order" in html and "Reject" in html
    assert ">Cost<" not in html and ">Margin<" not in html
    assert "in stock" not in html
    assert f"/q/{token}.pdf" in html
    assert db.session.get(QuoteLink, link_id).viewed_at is not None
    pdf = client.get(f"/q/{token}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def stock_up(quote_id: int) -> None:
    """Enough stock for every line of the quote (the demo's offer may be short of some)."""
    quote = db.session.get(Quote, quote_id)
    ids = [line.product_id for line in quote.lines]
    db.session.execute(update(Product).where(Product.id.in_(ids)).values(stock=100_000))
    db.session.commit()


def test_accepting_places_the_order_uses_the_link_and_audits_the_contact(ctx, sent, client):
    quote_id, token, link_id = sent
    stock_up(quote_id)
    seen = seen_of(page_of(client, token).get_data(as_text=True))
    response = client.send("POST", f"/q/{token}/accept", data={"seen": seen, "note": ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    quote = db.session.get(Quote, quote_id)
    assert quote.status == "accepted" and quote.order_id is not None
    order = db.session.get(Order, quote.order_id)
    assert order.number in response.get_data(as_text=True)
    assert order.placed_by_id is None
    link = db.session.get(QuoteLink, link_id)
    assert link.used_at is not None and link.decision == "accepted"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "quote.accepted_by_link")
    )
    assert entry.actor_email == CONTACT and entry.actor_id is None
    assert "Jane Buyer" in quote.rounds[-1].note
    # The seller's rep and the company's decision-makers hear of it, naming the contact.
    for reader in (ANNA, "orders@acme.test"):
        told = db.session.scalar(
            select(OutboxMail).where(OutboxMail.to_addr == reader).order_by(OutboxMail.id.desc())
        )
        assert quote.number in told.subject and CONTACT in told.body, reader
    # Used up: the page and every move now answer 410, never the quote.
    again = page_of(client, token)
    assert again.status_code == 410 and quote.number not in again.get_data(as_text=True)
    assert client.send("POST", f"/q/{token}/reject", data={"seen": seen}).status_code == 410
    assert db.session.scalar(select(func.count(Order.id)).where(Order.quote_id == quote_id)) == 1


def test_rejecting_with_a_reason_closes_the_quote(ctx, sent, client):
    quote_id, token, link_id = sent
    seen = seen_of(page_of(client, token).get_data(as_text=True))
    response = client.send(
        "POST", f"/q/{token}/reject", data={"seen": seen, "note": "Too expensive for us"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    quote = db.session.get(Quote, quote_id)
    assert quote.status == "rejected"
    assert "Too expensive for us" in quote.rounds[-1].note
    assert db.session.get(QuoteLink, link_id).decision == "rejected"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "quote.rejected_by_link")
    )
    assert entry.actor_email == CONTACT
    assert page_of(client, token).status_code == 410


def test_a_stale_page_is_refused_and_the_link_stays_open(ctx, sent, client):
    quote_id, token, link_id = sent
    response = client.send("POST", f"/q/{token}/accept", data={"seen": "1", "note": ""})
    assert response.status_code == 422
    assert "changed while you had it open" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Quote, quote_id).status == "offered"
    assert db.session.get(QuoteLink, link_id).used_at is None


def test_above_the_approval_limit_a_link_cannot_accept(ctx, sent, client):
    quote_id, token, link_id = sent
    quote = db.session.get(Quote, quote_id)
    db.session.execute(
        update(Company).where(Company.id == quote.company_id).values(approval_limit=1)
    )
    db.session.commit()
    seen = seen_of(page_of(client, token).get_data(as_text=True))
    response = client.send("POST", f"/q/{token}/accept", data={"seen": seen})
    assert response.status_code == 422
    assert "approval limit" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Quote, quote_id).status == "offered"
    assert db.session.get(QuoteLink, link_id).used_at is None


def test_replying_writes_into_the_conversation_as_the_contact(ctx, sent, client):
    quote_id, token, link_id = sent
    response = client.send("POST", f"/q/{token}/reply", data={"body": "Can you deliver in May?"})
    assert response.status_code == 302
    message = db.session.scalar(select(Message).order_by(Message.id.desc()))
    assert message.body == "Can you deliver in May?"
    assert (message.via, message.side, message.author_id) == ("link", "customer", None)
    assert (message.author_name, message.author_email) == ("Jane Buyer", CONTACT)
    assert message.conversation.quote_id == quote_id
    assert db.session.get(QuoteLink, link_id).used_at is None  # replying does not use it up
    empty = client.send("POST", f"/q/{token}/reply", data={"body": "  "})
    assert empty.status_code == 422


def test_the_staff_answer_reaches_the_contact_by_mail_until_the_link_is_revoked(
    ctx, sent, client, as_user
):
    quote_id, token, link_id = sent
    client.send("POST", f"/q/{token}/reply", data={"body": "Can you deliver in May?"})

    def mails_to_contact() -> list[OutboxMail]:
        return list(
            db.session.scalars(
                select(OutboxMail)
                .where(OutboxMail.to_addr == CONTACT, OutboxMail.subject.like("New message%"))
                .order_by(OutboxMail.id)
            )
        )

    url = f"/office/quotes/{quote_id}/messages"
    answer = as_user(ANNA).send("POST", url, data={"body": "Yes, in week 19."}, htmx=True)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.expire_all()
    (mail,) = mails_to_contact()
    assert "Yes, in week 19." in mail.body and "Hello Jane Buyer" in mail.body
    assert mail.reply_to.startswith("reply+") and "/q/" not in mail.body

    revoke = as_user(ANNA).send("POST", f"/office/quotes/{quote_id}/links/{link_id}/revoke")
    assert revoke.status_code in (200, 302)
    as_user(ANNA).send("POST", url, data={"body": "And the invoice?"}, htmx=True)
    db.session.expire_all()
    assert len(mails_to_contact()) == 1  # a revoked contact is told nothing more


def test_an_expired_link_answers_410_and_changes_nothing(ctx, sent, client):
    quote_id, token, link_id = sent
    db.session.execute(
        update(QuoteLink)
        .where(QuoteLink.id == link_id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    messages = db.session.scalar(select(func.count(Message.id)))
    response = page_of(client, token)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.send("POST", f"/q/{token}/accept", data={"seen": "1"}).status_code == 410
    assert client.send("POST", f"/q/{token}/reply", data={"body": "hi"}).status_code == 410
    db.session.expire_all()
    assert db.session.get(Quote, quote_id).status == "offered"
    assert db.session.scalar(select(func.count(Message.id))) == messages


def test_staff_revoke_an_open_link(ctx, sent, as_user, client):
    quote_id, token, link_id = sent
    anna = as_user(ANNA)
    url = f"/office/quotes/{quote_id}/links/{link_id}/revoke"
    response = anna.send("POST", url, htmx=True)
    assert response.status_code == 200 and "revoked" in response.get_data(as_text=True)
    assert db.session.get(QuoteLink, link_id).revoked_at is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "quote.link_revoked"))
    closed = page_of(client, token)
    assert closed.status_code == 410 and "withdrawn" in closed.get_data(as_text=True)
    assert anna.send("POST", url, htmx=True).status_code == 422  # nothing left to revoke
    # Another quote's link id under this quote is not found.
    other = offered_quote("delft")
    assert (
        as_user("admin@portal.test")
        .send("POST", f"/office/quotes/{other.id}/links/{link_id}/revoke")
        .status_code
        == 404
    )


def test_unknown_tokens_answer_410_and_are_throttled(ctx, client):
    for _attempt in range(20):
        assert page_of(client, "not-a-real-token-at-all").status_code == 410
    assert page_of(client, "still-not-a-token").status_code == 429


def test_the_link_forms_need_their_csrf_token(ctx, sent, client):
    quote_id, token, link_id = sent
    seen = seen_of(page_of(client, token).get_data(as_text=True))
    for move in ("accept", "reject", "reply"):
        response = client.send(
            "POST", f"/q/{token}/{move}", data={"seen": seen, "body": "x"}, csrf=False
        )
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Quote, quote_id).status == "offered"
    assert db.session.get(QuoteLink, link_id).used_at is None


def test_two_decisions_at_once_use_the_link_once(ctx, sent):
    """The link is used by one conditional UPDATE: the second use is refused."""
    _quote_id, _token, link_id = sent
    link = db.session.get(QuoteLink, link_id)
    quote_links._use(link, "rejected")
    with pytest.raises(Exception, match="can no longer be used"):
        quote_links._use(link, "accepted")
    db.session.rollback()
