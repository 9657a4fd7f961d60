"""Finds words shown to people that are not marked for translation.

Templates: every text node, and every attribute a person reads (placeholder, title,
aria-label, alt, hx-confirm, ...), outside Jinja expressions and `{% trans %}` blocks,
must hold no word. Python: flash(), abort() and the domain's refusals, and the labels,
descriptions and messages of form fields, must not be given a bare string or f-string.

Run as a script to list what is left: `python -m tests.i18n_check [paths...]`.
"""

import ast
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
PYTHON_DIRS = ("core", "blueprints")
# Attributes whose value a person reads (or hears).
READ_ATTRIBUTES = {
    "placeholder",
    "title",
    "aria-label",
    "aria-description",
    "alt",
    "hx-confirm",
    "data-confirm",
    "label",
    "data-label",
    "data-message",
}
WORD = re.compile(r"[^\W\d_]{2,}")
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;|&#x[0-9a-fA-F]+;")
# Product codes (MCU-STM32F401) and template placeholders ({tracking}) read alike everywhere.
CODE = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)*\d[A-Z0-9-]*\b|\{\w+\}")
# Blocks that hold markup settings, not text (the page's face class).
SETTING_BLOCKS = {"face"}
HOLE = " "  # where a Jinja expression or tag stood (a space: it may stand inside a tag)
# Text that is the same in every language: units, codes and names.
SAME_EVERYWHERE = {"SKU", "EUR", "IBAN", "BIC", "CSV", "PDF", "XLSX", "URL", "API", "ID", "OK"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES:
                self._check(value)
            if (
                value
                and name == "value"
                and tag == "input"
                and dict(attrs).get("type") in ("submit", "button", "reset")
            ):
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self._check(data)

    def _check(self, text: str) -> None:
        text = CODE.sub(" ", ENTITY.sub(" ", text))
        words = [w for w in WORD.findall(text) if w not in SAME_EVERYWHERE]
        if words:
            self.found.append(" ".join(text.split()))


def template_text(source: str) -> str:
    """The template's own markup, with every Jinja expression and tag as a HOLE and the
    inside of `{% trans %}` blocks (already marked) left out."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    out: list[str] = []
    depth = 0  # inside {% trans %} ... {% endtrans %} or a setting block
    in_tag = False
    tag_words: list[str] = []
    for _line, kind, value in env.lex(source):
        if kind in ("block_begin", "variable_begin", "comment_begin"):
            in_tag = True
            tag_words = []
            out.append(HOLE)
            continue
        if kind in ("block_end", "variable_end", "comment_end"):
            in_tag = False
            if tag_words[:1] == ["trans"] or (
                tag_words[:1] == ["block"] and tag_words[1:2] and tag_words[1] in SETTING_BLOCKS
            ):
                depth += 1
            elif tag_words[:1] == ["endtrans"] or (depth and tag_words[:1] == ["endblock"]):
                depth -= 1
            continue
        if in_tag:
            if kind == "name":
                tag_words.append(value)
            continue
        if kind == "data" and not depth:
            out.append(value)
    return "".join(out)


def unmarked_in_template(source: str) -> list[str]:
    reader = _Reader()
    reader.feed(template_text(source))
    reader.close()
    return reader.found


# Calls whose string arguments a person reads.
MESSAGE_CALLS = {"flash", "abort", "Refused", "FieldRefused", "NotFound", "Problem"}
FIELD_CALLS = re.compile(
    r"(StringField|TextAreaField|IntegerField|DecimalField|BooleanField|SelectField|"
    r"SelectMultipleField|PasswordField|EmailField|DateField|DateTimeLocalField|"
    r"DateTimeField|FileField|MultipleFileField|HiddenField|SubmitField|RadioField|"
    r"FloatField|TelField|URLField|SearchField|FieldList|FormField|IntegerRangeField|"
    r"DecimalRangeField|TimeField|MonthField)$"
)
VALIDATOR_KEYWORDS = {"message", "label", "description"}


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _bare(node) -> bool:
    """A literal person-facing string: a str constant with a word, or an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(WORD.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and WORD.search(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _bare(node.left)
    return False


def unmarked_in_python(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        args = list(node.args)
        if name == "abort":
            args = args[1:]  # the status code comes first
        if name in MESSAGE_CALLS or FIELD_CALLS.match(name):
            for arg in args[:1]:
                if _bare(arg):
                    found.append((node.lineno, ast.unparse(arg)[:80]))
        for keyword in node.keywords:
            if keyword.arg in VALIDATOR_KEYWORDS and _bare(keyword.value):
                found.append((node.lineno, ast.unparse(keyword.value)[:80]))
    return found


def all_unmarked(paths=None) -> dict[str, list]:
    """Every unmarked string, by file (relative to the project)."""
    files = (
        [Path(p).resolve() for p in paths]
        if paths
        else sorted(TEMPLATES.rglob("*.html"))
        + sorted(TEMPLATES.rglob("*.txt"))
        + [f for d in PYTHON_DIRS for f in sorted((ROOT / d).rglob("*.py"))]
    )
    report = {}
    for path in files:
        if path.is_dir():
            report.update(all_unmarked(sorted(path.rglob("*.html")) + sorted(path.rglob("*.py"))))
            continue
        source = path.read_text(encoding="utf-8")
        found = unmarked_in_python(source) if path.suffix == ".py" else unmarked_in_template(source)
        if found:
            report[str(path.relative_to(ROOT))] = found
    return report


if __name__ == "__main__":
    total = 0
    for file, found in all_unmarked(sys.argv[1:] or None).items():
        for item in found:
            print(f"{file}: {item}")
            total += 1
    print(f"{total} unmarked")
