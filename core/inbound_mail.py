"""Reading a reply that came in by mail: who sent it, to which conversation, what is new.

Pure functions over bytes and text (no database, no application): core.mail_receiver
calls them for each message its SMTP server accepts. A reply carries the whole history
below (or above) what the person wrote; `strip_quoted` keeps only the new text:

- lines quoted with ">" and the "On <date>, <name> wrote:" line that introduces them
  (Gmail, Apple Mail, Thunderbird, in several languages);
- Outlook's "-----Original Message-----" block, and its header block ("From: ...",
  "Sent: ...", "To: ...", "Subject: ...") under a rule or on its own;
- a signature after the "-- " delimiter, and mobile clients' "Sent from my ..." line.
"""

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

# reply+<token>@<domain>: the token core.conversations puts in every Reply-To.
_REPLY = re.compile(r"^reply\+([a-z0-9]{1,40})@(.+)$", re.IGNORECASE)

# "On Tue, 3 Feb 2027 at 10:12, Anna Sales <anna@x> wrote:", and its translations (the
# German "Am ... schrieb Anna Sales <anna@x>:" names the writer after the verb); Gmail
# may wrap the line in two, so the start is enough when the next line ends in "wrote:".
_WROTE = re.compile(
    r"^\s*(On|Am|Le|Il giorno|Op|W dniu|În|El)\b.*"
    r"\b(wrote|schrieb|a écrit|ha scritto|schreef|napisał|a scris|escribió)\b.*:\s*$",
    re.IGNORECASE,
)
_WROTE_START = re.compile(r"^\s*(On|Am|Le|Op)\s.+\d", re.IGNORECASE)
_WROTE_END = re.compile(
    r"(wrote|schrieb|a écrit|ha scritto|schreef|napisał|a scris|escribió)\s*:\s*$", re.IGNORECASE
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Messaggio originale|Oorspronkelijk bericht|Wiadomość oryginalna|Mesaj original)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"^\s*\*?(From|Von|De|Da|Van|Od|Sent|Gesendet|Envoyé|Inviato|Verzonden|Wysłano|Trimis|"
    r"To|An|À|A|Aan|Do|Către|Subject|Betreff|Objet|Oggetto|Onderwerp|Temat|Subiect|Date|Cc)"
    r"\s*:\*?\s",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_SENT_FROM = re.compile(r"^\s*(Sent from my|Get Outlook for|Von meinem .* gesendet)", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """A file that came with the mail, as its sender named it."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Inbound:
    """What a reply holds: sender's address and name, subject, new text and files."""

    sender: str
    sender_name: str
    subject: str
    text: str
    files: list[Part] = field(default_factory=list)


def reply_token(address: str, domain: str) -> str | None:
    """The conversation token of a reply+<token>@<domain> address, lower-case; else None."""
    match = _REPLY.match((address or "").strip().strip("<>"))
    if match is None or match.group(2).lower() != (domain or "").lower():
        return None
    return match.group(1).lower()


def parse(raw: bytes) -> Inbound:
    """Read a raw RFC 5322 message: sender (From), subject, the new text of its body
    (text/plain, else the text of its HTML) and its attached files."""
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    pairs = getaddresses([str(message.get("From", ""))])
    name, address = pairs[0] if pairs else ("", "")
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):  # an unknown charset: read what can be read
            content = (body.get_payload(decode=True) or b"").decode("utf-8", "replace")
        text = html_to_text(content) if body.get_content_type() == "text/html" else content
    files = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        files.append(
            Part(
                filename=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                data=data,
            )
        )
    return Inbound(
        sender=(address or "").strip().lower(),
        sender_name=(name or "").strip(),
        subject=str(message.get("Subject", "")),
        text=strip_quoted(text),
        files=files,
    )


def strip_quoted(text: str) -> str:
    """Only what the person wrote: quoted history, headers of forwarded mail and
    signatures cut away (see the module's docstring)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.rstrip() == "--" and line.startswith("--"):  # "-- " signature delimiter
            break
        if _WROTE.match(line) or (_WROTE_START.match(line) and _WROTE_END.search(following)):
            break
        if _ORIGINAL.match(line):
            break
        if _RULE.match(line) and _HEADER.match(following):
            break
        if _HEADER.match(line) and _outlook_block(lines, index):
            break
        if _SENT_FROM.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _outlook_block(lines: list[str], index: int) -> bool:
    """Outlook's header block: "From:" followed within a few lines by "Sent:"/"Date:" and
    "Subject:"/"To:" headers; a single "From:" in a sentence is not one."""
    if not re.match(r"^\s*\*?(From|Von|De|Da|Van|Od)\s*:", lines[index], re.IGNORECASE):
        return False
    headers = sum(1 for line in lines[index + 1 : index + 6] if _HEADER.match(line))
    return headers >= 2


class _Text(HTMLParser):
    """The text of an HTML body: paragraphs and line breaks kept, quoted blocks
    (<blockquote>, Gmail's gmail_quote) left out, scripts and styles ignored."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"}
    SKIP = {"script", "style", "head", "title", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: list[str] = []

    VOID = {"br", "img", "hr", "meta", "input", "link", "wbr", "col", "area", "base"}

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if self.skipping:  # inside a skipped block: follow its nesting to its end
            if tag not in self.VOID:
                self.skipping.append(tag)
        elif tag in self.SKIP or "gmail_quote" in classes or "moz-cite-prefix" in classes:
            self.skipping.append(tag)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()
        elif tag in self.BLOCKS and not self.skipping:
            self.out.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and not self.skipping:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail body."""
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.out)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
