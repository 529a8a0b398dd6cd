"""Forms of the equipment and category pages (parse and show; the services validate and write)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.entities import entity_queryset
from fixflow.customers.services import CLIENT, SITE
from fixflow.service.forms import LocalDateTimeField, site_aware
from fixflow.web.forms import DependentSelect, ListFilterForm, ServiceForm, plain_decimal

from .choices import Criticality, EquipmentStatus, MeterKind, ReadingKind
from .models import Equipment, EquipmentCategory, Meter
from .services import CATEGORY, EQUIPMENT


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.client.name} · {obj.name}"


class EquipmentForm(ServiceForm):
    site = SiteChoiceField(label=_("Site"), queryset=None, empty_label=_("— choose a site —"))
    layout = (
        ("site", "parent"),
        ("name", "category"),
        ("manufacturer", "model"),
        ("serial_number",),
        ("install_date", "warranty_end"),
        ("criticality", "status"),
    )

    class Meta:
        model = Equipment
        fields = [
            "site",
            "parent",
            "name",
            "category",
            "manufacturer",
            "model",
            "serial_number",
            "install_date",
            "warranty_end",
            "criticality",
            "status",
            "notes",
        ]
        widgets = {
            "parent": DependentSelect(parent_field="site", parent_attr="site_id"),
            "install_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "warranty_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current_site = self.instance.site_id if self.is_edit else 0
        self.fields["site"].queryset = (
            entity_queryset(SITE, actor=self.actor)
            .filter(Q(is_active=True) | Q(pk=current_site))
            .order_by("client__name", "name")
        )
        parents = entity_queryset(EQUIPMENT, actor=self.actor).order_by("name", "id")
        if self.is_edit:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("— none: top-level equipment —")
        self.fields["parent"].help_text = _("The larger item this is part of, at the same site.")
        self.fields["category"].queryset = entity_queryset(CATEGORY, actor=self.actor)
        self.fields["category"].empty_label = _("— no category —")


class CategoryForm(ServiceForm):
    class Meta:
        model = EquipmentCategory
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class EquipmentFilterForm(ListFilterForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False, empty_label=_("All clients"))
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=None,
        required=False,
        empty_label=_("All sites"),
        widget=DependentSelect(parent_field="client", parent_attr="client_id"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False, empty_label=_("All categories")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *EquipmentStatus.choices]
    )
    criticality = forms.ChoiceField(
        label=_("Criticality"), required=False, choices=[("", _("Any criticality")), *Criticality.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = entity_queryset(CLIENT, actor=self.actor)
        self.fields["site"].queryset = entity_queryset(SITE, actor=self.actor).order_by("name", "id")
        self.fields["category"].queryset = entity_queryset(CATEGORY, actor=self.actor)
        if self.actor.is_client:
            del self.fields["client"]

    def values(self):
        values = super().values()
        if "client" in values:
            values["site__client"] = values.pop("client")
        return values


class CategoryFilterForm(ListFilterForm):
    pass


# --- meters and readings -------------------------------------------------------------------------


class MeterForm(ServiceForm):
    """Add or change a meter. The kind stays fixed once the meter has readings (the service says so too)."""

    layout = (("name", "unit"), ("kind",), ("rollover_at", "usage_window_days"))

    class Meta:
        model = Meter
        fields = ["name", "unit", "kind", "rollover_at", "usage_window_days", "is_active"]
        widgets = {
            "kind": forms.RadioSelect,
            "rollover_at": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rollover_at"].help_text = _(
            "Continuous meters only: the highest value the display shows before it starts again at zero "
            "(e.g. 99999.9). Leave empty if it never wraps round."
        )
        if self.instance.rollover_at is not None and not self.is_bound:
            self.initial["rollover_at"] = plain_decimal(self.instance.rollover_at)
        if not self.is_edit:
            del self.fields["is_active"]
        else:
            self.fields["is_active"].help_text = _(
                "Untick to stop recording on this meter; its readings and chart stay on the equipment page."
            )
            if self.instance.last_value is not None:
                self.fields["kind"].disabled = True
                self.fields["kind"].help_text = _("A meter with readings keeps its kind; add a new meter instead.")


class ReadingForm(forms.Form):
    """One reading of one meter, typed at the meter's site: the value, when (empty: now) and its kind.

    Rendered with the prefix ``m<meter id>`` so several meters' forms can share a page. The service
    decides whether the reading is acceptable (in order, not below the last unless the meter was
    replaced or rolled over).
    """

    # Text, not a DecimalField: the service reads "1234,5" as well as "1234.5" and explains what it refuses.
    value = forms.CharField(
        label=_("Reading"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "enterkeyhint": "done"}),
    )
    read_at = LocalDateTimeField(label=_("When"), required=False, help_text=_("Empty: now. In the site's local time."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ReadingKind.choices, initial=ReadingKind.READING, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, meter: Meter, **kwargs):
        kwargs.setdefault("prefix", f"m{meter.pk}")
        super().__init__(*args, **kwargs)
        self.meter = meter
        unit = meter.unit
        self.fields["value"].label = _("Reading (%(unit)s)") % {"unit": unit} if unit else _("Reading")
        if meter.kind == MeterKind.GAUGE:
            del self.fields["kind"]
        elif meter.rollover_at is None:
            self.fields["kind"].choices = [
                (value, label) for value, label in ReadingKind.choices if value != ReadingKind.ROLLOVER
            ]
        self.fields["read_at"].help_text = _("Empty: now. Local time at the site (%(tz)s).") % {
            "tz": meter.equipment.site.timezone
        }

    def service_kwargs(self) -> dict:
        """``value``, ``read_at`` (aware, at the site), ``kind`` and ``note`` as ``reading_record`` takes them."""
        data = self.cleaned_data
        return {
            "value": data["value"],
            "read_at": site_aware(data.get("read_at"), self.meter.equipment.site.timezone),
            "kind": data.get("kind") or ReadingKind.READING,
            "note": data.get("note") or "",
        }
