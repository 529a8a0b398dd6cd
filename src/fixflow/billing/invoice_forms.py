"""Forms of the invoice pages. They parse and show input; ``billing.services`` checks the meaning (a draft, a
rate of this organization, a payment not above what is due…) and a refusal comes back next to its field.

Numbers are typed as text and checked by the services, so a page says exactly what the API says ("Enter a
number for the quantity.", "has at most 4 decimals").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fixflow.core.permissions import Actor
from fixflow.customers.models import Client
from fixflow.web.forms import ListFilterForm, plain_decimal

from .choices import InvoiceStatus, PaymentMethod, VatCategory
from .models import Invoice, InvoiceLine, TaxRate
from .sending import XML_FORMATS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = {"inputmode": "decimal", "autocomplete": "off"}


def _text(label, *, required=False, max_length=None, help_text="", **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs) if attrs else forms.TextInput,
    )


# --- the list ---------------------------------------------------------------------------------

STATUS_CHOICES = [
    ("", _("Issued (all states)")),
    ("open", _("Open (not paid yet)")),
    (InvoiceStatus.ISSUED, _("Issued, nothing paid")),
    (InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PARTIALLY_PAID.label),
    (InvoiceStatus.PAID, InvoiceStatus.PAID.label),
    (InvoiceStatus.CREDITED, InvoiceStatus.CREDITED.label),
    (InvoiceStatus.DRAFT, _("Drafts")),
]
STATUS_FILTER = {
    "": (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.CREDITED),
    "open": (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID),
}


class InvoiceFilterForm(ListFilterForm):
    """The filters of the invoice list page (a GET form; invalid values are ignored)."""

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none(), required=False)
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[("", _("Invoices and credit notes")), ("invoice", _("Invoices")), ("credit_note", _("Credit notes"))],
        required=False,
    )
    date_from = forms.DateField(label=_("Issued from"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("Issued until"), required=False, widget=DATE)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, data, *, actor: Actor, **kwargs):
        super().__init__(data, actor=actor, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Number or client…")
        if actor.is_client:
            del self.fields["client"]
            self.fields["status"].choices = [c for c in STATUS_CHOICES if c[0] != InvoiceStatus.DRAFT]
        else:
            self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)
            self.fields["client"].empty_label = _("All clients")

    @property
    def status_value(self) -> str:
        return self.values().get("status", "")


class AccountingExportForm(forms.Form):
    """The period of the accounting export (GET)."""

    date_from = forms.DateField(label=_("From"), widget=DATE)
    date_to = forms.DateField(label=_("Until"), widget=DATE)


# --- invoicing closed work --------------------------------------------------------------------


class ClosedWorkForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=Client.objects.none(),
        required=False,
        empty_label=_("All clients"),
        help_text=_("One draft per client, currency and tax regime."),
    )
    until = forms.DateField(
        label=_("Closed until"),
        required=False,
        widget=DATE,
        help_text=_("Only work orders closed on or before this day. Empty: everything closed so far."),
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)

    def service_args(self) -> dict:
        client = self.cleaned_data.get("client")
        return {"client_ids": [client.pk] if client else None, "until": self.cleaned_data.get("until")}


# --- a draft ----------------------------------------------------------------------------------


class InvoiceHeaderForm(forms.Form):
    """A draft's header: due date, references, payment terms, note."""

    version = forms.IntegerField(widget=forms.HiddenInput(attrs={"id": "header-version"}), required=False)
    due_date = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=DATE,
        help_text=_("Empty: the payment terms from the invoice date."),
    )
    buyer_reference = _text(_("Buyer reference"), max_length=100, help_text=_("Leitweg-ID, PO or cost centre."))
    order_reference = _text(_("Order reference"), max_length=100)
    payment_terms = _text(_("Payment terms"), max_length=300, help_text=_("Empty: from the billing settings."))
    note = forms.CharField(
        label=_("Note to the client"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, invoice: Invoice, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "version": invoice.version,
                "due_date": invoice.due_date,
                "buyer_reference": invoice.buyer_reference,
                "order_reference": invoice.order_reference,
                "payment_terms": invoice.payment_terms,
                "note": invoice.note,
            },
        )
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


def tax_choices(actor: Actor, *, empty_label: str) -> list[tuple[str, str]]:
    rates = TaxRate.objects.filter(organization_id=actor.organization_id, is_active=True)
    return [("", empty_label), *((str(r.pk), str(r.name)) for r in rates)]


