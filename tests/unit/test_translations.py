"""Every word a person reads is marked, and every language has all of them, unguessed.

The catalogues are checked against a fresh extraction from the code, so a message added
without its translations fails here, as does a fuzzy (guessed) or untranslated one, or a
translation that drops or renames a placeholder.
"""

import pytest
from babel.messages.pofile import read_po

from blueprints.i18n import CATALOGUES, extract, untranslated
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tests.i18n_check import all_unmarked, unmarked_in_python, unmarked_in_template

TRANSLATED = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]


def test_every_string_shown_to_a_person_is_marked_for_translation():
    report = all_unmarked()
    lines = [f"{file}: {item}" for file, found in report.items() for item in found]
    assert not lines, f"{len(lines)} unmarked strings:\n" + "\n".join(lines[:60])


def test_the_checker_sees_text_attributes_and_python_messages():
    # It would pass vacuously if it saw nothing: each kind of omission is caught.
    assert unmarked_in_template("<p>Hello</p>") == ["Hello"]
    assert unmarked_in_template('<input placeholder="Search products">') == ["Search products"]
    assert unmarked_in_template("<p>{{ _('Hello') }}</p><p>{{ name }} · 3</p>") == []
    assert unmarked_in_template("{% trans %}Hello{% endtrans %}") == []
    assert unmarked_in_template("<script>var a = 'word';</script>") == []
    assert unmarked_in_template("{% block face %}face-auth{% endblock %}") == []
    assert unmarked_in_template("{% block title %}Orders{% endblock %}") == ["Orders"]
    assert unmarked_in_template('<tr{% if x %} class="a"{% endif %}><td>Open</td></tr>') == ["Open"]
    assert unmarked_in_template('<input placeholder="MCU-STM32F401">') == []
    assert unmarked_in_python('flash("Saved.")') == [(1, "'Saved.'")]
    assert unmarked_in_python('raise Refused(f"No {x} left.")')
    assert unmarked_in_python('StringField("Name", validators=[Length(message="Too long")])')
    assert unmarked_in_python('flash(_("Saved."))') == []


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract(pot)
    with pot.open("rb") as source:
        return {m.id for m in read_po(source) if m.id}


def _catalogue(code):
    with (CATALOGUES / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=code)


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_language_has_every_message_translated_and_none_guessed(code, extracted):
    catalogue = _catalogue(code)
    have = {m.id for m in catalogue if m.id}
    missing = sorted(str(m) for m in extracted - have)
    assert not missing, f"{code}: {len(missing)} messages missing, e.g. {missing[:10]}"
    po = CATALOGUES / code / "LC_MESSAGES" / "messages.po"
    bad = untranslated(po)
    assert not bad, f"{code}: {len(bad)} untranslated or fuzzy, e.g. {bad[:10]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_every_placeholder(code):
    problems = [
        f"{message.id!r}: {'; '.join(map(str, errors))}"
        for message, errors in _catalogue(code).check()
        if errors
    ]
    assert not problems, f"{code}:\n" + "\n".join(problems[:20])
