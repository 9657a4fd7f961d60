"""The work queue's live audience: whatever changes its counts is in the key."""

from types import SimpleNamespace

from core import access, work_queue

SALES = access.PRESETS_BY_KEY["sales"].permissions
FINANCE = access.PRESETS_BY_KEY["finance"].permissions


def viewer(permissions, scope, kind="staff"):
    return SimpleNamespace(kind=kind, permissions=frozenset(permissions), scope=scope)


def test_the_audience_tells_apart_everything_that_picks_the_queues():
    (rule,) = access.AUDIENCES["work-queue"]
    assert set(rule.fields) == set(work_queue.PERMISSIONS)
    assert "scope" in rule.by


def test_two_reps_with_different_customers_are_two_audiences():
    anna = access.audience(viewer(SALES, frozenset({1, 2})), "work-queue")
    marco = access.audience(viewer(SALES, frozenset({3, 4})), "work-queue")
    twin = access.audience(viewer(SALES, frozenset({2, 1})), "work-queue")
    assert anna is not None and marco is not None
    assert anna != marco
    assert anna == twin


def test_the_same_scope_with_other_queues_is_another_audience():
    everyone = access.audience(viewer(SALES, None), "work-queue")
    finance = access.audience(viewer(FINANCE, None), "work-queue")
    assert everyone != finance


def test_customers_never_receive_the_work_queue():
    assert access.audience(viewer({"shop.order"}, frozenset({1}), "customer"), "work-queue") is None


def test_every_queue_needs_a_permission_of_the_catalogue():
    assert {q.permission for q in work_queue.QUEUES} <= access.PERMISSIONS
    assert work_queue.LOW_STOCK.permission == "stock.view"  # exact stock only
