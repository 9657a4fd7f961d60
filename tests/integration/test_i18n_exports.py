"""CSV files keep their column keys and codes in every language: a spreadsheet or a
script reading them must not break because the person who exported reads Polish."""

import csv
import io

import pytest
from sqlalchemy import select

from core.models import User
from extensions import db

ADMIN = "admin@portal.test"
EXPORTS = ["/office/exports/products", "/office/exports/orders", "/office/exports/invoices"]
TEMPLATES = ["/office/imports/template/products.csv", "/office/imports/template/stock.csv"]


def _rows(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.status_code
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


def _speak(app, language):
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == ADMIN))
        person.language = language
        db.session.commit()


@pytest.mark.parametrize("url", EXPORTS + TEMPLATES)
def test_exports_and_import_templates_are_the_same_file_in_every_language(app, as_user, url):
    c = as_user(ADMIN)
    english = _rows(c.get(url))
    for language in ("pl", "ro", "fr"):
        _speak(app, language)
        assert f'lang="{language}"' in c.get("/account").get_data(as_text=True)
        assert _rows(c.get(url)) == english, f"{url} changed in {language}"
