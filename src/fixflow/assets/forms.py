"""Forms of the equipment and category pages (parse and show; the services validate and write)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.entities import entity_queryset
from fixflow.customers.services import CLIENT, SITE
from fixflow.web.forms import DependentSelect, ListFilterForm, ServiceForm

from .choices import Criticality, EquipmentStatus
from .models import Equipment, EquipmentCategory
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
