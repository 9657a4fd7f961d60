"""Replies by mail as real clients write them: only the new text is kept (core.inbound_mail)."""

from email.message import EmailMessage

import pytest

from core.inbound_mail import html_to_text, parse, reply_token, strip_quoted

GMAIL = """Yes, 500 pieces by the end of May works for us.

Thanks,
Olivia

On Tue, 2 Feb 2027 at 10:12, Anna Sales <anna.sales@portal.test> wrote:
> Hello Olivia,
>
> Can you confirm the quantity?
"""

GMAIL_WRAPPED = """Confirmed.

On Tue, 2 Feb 2027 at 10:12, Anna Sales from the Trade Portal <reply+abc@portal.test>
wrote:
> Earlier text
"""

OUTLOOK = """Please send the drawing again, the PDF was empty.

Regards
Ravi Menon

-----Original Message-----
From: Anna Sales <anna.sales@portal.test>
Sent: Tuesday, February 2, 2027 10:12 AM
To: Ravi Menon <request@acme.test>
Subject: New message on quote QT-00012

Hello Ravi,
"""

OUTLOOK_RULE = """We accept the new price.

________________________________
From: Trade Portal <portal@portal.test>
Sent: Tuesday, 2 February 2027 10:12
To: Olivia Grant
Subject: Quote QT-00012

Hello Olivia,
"""

OUTLOOK_HEADERS_ONLY = """Fine by us.

From: Anna Sales <anna.sales@portal.test>
Date: Tuesday, 2 February 2027 at 10:12
To: Olivia Grant <orders@acme.test>
Subject: Quote QT-00012
Old text
"""

APPLE = """Agreed, go ahead.

Sent from my iPhone

> On 2 Feb 2027, at 10:12, Anna Sales <anna.sales@portal.test> wrote:
>
> Hello
"""

SIGNATURE = """Two more questions:
1. Is the price per reel?
2. From: which warehouse do you ship?

-- \nOlivia Grant
Acme Robotics
"""

GERMAN = """Passt so, danke.

Am 02.02.2027 um 10:12 schrieb Anna Sales <anna.sales@portal.test>:
> Hallo
"""

PLAIN = """Just a plain answer
on two lines."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GMAIL, "Yes, 500 pieces by the end of May works for us.\n\nThanks,\nOlivia"),
        (GMAIL_WRAPPED, "Confirmed."),
        (OUTLOOK, "Please send the drawing again, the PDF was empty.\n\nRegards\nRavi Menon"),
        (OUTLOOK_RULE, "We accept the new price."),
        (OUTLOOK_HEADERS_ONLY, "Fine by us."),
        (APPLE, "Agreed, go ahead."),
        (
            SIGNATURE,
            "Two more questions:\n1. Is the price per reel?\n2. From: which warehouse do you ship?",
        ),
        (GERMAN, "Passt so, danke."),
        (PLAIN, PLAIN),
        ("> only quoted\n> text\n", ""),
        ("", ""),
    ],
    ids=[
        "gmail",
        "gmail-wrapped",
        "outlook",
        "outlook-rule",
        "outlook-headers",
        "apple",
        "signature",
        "german",
        "plain",
        "only-quoted",
        "empty",
    ],
)
def test_strip_quoted_keeps_only_the_new_text(text, expected):
    assert strip_quoted(text) == expected


def test_windows_line_ends_are_read_as_lines():
    assert strip_quoted("Yes.\r\n\r\n> old\r\n") == "Yes."


@pytest.mark.parametrize(
    ("address", "domain", "token"),
    [
        ("reply+0a1b2c@portal.test", "portal.test", "0a1b2c"),
        ("<REPLY+0A1B2C@Portal.Test>", "portal.test", "0a1b2c"),
        ("reply+0a1b2c@evil.test", "portal.test", None),
        ("reply@portal.test", "portal.test", None),
        ("reply+@portal.test", "portal.test", None),
        ("reply+a.b@portal.test", "portal.test", None),
        ("reply+" + "a" * 41 + "@portal.test", "portal.test", None),
        ("someone@portal.test", "portal.test", None),
    ],
)
def test_reply_token_accepts_only_reply_addresses_of_our_domain(address, domain, token):
    assert reply_token(address, domain) == token


def test_html_to_text_keeps_paragraphs_and_drops_quoted_blocks():
    html = (
        "<html><head><style>p{color:red}</style></head><body>"
        "<div>Yes, we take <b>all 500</b>.</div><div><br></div><div>Olivia</div>"
        '<div class="gmail_quote"><div>On Tue Anna wrote:</div>'
        "<blockquote><div>Old <div>nested</div> text</div></blockquote></div>"
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(html) == "Yes, we take all 500.\n\nOlivia"


def _mail(body: str, *, html: str | None = None, files=()) -> bytes:
    message = EmailMessage()
    message["From"] = "Olivia Grant <Orders@Acme.test>"
    message["To"] = "reply+abc@portal.test"
    message["Subject"] = "Re: Quote QT-00012"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, maintype, subtype, data in files:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_parse_reads_sender_text_and_files():
    raw = _mail(
        GMAIL,
        files=[("drawing.pdf", "application", "pdf", b"%PDF-1.4 test")],
    )
    found = parse(raw)
    assert found.sender == "orders@acme.test" and found.sender_name == "Olivia Grant"
    assert found.subject == "Re: Quote QT-00012"
    assert found.text.startswith("Yes, 500 pieces") and "wrote:" not in found.text
    assert [(f.filename, f.content_type, f.data) for f in found.files] == [
        ("drawing.pdf", "application/pdf", b"%PDF-1.4 test")
    ]


def test_parse_prefers_plain_text_and_falls_back_to_html():
    both = parse(_mail("Plain answer.", html="<p>HTML answer.</p>"))
    assert both.text == "Plain answer."
    message = EmailMessage()
    message["From"] = "x@acme.test"
    message.set_content("<p>Only <i>HTML</i>.</p><blockquote>old</blockquote>", subtype="html")
    assert parse(message.as_bytes()).text == "Only HTML."
