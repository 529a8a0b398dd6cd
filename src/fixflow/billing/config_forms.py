"""Forms of the billing configuration pages. They parse and show input; the services in
:mod:`.config_services` validate it against the organization's data and write. A refused input comes back
as a DomainError and is shown next to the field it names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fixflow.core.currencies import MINOR_UNITS
from fixflow.core.permissions import Actor
from fixflow.web.forms import ServiceForm, plain_decimal

from .choices import ContractPeriod, RateKind
from .config_services import RateRow, country_names
from .models import BillingSettings, PriceList, RateClass, TaxRate

# Currencies an invoice can be in (EN 16931: at most 2 decimals)
INVOICE_CURRENCIES = [(code, code) for code in sorted(MINOR_UNITS) if MINOR_UNITS[code] <= 2]
# Common EAS codes (Peppol endpoint schemes), offered as suggestions: any EAS code is accepted
ENDPOINT_SCHEMES = [
    ("0204", _("Leitweg-ID (German public sector)")),
    ("9930", _("German VAT id")),
    ("0088", _("GLN")),
    ("0060", _("DUNS")),
    ("9915", _("Austrian VAT id")),
    ("0208", _("Belgian enterprise number")),
    ("0184", _("Danish CVR")),
    ("0009", _("French SIRET")),
    ("0106", _("Dutch KvK")),
    ("0190", _("Dutch OIN")),
    ("0192", _("Norwegian organisation number")),
    ("0007", _("Swedish organisation number")),
    ("EM", _("E-mail address")),
]
NUMBER = {"step": "any", "inputmode": "decimal"}
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _country_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((code, f"{name} ({code})") for code, name in country_names().items())]


def _decimal_initial(form: forms.BaseForm, names, instance, places: int = 2) -> None:
    for name in names:
        value = getattr(instance, name, None)
        if value is not None:
            form.initial[name] = plain_decimal(value, places)


class SectionsMixin:
    """Fields shown in titled sections: ``sections`` is a tuple of (title, help, rows of field names)."""

    sections: tuple = ()

    def section_list(self) -> list[dict[str, Any]]:
        visible = {f.name: f for f in self.visible_fields()}
        out = []
        for title, note, rows in self.sections:
            bound = [[visible[n] for n in row if n in visible] for row in rows]
            out.append({"title": title, "help": note, "rows": [r for r in bound if r]})
        return out


# --- settings ---------------------------------------------------------------------------------


class BillingSettingsForm(SectionsMixin, ServiceForm):
    """The one billing settings form: seller, tax identifiers, bank, terms, logo, numbering, pricing."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=_("PNG or JPEG, at most 1 MB and 4000 pixels; printed at the top of quotes and invoices."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    sections = (
        (
            _("Seller"),
            _("Your company as it appears on invoices."),
            (
                ("legal_name",),
                ("street", "address_line_2"),
                ("postcode", "city"),
                ("country",),
                ("email", "phone"),
                ("logo",),
                ("remove_logo",),
            ),
        ),
        (
            _("Tax and registration"),
            _("Invoices need your VAT id or, without one, your tax number."),
            (("vat_id", "tax_number"), ("registration_id",)),
        ),
        (
            _("Bank and payment terms"),
            _("Printed on invoices with a QR code for SEPA transfers in euros."),
            (("bank_name",), ("iban", "bic"), ("payment_terms_days", "payment_terms_note")),
        ),
        (
            _("Numbering"),
            _("Invoice numbers look like INV-2026-00042; they count on per series without gaps."),
            (("invoice_series", "credit_note_series"), ("quote_prefix",)),
        ),
        (
            _("Pricing defaults"),
            _("Used when no contract, price list or rate class says otherwise."),
            (
                ("default_tax_rate",),
                ("labour_minimum_minutes", "labour_increment_minutes"),
                ("parts_markup_percent", "call_out_fee"),
                ("overtime_calendar", "overtime_multiplier"),
            ),
        ),
        (_("Follow-up"), "", (("leakage_days", "quote_validity_days"),)),
    )

    class Meta:
        model = BillingSettings
        fields = [
            "legal_name",
            "street",
            "address_line_2",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "vat_id",
            "tax_number",
            "registration_id",
            "bank_name",
            "iban",
            "bic",
            "payment_terms_days",
            "payment_terms_note",
            "invoice_series",
            "credit_note_series",
            "quote_prefix",
            "default_tax_rate",
            "labour_minimum_minutes",
            "labour_increment_minutes",
            "parts_markup_percent",
            "call_out_fee",
            "overtime_calendar",
            "overtime_multiplier",
            "leakage_days",
            "quote_validity_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        f = self.fields
        f["country"].choices = _country_choices(str(_("— choose —")))
        for name in ("iban", "vat_id", "bic"):
            f[name].max_length = 50
            f[name].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        f["iban"].widget.attrs["placeholder"] = "DE89 3704 0044 0532 0130 00"
        f["vat_id"].widget.attrs["placeholder"] = "DE123456789"
        f["vat_id"].help_text = _("With the country code, e.g. DE123456789.")
        f["default_tax_rate"].queryset = f["default_tax_rate"].queryset.filter(is_active=True) | TaxRate.objects.filter(
            pk=self.instance.default_tax_rate_id
        )
        f["default_tax_rate"].empty_label = _("— none —")
        f["default_tax_rate"].help_text = _("The VAT of clients without their own tax rate.")
        f["overtime_calendar"].empty_label = _("— no overtime —")
        f["overtime_calendar"].help_text = _("Labour outside these working hours is overtime.")
        f["call_out_fee"].help_text = _("0: none. In %(currency)s.") % {"currency": self.actor.organization.currency}
        f["payment_terms_note"].widget = forms.TextInput(attrs={"placeholder": _("e.g. Payable within 14 days.")})
        for name in ("parts_markup_percent", "call_out_fee", "overtime_multiplier"):
            f[name].widget.attrs.update(NUMBER)
        _decimal_initial(self, ("parts_markup_percent", "call_out_fee", "overtime_multiplier"), self.instance)
        if not self.instance.logo:
            del f["remove_logo"]

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("logo", None)
        data.pop("remove_logo", None)
        return data


# --- tax rates --------------------------------------------------------------------------------


class TaxRateForm(ServiceForm):
    layout = (("name",), ("category", "rate"), ("exemption_reason",), ("exemption_code",))

    class Meta:
        model = TaxRate
        fields = ["name", "category", "rate", "exemption_reason", "exemption_code", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate"].widget.attrs.update(NUMBER)
        _decimal_initial(self, ("rate",), self.instance)
        self.fields["exemption_reason"].help_text = _(
            "Printed on the invoice for E, AE, K, G and O, e.g. “Reverse charge” or the law that exempts it."
        )
        self.fields["exemption_code"].widget.attrs["list"] = "vatex-codes"


# --- rate classes, technicians, rate tables ---------------------------------------------------


class RateClassForm(ServiceForm):
    class Meta:
        model = RateClass
        fields = ["name"]
        help_texts = {"name": _("e.g. Service technician, Senior engineer, Apprentice.")}


class RateTableForm(forms.Form):
    """Per row of a rate table (the default and each rate class) the labour and travel price and cost
    per hour: fields ``<kind>-<class id or default>-unit_price`` / ``-unit_cost``."""

    def __init__(self, data=None, *, table, currency: str, **kwargs):
        super().__init__(data, **kwargs)
        self.table = table
        self.currency = currency
        for row in table:
            for kind in RateKind.values:
                rate = getattr(row, kind)
                for part in ("unit_price", "unit_cost"):
                    name = f"{kind}-{row.key}-{part}"
                    label = f"{row.rate_class.name if row.rate_class else _('Default')}: {RateKind(kind).label} "
                    label += str(_("price") if part == "unit_price" else _("cost"))
                    self.fields[name] = forms.CharField(
                        label=label,
                        required=False,
                        widget=forms.TextInput(attrs={**NUMBER, "aria-label": label, "size": 7, "placeholder": "–"}),
                    )
                    if rate is not None:
                        self.initial[name] = plain_decimal(getattr(rate, part), 2)

    def grid(self) -> list[dict[str, Any]]:
        rows = []
        for row in self.table:
            cells = [
                self[f"{kind}-{row.key}-{part}"] for kind in RateKind.values for part in ("unit_price", "unit_cost")
            ]
            rows.append({"row": row, "cells": cells})
        return rows

    def rows(self) -> list[RateRow]:
        out = []
        for row in self.table:
            for kind in RateKind.values:
                price = self.cleaned_data.get(f"{kind}-{row.key}-unit_price", "").strip()
                cost = self.cleaned_data.get(f"{kind}-{row.key}-unit_cost", "").strip()
                out.append(RateRow(row.rate_class.pk if row.rate_class else None, kind, price or None, cost or None))
        return out


class TechniciansForm(forms.Form):
    """One select per member who records work: the rate class they bill at."""

    def __init__(self, data=None, *, technicians, classes, **kwargs):
        super().__init__(data, **kwargs)
        self.technicians = technicians
        choices = [("", _("— none —")), *((str(c.pk), c.name) for c in classes)]
        for t in technicians:
            self.fields[f"tech-{t.user_id}"] = forms.ChoiceField(
                label=t.name, choices=choices, required=False, widget=forms.Select(attrs={"aria-label": t.name})
            )
            self.initial[f"tech-{t.user_id}"] = str(t.rate_class_id or "")

    def rows(self) -> list[dict[str, Any]]:
        return [{"technician": t, "field": self[f"tech-{t.user_id}"]} for t in self.technicians]

    def changes(self) -> list[tuple[int, int | None]]:
        out = []
        for t in self.technicians:
            chosen = self.cleaned_data.get(f"tech-{t.user_id}") or None
            chosen = int(chosen) if chosen else None
            if chosen != t.rate_class_id:
                out.append((t.user_id, chosen))
        return out


# --- price lists ------------------------------------------------------------------------------


class PriceListForm(ServiceForm):
    currency = forms.ChoiceField(label=_("Currency"), choices=INVOICE_CURRENCIES)
    layout = (("name", "currency"), ("parts_markup_percent", "call_out_fee"))

    class Meta:
        model = PriceList
        fields = ["name", "currency", "parts_markup_percent", "call_out_fee", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_edit:
            self.initial.setdefault("currency", self.actor.organization.currency)
        for name in ("parts_markup_percent", "call_out_fee"):
            self.fields[name].widget.attrs.update(NUMBER)
        self.fields["call_out_fee"].help_text = _("Empty: the organization's.")
        _decimal_initial(self, ("parts_markup_percent", "call_out_fee"), self.instance)


class PriceListItemForm(forms.Form):
    sku = forms.CharField(
        label=_("Part (SKU)"),
        max_length=64,
        widget=forms.TextInput(attrs={"list": "part-options", "autocomplete": "off", "placeholder": _("Search…")}),
    )
    unit_price = forms.DecimalField(
        label=_("Price"), min_value=0, max_digits=14, decimal_places=4, widget=forms.NumberInput(attrs=NUMBER)
    )


class PriceListImportForm(forms.Form):
    lines = forms.CharField(
        label=_("Paste part prices"),
        max_length=500_000,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "SEAL-40;12.50\nFLT-10;8,90", "spellcheck": "false"}),
        help_text=_("One part per line: SKU;price, or two columns copied from a spreadsheet. All or nothing."),
    )


# --- clients' billing details -----------------------------------------------------------------


class ClientBillingForm(SectionsMixin, forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False, help_text=_("Empty: the name."))
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    address_line_2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    vat_id = forms.CharField(
        label=_("VAT id"),
        max_length=40,
        required=False,
        help_text=_("The client's VAT id, with the country code; the same as on the client."),
    )
    buyer_reference = forms.CharField(
        label=_("Buyer reference"), max_length=100, required=False, help_text=_("Leitweg-ID, PO or cost centre.")
    )
    endpoint_scheme = forms.CharField(
        label=_("E-invoice address scheme"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"list": "eas-codes", "autocomplete": "off", "size": 6}),
        help_text=_("EAS code, e.g. 0204 (Leitweg-ID), 9930 (German VAT id), EM (e-mail)."),
    )
    endpoint_id = forms.CharField(label=_("E-invoice address"), max_length=100, required=False)
    invoice_email = forms.EmailField(label=_("Send invoices to"), required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    price_list = forms.ModelChoiceField(label=_("Price list"), queryset=None, required=False)
    tax_rate = forms.ModelChoiceField(label=_("Tax"), queryset=None, required=False)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=365, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    sections = (
        (
            _("Invoice address"),
            "",
            (("legal_name",), ("street", "address_line_2"), ("postcode", "city"), ("country",)),
        ),
        (
            _("Tax and e-invoicing"),
            "",
            (("vat_id", "buyer_reference"), ("endpoint_scheme", "endpoint_id"), ("invoice_email",)),
        ),
        (_("Prices and terms"), "", (("currency", "price_list"), ("tax_rate", "payment_terms_days"))),
    )

    def __init__(self, data=None, *, actor: Actor, client, billing, **kwargs):
        super().__init__(data, **kwargs)
        org = actor.organization
        self.fields["country"].choices = _country_choices(str(_("— choose —")))
        self.fields["currency"].choices = [("", _("— the price list's, else %(c)s —") % {"c": org.currency})]
        self.fields["currency"].choices += INVOICE_CURRENCIES
        lists = PriceList.objects.filter(organization_id=actor.organization_id)
        self.fields["price_list"].queryset = lists.filter(is_active=True) | lists.filter(pk=billing.price_list_id)
        self.fields["price_list"].empty_label = _("— none —")
        rates = TaxRate.objects.filter(organization_id=actor.organization_id)
        self.fields["tax_rate"].queryset = rates.filter(is_active=True) | rates.filter(pk=billing.tax_rate_id)
        self.fields["tax_rate"].empty_label = _("— the organization's default —")
        self.fields["payment_terms_days"].help_text = _("Empty: the organization's.")
        for name in ("vat_id", "endpoint_id"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        initial = {
            name: getattr(billing, name)
            for name in (
                "legal_name",
                "street",
                "address_line_2",
                "postcode",
                "city",
                "country",
                "buyer_reference",
                "endpoint_scheme",
                "endpoint_id",
                "invoice_email",
                "currency",
                "payment_terms_days",
            )
        }
        initial.update(
            vat_id=client.vat_id,
            price_list=billing.price_list_id,
            tax_rate=billing.tax_rate_id,
            version=client.version,
        )
        self.initial.update(initial)

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "price_list", "tax_rate")}
        data["price_list_id"] = self.cleaned_data["price_list"].pk if self.cleaned_data.get("price_list") else None
        data["tax_rate_id"] = self.cleaned_data["tax_rate"].pk if self.cleaned_data.get("tax_rate") else None
        return data


