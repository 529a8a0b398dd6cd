"""Billing (DOMAIN.md §4): seller settings, tax rates, price lists and rates, service contracts, charges
recorded on work orders, quotes, invoices and credit notes with their lines, series and payments.

Money is ``Decimal``: unit prices keep 4 decimals, amounts are quantized to the currency's minor unit by
``calculations.quantize`` (one helper). Lines copy their price, cost and tax rate when they are made, so
later changes to rates, parts or tax rates never change an existing quote or invoice.

An issued invoice is immutable: :class:`InvoiceQuerySet` refuses ``update()``/``delete()`` that would touch
one, :meth:`Invoice.save` and :meth:`InvoiceLine.save` refuse changes to frozen rows, and only the fields in
``Invoice.MUTABLE_AFTER_ISSUE`` (payment state, sending) may change after issue.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.models import Organization, TenantModel, VersionedModel

from .choices import (
    ISSUED_STATES,
    ChargeKind,
    ContractPeriod,
    DocumentType,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    QuoteConversion,
    QuoteStatus,
    RateKind,
    VatCategory,
)

USER = "core.User"
ZERO = Decimal("0")
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
NON_NEGATIVE = [MinValueValidator(0)]


def _token() -> str:
    return secrets.token_urlsafe(24)


def _money(verbose: str, **kw) -> models.DecimalField:
    """An amount in the document's currency (at most 3 minor digits: BHD, KWD…)."""
    kw.setdefault("default", ZERO)
    return models.DecimalField(_(verbose), max_digits=14, decimal_places=3, **kw)


def _price(verbose: str, **kw) -> models.DecimalField:
    """A unit price or cost: 4 decimals, like the parts catalogue."""
    kw.setdefault("default", ZERO)
    return models.DecimalField(_(verbose), max_digits=14, decimal_places=4, **kw)


# ---------------------------------------------------------------------------------------------
# configuration


class BillingSettings(models.Model):
    """The organization as seller (BG-4, BG-16) and its billing defaults. One row per organization."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="billing_settings")
    # seller (EN 16931 BG-4)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    address_line_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country (ISO 3166 code)"), max_length=2, blank=True, help_text=_("e.g. DE, AT, FR"))
    vat_id = models.CharField(_("VAT id"), max_length=32, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=32, blank=True, help_text=_("When there is no VAT id."))
    registration_id = models.CharField(
        _("company registration"), max_length=64, blank=True, help_text=_("e.g. HRB 12345, Amtsgericht München")
    )
    email = models.EmailField(_("billing e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    # payment (BG-16, BG-17)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=14)
    payment_terms_note = models.CharField(_("payment terms text"), max_length=300, blank=True)
    logo = models.ImageField(_("logo"), upload_to="billing/logos/", blank=True)
    # numbering
    invoice_series = models.CharField(_("invoice series"), max_length=20, default="INV")
    credit_note_series = models.CharField(_("credit note series"), max_length=20, default="CN")
    quote_prefix = models.CharField(_("quote number prefix"), max_length=20, default="Q")
    # pricing defaults (DOMAIN.md §4 rules 2-4)
    default_tax_rate = models.ForeignKey(
        "TaxRate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("default tax")
    )
    labour_minimum_minutes = models.PositiveIntegerField(_("labour minimum (minutes)"), default=15)
    labour_increment_minutes = models.PositiveIntegerField(
        _("labour rounded up to (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    parts_markup_percent = models.DecimalField(
        _("parts markup (%)"), max_digits=7, decimal_places=2, default=Decimal("30"), validators=NON_NEGATIVE
    )
    call_out_fee = _price("call-out fee", validators=NON_NEGATIVE)
    overtime_calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("working hours (overtime outside)"),
    )
    overtime_multiplier = models.DecimalField(
        _("overtime multiplier"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(1)],
    )
    # follow-up
    leakage_days = models.PositiveIntegerField(_("unbilled work reported after (days)"), default=14)
    quote_validity_days = models.PositiveIntegerField(_("quotes valid for (days)"), default=30)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return self.legal_name or str(self.organization)


class TaxRate(VersionedModel):
    """A VAT rate with its EN 16931 category; zero-rate categories carry the exemption reason."""

    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices, default="S")
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2, validators=PERCENT)
    exemption_reason = models.CharField(_("exemption reason"), max_length=300, blank=True)
    exemption_code = models.CharField(
        _("exemption code (VATEX)"), max_length=30, blank=True, help_text=_("e.g. VATEX-EU-AE, VATEX-EU-IC")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax rate")
        ordering = ["category", "-rate", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tax_rate_unique_name")]

    def __str__(self) -> str:
        return self.name


class RateClass(VersionedModel):
    """A technician role for labour rates ("Service technician", "Senior engineer")."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("technician rate class")
        verbose_name_plural = _("technician rate classes")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="rate_class_unique_name")]

    def __str__(self) -> str:
        return self.name


