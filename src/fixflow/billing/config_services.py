"""Billing configuration writes (DOMAIN.md §4): the organization's seller details and pricing defaults, tax
rates, technician rate classes, hourly rates, price lists with their part prices, clients' billing details
and service contracts.

Every function takes the acting user first and needs ``billing.configure`` (admins, accountants); it
validates the whole input (a refused input raises ``DomainError`` VALIDATION naming the field, and nothing
is written), runs in one transaction, locks the row it changes (``SELECT … FOR UPDATE``) and writes a
``ChangeRecord`` with the row before and after. Rows that people edit carry a ``version``: pass
``expected_version`` to refuse a change made on a stale copy (STALE_VERSION). An id of another
organization in the path is NOT_FOUND; an id of another organization in the input is a VALIDATION error on
that field.

Invoices and quotes copy prices and tax when their lines are made, so nothing here changes an existing
quote or invoice; that is also why a tax rate already on invoice lines keeps its category and rate (make a
new one) and cannot be deleted (deactivate it).
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength
from stdnum.exceptions import ValidationError as NumberError

from fixflow.core.choices import Role
from fixflow.core.errors import DomainError, ErrorCode, not_found, validation
from fixflow.core.models import Membership
from fixflow.core.permissions import Actor, require
from fixflow.core.services import change_record_write, check_version, snapshot

from . import calculations as calc
from .choices import ZERO_RATE_CATEGORIES, ContractPeriod, RateKind, VatCategory
from .inputs import as_id
from .models import (
    BillingSettings,
    ClientBilling,
    InvoiceLine,
    PriceList,
    PriceListItem,
    QuoteLine,
    Rate,
    RateClass,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
)
from .services import settings_for

CONFIGURE = "billing.configure"
ZERO = Decimal(0)
HUNDRED = Decimal(100)

# A logo goes into every invoice PDF (PDF/A-3b): a PNG or JPEG, small enough to keep documents light.
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000
LOGO_TYPES = {"image/png": ".png", "image/jpeg": ".jpg"}

# The exemption code each zero-rate category must use when it has one (CEF VATEX code list).
VATEX_FOR_CATEGORY = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
VATEX_PATTERN = re.compile(r"^VATEX-[A-Z]{2}-[A-Z0-9]+(?:-[A-Z0-9]+)*$")
SERIES_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
ENDPOINT_SCHEME_PATTERN = re.compile(r"^(?:\d{4}|[A-Z]{2})$")
VAT_ID_PATTERN = re.compile(r"^([A-Z]{2})[A-Z0-9+*]{2,13}$")
# Members whose time is recorded on work orders, so they can bill at a rate class.
FIELD_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN)


# ---------------------------------------------------------------------------------------------
# parsing: each returns the cleaned value or raises VALIDATION on the field


def _label(field_name: str) -> str:
    return field_name.replace("_id", "").replace("_", " ")


def _text(value, field_name: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise validation(f"Enter text for the {_label(field_name)}.", field=field_name)
    value = value.strip()
    if required and not value:
        raise validation(f"Enter the {_label(field_name)}.", field=field_name)
    if len(value) > max_length:
        raise validation(f"Keep the {_label(field_name)} under {max_length + 1} characters.", field=field_name)
    return value


def _decimal(
    value,
    field_name: str,
    *,
    places: int,
    minimum: Decimal | None = ZERO,
    maximum: Decimal | None = None,
    optional: bool = False,
) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise validation(f"Enter the {_label(field_name)}.", field=field_name)
    if isinstance(value, float | bool):
        value = str(value) if isinstance(value, float) else "x"
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise validation(f"Enter a number for the {_label(field_name)}.", field=field_name) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 9:
        raise validation(f"Enter a sensible number for the {_label(field_name)}.", field=field_name)
    if minimum is not None and number < minimum:
        raise validation(f"The {_label(field_name)} cannot be less than {minimum}.", field=field_name)
    if maximum is not None and number > maximum:
        raise validation(f"The {_label(field_name)} cannot be more than {maximum}.", field=field_name)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise validation(f"The {_label(field_name)} has at most {places} decimals.", field=field_name)
    return number


def _int(value, field_name: str, *, minimum: int, maximum: int, optional: bool = False) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise validation(f"Enter the {_label(field_name)}.", field=field_name)
    if isinstance(value, bool):
        raise validation(f"Enter a whole number for the {_label(field_name)}.", field=field_name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise validation(f"Enter a whole number for the {_label(field_name)}.", field=field_name) from None
    if not minimum <= number <= maximum:
        raise validation(f"The {_label(field_name)} is between {minimum} and {maximum}.", field=field_name)
    return number


def _bool(value, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("on", "true", "True", "1", 1):
        return True
    if value in ("", "off", "false", "False", "0", 0, None):
        return False
    raise validation(f"Answer yes or no for {_label(field_name)}.", field=field_name)


def _date(value, field_name: str, *, optional: bool = False) -> date | None:
    if value in (None, ""):
        if optional:
            return None
        raise validation(f"Enter the {_label(field_name)}.", field=field_name)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise validation(f"Enter the {_label(field_name)} as YYYY-MM-DD.", field=field_name) from None


def _choice(value, field_name: str, choices) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise validation(f"Choose the {_label(field_name)}: one of {allowed}.", field=field_name)
    return value


def _email(value, field_name: str) -> str:
    value = _text(value, field_name, max_length=254)
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise validation(f"{value} is not an e-mail address.", field=field_name) from None
    return value


@cache
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 codes and their names, from the tz database's ``iso3166.tab`` (tzdata)."""
    text = resources.files("tzdata").joinpath("zoneinfo/iso3166.tab").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _tab, name = line.partition("\t")
            out[code.strip()] = name.strip()
    return dict(sorted(out.items(), key=lambda item: item[1]))


def _country(value, field_name: str = "country") -> str:
    value = _text(value, field_name, max_length=2).upper()
    if value and value not in country_names():
        raise validation(f"{value} is not a country code (ISO 3166, e.g. DE, AT, FR).", field=field_name)
    return value


def normalize_vat_id(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value or "").upper()


def _vat_id(value, field_name: str = "vat_id") -> str:
    """A VAT identifier with its country prefix (EN 16931 BR-CO-09: ISO 3166 alpha-2, or EL for Greece)."""
    value = normalize_vat_id(_text(value, field_name, max_length=40))
    if not value:
        return ""
    m = VAT_ID_PATTERN.match(value)
    if m is None or (m.group(1) not in country_names() and m.group(1) not in ("EL", "XI")):
        raise validation(
            f"{value} is not a VAT id: it starts with the country code (e.g. DE123456789, ATU12345678).",
            field=field_name,
        )
    return value


def _iban(value) -> str:
    """The IBAN in its printed form (groups of four); the check digits must match (ISO 13616, mod 97)."""
    value = _text(value, "iban", max_length=50)
    if not value:
        return ""
    try:
        return stdnum_iban.format(stdnum_iban.validate(value))
    except InvalidChecksum:
        message = "The check digits of this IBAN do not match: check it for a typing error."
    except InvalidLength:
        message = "This IBAN has the wrong length for its country."
    except InvalidComponent:
        message = "This IBAN does not start with a known country code, or its account part has the wrong format."
    except NumberError:
        message = "This is not an IBAN (e.g. DE89 3704 0044 0532 0130 00)."
    raise validation(message, field="iban")