# --- service contracts ------------------------------------------------------------------------


class ParentSelectMultiple(forms.SelectMultiple):
    """A multiple select whose options carry ``data-parent`` (the client), so app.js shows only the
    chosen client's sites or equipment."""

    def __init__(self, *, parent_field: str, parent_of, attrs: dict | None = None):
        super().__init__(attrs={**(attrs or {}), "data-filter-by": parent_field})
        self.parent_of = parent_of

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-parent"] = str(self.parent_of(instance))
        return option


class ContractForm(SectionsMixin, forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=None)
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("e.g. Pump maintenance 2026"))
    reference = forms.CharField(label=_("Contract number"), max_length=64, required=False)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE, help_text=_("Empty: open."))
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"),
        queryset=None,
        required=False,
        widget=ParentSelectMultiple(parent_field="client", parent_of=lambda s: s.client_id, attrs={"size": 6}),
        help_text=_("None chosen: all the client's sites."),
    )
    equipment = forms.ModelMultipleChoiceField(
        label=_("Equipment"),
        queryset=None,
        required=False,
        widget=ParentSelectMultiple(parent_field="client", parent_of=lambda e: e.site.client_id, attrs={"size": 6}),
        help_text=_("None chosen: everything at the sites. Choose equipment to cover only it."),
    )
    included_labour_hours = forms.DecimalField(
        label=_("Included labour (hours)"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        initial=0,
        widget=forms.NumberInput(attrs=NUMBER),
        help_text=_("Per period; used up by the work it covers, then billed."),
    )
    period = forms.ChoiceField(label=_("Period"), choices=ContractPeriod.choices, initial=ContractPeriod.YEAR)
    covers_travel = forms.BooleanField(label=_("Included time covers travel too"), required=False)
    covered_part_categories = forms.ModelMultipleChoiceField(
        label=_("Covered part categories"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Parts of these categories are not charged."),
    )
    waives_call_out = forms.BooleanField(label=_("No call-out fee"), required=False)
    discount_percent = forms.DecimalField(
        label=_("Discount on the rest (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=0,
        widget=forms.NumberInput(attrs=NUMBER),
    )
    price_list = forms.ModelChoiceField(
        label=_("Price list"), queryset=None, required=False, help_text=_("Empty: the client's.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    sections = (
        (_("Contract"), "", (("client",), ("name", "reference"), ("valid_from", "valid_until"), ("is_active",))),
        (_("What it covers"), "", (("sites", "equipment"), ("covered_part_categories",))),
        (
            _("Included work and prices"),
            "",
            (
                ("included_labour_hours", "period"),
                ("covers_travel",),
                ("waives_call_out",),
                ("discount_percent", "price_list"),
                ("notes",),
            ),
        ),
    )

    def __init__(self, data=None, *, actor: Actor, contract=None, client_id=None, **kwargs):
        from fixflow.assets.models import Equipment
        from fixflow.customers.models import Client, Site
        from fixflow.inventory.models import PartCategory

        super().__init__(data, **kwargs)
        org = actor.organization_id
        self.contract = contract
        self.fields["client"].queryset = Client.objects.filter(organization_id=org)
        self.fields["client"].empty_label = _("— choose a client —")
        self.fields["sites"].queryset = Site.objects.filter(organization_id=org).order_by("name")
        self.fields["sites"].label_from_instance = lambda s: s.name
        self.fields["equipment"].queryset = Equipment.objects.filter(organization_id=org).select_related("site__client")
        self.fields["equipment"].label_from_instance = lambda e: f"{e.name} · {e.site.name}"
        self.fields["covered_part_categories"].queryset = PartCategory.objects.filter(organization_id=org)
        lists = PriceList.objects.filter(organization_id=org)
        current = contract.price_list_id if contract else None
        self.fields["price_list"].queryset = lists.filter(is_active=True) | lists.filter(pk=current)
        self.fields["price_list"].empty_label = _("— the client's —")
        if contract is not None:
            self.initial.update(
                client=contract.client_id,
                name=contract.name,
                reference=contract.reference,
                valid_from=contract.valid_from,
                valid_until=contract.valid_until,
                sites=[s.pk for s in contract.sites.all()],
                equipment=[e.pk for e in contract.equipment.all()],
                included_labour_hours=plain_decimal(Decimal(contract.included_labour_minutes) / 60),
                period=contract.period,
                covers_travel=contract.covers_travel,
                covered_part_categories=[c.pk for c in contract.covered_part_categories.all()],
                waives_call_out=contract.waives_call_out,
                discount_percent=plain_decimal(contract.discount_percent),
                price_list=contract.price_list_id,
                is_active=contract.is_active,
                notes=contract.notes,
                version=contract.version,
            )
        elif client_id:
            self.initial["client"] = client_id

    @property
    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def clean_included_labour_hours(self):
        hours = self.cleaned_data["included_labour_hours"] or Decimal(0)
        minutes = hours * 60
        if minutes != minutes.to_integral_value():
            raise forms.ValidationError(_("Enter whole minutes, e.g. 7.5 or 7.25 hours."))
        return hours

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "client_id": d["client"].pk,
            "name": d["name"],
            "reference": d["reference"],
            "valid_from": d["valid_from"],
            "valid_until": d["valid_until"],
            "site_ids": [s.pk for s in d["sites"]],
            "equipment_ids": [e.pk for e in d["equipment"]],
            "included_labour_minutes": int(d["included_labour_hours"] * 60),
            "period": d["period"],
            "covers_travel": d["covers_travel"],
            "covered_part_category_ids": [c.pk for c in d["covered_part_categories"]],
            "waives_call_out": d["waives_call_out"],
            "discount_percent": d["discount_percent"],
            "price_list_id": d["price_list"].pk if d["price_list"] else None,
            "is_active": d["is_active"],
            "notes": d["notes"],
        }


class ContractFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False, widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name…")})
    )
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))],
    )

    def __init__(self, data, *, actor: Actor, **kwargs):
        from fixflow.customers.models import Client

        super().__init__(data, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(organization_id=actor.organization_id)
        self.fields["client"].empty_label = _("All clients")

    def values(self) -> dict[str, Any]:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {
            "q": d.get("q") or "",
            "client_id": d["client"].pk if d.get("client") else None,
            "active": {"inactive": False, "all": None}.get(d.get("active") or "", True),
        }

    @property
    def is_filtered(self) -> bool:
        v = self.values()
        return bool(v["q"] or v["client_id"] or v["active"] is not True)


class ActiveFilterForm(forms.Form):
    """The filter bar of the tax rate and price list pages."""

    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={"type": "search"}))
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("all", _("All")), ("active", _("Active")), ("inactive", _("Inactive"))],
    )

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)

    def values(self) -> dict[str, Any]:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {"q": d.get("q") or "", "active": {"active": True, "inactive": False}.get(d.get("active") or "")}

    @property
    def is_filtered(self) -> bool:
        v = self.values()
        return bool(v["q"] or v["active"] is not None)
