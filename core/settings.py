"""Portal-wide settings: the seller's details on invoices, defaults, lifetimes.

Each setting is one row of `settings` (JSON). Readers fall back to a sensible default
(or the configuration) when a setting was never saved, so a fresh portal works.
Setters check every value, save it, and audit the change with before and after.
"""

import re
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from extensions import db

from . import audit, events, i18n
from .errors import FieldRefused
from .i18n import N_, _, ngettext
from .models import Setting, User

SELLER = "seller"
STOCK_THRESHOLDS = "stock.thresholds"
PAYMENT_TERMS = "payment_terms_days"
INVITATION_HOURS = "invitation_hours"
VAT = "vat"
TIMEZONE = "timezone"
# The seller's zone: every time shown to someone who has not picked their own.
TIMEZONE_DEFAULT = "Europe/Berlin"
# A fresh portal's seller: Germany, 19 % standard and 7 % reduced (UStG §12).
VAT_DEFAULT = {"country": "DE", "standard": "19", "reduced": "7"}
MAX_VAT_RATE = Decimal(50)

# The seller's details as saved; `bank` (the payment line the invoice prints) is derived.
SELLER_FIELDS = (
    "name",
    "address",
    "vat_number",
    "email",
    "phone",
    "bank_name",
    "iban",
    "bic",
    "footer",
)
SELLER_LENGTHS = {
    "name": 120,
    "address": 300,
    "vat_number": 20,
    "email": 254,
    "phone": 40,
    "bank_name": 120,
    "iban": 42,  # 34 characters, spaced in groups of four
    "bic": 11,
    "footer": 500,
}
ADDRESS_LINES = 6
MAX_PAYMENT_DAYS = 365
MAX_INVITATION_HOURS = 24 * 30
MAX_THRESHOLD = 1_000_000