def _bic(value) -> str:
    value = _text(value, "bic", max_length=20).replace(" ", "").upper()
    if value and not stdnum_bic.is_valid(value):
        raise validation(f"{value} is not a BIC: 8 or 11 letters and digits, e.g. COBADEFFXXX.", field="bic")
    return value


def _series(value, field_name: str) -> str:
    value = _text(value, field_name, max_length=20, required=True).upper()
    if not SERIES_PATTERN.match(value):
        raise validation(
            f"Use letters, digits, '-' and '_' for the {_label(field_name)} (e.g. INV, RE-A).", field=field_name
        )
    return value


def _currency(value, field_name: str = "currency", *, optional: bool = False) -> str:
    """An ISO 4217 code that invoices can be in (at most 2 decimals, EN 16931)."""
    value = _text(value, field_name, max_length=3, required=not optional).upper()
    if not value:
        return ""
    try:
        calc.check_currency(value)
    except DomainError as exc:
        raise validation(exc.message, field=field_name) from None
    return value


def _parse(data: dict[str, Any], parsers: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """Clean the keys of ``data`` with their parser; an unknown key is refused."""
    if not isinstance(data, dict):
        raise validation("Send the fields as an object.")
    unknown = sorted(set(data) - set(parsers))
    if unknown:
        raise validation(f"Unknown or read-only field: {unknown[0]}.", field=unknown[0])
    return {name: parsers[name](value) for name, value in data.items()}


def _related(actor: Actor, model, pk, field_name: str, what: str, **conditions):
    """A row of the actor's organization chosen in the input; VALIDATION on ``field_name`` otherwise."""
    if pk in (None, ""):
        return None
    row = (
        model.objects.filter(organization_id=actor.organization_id, pk=as_id(pk), **conditions).first()
        if as_id(pk) is not None
        else None
    )
    if row is None:
        raise validation(f"Unknown {what} (id {pk}).", field=field_name)
    return row


def _related_many(actor: Actor, model, pks, field_name: str, what: str) -> list:
    if pks in (None, ""):
        return []
    if not isinstance(pks, list | tuple | set):
        raise validation(f"Send the {what} as a list of ids.", field=field_name)
    ids = []
    for pk in pks:
        if as_id(pk) is None:
            raise validation(f"Unknown {what} (id {pk}).", field=field_name)
        ids.append(as_id(pk))
    rows = list(model.objects.filter(organization_id=actor.organization_id, pk__in=ids))
    found = {row.pk for row in rows}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise validation(f"Unknown {what} (id {missing[0]}).", field=field_name)
    return rows


def _locked(actor: Actor, model, pk, what: str):
    """The row of the actor's organization, locked FOR UPDATE; NOT_FOUND otherwise."""
    row = (
        model.objects.select_for_update().filter(organization_id=actor.organization_id, pk=as_id(pk)).first()
        if as_id(pk) is not None
        else None
    )
    if row is None:
        raise not_found(what)
    return row


def _assign(row, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        attname = row._meta.get_field(name).attname if not name.endswith("_id") else name
        if getattr(row, attname) != value:
            setattr(row, attname, value)
            changed = True
    return changed


def _audit(actor: Actor, row, action: str, before: dict | None, after: dict | None = None) -> None:
    change_record_write(actor=actor, instance=row, action=action, before=before, after=after)


def _conflict(message: str, field_name: str | None = None) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, message, field=field_name)


def _unique(fn, message: str, field_name: str):
    try:
        with transaction.atomic():
            return fn()
    except IntegrityError:
        raise validation(message, field=field_name) from None


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


# ---------------------------------------------------------------------------------------------
# billing settings: the seller and the pricing defaults


SETTINGS_PARSERS: dict[str, Callable[[Any], Any]] = {
    # seller identity and address (EN 16931 BG-4, BG-5)
    "legal_name": lambda v: _text(v, "legal_name", max_length=200),
    "street": lambda v: _text(v, "street", max_length=200),
    "address_line_2": lambda v: _text(v, "address_line_2", max_length=200),
    "postcode": lambda v: _text(v, "postcode", max_length=20),
    "city": lambda v: _text(v, "city", max_length=100),
    "country": lambda v: _country(v),
    "vat_id": lambda v: _vat_id(v),
    "tax_number": lambda v: _text(v, "tax_number", max_length=32),
    "registration_id": lambda v: _text(v, "registration_id", max_length=64),
    "email": lambda v: _email(v, "email"),
    "phone": lambda v: _text(v, "phone", max_length=50),
    # bank and payment terms (BG-16, BG-17)
    "bank_name": lambda v: _text(v, "bank_name", max_length=100),
    "iban": _iban,
    "bic": _bic,
    "payment_terms_days": lambda v: _int(v, "payment_terms_days", minimum=0, maximum=365),
    "payment_terms_note": lambda v: _text(v, "payment_terms_note", max_length=300),
    # numbering
    "invoice_series": lambda v: _series(v, "invoice_series"),
    "credit_note_series": lambda v: _series(v, "credit_note_series"),
    "quote_prefix": lambda v: _series(v, "quote_prefix"),
    # pricing defaults
    "default_tax_rate_id": lambda v: v,
    "labour_minimum_minutes": lambda v: _int(v, "labour_minimum_minutes", minimum=0, maximum=480),
    "labour_increment_minutes": lambda v: _int(v, "labour_increment_minutes", minimum=1, maximum=240),
    "parts_markup_percent": lambda v: _decimal(v, "parts_markup_percent", places=2, maximum=Decimal(1000)),
    "call_out_fee": lambda v: _decimal(v, "call_out_fee", places=4),
    "overtime_calendar_id": lambda v: v,
    "overtime_multiplier": lambda v: _decimal(
        v, "overtime_multiplier", places=2, minimum=Decimal(1), maximum=Decimal(10)
    ),
    # follow-up
    "leakage_days": lambda v: _int(v, "leakage_days", minimum=1, maximum=365),
    "quote_validity_days": lambda v: _int(v, "quote_validity_days", minimum=1, maximum=365),
}
SETTINGS_FIELDS = tuple(SETTINGS_PARSERS)


def _check_logo(upload) -> tuple[bytes, str]:
    """The bytes and file extension of a valid logo upload (PNG or JPEG, at most 1 MB and 4000 px)."""
    from fixflow.service.attachments import sniff

    name = PurePath(getattr(upload, "name", "") or "logo").name
    size = getattr(upload, "size", None)
    if size is None:
        raise validation("Upload the logo as a file.", field="logo")
    if size > LOGO_MAX_BYTES:
        raise DomainError(
            ErrorCode.UPLOAD_TOO_LARGE,
            f"{name} is {size / 1048576:.1f} MB; a logo may be at most {LOGO_MAX_BYTES // 1048576} MB.",
            field="logo",
        )
    if size == 0:
        raise validation(f"{name} is empty.", field="logo")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        content_type = sniff(data[:8192], name)
    except DomainError:
        content_type = ""
    if content_type not in LOGO_TYPES:
        raise DomainError(
            ErrorCode.UNSUPPORTED_FILE_TYPE, f"{name}: upload the logo as a PNG or JPEG image.", field="logo"
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise DomainError(ErrorCode.UNSUPPORTED_FILE_TYPE, f"{name} is not a readable image.", field="logo") from None
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise validation(
            f"{name} is {width} × {height} pixels; a logo may be at most {LOGO_MAX_PIXELS} pixels wide and high.",
            field="logo",
        )
    return data, LOGO_TYPES[content_type]


@transaction.atomic
def billing_settings_update(
    *,
    actor: Actor,
    data: dict[str, Any],
    expected_version: int | None = None,
    logo=None,
    remove_logo: bool = False,
) -> BillingSettings:
    """Change the organization's seller details and billing defaults (``data`` holds only the fields to
    change; relations as ``default_tax_rate_id`` and ``overtime_calendar_id``). ``logo`` is an uploaded
    file (PNG or JPEG, at most 1 MB and 4000 px); ``remove_logo`` drops the current one. Old logo files are
    kept: issued invoices name theirs in the seller snapshot.

    Locks the settings row. Raises VALIDATION (bad input: the IBAN's check digits, a VAT id without
    country, an inactive default tax rate…), UPLOAD_TOO_LARGE / UNSUPPORTED_FILE_TYPE (logo),
    STALE_VERSION, PERMISSION_DENIED. Writes a ChangeRecord.
    """
    require(actor, CONFIGURE)
    settings_for(actor.organization)
    row = BillingSettings.objects.select_for_update().get(organization_id=actor.organization_id)
    check_version(row, expected_version)
    before = snapshot(row)
    values = _parse(data, SETTINGS_PARSERS)
    if "default_tax_rate_id" in values:
        rate = _related(actor, TaxRate, values["default_tax_rate_id"], "default_tax_rate", "tax rate")
        if rate is not None and not rate.is_active and rate.pk != row.default_tax_rate_id:
            raise validation(f"The tax rate {rate.name} is inactive: activate it first.", field="default_tax_rate")
        values["default_tax_rate_id"] = rate.pk if rate else None
    if "overtime_calendar_id" in values:
        from fixflow.sla.models import BusinessCalendar

        cal = _related(actor, BusinessCalendar, values["overtime_calendar_id"], "overtime_calendar", "calendar")
        values["overtime_calendar_id"] = cal.pk if cal else None
    changed = _assign(row, values)
    if logo is not None:
        content, ext = _check_logo(logo)
        row.logo.save(f"{actor.organization_id}-{secrets.token_hex(8)}{ext}", ContentFile(content), save=False)
        changed = True
    elif remove_logo and row.logo:
        row.logo = ""
        changed = True
    if not changed:
        return row
    row.version += 1
    row.save()
    _audit(actor, row, "update", before, snapshot(row))
    return row


# ---------------------------------------------------------------------------------------------
# tax rates


TAX_RATE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: _text(v, "name", max_length=100, required=True),
    "category": lambda v: _choice(v, "category", VatCategory),
    "rate": lambda v: _decimal(v, "rate", places=2, maximum=HUNDRED),
    "exemption_reason": lambda v: _text(v, "exemption_reason", max_length=300),
    "exemption_code": lambda v: _text(v, "exemption_code", max_length=30).upper(),
    "is_active": lambda v: _bool(v, "is_active"),
}


def check_tax_rate(category: str, rate: Decimal, exemption_reason: str, exemption_code: str) -> None:
    """Refuse a tax rate that EN 16931 would reject on every invoice line made from it: S above 0 %
    (BR-S-05); Z, E, AE, K, G and O at 0 % (BR-Z-05 …); S and Z without an exemption (BR-S-10, BR-Z-10);
    E, AE, K, G and O with an exemption reason or a VATEX code (BR-E-10 …), the code the one of its
    category (VATEX-EU-AE, -IC, -G, -O)."""
    name = VatCategory(category).label
    if category == VatCategory.STANDARD and rate <= ZERO:
        raise validation("A standard rate is above 0 %; for 0 % choose zero rated (Z) or an exemption.", field="rate")
    if category != VatCategory.STANDARD and rate != ZERO:
        raise validation(f"{name} (category {category}) has a rate of 0 %.", field="rate")
    if category in (VatCategory.STANDARD, VatCategory.ZERO):
        if exemption_reason:
            raise validation(f"{name} has no exemption reason; leave it empty.", field="exemption_reason")
        if exemption_code:
            raise validation(f"{name} has no exemption code; leave it empty.", field="exemption_code")
        return
    if category in ZERO_RATE_CATEGORIES and not (exemption_reason or exemption_code):
        raise validation(
            f"{name} needs the exemption reason printed on the invoice (e.g. the legal basis) or a VATEX code.",
            field="exemption_reason",
        )
    if exemption_code:
        if not VATEX_PATTERN.match(exemption_code):
            raise validation(
                f"{exemption_code} is not a VATEX code (e.g. VATEX-EU-132, VATEX-EU-AE).", field="exemption_code"
            )
        expected = VATEX_FOR_CATEGORY.get(category)
        if expected and exemption_code != expected:
            raise validation(f"{name} uses the code {expected}.", field="exemption_code")
        if category == VatCategory.EXEMPT and exemption_code in VATEX_FOR_CATEGORY.values():
            raise validation(
                f"{exemption_code} is the code of another category; an exemption uses e.g. VATEX-EU-132.",
                field="exemption_code",
            )


@dataclass(frozen=True)
class TaxRateUsage:
    """Where a tax rate is in use: lines copied from it (matched by category and rate), the clients
    billed at it, and whether it is the organization's default."""

    lines: int
    clients: int
    is_default: bool

    @property
    def on_documents(self) -> bool:
        return self.lines > 0


def tax_rate_usage(tax_rate: TaxRate) -> TaxRateUsage:
    same = {"organization_id": tax_rate.organization_id, "tax_category": tax_rate.category}
    rate = tax_rate.rate
    lines = InvoiceLine.objects.filter(**same, tax_rate=rate).count() + (
        QuoteLine.objects.filter(**same, tax_rate=rate).count()
    )
    clients = ClientBilling.objects.filter(tax_rate=tax_rate).count()
    is_default = BillingSettings.objects.filter(organization_id=tax_rate.organization_id, default_tax_rate=tax_rate)
    return TaxRateUsage(lines, clients, is_default.exists())


def _tax_rate_values(row: TaxRate, values: dict[str, Any]) -> None:
    check_tax_rate(
        values.get("category", row.category),
        values.get("rate", row.rate),
        values.get("exemption_reason", row.exemption_reason),
        values.get("exemption_code", row.exemption_code),
    )
    name = values.get("name", row.name)
    clash = TaxRate.objects.filter(organization_id=row.organization_id, name__iexact=name).exclude(pk=row.pk)
    if clash.exists():
        raise validation(f"There is already a tax rate named {name}.", field="name")


@transaction.atomic
def tax_rate_create(*, actor: Actor, data: dict[str, Any]) -> TaxRate:
    """Add a tax rate (``name``, ``category``, ``rate``, ``exemption_reason``, ``exemption_code``,
    ``is_active``). VALIDATION per category (see :func:`check_tax_rate`); a name used twice is refused."""
    require(actor, CONFIGURE)
    values = _parse(data, TAX_RATE_PARSERS)
    for required in ("name", "rate"):
        if required not in values:
            raise validation(f"Enter the {required}.", field=required)
    values.setdefault("category", VatCategory.STANDARD)
    row = TaxRate(organization_id=actor.organization_id)
    _tax_rate_values(row, values)
    _assign(row, values)
    _unique(row.save, f"There is already a tax rate named {row.name}.", "name")
    _audit(actor, row, "create", None, snapshot(row))
    return row


@transaction.atomic
def tax_rate_update(*, actor: Actor, tax_rate_id, data: dict[str, Any], expected_version: int | None = None) -> TaxRate:
    """Change a tax rate. A rate whose category and rate are on invoice or quote lines keeps them (make a
    new tax rate and deactivate this one: CONFLICT). The default tax rate and a rate clients are billed at
    cannot be deactivated (CONFLICT). Locks the row; STALE_VERSION on a stale ``expected_version``."""
    require(actor, CONFIGURE)
    row = _locked(actor, TaxRate, tax_rate_id, "Tax rate")
    check_version(row, expected_version)
    values = _parse(data, TAX_RATE_PARSERS)
    _tax_rate_values(row, values)
    before = snapshot(row)
    moving = {k for k in ("category", "rate") if k in values and values[k] != getattr(row, k)}
    if moving or values.get("is_active") is False and row.is_active:
        usage = tax_rate_usage(row)
        if moving and usage.on_documents:
            raise _conflict(
                f"{row.name} is on {_plural(usage.lines, 'invoice or quote line', 'invoice or quote lines')}: "
                "keep its category and rate, add a new tax rate for the new one and deactivate this one.",
                sorted(moving)[0],
            )
        if values.get("is_active") is False and row.is_active:
            _refuse_when_assigned(row, usage, "deactivated")
    if not _assign(row, values):
        return row
    row.version += 1
    _unique(row.save, f"There is already a tax rate named {row.name}.", "name")
    _audit(actor, row, "update", before, snapshot(row))
    return row


def _refuse_when_assigned(row: TaxRate, usage: TaxRateUsage, verb: str) -> None:
    if usage.is_default:
        raise _conflict(
            f"{row.name} is the default tax rate and cannot be {verb}: choose another default in the billing "
            "settings first.",
            "is_active",
        )
    if usage.clients:
        raise _conflict(
            f"{_plural(usage.clients, 'client is', 'clients are')} billed at {row.name}, so it cannot be {verb}: "
            "choose another tax rate on their billing details first.",
            "is_active",
        )


@transaction.atomic
def tax_rate_delete(*, actor: Actor, tax_rate_id) -> None:
    """Delete a tax rate nothing uses. One on invoice or quote lines, the default, or one clients are
    billed at is refused with CONFLICT (deactivate it instead)."""
    require(actor, CONFIGURE)
    row = _locked(actor, TaxRate, tax_rate_id, "Tax rate")
    usage = tax_rate_usage(row)
    if usage.on_documents:
        raise _conflict(
            f"{row.name} is on {_plural(usage.lines, 'invoice or quote line', 'invoice or quote lines')} and "
            "stays for the record: deactivate it instead."
        )
    _refuse_when_assigned(row, usage, "deleted")
    before = snapshot(row)
    pk = row.pk
    row.delete()
    row.pk = pk
    _audit(actor, row, "delete", before)


# ---------------------------------------------------------------------------------------------
# rate classes and the technicians billed at them


@transaction.atomic
def rate_class_create(*, actor: Actor, data: dict[str, Any]) -> RateClass:
    """Add a technician rate class (``name``), e.g. "Senior engineer"."""
    require(actor, CONFIGURE)
    values = _parse(data, {"name": lambda v: _text(v, "name", max_length=100, required=True)})
    if "name" not in values:
        raise validation("Enter the name.", field="name")
    row = RateClass(organization_id=actor.organization_id, name=values["name"])
    _check_rate_class_name(row)
    _unique(row.save, f"There is already a rate class named {row.name}.", "name")
    _audit(actor, row, "create", None, snapshot(row))
    return row


def _check_rate_class_name(row: RateClass) -> None:
    clash = RateClass.objects.filter(organization_id=row.organization_id, name__iexact=row.name).exclude(pk=row.pk)
    if clash.exists():
        raise validation(f"There is already a rate class named {row.name}.", field="name")


@transaction.atomic
def rate_class_update(
    *, actor: Actor, rate_class_id, data: dict[str, Any], expected_version: int | None = None
) -> RateClass:
    """Rename a rate class. Locks the row; STALE_VERSION on a stale ``expected_version``."""
    require(actor, CONFIGURE)
    row = _locked(actor, RateClass, rate_class_id, "Rate class")
    check_version(row, expected_version)
    values = _parse(data, {"name": lambda v: _text(v, "name", max_length=100, required=True)})
    before = snapshot(row)
    if not _assign(row, values):
        return row
    _check_rate_class_name(row)
    row.version += 1
    _unique(row.save, f"There is already a rate class named {row.name}.", "name")
    _audit(actor, row, "update", before, snapshot(row))
    return row


@transaction.atomic
def rate_class_delete(*, actor: Actor, rate_class_id) -> None:
    """Delete a rate class and its rates. Refused (CONFLICT) while technicians are billed at it."""
    require(actor, CONFIGURE)
    row = _locked(actor, RateClass, rate_class_id, "Rate class")
    assigned = TechnicianRateClass.objects.filter(rate_class=row).count()
    if assigned:
        raise _conflict(
            f"{_plural(assigned, 'technician bills', 'technicians bill')} at {row.name}: move them to another "
            "rate class first."
        )
    before = snapshot(row)
    pk = row.pk
    row.delete()
    row.pk = pk
    _audit(actor, row, "delete", before)


def _field_member(actor: Actor, user_id) -> Membership:
    member = (
        Membership.objects.select_related("user")
        .filter(organization_id=actor.organization_id, user_id=as_id(user_id), role__in=FIELD_ROLES)
        .first()
        if as_id(user_id) is not None
        else None
    )
    if member is None:
        raise not_found("Technician")
    return member


@transaction.atomic
def technician_rate_class_set(*, actor: Actor, user_id, rate_class_id) -> TechnicianRateClass | None:
    """Bill a technician (a member who records work: admin, dispatcher or technician) at a rate class, or
    at none (``rate_class_id`` None: the organization's default rates). NOT_FOUND for someone who is no
    such member; VALIDATION for an unknown rate class. Writes a ChangeRecord when it changed."""
    require(actor, CONFIGURE)
    member = _field_member(actor, user_id)
    rate_class = _related(actor, RateClass, rate_class_id, "rate_class", "rate class")
    current = (
        TechnicianRateClass.objects.select_for_update()
        .filter(organization_id=actor.organization_id, user_id=member.user_id)
        .first()
    )
    before = {"user": member.user.email, "rate_class": current.rate_class_id} if current else None
    if rate_class is None:
        if current is not None:
            pk = current.pk
            current.delete()
            current.pk = pk
            _audit(actor, current, "delete", before)
        return None
    if current is None:
        current = TechnicianRateClass.objects.create(
            organization_id=actor.organization_id, user_id=member.user_id, rate_class=rate_class
        )
        _audit(actor, current, "create", None, {"user": member.user.email, "rate_class": rate_class.pk})
    elif current.rate_class_id != rate_class.pk:
        current.rate_class = rate_class
        current.save(update_fields=["rate_class"])
        _audit(actor, current, "update", before, {"user": member.user.email, "rate_class": rate_class.pk})
    return current


# ---------------------------------------------------------------------------------------------
# hourly rates: the organization's (no price list) or a price list's, for a rate class or any


RATE_PRICE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "unit_price": lambda v: _decimal(v, "unit_price", places=4),
    "unit_cost": lambda v: _decimal(v, "unit_cost", places=4),
}


