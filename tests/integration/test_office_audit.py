"""The back-office audit log: entries from real actions, filters, paging, read-only."""

from datetime import datetime

import pytest
from sqlalchemy import select

from core.audit import ACTIONS
from core.models import AuditEntry, Role, User
from extensions import db
from tests.html import find, find_all

ADMIN = "admin@portal.test"


@pytest.fixture
def state(app):
    """Run `fn` in a fresh application context (never the one a request used)."""

    def run(fn):
        with app.app_context():
            return fn()

    return run


def add_entries(state, *entries: dict) -> None:
    """Append entries as if written at given moments (the log only ever grows)."""

    def add():
        for fields in entries:
            db.session.add(AuditEntry(**{"summary": "test entry", **fields}))
        db.session.commit()

    state(add)


def entry_rows(html: str) -> list:
    """The table rows of entries (each has id="audit-<id>")."""
    return [
        el
        for el in find_all(html)
        if el.tag == "tr" and el.attrs.get("id", "").startswith("audit-")
    ]


def test_actions_on_roles_show_up_newest_first_with_their_changes(as_user, state):
    c = as_user(ADMIN)
    c.send("POST", "/office/roles", data={"name": "Auditors", "scope": "staff"})
    rid = state(lambda: db.session.scalar(select(Role.id).where(Role.name == "Auditors")))
    c.send(
        "POST",
        f"/office/roles/{rid}/permissions",
        data={"permissions": ["audit.view", "orders.view"]},
    )
    c.send("POST", f"/office/roles/{rid}/name", data={"name": "Inspectors"})
    html = c.get("/office/audit").get_data(as_text=True)
    found = entry_rows(html)
    assert [r.attrs["data-action"] for r in found[:3]] == [
        "role.renamed",
        "role.permissions_changed",
        "role.created",
    ]
    renamed, changed, created = found[:3]
    assert ADMIN in renamed.text and "Role renamed" in renamed.text
    assert f"roles #{rid}" in renamed.text
    assert "Role Auditors renamed to Inspectors" in renamed.text
    assert "name: Auditors → Inspectors" in renamed.text
    added = [el.text for el in find_all(changed.inner_html, class_="changes__added")]
    assert added == ["+audit.view", "+orders.view"]
    assert not find_all(changed.inner_html, class_="changes__removed")
    assert "Role permissions changed" in changed.text
    assert "scope: staff" in created.text and "→" not in created.text


def test_person_filter_is_a_case_insensitive_substring(as_user, state):
    add_entries(
        state,
        {"action": "auth.sign_in", "actor_email": "Zoe.Quill@portal.test"},
        {"action": "auth.sign_in", "actor_email": "someone@else.test"},
    )
    html = as_user(ADMIN).get("/office/audit?person=zoe.QUI").get_data(as_text=True)
    found = entry_rows(html)
    assert len(found) == 1 and "Zoe.Quill@portal.test" in found[0].text
    assert "1 entry match these filters" in find(html, class_="results__count").text


def test_person_filter_treats_like_wildcards_literally(as_user, state):
    add_entries(
        state,
        {"action": "auth.sign_in", "actor_email": "under_score@portal.test"},
        {"action": "auth.sign_in", "actor_email": "underXscore@portal.test"},
    )
    html = as_user(ADMIN).get("/office/audit?person=under_s").get_data(as_text=True)
    assert [r.text.count("under_score") for r in entry_rows(html)] == [1]
    html = as_user(ADMIN).get("/office/audit?person=%25").get_data(as_text=True)
    assert "No entries match these filters." in html


def test_action_filter(as_user, state):
    add_entries(
        state,
        {"action": "user.blocked", "actor_email": "a@portal.test"},
        {"action": "user.unblocked", "actor_email": "a@portal.test"},
    )
    html = as_user(ADMIN).get("/office/audit?action=user.blocked").get_data(as_text=True)
    found = entry_rows(html)
    assert found and {r.attrs["data-action"] for r in found} == {"user.blocked"}
    assert "Person blocked" in found[0].text
    assert '<option value="user.blocked" selected>' in html  # the form shows the filter