_VAT = re.compile(r"[A-Z0-9][A-Z0-9 .\-]{2,18}[A-Z0-9]")
_PHONE = re.compile(r"\+?[0-9 ()./\-]{5,40}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


class SettingRefused(FieldRefused):
    """A setting the rules do not allow; `field` names the form field it is about."""


def _value(key: str, default=None):
    found = db.session.get(Setting, key)
    return default if found is None or found.value is None else found.value


# Readers --------------------------------------------------------------------------------


def _grouped_iban(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def payment_line(details: dict) -> str:
    """Where to pay, as the invoice prints it: bank, IBAN and BIC, whichever are set."""
    parts = [f"IBAN {details['iban']}"] if details.get("iban") else []
    if details.get("bic"):
        parts.append(f"BIC {details['bic']}")
    if details.get("bank_name"):
        parts.insert(0, details["bank_name"])
    return ", ".join(parts)


def seller() -> dict:
    """The seller's name, address, VAT number and bank details printed on invoices."""
    value = _value(SELLER, {})
    if not isinstance(value, dict):
        return {}
    details = {key: str(value.get(key) or "") for key in SELLER_FIELDS}
    legacy = str(value.get("bank") or "").strip()
    if legacy and not details["iban"] and not details["bank_name"]:
        # Saved before the IBAN had a field of its own (one line such as "IBAN DE89 ...").
        match = re.fullmatch(r"IBAN\s+([A-Za-z0-9 ]+)", legacy)
        compact = re.sub(r"\s", "", match.group(1)).upper() if match else ""
        if compact and iban_is_valid(compact):
            details["iban"] = _grouped_iban(compact)
        else:
            details["bank_name"] = legacy
    if not any(details.values()):
        return {}
    details["bank"] = payment_line(details)
    return details


def vat() -> tuple[str, dict[str, Decimal]]:
    """The seller's country and its VAT rates (percent) per tax class."""
    value = _value(VAT, {})
    value = value if isinstance(value, dict) else {}
    country = str(value.get("country") or VAT_DEFAULT["country"])
    rates = {}
    for tax_class in ("standard", "reduced"):
        try:
            rate = Decimal(str(value.get(tax_class, VAT_DEFAULT[tax_class])))
        except ArithmeticError:
            rate = Decimal(VAT_DEFAULT[tax_class])
        rates[tax_class] = rate if rate.is_finite() and 0 <= rate < MAX_VAT_RATE else Decimal(0)
    rates["zero"] = Decimal(0)
    return country, rates


def stock_thresholds() -> tuple[int, int]:
    """(few_from, many_from): the levels new customer groups start with."""
    value = _value(STOCK_THRESHOLDS, {})
    if isinstance(value, dict):
        try:
            few, many = int(value.get("few_from", 1)), int(value.get("many_from", 50))
        except (TypeError, ValueError):
            return 1, 50
        if 0 <= few < many:
            return few, many
    return 1, 50


def payment_terms_days() -> int:
    """Days to pay that new customer companies start with."""
    value = _value(PAYMENT_TERMS, 30)
    return value if isinstance(value, int) and 0 <= value <= MAX_PAYMENT_DAYS else 30


def invitation_hours() -> int:
    """How long an invitation link stays valid."""
    value = _value(INVITATION_HOURS, None)
    if isinstance(value, int) and 1 <= value <= MAX_INVITATION_HOURS:
        return value
    return current_app.config["INVITATION_HOURS"]


def timezone() -> str:
    """The seller's time zone: times are shown in it to whoever has not picked their own."""
    value = _value(TIMEZONE, None)
    return value if isinstance(value, str) and is_timezone(value) else TIMEZONE_DEFAULT


# Checking -------------------------------------------------------------------------------


def timezones() -> list[str]:
    """The IANA zones a person or the seller may pick, sorted (Europe/Rome, ...)."""
    import zoneinfo

    return sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z
        and z[0].isupper()
        and not z.startswith(("Etc/", "SystemV/", "US/", "Brazil/", "Canada/", "Chile/", "Mexico/"))
    )


def is_timezone(name) -> bool:
    return isinstance(name, str) and name in _zone_set()


def _zone_set() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(timezones()) | {"UTC"}
    return _ZONES


_ZONES: frozenset[str] | None = None


def iban_is_valid(compact: str) -> bool:
    """The IBAN's shape and its ISO 7064 mod-97 check digits (catches most typing slips)."""
    if not _IBAN.fullmatch(compact):
        return False
    moved = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _clean_seller_field(key: str, raw) -> str:
    """One of the seller's details checked and tidied, or SettingRefused naming it."""
    value = str(raw or "").replace("\r\n", "\n").strip()
    if key not in ("address", "footer"):
        value = " ".join(value.split())
    if len(value) > SELLER_LENGTHS[key]:
        raise SettingRefused(
            _(
                "This has at most %(maximum)d characters; it has %(length)d.",
                maximum=SELLER_LENGTHS[key],
                length=len(value),
            ),
            key,
        )
    if key == "name" and not value:
        raise SettingRefused(_("Enter the seller's name as invoices should print it."), key)
    if key == "address":
        lines = [line.strip() for line in value.split("\n") if line.strip()]
        if not lines:
            raise SettingRefused(_("Enter the seller's postal address."), key)
        if len(lines) > ADDRESS_LINES:
            raise SettingRefused(
                ngettext(
                    "An address has at most %(num)d line.",
                    "An address has at most %(num)d lines.",
                    ADDRESS_LINES,
                ),
                key,
            )
        return "\n".join(lines)
    if not value:
        return value
    if key == "vat_number":
        value = value.upper()
        if not _VAT.fullmatch(value) or not re.search(r"\d", value):
            raise SettingRefused(
                _("Enter the VAT number as letters and digits, such as DE123456789."), key
            )
    elif key == "email":
        try:
            checked = validate_email(
                value,
                check_deliverability=False,
                test_environment=current_app.config["PORTAL_ENV"] != "production",
            )
        except EmailNotValidError as exc:
            raise SettingRefused(
                _("That email address is not valid: %(reason)s", reason=str(exc)), key
            ) from exc
        value = checked.normalized
    elif key == "phone":
        if not _PHONE.fullmatch(value) or len(re.sub(r"\D", "", value)) < 5:
            raise SettingRefused(
                _(
                    "Enter the phone number in digits, with an optional leading +, such as "
                    "+49 40 1234567."
                ),
                key,
            )
    elif key == "iban":
        compact = re.sub(r"[\s-]", "", value).upper()
        if not _IBAN.fullmatch(compact):
            raise SettingRefused(
                _(
                    "An IBAN is a country code, two check digits and up to 30 letters or "
                    "digits, such as DE89 3704 0044 0532 0130 00."
                ),
                key,
            )
        if not iban_is_valid(compact):
            raise SettingRefused(
                _("This IBAN's check digits do not match: look for a typing mistake."), key
            )
        value = _grouped_iban(compact)
    elif key == "bic":
        value = value.replace(" ", "").upper()
        if not _BIC.fullmatch(value):
            raise SettingRefused(
                _("A BIC has 8 or 11 letters and digits, such as COBADEFFXXX."), key
            )
    return value


def seller_problems(raw: dict) -> dict[str, str]:
    """What is wrong with each of the seller's details, by field (empty when all is well)."""
    problems = {}
    for key in SELLER_FIELDS:
        try:
            _clean_seller_field(key, raw.get(key))
        except SettingRefused as exc:
            problems[key] = str(exc)
    return problems


def clean_seller(raw: dict) -> dict:
    """The seller's details checked and tidied, or SettingRefused naming the first wrong one."""
    return {key: _clean_seller_field(key, raw.get(key)) for key in SELLER_FIELDS}


def _whole_number(raw, message: str, field: str) -> int:
    if isinstance(raw, bool):
        raise SettingRefused(message, field)
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError) as exc:
        raise SettingRefused(message, field) from exc


# Saving ---------------------------------------------------------------------------------