def _rate_where(price_list: PriceList | None, rate_class: RateClass | None) -> str:
    where = f"on {price_list.name}" if price_list else "of the organization"
    return f"{where} for {rate_class.name}" if rate_class else where


@transaction.atomic
def rate_create(*, actor: Actor, data: dict[str, Any]) -> Rate:
    """Add an hourly rate: ``kind`` (labour or travel), ``unit_price`` and ``unit_cost`` per hour, on a
    price list (``price_list_id``; none: the organization's default) for a rate class (``rate_class_id``;
    none: any technician). One rate per place and kind (VALIDATION otherwise)."""
    require(actor, CONFIGURE)
    parsers = {
        **RATE_PRICE_PARSERS,
        "kind": lambda v: _choice(v, "kind", RateKind),
        "price_list_id": lambda v: v,
        "rate_class_id": lambda v: v,
    }
    values = _parse(data, parsers)
    price_list = _related(actor, PriceList, values.pop("price_list_id", None), "price_list", "price list")
    rate_class = _related(actor, RateClass, values.pop("rate_class_id", None), "rate_class", "rate class")
    values.setdefault("kind", RateKind.LABOUR)
    values.setdefault("unit_cost", ZERO)
    if "unit_price" not in values:
        raise validation("Enter the price per hour.", field="unit_price")
    return _rate_put(actor, price_list, rate_class, values["kind"], values["unit_price"], values["unit_cost"])


