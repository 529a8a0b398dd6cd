"""Forms of the parts catalogue pages (parse and show; the service validates and writes)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fixflow.web.forms import ACTIVE_CHOICES, ListFilterForm, ServiceForm, plain_decimal

from .models import Part, PartCategory


class PartForm(ServiceForm):
    layout = (("sku", "name"), ("unit", "barcode"), ("unit_cost", "sale_price"), ("category",))

    class Meta:
        model = Part
        fields = ["sku", "name", "unit", "barcode", "unit_cost", "sale_price", "category", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("unit_cost", "sale_price"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})
            if self.is_edit:
                self.initial[name] = plain_decimal(getattr(self.instance, name), 2)
        self.fields["unit_cost"].help_text = _("What one unit costs you, in %(currency)s.") % {
            "currency": self.actor.organization.currency
        }
        self.fields["sale_price"].help_text = _("What the client pays per unit, net, in %(currency)s.") % {
            "currency": self.actor.organization.currency
        }
        self.fields["category"].empty_label = _("— no category —")
        self.fields["category"].help_text = _("Service contracts cover parts by category.")


class PartCategoryForm(ServiceForm):
    class Meta:
        model = PartCategory
        fields = ["name"]


class PartFilterForm(ListFilterForm):
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False)
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("SKU, name or barcode…")
        self.fields["category"].queryset = PartCategory.objects.filter(organization_id=self.actor.organization_id)
        self.fields["category"].empty_label = _("All categories")


class PartCategoryFilterForm(ListFilterForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Category name…")