def test_date_filters_are_inclusive_and_combine_with_the_others(as_user, state):
    # Stored in UTC; the days filtered are the viewer's (the seller's zone, Europe/Berlin,
    # UTC+1 in March 2020): each entry sits on one side of a Berlin midnight.
    add_entries(
        state,
        {
            "action": "user.invited",
            "actor_email": "d@x.test",
            "created_at": datetime(2020, 3, 9, 22, 59),  # 9 Mar 23:59 in Berlin
        },
        {
            "action": "user.invited",
            "actor_email": "d@x.test",
            "created_at": datetime(2020, 3, 9, 23, 0),  # 10 Mar 00:00 in Berlin
        },
        {
            "action": "user.invited",
            "actor_email": "d@x.test",
            "created_at": datetime(2020, 3, 12, 22, 59, 59),  # 12 Mar 23:59:59 in Berlin
        },
        {
            "action": "user.invited",
            "actor_email": "d@x.test",
            "created_at": datetime(2020, 3, 12, 23, 0),  # 13 Mar 00:00 in Berlin
        },
        {
            "action": "user.blocked",
            "actor_email": "d@x.test",
            "created_at": datetime(2020, 3, 11, 12, 0),
        },
    )
    c = as_user(ADMIN)
    html = c.get("/office/audit?from=2020-03-10&to=2020-03-12&person=d@x").get_data(as_text=True)
    assert len(entry_rows(html)) == 3
    html = c.get(
        "/office/audit?from=2020-03-10&to=2020-03-12&person=d@x&action=user.invited"
    ).get_data(as_text=True)
    whens = [r.text for r in entry_rows(html)]
    assert len(whens) == 2
    assert "12 Mar 2020 23:59" in whens[0] and "10 Mar 2020 00:00" in whens[1]
    html = c.get("/office/audit?to=2020-03-09&person=d@x").get_data(as_text=True)
    assert len(entry_rows(html)) == 1
    html = c.get("/office/audit?from=2020-03-13&to=2020-03-13").get_data(as_text=True)
    assert len(entry_rows(html)) == 1
    html = c.get("/office/audit?from=2020-03-13&to=9999-12-31&person=d@x").get_data(as_text=True)
    assert len(entry_rows(html)) == 1  # the last possible day is a bound, not an error


def test_date_filters_take_the_days_of_the_viewers_own_zone(as_user, state):
    # 23:30 UTC on 12 March: still 12 March in UTC, already 13 March in Berlin.
    add_entries(
        state,
        {
            "action": "user.invited",
            "actor_email": "late@x.test",
            "created_at": datetime(2020, 3, 12, 23, 30),
        },
    )
    c = as_user(ADMIN)

    def rows(day):
        html = c.get(f"/office/audit?from={day}&to={day}&person=late@x").get_data(as_text=True)
        return [r.text for r in entry_rows(html)]

    assert rows("2020-03-12") == []
    assert len(found := rows("2020-03-13")) == 1 and "13 Mar 2020 00:30" in found[0]

    def in_utc():
        db.session.scalar(select(User).where(User.email == ADMIN)).timezone = "UTC"
        db.session.commit()

    state(in_utc)
    assert rows("2020-03-13") == []
    assert len(found := rows("2020-03-12")) == 1 and "12 Mar 2020 23:30" in found[0]


def test_a_from_date_of_year_one_limits_nothing(as_user, state):
    # Midnight of 1 January of year 1 in Berlin is before the first moment a UTC time can
    # hold: the bound is then no bound rather than an error.
    add_entries(state, {"action": "user.invited", "actor_email": "early@x.test"})
    html = as_user(ADMIN).get("/office/audit?from=0001-01-01&person=early@x").get_data(as_text=True)
    assert len(entry_rows(html)) == 1