def _rate_put(actor, price_list, rate_class, kind, unit_price, unit_cost, *, replace: bool = False) -> Rate:
    existing = (
        Rate.objects.select_for_update()
        .filter(organization_id=actor.organization_id, price_list=price_list, rate_class=rate_class, kind=kind)
        .first()
    )
    label = RateKind(kind).label.lower()
    if existing is not None and not replace:
        raise validation(
            f"There is already a {label} rate {_rate_where(price_list, rate_class)}; change that one.", field="kind"
        )
    if existing is not None:
        before = snapshot(existing)
        if existing.unit_price == unit_price and existing.unit_cost == unit_cost:
            return existing
        existing.unit_price, existing.unit_cost = unit_price, unit_cost
        existing.save(update_fields=["unit_price", "unit_cost"])
        _audit(actor, existing, "update", before, snapshot(existing))
        return existing
    row = Rate(
        organization_id=actor.organization_id,
        price_list=price_list,
        rate_class=rate_class,
        kind=kind,
        unit_price=unit_price,
        unit_cost=unit_cost,
    )
    _unique(row.save, f"There is already a {label} rate {_rate_where(price_list, rate_class)}.", "kind")
    _audit(actor, row, "create", None, snapshot(row))
    return row


@transaction.atomic
def rate_update(*, actor: Actor, rate_id, data: dict[str, Any]) -> Rate:
    """Change the price or cost per hour of a rate (where it applies stays: delete and add to move it)."""
    require(actor, CONFIGURE)
    row = _locked(actor, Rate, rate_id, "Rate")
    values = _parse(data, RATE_PRICE_PARSERS)
    before = snapshot(row)
    if _assign(row, values):
        row.save(update_fields=list(values))
        _audit(actor, row, "update", before, snapshot(row))
    return row


