"""Live regions of the portal's administration: the settings page and the audit log.

- `settings-<section>` (`settings-seller`, `settings-vat`, ...): one section of the
  settings page. Each holds an editor's form, with its CSRF token and what they may have
  typed, so it is never rendered here: a saved change signals the section, which
  re-fetches itself through the settings view (and portal.js leaves a section alone
  while someone is editing it: `data-keep-edits`).
- `audit-results`: the audit log's page of entries, refreshed whenever an entry is
  written (one signal per transaction, however many entries it wrote).
- `jobs-results`: the background jobs' page, refreshed whenever a job moves (queued,
  claimed, done, failed, retried), in whichever process ran it.
- `webhook-endpoints`, `webhook-deliveries-<endpoint>`: one's webhook endpoints and one
  endpoint's delivery log, refreshed whenever an endpoint or one of its deliveries
  changes; each re-fetches itself through its view, which shows only one's own (or one's
  company's) endpoints.
"""

import re

from core import jobs, settings, webhooks
from core.events import Event

from .registry import RegionKind, affects, register

# The section of the page that shows each setting (core.settings' keys).
SECTIONS = {
    settings.SELLER: "seller",
    settings.STOCK_THRESHOLDS: "thresholds",
    settings.PAYMENT_TERMS: "terms",
    settings.VAT: "vat",
    settings.TIMEZONE: "timezone",
    settings.INVITATION_HOURS: "invitations",
}

register(
    RegionKind(
        "settings",
        re.compile("settings-(?:" + "|".join(SECTIONS.values()) + ")"),
        is_list=True,
    )
)
register(RegionKind("audit-results", re.compile(r"audit-results"), is_list=True))
register(RegionKind("jobs-results", re.compile(r"jobs-results"), is_list=True))
register(RegionKind("webhook-endpoints", re.compile(r"webhook-endpoints"), is_list=True))
register(RegionKind("webhook-deliveries", re.compile(r"webhook-deliveries-\d+"), is_list=True))


@affects("settings_changed")
def _settings_section(event: Event) -> set[str]:
    section = SECTIONS.get(dict(event.data).get("key"))
    return {f"settings-{section}"} if section else set()


@affects("audit_logged")
def _audit_log(event: Event) -> set[str]:
    return {"audit-results"}


@affects(jobs.CHANGED)
def _jobs_list(event: Event) -> set[str]:
    return {"jobs-results"}


@affects(webhooks.CHANGED)
def _webhooks(event: Event) -> set[str]:
    return {"webhook-endpoints", f"webhook-deliveries-{event.id}"}
