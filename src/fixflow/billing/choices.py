"""Choices of the billing app: VAT categories (EN 16931 UNCL5305), document types, states, line kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VatCategory(models.TextChoices):
    """UNCL5305 codes used by EN 16931 (BT-118 / BT-151)."""

    STANDARD = "S", _("Standard rate")
    ZERO = "Z", _("Zero rated")
    EXEMPT = "E", _("Exempt from VAT")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    INTRA_EU = "K", _("Intra-community supply")
    EXPORT = "G", _("Export outside the EU")
    OUTSIDE_SCOPE = "O", _("Outside the scope of VAT")


# Categories whose rate must be 0 and which need an exemption reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10)
ZERO_RATE_CATEGORIES = frozenset({"E", "AE", "K", "G", "O"})
EXEMPTION_REASON_REQUIRED = frozenset({"E", "AE", "K", "G", "O"})
# Categories that need the buyer's VAT identifier (BR-AE-02, BR-IC-02)
BUYER_VAT_ID_REQUIRED = frozenset({"AE", "K"})


class DocumentType(models.TextChoices):
    """UNCL1001 document type codes (BT-3)."""

    INVOICE = "380", _("Invoice")
    CREDIT_NOTE = "381", _("Credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Credited")


# States in which an invoice is frozen: only payments (and crediting) move it on.
ISSUED_STATES = frozenset(
    {InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.CREDITED}
)


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


class QuoteConversion(models.TextChoices):
    FIXED_PRICE = "fixed_price", _("Fixed price")
    ESTIMATE = "estimate", _("Estimate (invoice what is recorded)")


class LineKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")
    PART = "part", _("Part")
    CALL_OUT = "call_out", _("Call-out fee")
    FIXED = "fixed", _("Fixed charge")
    EXPENSE = "expense", _("Expense")
    MANUAL = "manual", _("Manual line")


class RateKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")


class ChargeKind(models.TextChoices):
    CALL_OUT = "call_out", _("Call-out fee")
    FIXED = "fixed", _("Fixed charge")
    EXPENSE = "expense", _("Expense")


class ContractPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    OTHER = "other", _("Other")


# UN/ECE Recommendation 20 unit codes (BT-130) for the units Fixflow uses
UNIT_CODES = {"h": "HUR", "hour": "HUR", "min": "MIN", "pc": "H87", "m": "MTR", "l": "LTR", "kg": "KGM", "km": "KMT"}
DEFAULT_UNIT_CODE = "C62"  # "one"