@transaction.atomic
def rate_delete(*, actor: Actor, rate_id) -> None:
    """Delete a rate; the next place in the resolution order (DOMAIN.md §4 rule 2) prices that work then."""
    require(actor, CONFIGURE)
    row = _locked(actor, Rate, rate_id, "Rate")
    before = snapshot(row)
    pk = row.pk
    row.delete()
    row.pk = pk
    _audit(actor, row, "delete", before)


@dataclass(frozen=True)
class RateRow:
    """One cell of a rate table as the rates page posts it: a price of ``None`` removes the rate."""

    rate_class_id: int | None
    kind: str
    unit_price: Any
    unit_cost: Any = None


@transaction.atomic
def rates_replace(*, actor: Actor, price_list_id=None, rows: Iterable[RateRow]) -> list[Rate]:
    """Set the whole rate table of a price list (or the organization's, ``price_list_id`` None): each row
    sets one rate, a row without a price removes it; rates not named stay. VALIDATION names the field
    ``<kind>-<rate class id or "default">-unit_price`` of the first bad row; nothing is written then."""
    require(actor, CONFIGURE)
    price_list = _locked(actor, PriceList, price_list_id, "Price list") if price_list_id is not None else None
    classes = {c.pk: c for c in RateClass.objects.filter(organization_id=actor.organization_id)}
    plan = []
    for row in rows:
        key = f"{row.kind}-{row.rate_class_id or 'default'}"
        if row.kind not in RateKind.values:
            raise validation(f"Unknown kind of rate {row.kind!r}.", field=f"{key}-unit_price")
        if row.rate_class_id is not None and as_id(row.rate_class_id) not in classes:
            raise validation(f"Unknown rate class (id {row.rate_class_id}).", field=f"{key}-unit_price")
        try:
            price = _decimal(row.unit_price, "unit_price", places=4, optional=True)
            cost = _decimal(row.unit_cost, "unit_cost", places=4, optional=True)
        except DomainError as exc:
            raise validation(exc.message, field=f"{key}-{exc.field}") from None
        if price is None and cost is not None and cost != ZERO:
            raise validation("Enter the price per hour too, or clear the cost.", field=f"{key}-unit_price")
        plan.append((classes.get(as_id(row.rate_class_id)) if row.rate_class_id else None, row.kind, price, cost))
    out = []
    for rate_class, kind, price, cost in plan:
        if price is None:
            existing = Rate.objects.filter(
                organization_id=actor.organization_id, price_list=price_list, rate_class=rate_class, kind=kind
            ).first()
            if existing is not None:
                before = snapshot(existing)
                pk = existing.pk
                existing.delete()
                existing.pk = pk
                _audit(actor, existing, "delete", before)
            continue
        out.append(_rate_put(actor, price_list, rate_class, kind, price, cost or ZERO, replace=True))
    return out


# ---------------------------------------------------------------------------------------------
# price lists and their part prices


PRICE_LIST_PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: _text(v, "name", max_length=100, required=True),
    "currency": lambda v: _currency(v, optional=True),
    "parts_markup_percent": lambda v: _decimal(
        v, "parts_markup_percent", places=2, maximum=Decimal(1000), optional=True
    ),
    "call_out_fee": lambda v: _decimal(v, "call_out_fee", places=4, optional=True),
    "is_active": lambda v: _bool(v, "is_active"),
}


def effective_currency(organization, billing: ClientBilling | None) -> str:
    """The currency a client is invoiced in, as pricing decides it: the client's, else its price list's,
    else the organization's."""
    if billing is not None and billing.currency:
        return billing.currency
    if billing is not None and billing.price_list_id:
        return billing.price_list.currency
    return organization.currency


def _price_list_users(price_list: PriceList) -> tuple[list[ClientBilling], list[ServiceContract]]:
    clients = list(ClientBilling.objects.filter(price_list=price_list).select_related("client", "price_list"))
    contracts = list(ServiceContract.objects.filter(price_list=price_list, is_active=True).select_related("client"))
    return clients, contracts


def _check_price_list_name(row: PriceList) -> None:
    clash = PriceList.objects.filter(organization_id=row.organization_id, name__iexact=row.name).exclude(pk=row.pk)
    if clash.exists():
        raise validation(f"There is already a price list named {row.name}.", field="name")


