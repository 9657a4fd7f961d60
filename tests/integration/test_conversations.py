"""Conversations on quotes and orders: messages with files, live on both faces, mails,
unread markers, and a message or a file never reaching another company or a rep who does
not serve the customer (pages, downloads, pushes, mails)."""

import io
import re
import time
import zipfile

import pytest
from sqlalchemy import func, select

from core import access, attachments, conversations, mail
from core.attachments import AttachmentRefused
from core.conversations import ConversationError
from core.models import (
    Attachment,
    AuditEntry,
    Conversation,
    ConversationRead,
    Message,
    Order,
    OutboxMail,
    Quote,
)
from extensions import db
from tests.records import company, user
from tests.sockets import drain, watch

ACME_DM = "orders@acme.test"
ACME_REQUESTER = "request@acme.test"
ACME_BROWSER = "browse@acme.test"
BALTIC_DM = "orders@baltic.test"
ANNA = "anna.sales@portal.test"
MARCO = "marco.sales@portal.test"
ADMIN = "admin@portal.test"
VIEWER = "viewer@portal.test"

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
DXF = b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n  0\r\nENDSEC\r\n  0\r\nEOF\r\n"
DXF_COMMENTED = b"999\ndrawn by CAD\n0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n"
DXF_BINARY = b"AutoCAD Binary DXF\r\n\x1a\x00" + b"\x00" * 20
STEP = b"ISO-10303-21;\nHEADER;\nFILE_NAME('bracket.step');\nENDSEC;\nEND-ISO-10303-21;\n"


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("bracket.step", STEP)
    return out.getvalue()


def acme_quote() -> Quote:
    return db.session.scalar(
        select(Quote).where(Quote.company_id == company("acme").id).order_by(Quote.id)
    )


def acme_order() -> Order:
    """An Acme order without a conversation yet (the demo's is on the newest)."""
    return db.session.scalar(
        select(Order).where(Order.company_id == company("acme").id).order_by(Order.id)
    )


def baltic_quote() -> Quote:
    return db.session.scalar(
        select(Quote).where(Quote.company_id == company("baltic").id).order_by(Quote.id)
    )


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def post(client, face: str, record, body: str = "", files=(), htmx: bool = True):
    kind = "quote" if isinstance(record, Quote) else "order"
    data = {"body": body}
    if files:
        data["files"] = [upload(d, n) for d, n in files]
    return client.send(
        "POST",
        f"/{face}/{kind}s/{record.id}/messages",
        htmx=htmx,
        data=data,
        content_type="multipart/form-data",
    )


def messages_of(record) -> list[Message]:
    db.session.expire_all()
    found = conversations.find(record)
    return conversations.messages(found)


def outbox_since(first_id: int) -> list[OutboxMail]:
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.id > first_id).order_by(OutboxMail.id)
        )
    )


def last_mail_id() -> int:
    return db.session.scalar(select(func.max(OutboxMail.id))) or 0


def stored_files(app) -> set[str]:
    folder = attachments.Path(app.config["UPLOAD_DIR"]) / attachments.SUBFOLDER
    return {p.name for p in folder.glob("*")} if folder.exists() else set()


class FakeUpload:
    """What check_upload reads of a werkzeug FileStorage."""

    def __init__(self, data: bytes, filename: str):
        self.stream = io.BytesIO(data)
        self.filename = filename


# --- files are checked by content -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type", "shown"),
    [
        (PDF, "offer.pdf", "application/pdf", "offer.pdf"),
        (PNG, "photo.png", "image/png", "photo.png"),
        (JPEG, "photo.JPG", "image/jpeg", "photo.JPG"),
        (zip_bytes(), "parts.zip", "application/zip", "parts.zip"),
        (DXF, "panel.dxf", "image/vnd.dxf", "panel.dxf"),
        (DXF_COMMENTED, "panel", "image/vnd.dxf", "panel.dxf"),
        (DXF_BINARY, "panel.dxf", "image/vnd.dxf", "panel.dxf"),
        (STEP, "bracket.stp", "model/step", "bracket.stp"),
        # The name never decides: a PDF named .html downloads as a PDF.
        (PDF, "invoice.html", "application/pdf", "invoice.html.pdf"),
        (PNG, "../../etc/passwd", "image/png", "passwd.png"),
    ],
)
def test_accepted_files_are_known_by_their_content(ctx, data, name, content_type, shown):
    checked = attachments.check_upload(FakeUpload(data, name))
    assert checked.content_type == content_type
    assert checked.filename == shown
    assert checked.size == len(data)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"GIF89a" + b"\x00" * 20, "picture.png"),
        (b"<html><script>alert(1)</script></html>", "drawing.pdf"),
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.zip"),
        (b"PK\x03\x04 not really an archive", "parts.zip"),
        (b"just some text", "notes.dxf"),
        (b"0\nTABLE\n", "almost.dxf"),
    ],
)
def test_other_files_are_refused_with_a_clear_reason(ctx, data, name):
    with pytest.raises(AttachmentRefused, match="not a file we accept"):
        attachments.check_upload(FakeUpload(data, name))


