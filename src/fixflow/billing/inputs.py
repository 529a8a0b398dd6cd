"""Parsing the input of the billing services: each function returns the cleaned value or raises a
VALIDATION error on the field, with a message that names it in plain words."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from fixflow.core.errors import validation

ZERO = Decimal(0)


def as_id(pk) -> int | None:
    if isinstance(pk, bool):
        return None
    try:
        return int(pk)
    except (TypeError, ValueError):
        return None


def label(field: str) -> str:
    return field.removesuffix("_id").replace("_", " ")


def text(value, field: str, *, required: bool = False, max_length: int | None = None) -> str:
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise validation(f"The {label(field)} is required.", field=field)
    if max_length and len(value) > max_length:
        raise validation(f"Keep the {label(field)} under {max_length} characters.", field=field)
    return value


def decimal(value, field: str, *, places: int = 4, minimum: Decimal | None = ZERO, positive: bool = False) -> Decimal:
    """A number as typed (a decimal comma too); bounded, and with at most ``places`` decimals."""
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, TypeError, ValueError):
        raise validation(f"Enter a number for the {label(field)}.", field=field) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 9:
        raise validation(f"Enter a sensible number for the {label(field)}.", field=field)
    if positive and number <= 0:
        raise validation(f"The {label(field)} must be more than 0.", field=field)
    if minimum is not None and number < minimum:
        raise validation(f"The {label(field)} cannot be less than {minimum}.", field=field)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise validation(f"The {label(field)} has at most {places} decimals.", field=field)
    return number


def as_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise validation(f"Enter the {label(field)} as YYYY-MM-DD.", field=field) from None