@transaction.atomic
def price_list_create(*, actor: Actor, data: dict[str, Any]) -> PriceList:
    """Add a price list: ``name``, ``currency`` (ISO 4217 with at most 2 decimals, default the
    organization's), ``parts_markup_percent`` and ``call_out_fee`` (empty: the organization's), ``is_active``."""
    require(actor, CONFIGURE)
    values = _parse(data, PRICE_LIST_PARSERS)
    if "name" not in values:
        raise validation("Enter the name.", field="name")
    if not values.get("currency"):
        values["currency"] = _currency(actor.organization.currency)
    row = PriceList(organization_id=actor.organization_id)
    _assign(row, values)
    _check_price_list_name(row)
    _unique(row.save, f"There is already a price list named {row.name}.", "name")
    _audit(actor, row, "create", None, snapshot(row))
    return row


@transaction.atomic
def price_list_update(
    *, actor: Actor, price_list_id, data: dict[str, Any], expected_version: int | None = None
) -> PriceList:
    """Change a price list. Its currency cannot move away from the currency its clients are invoiced in,
    and it cannot be deactivated while clients or active contracts use it (CONFLICT: it would still price
    their work). Locks the row; STALE_VERSION on a stale ``expected_version``."""
    require(actor, CONFIGURE)
    row = _locked(actor, PriceList, price_list_id, "Price list")
    check_version(row, expected_version)
    values = _parse(data, PRICE_LIST_PARSERS)
    if "currency" in values and not values["currency"]:
        raise validation("Enter the currency.", field="currency")
    before = snapshot(row)
    currency_moves = "currency" in values and values["currency"] != row.currency
    deactivating = values.get("is_active") is False and row.is_active
    if currency_moves or deactivating:
        clients, contracts = _price_list_users(row)
        if deactivating and (clients or contracts):
            raise _conflict(
                f"{row.name} is used by {_users_text(clients, contracts)}: choose another price list for them "
                "before deactivating it.",
                "is_active",
            )
        if currency_moves:
            pinned = [cb.client.name for cb in clients if cb.currency and cb.currency != values["currency"]]
            pinned += [c.client.name for c in contracts if _client_currency(actor, c.client_id) != values["currency"]]
            if pinned:
                raise validation(
                    f"{pinned[0]} is invoiced in another currency and uses this price list; a price list applies "
                    "only in its own currency.",
                    field="currency",
                )
    if not _assign(row, values):
        return row
    _check_price_list_name(row)
    row.version += 1
    _unique(row.save, f"There is already a price list named {row.name}.", "name")
    _audit(actor, row, "update", before, snapshot(row))
    return row


def _users_text(clients: list, contracts: list) -> str:
    parts = []
    if clients:
        parts.append(_plural(len(clients), "client", "clients"))
    if contracts:
        parts.append(_plural(len(contracts), "active contract", "active contracts"))
    return " and ".join(parts)


@transaction.atomic
def price_list_delete(*, actor: Actor, price_list_id) -> None:
    """Delete a price list with its rates and part prices. Refused (CONFLICT) while clients or active
    contracts use it."""
    require(actor, CONFIGURE)
    row = _locked(actor, PriceList, price_list_id, "Price list")
    clients, contracts = _price_list_users(row)
    if clients or contracts:
        raise _conflict(
            f"{row.name} is used by {_users_text(clients, contracts)}: choose another price list for them first."
        )
    before = snapshot(row)
    pk = row.pk
    row.delete()
    row.pk = pk
    _audit(actor, row, "delete", before)


def _part(actor: Actor, part_id):
    from fixflow.inventory.models import Part

    return _related(actor, Part, part_id, "part", "part")


@transaction.atomic
def price_list_item_set(*, actor: Actor, price_list_id, part_id, unit_price) -> PriceListItem:
    """Set a part's price on a price list (added, or changed when it has one). NOT_FOUND for a price list
    of another organization; VALIDATION for an unknown part or a bad price."""
    require(actor, CONFIGURE)
    price_list = _locked(actor, PriceList, price_list_id, "Price list")
    part = _part(actor, part_id)
    if part is None:
        raise validation("Choose the part.", field="part")
    price = _decimal(unit_price, "unit_price", places=4)
    return _item_put(actor, price_list, part, price)


def _item_put(actor: Actor, price_list: PriceList, part, price: Decimal) -> PriceListItem:
    item = PriceListItem.objects.filter(price_list=price_list, part=part).first()
    if item is None:
        item = PriceListItem.objects.create(
            organization_id=actor.organization_id, price_list=price_list, part=part, unit_price=price
        )
        _audit(actor, item, "create", None, snapshot(item))
    elif item.unit_price != price:
        before = snapshot(item)
        item.unit_price = price
        item.save(update_fields=["unit_price"])
        _audit(actor, item, "update", before, snapshot(item))
    return item


@transaction.atomic
def price_list_item_update(*, actor: Actor, item_id, unit_price) -> PriceListItem:
    """Change the price of a part on a price list."""
    require(actor, CONFIGURE)
    item = _locked(actor, PriceListItem, item_id, "Part price")
    price = _decimal(unit_price, "unit_price", places=4)
    return _item_put(actor, item.price_list, item.part, price)


@transaction.atomic
def price_list_item_delete(*, actor: Actor, item_id) -> None:
    """Remove a part's price from a price list (the part is then priced from the catalogue)."""
    require(actor, CONFIGURE)
    item = _locked(actor, PriceListItem, item_id, "Part price")
    before = snapshot(item)
    pk = item.pk
    item.delete()
    item.pk = pk
    _audit(actor, item, "delete", before)