def test_empty_and_oversized_files_are_refused(app, ctx, monkeypatch):
    with pytest.raises(AttachmentRefused, match="is empty"):
        attachments.check_upload(FakeUpload(b"", "empty.pdf"))
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 64)
    with pytest.raises(AttachmentRefused, match="larger than"):
        attachments.check_upload(FakeUpload(PDF + b"x" * 64, "big.pdf"))


# --- posting from both faces ----------------------------------------------------------


def test_customer_message_with_files_reaches_the_staff_page_and_the_rep(
    app, as_user, ctx, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_REPLY_DOMAIN", "replies.portal.test")
    quote = acme_quote()
    before, files_before = last_mail_id(), stored_files(app)
    response = post(
        as_user(ACME_REQUESTER),
        "shop",
        quote,
        "Can you quote 500 more?",
        files=[(PDF, "spec.pdf"), (DXF, "panel.dxf")],
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="quote-conversation-{quote.id}"' in html and 'hx-swap-oob="true"' in html
    assert "Can you quote 500 more?" in html
    # The form comes back empty, ready for the next message.
    assert re.search(r"<textarea[^>]*></textarea>", html)

    [message] = messages_of(quote)
    assert (message.side, message.via, message.author_id) == (
        "customer",
        "portal",
        user(ACME_REQUESTER).id,
    )
    names = sorted(a.filename for a in message.attachments)
    assert names == ["panel.dxf", "spec.pdf"]
    assert all(a.company_id == quote.company_id for a in message.attachments)
    assert len(stored_files(app) - files_before) == 2
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert entry.action == "message.posted" and entry.target_id == quote.id

    mails = outbox_since(before)
    told = {m.to_addr for m in mails}
    assert ANNA in told  # Acme's rep
    assert MARCO not in told and ADMIN not in told  # not Acme's rep; reps exist
    # Acme's contract partner reads its quotes (and this conversation), answers nothing:
    # only those who may answer are asked to.
    assert "partner@portal.test" not in told
    assert access.may_read_conversation(user("partner@portal.test"), conversations.find(quote))
    assert not {m for m in told if m.endswith((".test",)) and "@portal.test" not in m}
    token = conversations.find(quote).reply_token
    assert {m.reply_to for m in mails} == {f"reply+{token}@replies.portal.test"}
    anna_mail = next(m for m in mails if m.to_addr == ANNA)
    assert "Can you quote 500 more?" in anna_mail.body and "spec.pdf" in anna_mail.body
    assert f"/office/quotes/{quote.id}" in anna_mail.body
    sent = mail._message(anna_mail, "portal@portal.test")
    assert sent["Reply-To"] == f"reply+{token}@replies.portal.test"

    page = as_user(ANNA).get(f"/office/orders/{acme_order().id}")  # office pages still render
    assert page.status_code == 200
    link = as_user(ANNA).get(f"/shop/quotes/{quote.id}")
    assert link.status_code == 403  # staff do not use the storefront's routes


def test_staff_message_mails_the_requester_and_decision_makers_only(as_user, ctx):
    order = acme_order()
    before = last_mail_id()
    response = post(as_user(ANNA), "office", order, "Your order ships on Monday.")
    assert response.status_code == 200
    [message] = messages_of(order)
    assert message.side == "staff"
    told = {m.to_addr for m in outbox_since(before)}
    placer = order.placed_by.email
    assert placer in told and ACME_DM in told
    assert ACME_BROWSER not in told  # browse-only people do not see orders
    assert not any(address.endswith(("@baltic.test", "@delft.test")) for address in told)
    assert ANNA not in told  # never the author
    # The customer's page shows it, in the customer's face.
    html = as_user(ACME_DM).get(f"/shop/orders/{order.id}").get_data(as_text=True)
    assert "Your order ships on Monday." in html and "Seller" in html


def test_mails_are_written_in_each_readers_language(as_user, ctx):
    dm = user(ACME_DM)
    dm.language = "it"
    db.session.commit()
    before = last_mail_id()
    post(as_user(ACME_DM), "shop", acme_order(), "Consegna lunedì?")
    post(as_user(ANNA), "office", acme_order(), "Sì.")
    italian = next(m for m in outbox_since(before) if m.to_addr == ACME_DM)
    english = next(m for m in outbox_since(before) if m.to_addr == ANNA)
    assert italian.body.startswith("Gentile ") and english.body.startswith("Hello ")


def test_an_unassigned_company_is_heard_by_staff_serving_every_customer(ctx):
    etna_quote = db.session.scalar(
        select(Quote).where(Quote.company_id == company("etna").id).order_by(Quote.id)
    )
    if etna_quote is None:
        pytest.skip("the demo has no Etna quote")
    talk = conversations.conversation_of(etna_quote)
    before = last_mail_id()
    conversations.post_message(talk, author=user("orders@etna.test"), body="Hello?")
    db.session.commit()
    told = {m.to_addr for m in outbox_since(before)}
    assert told and ANNA not in told and MARCO not in told
    for address in told:
        person = user(address)
        assert access.can(person, "customers.all") and access.can(person, "quotes.edit")


def test_a_contact_without_an_account_can_write_by_mail(ctx):
    quote = acme_quote()
    talk = conversations.conversation_of(quote)
    before = last_mail_id()
    message = conversations.post_message(
        talk,
        author=None,
        body="Replying from my phone",
        via="mail",
        sender_name="Site engineer",
        sender_email="engineer@acme.test",
        side="customer",
    )
    db.session.commit()
    assert (message.author_id, message.author_name, message.via) == (None, "Site engineer", "mail")
    assert ANNA in {m.to_addr for m in outbox_since(before)}
    assert conversations.conversation_by_reply_token(talk.reply_token).id == talk.id
    assert conversations.conversation_by_reply_token("nope") is None
    with pytest.raises(ValueError):
        conversations.post_message(talk, author=None, body="x", via="mail")


def test_the_record_pages_show_the_panel_and_the_form_to_who_may_write(as_user, ctx):
    talk = db.session.scalar(select(Conversation).where(Conversation.quote_id.is_not(None)))
    page = f"/quotes/{talk.quote_id}"
    for email, face in ((ANNA, "office"), (ACME_REQUESTER, "shop")):
        html = as_user(email).get(f"/{face}{page}").get_data(as_text=True)
        assert "panel-drawing.pdf" in html and f'id="quote-conversation-{talk.quote_id}"' in html
        assert f'action="/{face}{page}/messages"' in html
        assert f"/{face}{page}/attachments/" in html
    html = as_user(VIEWER).get(f"/office{page}").get_data(as_text=True)
    assert "panel-drawing.pdf" in html and "conversation__form" not in html  # reads only


# --- refusals keep what was typed ---------------------------------------------------


def test_an_empty_message_is_refused_and_stores_nothing(as_user, ctx):
    quote = acme_quote()
    response = post(as_user(ACME_DM), "shop", quote, "   ")
    assert response.status_code == 422
    assert "Write a message or attach a file." in response.get_data(as_text=True)
    assert conversations.find(quote) is None  # not even the conversation
    with pytest.raises(ConversationError):
        conversations.post_message(conversations.conversation_of(quote), author=None, body="")


def test_a_refused_file_keeps_the_text_and_stores_nothing(app, as_user, ctx):
    quote = acme_quote()
    files_before, mails_before = stored_files(app), last_mail_id()
    response = post(
        as_user(ACME_DM),
        "shop",
        quote,
        "See the drawing",
        files=[(PDF, "ok.pdf"), (b"<svg onload=alert(1)>", "evil.pdf")],
    )
    assert response.status_code == 422
    assert "evil.pdf" in response.get_data(as_text=True)
    assert conversations.find(quote) is None
    assert stored_files(app) == files_before
    assert outbox_since(mails_before) == []
    # Without JavaScript: a page with the form, the text as typed.
    plain = post(
        as_user(ACME_DM), "shop", quote, "See the drawing", files=[(b"MZ", "x.zip")], htmx=False
    )
    assert plain.status_code == 422
    html = plain.get_data(as_text=True)
    assert "See the drawing</textarea>" in html and "not a file we accept" in html


def test_too_many_files_and_too_long_text_are_refused(app, as_user, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_FILES", 2)
    quote = acme_quote()
    response = post(as_user(ACME_DM), "shop", quote, "x", files=[(PDF, "a.pdf")] * 3)
    assert response.status_code == 422 and "at most 2 files" in response.get_data(as_text=True)
    response = post(as_user(ACME_DM), "shop", quote, "x" * 10_001)
    assert response.status_code == 422
    assert conversations.find(quote) is None


def test_a_request_larger_than_the_files_allowed_is_refused_before_it_is_read(
    app, as_user, ctx, monkeypatch
):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_FILES", 1)
    big = PDF + b"x" * 400_000
    response = post(as_user(ACME_DM), "shop", acme_quote(), "big", files=[(big, "big.pdf")])
    assert response.status_code == 413
    assert "too large together" in response.get_data(as_text=True)
    assert conversations.find(acme_quote()) is None


def test_a_rolled_back_message_leaves_no_file_behind(app, ctx):
    quote = acme_quote()
    files_before = stored_files(app)
    checked = attachments.check_upload(FakeUpload(PDF, "a.pdf"))
    conversations.post_message(
        conversations.conversation_of(quote), author=user(ACME_DM), body="", attachments=[checked]
    )
    assert len(stored_files(app) - files_before) == 1
    db.session.rollback()
    assert stored_files(app) == files_before


# --- who may write -------------------------------------------------------------------


def test_read_only_staff_and_views_as_a_customer_do_not_write(as_user, ctx):
    quote = acme_quote()
    assert post(as_user(VIEWER), "office", quote, "hi").status_code == 403
    talk = conversations.conversation_of(quote)
    assert access.may_post(user(ACME_REQUESTER), talk) and access.may_post(user(ANNA), talk)
    assert access.may_read_conversation(user(VIEWER), talk)
    assert not access.may_post(user(VIEWER), talk)
    person = access.assume(user(ACME_DM), user(ANNA), access.VIEWING)
    assert access.may_read_conversation(person, talk) and not access.may_post(person, talk)
    person = access.assume(user(ACME_REQUESTER), user(ANNA), access.ACTING)
    assert not access.may_post(person, talk)
    assert not access.may_read_conversation(user(ACME_BROWSER), talk)
    assert not access.may_read_conversation(user(BALTIC_DM), talk)
    assert not access.may_read_conversation(user(MARCO), talk)


# --- downloads -----------------------------------------------------------------------


def posted_file(client, face: str, record, data: bytes, name: str) -> Attachment:
    assert post(client, face, record, "", files=[(data, name)]).status_code == 200
    return messages_of(record)[-1].attachments[0]


def test_a_file_downloads_as_an_attachment_never_sniffed(as_user, ctx):
    quote = acme_quote()
    found = posted_file(as_user(ACME_DM), "shop", quote, DXF, "panel.dxf")
    for client, face in ((as_user(ANNA), "office"), (as_user(ACME_REQUESTER), "shop")):
        response = client.get(f"/{face}/quotes/{quote.id}/attachments/{found.id}")
        assert response.status_code == 200
        assert response.data == DXF
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "panel.dxf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/octet-stream"  # a text format: bytes only
        assert "sandbox" in response.headers["Content-Security-Policy"]
        response.close()
    pdf = posted_file(as_user(ACME_DM), "shop", quote, PDF, "page.html")
    response = as_user(ANNA).get(f"/office/quotes/{quote.id}/attachments/{pdf.id}")
    assert response.mimetype == "application/pdf"
    assert "page.html.pdf" in response.headers["Content-Disposition"]
    response.close()


def test_a_file_never_reaches_another_company_or_an_unassigned_rep(as_user, ctx):
    quote = acme_quote()
    found = posted_file(as_user(ACME_DM), "shop", quote, PDF, "secret.pdf")
    url = f"/quotes/{quote.id}/attachments/{found.id}"
    assert as_user(BALTIC_DM).get("/shop" + url).status_code == 404
    assert as_user(MARCO).get("/office" + url).status_code == 404
    assert as_user(ACME_BROWSER).get("/shop" + url).status_code == 403
    # Through one's own record, another company's file is still not found.
    own = baltic_quote()
    assert (
        as_user(BALTIC_DM).get(f"/shop/quotes/{own.id}/attachments/{found.id}").status_code == 404
    )
    # Nor through another record of the same company.
    order = acme_order()
    assert (
        as_user(ACME_DM).get(f"/shop/orders/{order.id}/attachments/{found.id}").status_code == 404
    )
    # Nor may one post into another company's record.
    assert post(as_user(BALTIC_DM), "shop", quote, "hi").status_code == 404
    assert post(as_user(MARCO), "office", quote, "hi").status_code == 404
    baltic_page = as_user(BALTIC_DM).get(f"/shop/quotes/{own.id}").get_data(as_text=True)
    assert "secret.pdf" not in baltic_page


# --- unread markers ------------------------------------------------------------------


def count_badge(html: str, number: str) -> int | None:
    match = re.search(
        rf">{re.escape(number)}</a> <span class=\"count\" title=\"unread messages\">(\d+)", html
    )
    return int(match.group(1)) if match else None


def test_unread_messages_are_marked_in_both_lists_until_the_page_is_opened(as_user, ctx):
    order = acme_order()
    number = order.number
    post(as_user(ANNA), "office", order, "First")
    post(as_user(ANNA), "office", order, "Second")
    dm = as_user(ACME_DM)
    listing = dm.get(f"/shop/orders?q={number}").get_data(as_text=True)
    assert count_badge(listing, number) == 2
    assert conversations.unread_total(user(ACME_DM)) >= 2
    # One's own messages are never unread to oneself.
    anna_list = as_user(ANNA).get(f"/office/orders?q={number}").get_data(as_text=True)
    assert count_badge(anna_list, number) is None
    page = dm.get(f"/shop/orders/{order.id}").get_data(as_text=True)
    assert page.count("message--new") == 2  # the page marks what was new to its reader
    listing = dm.get(f"/shop/orders?q={number}").get_data(as_text=True)
    assert count_badge(listing, number) is None
    # The customer's answer is unread to the rep, until the page's live copy says seen.
    post(dm, "shop", order, "Thanks")
    anna = as_user(ANNA)
    assert count_badge(anna.get(f"/office/orders?q={number}").get_data(as_text=True), number) == 1
    assert anna.send("POST", f"/office/orders/{order.id}/messages/read").status_code == 204
    assert (
        count_badge(anna.get(f"/office/orders?q={number}").get_data(as_text=True), number) is None
    )


def test_a_storefront_viewed_by_staff_marks_nothing_read(as_user, ctx):
    order = acme_order()
    post(as_user(ANNA), "office", order, "Unread")
    talk = conversations.find(order)
    person = access.assume(user(ACME_DM), user(ANNA), access.VIEWING)
    conversations.mark_read(person, talk)
    db.session.commit()
    assert (
        db.session.scalar(
            select(func.count(ConversationRead.id)).where(
                ConversationRead.conversation_id == talk.id,
                ConversationRead.user_id == user(ACME_DM).id,
            )
        )
        == 0
    )


# --- live ----------------------------------------------------------------------------


def test_a_message_appears_live_on_both_faces_and_nowhere_else(connect, ctx):
    order = acme_order()
    region = f"order-conversation-{order.id}"
    sockets = {email: connect(email) for email in (ANNA, ACME_REQUESTER, BALTIC_DM, MARCO)}
    for ws in sockets.values():
        watch(ws, {region})
    time.sleep(0.3)  # the sockets read their watch lists before the change commits
    talk = conversations.conversation_of(order)
    conversations.post_message(talk, author=user(ACME_DM), body="Live hello")
    db.session.commit()
    anna = "".join(drain(sockets[ANNA], 2.0, expect=1))
    customer = "".join(drain(sockets[ACME_REQUESTER], 2.0, expect=1))
    assert f'id="{region}"' in anna and "Live hello" in anna and "Customer" in anna
    assert f'id="{region}"' in customer and "Live hello" in customer
    # The pushed copy tells the server its reader has seen it, through the reader's face.
    assert f"/office/orders/{order.id}/messages/read" in anna
    assert f"/shop/orders/{order.id}/messages/read" in customer
    assert "Live hello" not in "".join(drain(sockets[BALTIC_DM], 0.8))
    assert "Live hello" not in "".join(drain(sockets[MARCO], 0.8))


def test_the_messages_region_renders_on_load_for_readers_only(connect, ctx):
    quote = acme_quote()
    conversations.post_message(
        conversations.conversation_of(quote), author=user(ANNA), body="On load"
    )
    db.session.commit()
    region = f"quote-conversation-{quote.id}"
    dm, browse = connect(ACME_DM), connect(ACME_BROWSER)
    watch(dm, {region}, mode="load")
    watch(browse, {region}, mode="load")
    assert "On load" in "".join(drain(dm, 2.0, expect=1))
    assert "On load" not in "".join(drain(browse, 0.8))


# --- demo ----------------------------------------------------------------------------


def test_the_demo_has_a_conversation_on_a_quote_and_an_order(app, ctx):
    talks = list(db.session.scalars(select(Conversation)))
    assert any(t.quote_id for t in talks) and any(t.order_id for t in talks)
    drawing = db.session.scalar(select(Attachment).where(Attachment.message_id.is_not(None)))
    assert attachments.path_of(drawing).read_bytes().startswith(b"%PDF")
