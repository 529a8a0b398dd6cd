"""Forms of the client, contact and site pages (parse and show; the services validate and write)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fixflow.core.entities import entity_queryset
from fixflow.web.forms import ACTIVE_CHOICES, TIMEZONE_FIELD_CHOICES, ListFilterForm, ServiceForm, plain_decimal

from .models import Client, Contact, Site
from .services import CLIENT


class ClientForm(ServiceForm):
    layout = (("name",), ("email", "phone"), ("vat_id",), ("billing_address", "notes"))

    class Meta:
        model = Client
        fields = ["name", "email", "phone", "vat_id", "billing_address", "notes", "is_active"]
        widgets = {"billing_address": forms.Textarea(attrs={"rows": 3}), "notes": forms.Textarea(attrs={"rows": 3})}


class ContactForm(ServiceForm):
    layout = (("name", "job_title"), ("email", "phone"))

    class Meta:
        model = Contact
        fields = ["name", "job_title", "email", "phone", "is_primary", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class SiteForm(ServiceForm):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIMEZONE_FIELD_CHOICES,
        initial="Europe/Berlin",
        help_text=_("Local time of the site: schedules and SLA hours use it."),
    )
    layout = (("client", "name"), ("address", "access_notes"), ("timezone",), ("latitude", "longitude"))

    class Meta:
        model = Site
        fields = ["client", "name", "address", "timezone", "latitude", "longitude", "access_notes", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3}), "access_notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = entity_queryset(CLIENT, actor=self.actor).filter(
            Q(is_active=True) | Q(pk=self.instance.client_id or 0)
        )
        self.fields["client"].empty_label = _("— choose a client —")
        if not self.initial.get("timezone"):
            self.initial["timezone"] = self.actor.organization.timezone
        for name in ("latitude", "longitude"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})
            if self.is_edit:
                self.initial[name] = plain_decimal(getattr(self.instance, name))


class ClientFilterForm(ListFilterForm):
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)


class SiteFilterForm(ListFilterForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False, empty_label=_("All clients"))
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = entity_queryset(CLIENT, actor=self.actor)
        if self.actor.is_client:
            del self.fields["client"]