@dataclass
class ImportResult:
    """What a pasted list of part prices did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


IMPORT_MAX_LINES = 5000
_IMPORT_SPLIT = re.compile(r"\s*[;\t]\s*")


def _import_price(raw: str) -> Decimal:
    """``12.50``, ``12,50``, ``1.234,50``, ``1,234.50`` or ``EUR 12.50`` as a Decimal."""
    text = re.sub(r"[^\d,.\-]", "", raw)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    else:
        text = text.replace(",", ".")
    return Decimal(text)


@transaction.atomic
def price_list_items_import(*, actor: Actor, price_list_id, text: str) -> ImportResult:
    """Set part prices from pasted lines ``SKU;price`` (or SKU, tab, price, as copied from a spreadsheet;
    a header line and empty lines are skipped). All or nothing: if a line has an unknown SKU or a bad
    price, nothing is written and VALIDATION on ``lines`` names the first lines at fault."""
    from fixflow.inventory.models import Part

    require(actor, CONFIGURE)
    price_list = _locked(actor, PriceList, price_list_id, "Price list")
    if not isinstance(text, str) or not text.strip():
        raise validation("Paste one part per line: SKU;price.", field="lines")
    lines = text.strip().splitlines()
    if len(lines) > IMPORT_MAX_LINES:
        raise validation(f"Paste at most {IMPORT_MAX_LINES} lines at once.", field="lines")
    parsed: list[tuple[int, str, Decimal]] = []
    errors: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cells = [c.strip() for c in _IMPORT_SPLIT.split(line.strip())]
        if len(cells) < 2 or not cells[0]:
            errors.append(f"line {number}: write SKU;price")
            continue
        sku, raw = cells[0], cells[1]
        try:
            price = _import_price(raw)
            if not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.0001")):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            if number == 1:  # a header line ("SKU;Price")
                continue
            errors.append(f"line {number}: {raw or 'the price'} is not a price")
            continue
        parsed.append((number, sku, price))
    skus = {sku for _n, sku, _p in parsed}
    parts = {p.sku: p for p in Part.objects.filter(organization_id=actor.organization_id, sku__in=skus)}
    errors += [f"line {n}: no part with the SKU {sku}" for n, sku, _p in parsed if sku not in parts]
    if errors:
        errors.sort(key=lambda e: int(e.split(":")[0].split()[1]))
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise validation(f"Nothing imported — {shown}.", field="lines")
    if not parsed:
        raise validation("Paste one part per line: SKU;price.", field="lines")
    result = ImportResult()
    current = dict(PriceListItem.objects.filter(price_list=price_list).values_list("part_id", "unit_price"))
    for _number, sku, price in parsed:
        part = parts[sku]
        if part.pk not in current:
            result.created += 1
        elif current[part.pk] != price:
            result.updated += 1
        else:
            result.unchanged += 1
        _item_put(actor, price_list, part, price)
        current[part.pk] = price
    return result


# ---------------------------------------------------------------------------------------------
# clients' billing details


CLIENT_BILLING_PARSERS: dict[str, Callable[[Any], Any]] = {
    "legal_name": lambda v: _text(v, "legal_name", max_length=200),
    "street": lambda v: _text(v, "street", max_length=200),
    "address_line_2": lambda v: _text(v, "address_line_2", max_length=200),
    "postcode": lambda v: _text(v, "postcode", max_length=20),
    "city": lambda v: _text(v, "city", max_length=100),
    "country": lambda v: _country(v),
    "vat_id": lambda v: _vat_id(v),
    "buyer_reference": lambda v: _text(v, "buyer_reference", max_length=100),
    "endpoint_scheme": lambda v: _text(v, "endpoint_scheme", max_length=10).upper(),
    "endpoint_id": lambda v: _text(v, "endpoint_id", max_length=100),
    "invoice_email": lambda v: _email(v, "invoice_email"),
    "currency": lambda v: _currency(v, optional=True),
    "price_list_id": lambda v: v,
    "tax_rate_id": lambda v: v,
    "payment_terms_days": lambda v: _int(v, "payment_terms_days", minimum=0, maximum=365, optional=True),
}


def _client_currency(actor: Actor, client_id: int) -> str:
    billing = ClientBilling.objects.filter(client_id=client_id).select_related("price_list").first()
    return effective_currency(actor.organization, billing)


@transaction.atomic
def client_billing_update(
    *, actor: Actor, client_id, data: dict[str, Any], expected_version: int | None = None
) -> ClientBilling:
    """Set a client's billing details (the buyer, BG-7): structured address, ``vat_id`` (kept on the client,
    the one place it lives), buyer reference, e-invoice endpoint (scheme and id together), invoice e-mail,
    currency, price list, tax rate, payment terms. ``data`` holds only the fields to change.

    The version is the client's: its ``version`` goes up with every change here, and a stale
    ``expected_version`` is STALE_VERSION. A price list must be in the client's currency (else it would not
    apply); a reverse-charge or intra-community tax rate needs the client's VAT id. Locks the client row.
    NOT_FOUND for a client of another organization.
    """
    from fixflow.customers.models import Client

    require(actor, CONFIGURE)
    client = _locked(actor, Client, client_id, "Client")
    check_version(client, expected_version)
    values = _parse(data, CLIENT_BILLING_PARSERS)
    billing = ClientBilling.objects.select_for_update().filter(client=client).first()
    if billing is None:
        billing = ClientBilling(organization_id=actor.organization_id, client=client)
    before = {**snapshot(billing), "vat_id": client.vat_id} if billing.pk else None
    objects = {}
    if "price_list_id" in values:
        pl = _related(actor, PriceList, values["price_list_id"], "price_list", "price list")
        if pl is not None and not pl.is_active and pl.pk != billing.price_list_id:
            raise validation(f"The price list {pl.name} is inactive.", field="price_list")
        values["price_list_id"] = pl.pk if pl else None
        objects["price_list"] = pl
    if "tax_rate_id" in values:
        rate = _related(actor, TaxRate, values["tax_rate_id"], "tax_rate", "tax rate")
        if rate is not None and not rate.is_active and rate.pk != billing.tax_rate_id:
            raise validation(f"The tax rate {rate.name} is inactive.", field="tax_rate")
        values["tax_rate_id"] = rate.pk if rate else None
        objects["tax_rate"] = rate
    vat_id = values.pop("vat_id", client.vat_id)
    changed = _assign(billing, values)
    for name, row in objects.items():
        setattr(billing, name, row)
    # the whole record must hold together, whichever fields this call changed
    if bool(billing.endpoint_scheme) != bool(billing.endpoint_id):
        missing = "endpoint_id" if billing.endpoint_scheme else "endpoint_scheme"
        raise validation("Enter both the e-invoice address scheme and the address, or neither.", field=missing)
    if billing.endpoint_scheme and not ENDPOINT_SCHEME_PATTERN.match(billing.endpoint_scheme):
        raise validation(
            "The scheme is a code of the EAS list: four digits (e.g. 0204 Leitweg-ID, 9930 German VAT id, 0088 "
            "GLN) or EM for e-mail.",
            field="endpoint_scheme",
        )
    if billing.endpoint_scheme == "EM":
        _email(billing.endpoint_id, "endpoint_id")
    if billing.price_list_id and billing.currency and billing.price_list.currency != billing.currency:
        raise validation(
            f"{billing.price_list.name} is in {billing.price_list.currency} and the client is invoiced in "
            f"{billing.currency}: a price list applies only in its own currency.",
            field="price_list",
        )
    if billing.tax_rate_id and billing.tax_rate.category in ("AE", "K") and not vat_id:
        raise validation(
            f"{billing.tax_rate.name} needs the client's VAT id on the invoice (BR-AE-02, BR-IC-02).", field="vat_id"
        )
    if vat_id != client.vat_id:
        client.vat_id = vat_id
        changed = True
    if not changed and billing.pk:
        return billing
    billing.save()
    client.version += 1
    client.save(update_fields=["vat_id", "version", "updated_at"])
    after = {**snapshot(billing), "vat_id": client.vat_id}
    _audit(actor, billing, "update" if before else "create", before, after)
    return billing


# ---------------------------------------------------------------------------------------------
# service contracts


CONTRACT_PARSERS: dict[str, Callable[[Any], Any]] = {
    "client_id": lambda v: v,
    "name": lambda v: _text(v, "name", max_length=200, required=True),
    "reference": lambda v: _text(v, "reference", max_length=64),
    "valid_from": lambda v: _date(v, "valid_from"),
    "valid_until": lambda v: _date(v, "valid_until", optional=True),
    "site_ids": lambda v: v,
    "equipment_ids": lambda v: v,
    "included_labour_minutes": lambda v: _int(v, "included_labour_minutes", minimum=0, maximum=10_000_000),
    "period": lambda v: _choice(v, "period", ContractPeriod),
    "covers_travel": lambda v: _bool(v, "covers_travel"),
    "covered_part_category_ids": lambda v: v,
    "waives_call_out": lambda v: _bool(v, "waives_call_out"),
    "discount_percent": lambda v: _decimal(v, "discount_percent", places=2, maximum=HUNDRED),
    "price_list_id": lambda v: v,
    "is_active": lambda v: _bool(v, "is_active"),
    "notes": lambda v: _text(v, "notes", max_length=5000),
}


def contract_snapshot(contract: ServiceContract) -> dict:
    return {
        **snapshot(contract, exclude=("sites", "equipment", "covered_part_categories")),
        "sites": sorted(contract.sites.values_list("pk", flat=True)),
        "equipment": sorted(contract.equipment.values_list("pk", flat=True)),
        "covered_part_categories": sorted(contract.covered_part_categories.values_list("pk", flat=True)),
    }


def _contract_values(actor: Actor, contract: ServiceContract, values: dict[str, Any]) -> dict[str, list]:
    """Check the contract's fields together; return the many-to-many rows to set (only those given)."""
    from fixflow.assets.models import Equipment
    from fixflow.customers.models import Client, Site
    from fixflow.inventory.models import PartCategory

    client_given = "client_id" in values
    if client_given:
        client = _related(actor, Client, values.pop("client_id"), "client", "client")
        if client is None:
            raise validation("Choose the client.", field="client")
        if contract.pk and client.pk != contract.client_id and contract.invoice_lines.exists():
            raise _conflict("This contract is named on invoices: it stays with its client.", "client")
        contract.client = client
    _assign(contract, {k: v for k, v in values.items() if not k.endswith("_ids") and k != "price_list_id"})
    if contract.valid_until is not None and contract.valid_until < contract.valid_from:
        raise validation("The contract ends before it starts.", field="valid_until")
    many: dict[str, list] = {}
    site_ids = values.get("site_ids", None if contract.pk else [])
    if site_ids is not None or client_given:
        sites = (
            _related_many(actor, Site, site_ids, "sites", "site")
            if site_ids is not None
            else list(contract.sites.all())
        )
        foreign = [s for s in sites if s.client_id != contract.client_id]
        if foreign:
            raise validation(f"{foreign[0].name} is not a site of {contract.client.name}.", field="sites")
        many["sites"] = sites
    if "sites" in many:
        chosen_sites = {s.pk for s in many["sites"]}
    else:
        chosen_sites = set(contract.sites.values_list("pk", flat=True))
    equipment_ids = values.get("equipment_ids", None if contract.pk else [])
    if equipment_ids is not None or "sites" in many:
        if equipment_ids is not None:
            _related_many(actor, Equipment, equipment_ids, "equipment", "equipment")
            rows = list(Equipment.objects.filter(pk__in=[as_id(pk) for pk in equipment_ids]).select_related("site"))
        else:
            rows = list(contract.equipment.select_related("site"))
        for eq in rows:
            if eq.site.client_id != contract.client_id:
                raise validation(f"{eq.name} is not at a site of {contract.client.name}.", field="equipment")
            if chosen_sites and eq.site_id not in chosen_sites:
                raise validation(f"{eq.name} is not at one of the contract's sites.", field="equipment")
        many["equipment"] = rows
    if "covered_part_category_ids" in values:
        many["covered_part_categories"] = _related_many(
            actor, PartCategory, values["covered_part_category_ids"], "covered_part_categories", "part category"
        )
    if "price_list_id" in values:
        pl = _related(actor, PriceList, values["price_list_id"], "price_list", "price list")
        if pl is not None and not pl.is_active and pl.pk != contract.price_list_id:
            raise validation(f"The price list {pl.name} is inactive.", field="price_list")
        contract.price_list = pl
    if contract.price_list_id:
        currency = _client_currency(actor, contract.client_id)
        if contract.price_list.currency != currency:
            raise validation(
                f"{contract.price_list.name} is in {contract.price_list.currency} and {contract.client.name} is "
                f"invoiced in {currency}: a price list applies only in its own currency.",
                field="price_list",
            )
    return many