def _save(key: str, value, *, actor: User | None, ip: str, summary: str, before, after) -> bool:
    """Store one setting and audit it; False (and no entry) when it was already so."""
    if before == after:
        return False
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value  # a new object: JSON columns do not see changes made in place
    audit.record(
        "settings.changed", actor=actor, summary=summary, before=before, after=after, ip=ip
    )
    events.record(db.session, "settings_changed", key=key)
    db.session.flush()
    return True


def set_seller(raw: dict, *, actor: User | None, ip: str = "") -> bool:
    """Save the seller's details; the next invoice shown or printed carries them."""
    details = clean_seller(raw)
    current = seller()
    before = {key: current.get(key, "") for key in SELLER_FIELDS}
    changed_from, changed_to = audit.differences(before, details)
    return _save(
        SELLER,
        details,
        actor=actor,
        ip=ip,
        summary=N_("Seller details on invoices changed"),
        before=changed_from,
        after=changed_to,
    )


def set_stock_thresholds(few_from, many_from, *, actor: User | None, ip: str = "") -> bool:
    """Save the stock levels that new customer groups start with."""
    few = _whole_number(few_from, _("Enter a whole number of units, such as 1."), "few_from")
    many = _whole_number(many_from, _("Enter a whole number of units, such as 50."), "many_from")
    if few < 0:
        raise SettingRefused(_("“Few” cannot start below 0 units."), "few_from")
    if many > MAX_THRESHOLD:
        raise SettingRefused(
            _("“Many” starts at %(maximum)s units at most.", maximum=i18n.number(MAX_THRESHOLD)),
            "many_from",
        )
    if many <= few:
        raise SettingRefused(
            _("“Many” must start above where “Few” starts (%(few)s units).", few=i18n.number(few)),
            "many_from",
        )
    old_few, old_many = stock_thresholds()
    return _save(
        STOCK_THRESHOLDS,
        {"few_from": few, "many_from": many},
        actor=actor,
        ip=ip,
        summary=N_("Default stock levels for new customer groups changed"),
        before={"few_from": old_few, "many_from": old_many},
        after={"few_from": few, "many_from": many},
    )


def set_payment_terms(days, *, actor: User | None, ip: str = "") -> bool:
    """Save the days to pay that new customer companies start with."""
    value = _whole_number(days, _("Enter a whole number of days, such as 30."), "days")
    if not 0 <= value <= MAX_PAYMENT_DAYS:
        raise SettingRefused(
            _(
                "Payment terms are from 0 (on receipt) to %(maximum)d days.",
                maximum=MAX_PAYMENT_DAYS,
            ),
            "days",
        )
    return _save(
        PAYMENT_TERMS,
        value,
        actor=actor,
        ip=ip,
        summary=N_("Default payment terms for new customers changed"),
        before={"days": payment_terms_days()},
        after={"days": value},
    )


def set_vat(country: str, standard, reduced, *, actor: User | None, ip: str = "") -> bool:
    """Save the seller's country and VAT rates; documents issued from now on use them."""
    from . import countries, numbers  # numbers and countries import nothing of ours

    if country not in countries.names():
        raise SettingRefused(_("Choose the seller's country from the list."), "country")
    rates = {}
    for key, raw in (("standard", standard), ("reduced", reduced)):
        rates[key] = numbers.decimal(
            raw,
            label=_("A VAT rate"),
            places=2,
            maximum=MAX_VAT_RATE,
            example="19",
            field=key,
        )
    old_country, old_rates = vat()
    value = {"country": country, **{k: f"{v.normalize():f}" for k, v in rates.items()}}
    before = {"country": old_country, **{k: f"{old_rates[k].normalize():f}" for k in rates}}
    return _save(
        VAT,
        value,
        actor=actor,
        ip=ip,
        summary=N_("Seller's country and VAT rates changed"),
        before=before,
        after=value,
    )


def set_timezone(zone: str, *, actor: User | None, ip: str = "") -> bool:
    """Save the seller's time zone (the default of everyone who has not picked one)."""
    from .i18n import _

    if not is_timezone(zone):
        raise SettingRefused(_("Choose a time zone from the list."), "timezone")
    return _save(
        TIMEZONE,
        zone,
        actor=actor,
        ip=ip,
        summary="Seller's time zone changed",
        before={"timezone": timezone()},
        after={"timezone": zone},
    )


def set_invitation_hours(hours, *, actor: User | None, ip: str = "") -> bool:
    """Save how long new invitation links stay valid (links already sent keep theirs)."""
    value = _whole_number(hours, _("Enter a whole number of hours, such as 72."), "hours")
    if not 1 <= value <= MAX_INVITATION_HOURS:
        raise SettingRefused(
            _(
                "An invitation stays valid from 1 to %(maximum)d hours (30 days).",
                maximum=MAX_INVITATION_HOURS,
            ),
            "hours",
        )
    return _save(
        INVITATION_HOURS,
        value,
        actor=actor,
        ip=ip,
        summary=N_("Invitation lifetime changed"),
        before={"hours": invitation_hours()},
        after={"hours": value},
    )