class TechnicianRateClass(TenantModel):
    """Which rate class a technician bills at."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    rate_class = models.ForeignKey(RateClass, on_delete=models.CASCADE, related_name="technicians")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="technician_one_rate_class"),
        ]


class PriceList(VersionedModel):
    """Prices for a group of clients: labour/travel rates, part prices, a markup; in one currency."""

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    parts_markup_percent = models.DecimalField(
        _("parts markup (%)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text=_("Empty: the organization's markup."),
    )
    call_out_fee = _price("call-out fee", null=True, blank=True, default=None, validators=NON_NEGATIVE)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="price_list_unique_name")]

    def __str__(self) -> str:
        return self.name


class Rate(TenantModel):
    """An hourly rate: of a price list (or the organization's when empty), for a rate class (or any)."""

    price_list = models.ForeignKey(PriceList, null=True, blank=True, on_delete=models.CASCADE, related_name="rates")
    rate_class = models.ForeignKey(RateClass, null=True, blank=True, on_delete=models.CASCADE, related_name="rates")
    kind = models.CharField(_("kind"), max_length=10, choices=RateKind.choices, default=RateKind.LABOUR)
    unit_price = _price("price per hour", validators=NON_NEGATIVE)
    unit_cost = _price("cost per hour", validators=NON_NEGATIVE)

    class Meta:
        verbose_name = _("rate")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "price_list", "rate_class", "kind"],
                name="rate_once_per_list_class",
                condition=Q(price_list__isnull=False, rate_class__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["organization", "price_list", "kind"],
                name="rate_once_per_list",
                condition=Q(price_list__isnull=False, rate_class__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["organization", "rate_class", "kind"],
                name="rate_once_per_class",
                condition=Q(price_list__isnull=True, rate_class__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["organization", "kind"],
                name="rate_once_default",
                condition=Q(price_list__isnull=True, rate_class__isnull=True),
            ),
        ]


class PriceListItem(TenantModel):
    """A part's price on a price list."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    part = models.ForeignKey("inventory.Part", on_delete=models.CASCADE, related_name="+")
    unit_price = _price("price", validators=NON_NEGATIVE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["price_list", "part"], name="price_list_item_once")]


class ClientBilling(TenantModel):
    """A client as buyer (BG-7): structured address, VAT, buyer reference, e-invoice endpoint, prices."""

    client = models.OneToOneField("customers.Client", on_delete=models.CASCADE, related_name="billing")
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True, help_text=_("Empty: the name."))
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    address_line_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country (ISO 3166 code)"), max_length=2, blank=True)
    buyer_reference = models.CharField(
        _("buyer reference"), max_length=100, blank=True, help_text=_("Leitweg-ID, PO or cost centre (BT-10).")
    )
    endpoint_scheme = models.CharField(
        _("e-invoice address scheme"), max_length=10, blank=True, help_text=_("e.g. 0204 (Leitweg), 9930, EM")
    )
    endpoint_id = models.CharField(_("e-invoice address"), max_length=100, blank=True)
    invoice_email = models.EmailField(_("send invoices to"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True, help_text=_("Empty: the organization's."))
    price_list = models.ForeignKey(
        PriceList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("price list")
    )
    tax_rate = models.ForeignKey(
        TaxRate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("tax"),
        help_text=_("Empty: the organization's default; e.g. reverse charge for EU business clients."),
    )
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("client billing details")


class ServiceContract(VersionedModel):
    """What a client's contract covers: sites/equipment, included labour per period, part categories,
    the call-out fee, a discount. Covered work is invoiced as lines with 100 % discount naming it."""

    client = models.ForeignKey("customers.Client", on_delete=models.PROTECT, related_name="contracts")
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("contract number"), max_length=64, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    sites = models.ManyToManyField("customers.Site", blank=True, related_name="+", verbose_name=_("sites"))
    equipment = models.ManyToManyField("assets.Equipment", blank=True, related_name="+", verbose_name=_("equipment"))
    included_labour_minutes = models.PositiveIntegerField(_("included labour (minutes per period)"), default=0)
    period = models.CharField(_("period"), max_length=10, choices=ContractPeriod.choices, default=ContractPeriod.YEAR)
    covers_travel = models.BooleanField(_("included time covers travel"), default=False)
    covered_part_categories = models.ManyToManyField(
        "inventory.PartCategory", blank=True, related_name="+", verbose_name=_("covered part categories")
    )
    waives_call_out = models.BooleanField(_("no call-out fee"), default=False)
    discount_percent = models.DecimalField(
        _("discount on the rest (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    price_list = models.ForeignKey(
        PriceList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("price list")
    )
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("service contract")
        ordering = ["client__name", "-valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})" if self.reference else self.name


# ---------------------------------------------------------------------------------------------
# billable facts on the work order besides time entries and part usages


class WorkOrderBilling(TenantModel):
    """Per work order billing terms: price overrides (rule 2, first place), a fixed price from an
    accepted quote, the contract that covers it (chosen automatically when empty)."""

    work_order = models.OneToOneField("service.WorkOrder", on_delete=models.CASCADE, related_name="billing")
    labour_rate = _price("labour rate override", null=True, blank=True, default=None, validators=NON_NEGATIVE)
    travel_rate = _price("travel rate override", null=True, blank=True, default=None, validators=NON_NEGATIVE)
    fixed_price = _money("fixed price", null=True, blank=True, default=None, validators=NON_NEGATIVE)
    quote = models.ForeignKey("Quote", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contract = models.ForeignKey(ServiceContract, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    skip_contract = models.BooleanField(_("do not apply a contract"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)


class WorkOrderCharge(TenantModel):
    """A call-out fee, a fixed charge or an expense recorded on a work order; invoiced once."""

    work_order = models.ForeignKey("service.WorkOrder", on_delete=models.CASCADE, related_name="charges")
    kind = models.CharField(_("kind"), max_length=10, choices=ChargeKind.choices, default=ChargeKind.EXPENSE)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal(1))
    unit = models.CharField(_("unit"), max_length=20, default="pc")
    unit_price = _price("unit price", validators=NON_NEGATIVE)
    unit_cost = _price("unit cost", validators=NON_NEGATIVE)
    incurred_on = models.DateField(_("date"))
    is_billable = models.BooleanField(_("billable"), default=True)
    receipt = models.ForeignKey(
        "service.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("charge")
        ordering = ["incurred_on", "id"]


# ---------------------------------------------------------------------------------------------
# documents: quotes and invoices share the line shape


class LineFields(models.Model):
    """What a quote line and an invoice line have in common; prices and tax copied when made."""

    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices, default=LineKind.MANUAL)
    description = models.CharField(_("description"), max_length=500)
    detail = models.TextField(_("detail"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4, default=Decimal(1))
    unit = models.CharField(_("unit"), max_length=20, default="pc")
    unit_price = _price("unit price")
    unit_cost = _price("unit cost")
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    discount_reason = models.CharField(_("discount reason"), max_length=200, blank=True)
    net_amount = _money("net amount")
    tax_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices, default="S")
    tax_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=ZERO)
    exemption_reason = models.CharField(_("exemption reason"), max_length=300, blank=True)
    exemption_code = models.CharField(_("exemption code"), max_length=30, blank=True)
    part = models.ForeignKey("inventory.Part", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class FrozenQuoteError(DomainError):
    def __init__(self, what: str = "An accepted quote cannot be changed"):
        super().__init__(ErrorCode.CONFLICT, f"{what}: the client accepted it as it is (make a new quote instead).")


class QuoteQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes that would touch an accepted quote (rule 5: immutable, every path)."""

    def update(self, **kwargs):
        if set(kwargs) - Quote.MUTABLE_AFTER_ACCEPT and self.filter(status=QuoteStatus.ACCEPTED).exists():
            raise FrozenQuoteError()
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=QuoteStatus.ACCEPTED).exists():
            raise FrozenQuoteError("An accepted quote cannot be deleted")
        return super().delete()


class QuoteLineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(quote__status=QuoteStatus.ACCEPTED).exists():
            raise FrozenQuoteError("A line of an accepted quote cannot be changed")
        return super().update(**kwargs)

    def delete(self):
        if self.filter(quote__status=QuoteStatus.ACCEPTED).exists():
            raise FrozenQuoteError("A line of an accepted quote cannot be removed")
        return super().delete()


class Quote(VersionedModel):
    """A priced offer: draft → sent → accepted / rejected / expired (rule 5). Accepted is frozen and
    converts once into a work order (fixed price or estimate) or an invoice.

    The freeze holds on every path: :class:`QuoteQuerySet` refuses ``update()``/``delete()`` touching an
    accepted quote, :meth:`save` refuses changes to one except the conversion record
    (``MUTABLE_AFTER_ACCEPT``), and :class:`QuoteLine` refuses changes to its lines."""

    # what may still change once the client accepted: recording the one conversion
    MUTABLE_AFTER_ACCEPT = frozenset(
        {"converted_at", "conversion", "converted_work_order", "converted_invoice", "version", "updated_at"}
    )

    number = models.CharField(_("number"), max_length=40)
    client = models.ForeignKey("customers.Client", on_delete=models.PROTECT, related_name="quotes")
    site = models.ForeignKey("customers.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    equipment = models.ForeignKey("assets.Equipment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    work_request = models.ForeignKey(
        "service.WorkRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    work_order = models.ForeignKey(
        "service.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    title = models.CharField(_("title"), max_length=200)
    introduction = models.TextField(_("introduction"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT, editable=False
    )
    issue_date = models.DateField(_("date"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    total_net = _money("net total")
    total_tax = _money("VAT")
    total_gross = _money("total")
    public_token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.EmailField(blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by_name = models.CharField(max_length=200, blank=True, editable=False)
    decided_from_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    decision_signature = models.ImageField(upload_to="billing/quote-signatures/", blank=True, editable=False)
    rejection_reason = models.TextField(blank=True, editable=False)
    converted_at = models.DateTimeField(null=True, blank=True, editable=False)
    conversion = models.CharField(max_length=12, choices=QuoteConversion.choices, blank=True, editable=False)
    converted_work_order = models.OneToOneField(
        "service.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    converted_invoice = models.OneToOneField(
        "Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "number"], name="quote_unique_number")]
        indexes = [models.Index(fields=["organization", "status", "valid_until"], name="quote_org_status")]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    @property
    def is_frozen(self) -> bool:
        return self.status == QuoteStatus.ACCEPTED

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == QuoteStatus.ACCEPTED:
                fields = kwargs.get("update_fields")
                if fields is None or set(fields) - self.MUTABLE_AFTER_ACCEPT:
                    raise FrozenQuoteError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_frozen or type(self).objects.filter(pk=self.pk, status=QuoteStatus.ACCEPTED).exists():
            raise FrozenQuoteError("An accepted quote cannot be deleted")
        return super().delete(*args, **kwargs)


class QuoteLine(LineFields, TenantModel):
    """A line of a quote; its price and tax are copied when it is made. Frozen once the quote is accepted."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    objects = QuoteLineQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        _refuse_if_quote_frozen(self.quote_id, "A line of an accepted quote cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_if_quote_frozen(self.quote_id, "A line of an accepted quote cannot be removed")
        return super().delete(*args, **kwargs)


def _refuse_if_quote_frozen(quote_id, what: str) -> None:
    if Quote.objects.filter(pk=quote_id, status=QuoteStatus.ACCEPTED).exists():
        raise FrozenQuoteError(what)


class InvoiceSeries(TenantModel):
    """A numbering series: the counter row locked while an invoice is issued (rule 8)."""

    code = models.CharField(max_length=20)
    last_number = models.PositiveBigIntegerField(default=0)
    last_issue_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice series")
        verbose_name_plural = _("invoice series")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="invoice_series_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} #{self.last_number}"


class FrozenInvoiceError(DomainError):
    def __init__(self, what: str = "An issued invoice"):
        super().__init__(ErrorCode.CONFLICT, f"{what} cannot be changed; correct it with a credit note.")


class InvoiceQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes that would touch an issued invoice (rule 9, every path)."""

    def update(self, **kwargs):
        allowed = Invoice.MUTABLE_AFTER_ISSUE
        if set(kwargs) - allowed and self.filter(status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError()
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError("An issued invoice cannot be deleted;")
        return super().delete()


class InvoiceLineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - {"released"} and self.filter(invoice__status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError("A line of an issued invoice")
        return super().update(**kwargs)

    def delete(self):
        if self.filter(invoice__status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError("A line of an issued invoice")
        return super().delete()


class Invoice(VersionedModel):
    """An invoice (380) or credit note (381) to one client, in one currency (rule 6)."""

    # what may still change once issued: the payment state and the sending record
    MUTABLE_AFTER_ISSUE = frozenset(
        {"status", "amount_paid", "amount_due", "sent_at", "sent_to", "version", "updated_at"}
    )

    document_type = models.CharField(
        _("type"), max_length=3, choices=DocumentType.choices, default=DocumentType.INVOICE, editable=False
    )
    series = models.CharField(_("series"), max_length=20, editable=False)
    number = models.CharField(_("number"), max_length=40, null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, editable=False
    )
    client = models.ForeignKey("customers.Client", on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(_("currency"), max_length=3)
    issue_date = models.DateField(_("invoice date"), null=True, blank=True, editable=False)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    service_from = models.DateField(_("service from"), null=True, blank=True)
    service_until = models.DateField(_("service until"), null=True, blank=True)
    buyer_reference = models.CharField(_("buyer reference"), max_length=100, blank=True)
    order_reference = models.CharField(_("order reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=300, blank=True)
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes", editable=False
    )
    credit_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # snapshots taken at issue (rule 9)
    seller = models.JSONField(default=dict, blank=True, editable=False)
    buyer = models.JSONField(default=dict, blank=True, editable=False)
    # totals (EN 16931 BG-22), written by the calculations only
    total_net = _money("net total", editable=False)
    total_tax = _money("VAT", editable=False)
    total_gross = _money("total", editable=False)
    amount_paid = _money("paid", editable=False)
    amount_due = _money("amount due", editable=False)
    tax_breakdown = models.JSONField(default=list, blank=True, editable=False)
    # documents rendered at issue, with their SHA-256
    pdf = models.FileField(upload_to="billing/invoices/", blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    xml_cii = models.FileField(upload_to="billing/invoices/", blank=True, editable=False)
    xml_ubl = models.FileField(upload_to="billing/invoices/", blank=True, editable=False)
    xml_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_to = models.EmailField(blank=True, editable=False)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "series", "number"],
                name="invoice_unique_number",
                condition=Q(number__isnull=False),
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, issue_date__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(document_type="380") | Q(credited_invoice__isnull=False),
                name="credit_note_references_invoice",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_date"], name="invoice_org_status_due"),
            models.Index(fields=["organization", "client", "-issue_date"], name="invoice_org_client"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.pk}"

    @property
    def is_frozen(self) -> bool:
        return self.status in ISSUED_STATES

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            stored = type(self).objects.filter(pk=self.pk).values("status").first()
            if stored is not None and stored["status"] in ISSUED_STATES:
                fields = kwargs.get("update_fields")
                if fields is None or set(fields) - self.MUTABLE_AFTER_ISSUE:
                    raise FrozenInvoiceError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_frozen or type(self).objects.filter(pk=self.pk, status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError("An issued invoice cannot be deleted;")
        return super().delete(*args, **kwargs)


class InvoiceLine(LineFields, TenantModel):
    """A line naming its work order and date of service (rule 6) and the billable fact it bills, each
    invoiced once (rule 1: a partial unique index; a credit note releases the line's sources)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    work_order = models.ForeignKey(
        "service.WorkOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    service_date = models.DateField(_("date of service"), null=True, blank=True)
    contract = models.ForeignKey(
        ServiceContract, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    covered_minutes = models.PositiveIntegerField(default=0, help_text="labour minutes taken from the contract")
    billed_minutes = models.PositiveIntegerField(default=0, help_text="labour minutes after rounding")
    is_overtime = models.BooleanField(default=False)
    time_entry = models.ForeignKey(
        "service.TimeEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    part_usage = models.ForeignKey(
        "service.PartUsage", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    charge = models.ForeignKey(
        WorkOrderCharge, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    credited_line = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="credits")
    segment = models.PositiveSmallIntegerField(
        default=0, help_text="which line of its time entry: 0 the first; covered time and overtime follow"
    )
    released = models.BooleanField(default=False, help_text="credited: its sources may be invoiced again")

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["time_entry", "segment"],
                name="time_entry_invoiced_once",
                condition=Q(released=False, time_entry__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["part_usage"],
                name="part_usage_invoiced_once",
                condition=Q(released=False, part_usage__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["charge"], name="charge_invoiced_once", condition=Q(released=False, charge__isnull=False)
            ),
        ]
        indexes = [models.Index(fields=["organization", "work_order"], name="invoice_line_work_order")]

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if not (fields is not None and set(fields) <= {"released"}):
            if Invoice.objects.filter(pk=self.invoice_id, status__in=ISSUED_STATES).exists():
                raise FrozenInvoiceError("A line of an issued invoice")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Invoice.objects.filter(pk=self.invoice_id, status__in=ISSUED_STATES).exists():
            raise FrozenInvoiceError("A line of an issued invoice")
        return super().delete(*args, **kwargs)


class Payment(TenantModel):
    """A payment received against an issued invoice (rule 10)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = _money("amount")
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        ordering = ["paid_on", "id"]