def _set_many(contract: ServiceContract, many: dict[str, list]) -> None:
    for name, rows in many.items():
        getattr(contract, name).set(rows)


@transaction.atomic
def contract_create(*, actor: Actor, data: dict[str, Any]) -> ServiceContract:
    """Add a service contract: ``client_id``, ``name``, ``reference``, ``valid_from`` / ``valid_until``,
    ``site_ids`` and ``equipment_ids`` (of that client; none: all its sites), ``included_labour_minutes``
    per ``period``, ``covers_travel``, ``covered_part_category_ids``, ``waives_call_out``,
    ``discount_percent``, ``price_list_id``, ``is_active``, ``notes``. VALIDATION names the field at fault
    (a site of another client, equipment elsewhere, an end before the start, a price list in another
    currency…)."""
    require(actor, CONFIGURE)
    values = _parse(data, CONTRACT_PARSERS)
    for required in ("client_id", "name", "valid_from"):
        if values.get(required) in (None, ""):
            name = required.removesuffix("_id")
            raise validation(f"Enter the {_label(name)}." if name != "client" else "Choose the client.", field=name)
    contract = ServiceContract(organization_id=actor.organization_id)
    many = _contract_values(actor, contract, values)
    contract.save()
    _set_many(contract, many)
    _audit(actor, contract, "create", None, contract_snapshot(contract))
    return contract


@transaction.atomic
def contract_update(
    *, actor: Actor, contract_id, data: dict[str, Any], expected_version: int | None = None
) -> ServiceContract:
    """Change a service contract (only the fields in ``data``). The client of a contract named on invoices
    stays (CONFLICT). Locks the row; STALE_VERSION on a stale ``expected_version``."""
    require(actor, CONFIGURE)
    contract = _locked(actor, ServiceContract, contract_id, "Contract")
    check_version(contract, expected_version)
    values = _parse(data, CONTRACT_PARSERS)
    before = contract_snapshot(contract)
    many = _contract_values(actor, contract, values)
    contract.save()
    _set_many(contract, many)
    after = contract_snapshot(contract)
    if {k: v for k, v in after.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("version", "updated_at")
    }:
        return contract
    contract.version += 1
    contract.save(update_fields=["version", "updated_at"])
    _audit(actor, contract, "update", before, contract_snapshot(contract))
    return contract


@transaction.atomic
def contract_delete(*, actor: Actor, contract_id) -> None:
    """Delete a contract that no invoice names (CONFLICT otherwise: deactivate it). Work orders that were
    pinned to it fall back to the automatic choice."""
    require(actor, CONFIGURE)
    contract = _locked(actor, ServiceContract, contract_id, "Contract")
    if contract.invoice_lines.exists():
        raise _conflict(f"{contract.name} is named on invoices and stays for the record: deactivate it instead.")
    before = contract_snapshot(contract)
    pk = contract.pk
    contract.delete()
    contract.pk = pk
    _audit(actor, contract, "delete", before)


def contracts_covering_category(category) -> int:
    """How many active contracts cover a part category (a category they cover is not deleted)."""
    return ServiceContract.objects.filter(covered_part_categories=category, is_active=True).count()


__all__ = [
    "ImportResult",
    "RateRow",
    "TaxRateUsage",
    "billing_settings_update",
    "check_tax_rate",
    "client_billing_update",
    "contract_create",
    "contract_delete",
    "contract_update",
    "country_names",
    "effective_currency",
    "price_list_create",
    "price_list_delete",
    "price_list_item_delete",
    "price_list_item_set",
    "price_list_item_update",
    "price_list_items_import",
    "price_list_update",
    "rate_class_create",
    "rate_class_delete",
    "rate_class_update",
    "rate_create",
    "rate_delete",
    "rate_update",
    "rates_replace",
    "tax_rate_create",
    "tax_rate_delete",
    "tax_rate_update",
    "tax_rate_usage",
    "technician_rate_class_set",
]