class InvoiceLineForm(forms.Form):
    """A manual line to add, or a line of a draft to change. On a change, an empty VAT choice keeps the
    line's VAT as it was copied; on a new line it takes the client's (else the organization's) rate."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = _text(_("Description"), required=True, max_length=500)
    detail = forms.CharField(
        label=_("Detail"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    quantity = _text(_("Quantity"), required=True, **NUMBER)
    unit = _text(_("Unit"), max_length=20, placeholder="pc")
    unit_price = _text(_("Unit price"), required=True, **NUMBER)
    discount_percent = _text(_("Discount %"), **NUMBER)
    discount_reason = _text(_("Discount reason"), max_length=200)
    tax_rate = forms.ChoiceField(label=_("VAT"), required=False)
    work_order = forms.ChoiceField(label=_("Work order"), required=False)
    service_date = forms.DateField(label=_("Date of service"), required=False, widget=DATE)

    def __init__(self, *args, actor: Actor, invoice: Invoice, line: InvoiceLine | None = None, **kwargs):
        self.line = line
        if line is not None:
            kwargs.setdefault(
                "initial",
                {
                    "description": line.description,
                    "detail": line.detail,
                    "quantity": plain_decimal(line.quantity),
                    "unit": line.unit,
                    "unit_price": plain_decimal(line.unit_price, 2),
                    "discount_percent": plain_decimal(line.discount_percent) if line.discount_percent else "",
                    "discount_reason": line.discount_reason,
                    "work_order": str(line.work_order_id or ""),
                    "service_date": line.service_date,
                },
            )
        kwargs["initial"] = {**kwargs.get("initial", {}), "version": invoice.version}
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].choices = tax_choices(
            actor,
            empty_label=_("As is: %(tax)s") % {"tax": tax_label(line.tax_category, line.tax_rate)}
            if line is not None
            else _("The client's default"),
        )
        work_orders = {
            line.work_order_id: line.work_order
            for line in invoice.lines.select_related("work_order")
            if line.work_order
        }
        self.fields["work_order"].choices = [("", _("— none —"))] + [
            (str(pk), f"{wo.number} · {wo.title}"[:80]) for pk, wo in sorted(work_orders.items())
        ]
        if line is not None and line.kind != "manual":
            # a generated line keeps the work order and date of the fact it bills
            del self.fields["work_order"]
            del self.fields["service_date"]

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        tax = data.pop("tax_rate", "")
        if tax or self.line is None:
            data["tax_rate_id"] = tax or None
        if "work_order" in data:
            data["work_order_id"] = data.pop("work_order") or None
        if not data.get("discount_percent"):
            data["discount_percent"] = "0"
        if self.line is not None:  # unchanged fields stay as they are (a price may carry 4 decimals)
            data = {
                k: v for k, v in data.items() if k in self.changed_data or k.removesuffix("_id") in self.changed_data
            }
        return data


def tax_label(category: str, rate: Decimal) -> str:
    if category == VatCategory.STANDARD or rate:
        return f"{plain_decimal(rate)} %"
    return str(VatCategory(category).label) if category in VatCategory.values else category


class IssueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput(attrs={"id": "issue-version"}), required=False)
    issue_date = forms.DateField(
        label=_("Invoice date"),
        required=False,
        widget=DATE,
        help_text=_("Today when empty; never in the future, never before the series' last invoice."),
    )


# --- an issued invoice ------------------------------------------------------------------------


class SendForm(forms.Form):
    to = forms.CharField(
        label=_("Send to"), max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed above the payment details of the e-mail."),
    )
    xml_format = forms.ChoiceField(
        label=_("E-invoice format"),
        choices=[
            ("cii", _("Factur-X / ZUGFeRD (CII)")),
            ("ubl", _("Peppol BIS Billing 3.0 (UBL)")),
        ],
        initial="cii",
    )

    def __init__(self, *args, invoice: Invoice, **kwargs):
        kwargs.setdefault("initial", {"to": (invoice.buyer or {}).get("email", ""), "xml_format": XML_FORMATS[0]})
        super().__init__(*args, **kwargs)


class PaymentForm(forms.Form):
    amount = _text(_("Amount"), required=True, **NUMBER)
    paid_on = forms.DateField(label=_("Paid on"), required=False, widget=DATE, help_text=_("Today when empty."))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER)
    reference = _text(_("Reference"), max_length=200)

    def __init__(self, *args, invoice: Invoice, today: date, **kwargs):
        kwargs.setdefault("initial", {"amount": plain_decimal(invoice.amount_due, 2), "paid_on": today})
        super().__init__(*args, **kwargs)


class CreditNoteForm(forms.Form):
    """Which lines of an issued invoice to credit and how much of each (at most what is left)."""

    reason = _text(_("Reason"), required=True, max_length=300, help_text=_("Printed on the credit note."))

    def __init__(self, *args, invoice: Invoice, lines: list, left: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for line in lines:
            remaining = left.get(line.pk, Decimal(0))
            pick = forms.BooleanField(label=line.description, required=False, initial=remaining > 0)
            quantity = forms.CharField(
                label=_("Quantity to credit"),
                required=False,
                initial=plain_decimal(remaining) if remaining > 0 else "",
                widget=forms.TextInput(attrs=NUMBER),
            )
            if remaining <= 0:
                pick.disabled = quantity.disabled = True
            self.fields[f"line-{line.pk}"] = pick
            self.fields[f"quantity-{line.pk}"] = quantity
            self.rows.append((line, remaining, self[f"line-{line.pk}"], self[f"quantity-{line.pk}"]))

    def chosen(self) -> list[tuple[int, str]]:
        """``[(line id, quantity)]`` of the ticked lines (the service checks the quantities)."""
        out = []
        for line, _remaining, pick, quantity in self.rows:
            if self.cleaned_data.get(pick.name):
                out.append((line.pk, self.cleaned_data.get(quantity.name) or "0"))
        return out
