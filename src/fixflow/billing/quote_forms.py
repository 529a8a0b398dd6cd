"""Forms of the quote pages and of the public accept page. They parse and show input; the services in
:mod:`.quote_services` validate it against the organization's data and write. A refused input comes back
as a DomainError and is shown next to the field it names (or at the top of the form)."""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fixflow.assets.models import Equipment
from fixflow.core.permissions import Actor
from fixflow.customers.models import Client, Site
from fixflow.service.choices import BillingStatus, RequestStatus, Status
from fixflow.service.models import WorkOrder, WorkRequest
from fixflow.web.forms import DependentSelect, ListFilterForm, plain_decimal

from .choices import LineKind, QuoteConversion, QuoteStatus
from .models import Quote, QuoteLine, TaxRate

NUMBER = {"step": "any", "inputmode": "decimal"}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CHOICE_LIMIT = 300  # the request and work order pickers offer the most recent ones


class QuoteFilterForm(ListFilterForm):
    """The list filters: status, client (not for client users: they see only theirs) and a search."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *QuoteStatus.choices])
    client = forms.ModelChoiceField(
        label=_("Client"), required=False, queryset=Client.objects.none(), empty_label=_("All clients")
    )

    def __init__(self, data, *, actor: Actor, **kwargs):
        super().__init__(data, actor=actor, **kwargs)
        if actor.is_client:
            del self.fields["client"]
            self.fields["q"].widget.attrs["placeholder"] = _("Number or title…")
        else:
            self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)
            self.fields["q"].widget.attrs["placeholder"] = _("Number, title or client…")


class QuoteCreateForm(forms.Form):
    """A new draft: blank for a client, from a work request, or from a work order with its estimate."""

    SOURCES = [
        ("blank", _("Blank, for a client")),
        ("request", _("From a work request")),
        ("work_order", _("From a work order (its estimated labour and planned parts, priced)")),
    ]
    source = forms.ChoiceField(label=_("Start from"), choices=SOURCES, initial="blank", widget=forms.RadioSelect)
    client = forms.ModelChoiceField(label=_("Client"), required=False, queryset=Client.objects.none())
    site = forms.ModelChoiceField(
        label=_("Site"),
        required=False,
        queryset=Site.objects.none(),
        widget=DependentSelect(parent_field="client", parent_attr="client_id"),
        help_text=_("Where the work is done (needed later to make a work order)."),
    )
    work_request = forms.ModelChoiceField(label=_("Work request"), required=False, queryset=WorkRequest.objects.none())
    work_order = forms.ModelChoiceField(label=_("Work order"), required=False, queryset=WorkOrder.objects.none())
    title = forms.CharField(
        label=_("Title"), max_length=200, required=False, help_text=_("Empty: the request's or work order's title.")
    )

    def __init__(self, data=None, *, actor: Actor, **kwargs):
        super().__init__(data, **kwargs)
        org = actor.organization_id
        self.fields["client"].queryset = Client.objects.filter(organization_id=org, is_active=True)
        self.fields["site"].queryset = Site.objects.filter(organization_id=org).select_related("client")
        requests = WorkRequest.objects.filter(
            organization_id=org, status__in=[RequestStatus.NEW, RequestStatus.ACCEPTED]
        ).select_related("client")
        self.fields["work_request"].queryset = self._recent(requests, "work_request")
        self.fields["work_request"].label_from_instance = lambda r: f"{r.title} ({r.client.name})"
        work_orders = (
            WorkOrder.objects.filter(organization_id=org)
            .exclude(status=Status.CANCELLED)
            .exclude(billing_status=BillingStatus.INVOICED)
            .select_related("client")
        )
        self.fields["work_order"].queryset = self._recent(work_orders, "work_order")
        self.fields["work_order"].label_from_instance = lambda w: f"{w.number} · {w.title} ({w.client.name})"

    def _recent(self, qs, name: str):
        """The most recent rows of ``qs`` to choose from, plus the one asked for (a link, a posted form)."""
        ids = list(qs.order_by("-created_at").values_list("pk", flat=True)[:CHOICE_LIMIT])
        for wanted in (self.initial.get(name), self.data.get(name) if self.is_bound else None):
            if wanted not in (None, "") and str(wanted).isdigit():
                ids.append(int(wanted))
        return qs.filter(pk__in=ids).order_by("-created_at")

    def clean(self):
        data = super().clean()
        source = data.get("source")
        needed = {"blank": "client", "request": "work_request", "work_order": "work_order"}.get(source)
        if needed and not data.get(needed):
            self.add_error(needed, _("Choose one."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        source = data["source"]
        out: dict[str, Any] = {"title": data.get("title") or None}
        if source == "blank":
            out["client_id"] = data["client"].pk
            out["site_id"] = data["site"].pk if data.get("site") else None
        elif source == "request":
            out["work_request_id"] = data["work_request"].pk
        else:
            out["work_order_id"] = data["work_order"].pk
        return out


class QuoteHeaderForm(forms.Form):
    """A draft's title, texts, site, equipment and validity."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    site = forms.ModelChoiceField(label=_("Site"), required=False, queryset=Site.objects.none())
    equipment = forms.ModelChoiceField(
        label=_("Equipment"),
        required=False,
        queryset=Equipment.objects.none(),
        widget=DependentSelect(parent_field="site", parent_attr="site_id"),
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, help_text=_("Empty: set when it is sent.")
    )
    introduction = forms.CharField(
        label=_("Introduction"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    terms = forms.CharField(
        label=_("Terms"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, data=None, *, quote: Quote, **kwargs):
        initial = {
            "version": quote.version,
            "title": quote.title,
            "site": quote.site_id,
            "equipment": quote.equipment_id,
            "valid_until": quote.valid_until,
            "introduction": quote.introduction,
            "terms": quote.terms,
        }
        super().__init__(data, initial=initial, prefix="quote", **kwargs)
        self.fields["site"].queryset = Site.objects.filter(client_id=quote.client_id)
        self.fields["equipment"].queryset = Equipment.objects.filter(site__client_id=quote.client_id)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        site, equipment = data.pop("site", None), data.pop("equipment", None)
        data["site_id"] = site.pk if site else None
        data["equipment_id"] = equipment.pk if equipment else None
        return data

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


def _tax_label(rate: TaxRate) -> str:
    return rate.name


class QuoteLineForm(forms.Form):
    """One line of a draft (``prefix``: ``line-<id>``, or ``new`` for the add form). An empty unit price
    asks for the price list's price or the rate (parts, labour, travel)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=LineKind.choices, initial=LineKind.MANUAL)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=4, initial=1, widget=forms.TextInput(attrs=NUMBER)
    )
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False, widget=forms.TextInput(attrs={"size": 4}))
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=4,
        required=False,
        widget=forms.TextInput(attrs=NUMBER),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        widget=forms.TextInput(attrs=NUMBER),
    )
    discount_reason = forms.CharField(label=_("Discount reason"), max_length=200, required=False)
    tax_rate = forms.ChoiceField(label=_("VAT"), required=False)
    part = forms.ChoiceField(label=_("Part"), required=False)

    def __init__(
        self, data=None, *, line: QuoteLine | None = None, tax_rates: list[TaxRate], parts=None, prefix=None, **kw
    ):
        initial = {}
        choices = [("", _("Client's default"))] if line is None else []
        if line is not None:
            initial = {
                "kind": line.kind,
                "description": line.description,
                "quantity": plain_decimal(line.quantity),
                "unit": line.unit,
                "unit_price": plain_decimal(line.unit_price, 2),
                "discount_percent": plain_decimal(line.discount_percent) if line.discount_percent else "",
                "discount_reason": line.discount_reason,
            }
            same = [r for r in tax_rates if _same_tax(line, r)]
            if same:
                initial["tax_rate"] = str(same[0].pk)
            else:  # the rate it was copied from is gone or changed: keep the copy unless another is chosen
                rate = f"{line.tax_rate.normalize():f} %" if line.tax_category == "S" else line.tax_category
                choices = [("", _("As copied (%(rate)s)") % {"rate": rate})]
        super().__init__(data, initial=initial, prefix=prefix or (f"line-{line.pk}" if line else "new"), **kw)
        self.line = line
        self.fields["tax_rate"].choices = [*choices, *((str(r.pk), _tax_label(r)) for r in tax_rates)]
        self.fields["unit_price"].widget.attrs["placeholder"] = _("from the rates")
        self.fields["discount_reason"].widget.attrs["placeholder"] = _("Why the discount (the client reads it)")
        if line is not None:  # a row of the editor: no labels on screen, so name each input
            for field in self.fields.values():
                field.widget.attrs["aria-label"] = str(field.label)
            self.fields["unit_price"].widget.attrs["placeholder"] = ""
        if parts is None:
            del self.fields["part"]
        else:
            self.fields["part"].choices = [("", _("No part")), *((str(p.pk), f"{p.sku} · {p.name}") for p in parts)]

    def clean(self):
        data = super().clean()
        if self.line is None and not data.get("description") and not data.get("part"):
            self.add_error("description", _("Describe the line (or choose a part)."))
        elif self.line is not None and not data.get("description"):
            self.add_error("description", _("Describe the line."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {
            "kind": data["kind"],
            "quantity": data["quantity"],
            "unit_price": data.get("unit_price"),
            "discount_percent": data.get("discount_percent") or Decimal(0),
            "discount_reason": data.get("discount_reason") or "",
        }
        if data.get("description"):
            out["description"] = data["description"]
        if data.get("unit"):
            out["unit"] = data["unit"]
        if data.get("tax_rate"):
            out["tax_rate_id"] = int(data["tax_rate"])
        if "part" in self.fields and data.get("part"):
            out["part_id"] = int(data["part"])
        if self.line is None and out["unit_price"] is None:
            out.pop("unit_price")  # a new line without a price: priced from the rates, or refused
        return out


def _same_tax(line: QuoteLine, rate: TaxRate) -> bool:
    return (line.tax_category, line.tax_rate, line.exemption_reason, line.exemption_code) == (
        rate.category,
        rate.rate,
        rate.exemption_reason,
        rate.exemption_code,
    )


class QuoteSendForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    to = forms.EmailField(
        label=_("Send to"), widget=forms.EmailInput(attrs={"list": "quote-recipients", "autocomplete": "email"})
    )
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    message = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown above the link in the e-mail; the PDF is attached."),
    )

    def __init__(self, data=None, *, quote: Quote, recipient: str, validity: Any, **kwargs):
        initial = {"version": quote.version, "to": quote.sent_to or recipient, "valid_until": validity}
        super().__init__(data, initial=initial, prefix="send", **kwargs)
        if quote.status != QuoteStatus.DRAFT:
            del self.fields["valid_until"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"to": data["to"], "message": data.get("message") or "", "valid_until": data.get("valid_until")}


class QuoteConvertForm(forms.Form):
    target = forms.ChoiceField(choices=[("work_order", "work_order"), ("invoice", "invoice")], widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        label=_("Price"),
        choices=QuoteConversion.choices,
        initial=QuoteConversion.FIXED_PRICE,
        required=False,
        widget=forms.RadioSelect,
    )
    site = forms.ModelChoiceField(
        label=_("Site of the work"), required=False, queryset=Site.objects.none(), help_text=_("The quote names none.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, *, quote: Quote, target: str = "work_order", **kwargs):
        super().__init__(data, initial={"target": target, "version": quote.version}, **kwargs)
        if quote.site_id or quote.work_order_id or quote.work_request_id:
            del self.fields["site"]
        else:
            self.fields["site"].queryset = Site.objects.filter(client_id=quote.client_id)


class PublicAcceptForm(forms.Form):
    signed_by_name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    agree = forms.BooleanField(label=_("I accept this quote and its terms."))
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    PREFIX = "data:image/png;base64,"

    def clean_signature(self) -> bytes:
        raw = self.cleaned_data["signature"]
        if not raw:
            raise forms.ValidationError(_("Sign in the box first."))
        if not raw.startswith(self.PREFIX):
            raise forms.ValidationError(_("The signature must be a PNG image."))
        try:
            return base64.b64decode(raw[len(self.PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The signature could not be read; sign again.")) from None


class PublicRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you reject it?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    name = forms.CharField(label=_("Your name"), max_length=200, required=False)