def test_no_match_has_an_empty_state(as_user):
    html = as_user(ADMIN).get("/office/audit?person=nobody-at-all").get_data(as_text=True)
    assert "No entries match these filters." in html
    assert not entry_rows(html)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=role.exploded", "Unknown action"),
        ("from=2024-13-01", "must be a real date written YYYY-MM-DD"),
        ("to=yesterday", "must be a real date written YYYY-MM-DD"),
        ("from=20240101", "must be a real date written YYYY-MM-DD"),
        ("from=2024-02-30", "must be a real date written YYYY-MM-DD"),
        ("from=2024-05-02&to=2024-05-01", "The “from” date is after the “to” date."),
        ("person=" + "p" * 201, "too long: at most 200 characters"),
        ("page=abc", "The page must be a whole number"),
        ("page=0", "The page must be a whole number"),
    ],
)
def test_bad_filter_values_are_a_clear_400(as_user, query, message):
    c = as_user(ADMIN)
    response = c.get(f"/office/audit?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    fragment = c.htmx(f"/office/audit?{query}")
    assert fragment.status_code == 400
    assert message in find(fragment.get_data(as_text=True), class_="error-message").text


def test_pages_of_fifty_keep_the_filters(as_user, state):
    add_entries(
        state,
        *(
            {
                "action": "auth.sign_in_failed",
                "actor_email": "pager@portal.test",
                "summary": f"attempt {n:02d}",
                "created_at": datetime(2021, 1, 1, 0, n),
            }
            for n in range(60)
        ),
    )
    c = as_user(ADMIN)
    first = c.get("/office/audit?person=pager&action=auth.sign_in_failed").get_data(as_text=True)
    found = entry_rows(first)
    assert len(found) == 50
    assert "attempt 59" in found[0].text and "attempt 10" in found[-1].text  # newest first
    assert "60 entries match these filters" in first
    nav = find(first, class_="pagination")
    next_link = find(nav.inner_html, rel="next").attrs["href"]
    assert "person=pager" in next_link and "action=auth.sign_in_failed" in next_link
    assert "page=2" in next_link
    second = c.get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    found = entry_rows(second)
    assert len(found) == 10
    assert "attempt 09" in found[0].text and "attempt 00" in found[-1].text
    past = c.get("/office/audit?person=pager&page=5").get_data(as_text=True)
    assert "Page 5 is past the last page (2)." in past


def test_htmx_gets_the_results_fragment_only(as_user):
    response = as_user(ADMIN).htmx("/office/audit?action=demo.loaded")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="audit-results"')
    assert "HX-Request" in response.headers.get("Vary", "")


def test_the_filter_form_targets_the_results_and_pushes_the_url(as_user):
    html = as_user(ADMIN).get("/office/audit").get_data(as_text=True)
    # The page's own filter form (the layout's global search is another search form).
    form = find(html, role="search", hx_get="/office/audit")
    assert form is not None
    assert form.attrs["hx-target"] == "#audit-results"
    assert form.attrs["hx-push-url"] == "true"
    options = [o.attrs.get("value") for o in find_all(form.inner_html) if o.tag == "option"]
    assert options == ["", *ACTIONS]


def test_the_log_cannot_be_changed_through_the_web(app, as_user):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/office/audit")]
    assert rules, "the audit module is missing"
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    c = as_user(ADMIN)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert c.send(method, "/office/audit").status_code == 405


@pytest.mark.parametrize(
    "email",
    ["manager@portal.test", "warehouse@portal.test", "viewer@portal.test", "orders@acme.test"],
)
def test_the_log_is_only_for_those_who_may_read_it(as_user, email):
    c = as_user(email)
    assert c.get("/office/audit").status_code == 403
    assert c.htmx("/office/audit?page=2").status_code == 403


def test_failed_sign_ins_are_listed_with_the_address_typed(client, as_user):
    client.send("POST", "/login", data={"email": "ghost@nowhere.test", "password": "x"})
    html = as_user(ADMIN).get("/office/audit?person=ghost").get_data(as_text=True)
    found = entry_rows(html)
    assert len(found) == 1
    assert "Sign-in failed" in found[0].text and "ghost@nowhere.test" in found[0].text
