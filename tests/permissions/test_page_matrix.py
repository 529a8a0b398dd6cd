"""The page permission matrix: every named URL of ``fixflow.urls`` (the API under ``api/v1/`` and the
admin aside) × every kind of caller.

Each URL name needs a rule below; a new page without one fails ``test_every_page_has_a_rule``. A rule says
how to reverse the URL from the scenario, which methods it serves (GET for pages, POST with a valid body
for actions) and which roles may use it. The others must be refused: anonymous callers are sent to the
login page (with ``next``), members without the right get 403 or 404 — 404, never 403, for objects outside
their scope (another client, someone else's request) or their organization — and a refused POST changes
nothing. Pages shown to another client's user or another organization never mention this client's data.
"""

from __future__ import annotations

import base64
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import CheckboxInput
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

import fixflow.urls
from fixflow.assets.forms import CategoryForm, EquipmentForm
from fixflow.assets.models import Equipment, EquipmentCategory
from fixflow.core.middleware import SESSION_ORGANIZATION_KEY
from fixflow.customers.forms import ClientForm, ContactForm, SiteForm
from fixflow.customers.models import Client as ClientRow
from fixflow.customers.models import Contact, Site
from fixflow.inventory.forms import PartForm
from fixflow.inventory.models import Part
from fixflow.service import services
from fixflow.service.forms import WorkOrderEditForm
from fixflow.service.models import WorkOrder, WorkOrderTemplate
from fixflow.web.forms import OrganizationForm, TemplateForm

from .scenario import PNG_1PX, Scenario

ROLES = [
    "anonymous",
    "other_org",
    "other_org_admin",
    "admin",
    "dispatcher",
    "technician",
    "technician2",
    "accountant",
    "requester",
    "client_user",
    "other_client_user",
]
OTHER_ORG = frozenset({"other_org", "other_org_admin"})  # members of another tenant: a dispatcher, an admin
MEMBERS = frozenset(ROLES) - {"anonymous"} - OTHER_ORG
ADMIN = frozenset({"admin"})
OFFICE = frozenset({"admin", "dispatcher"})
STAFF = frozenset({"admin", "dispatcher", "technician", "technician2", "accountant"})
RECORD = frozenset({"admin", "dispatcher", "technician"})  # technician2 is not assigned to the work order
BILLING = frozenset({"admin", "dispatcher", "accountant"})
SEE_WORK_ORDER = MEMBERS - {"other_client_user"}
SEE_REQUEST = frozenset({"admin", "dispatcher", "requester", "client_user"})
# members for whom an object exists only in someone else's scope: they must get 404, never 403
OUT_OF_CLIENT = frozenset({"other_client_user"})
OUT_OF_REQUEST = MEMBERS - SEE_REQUEST

SKIPPED_PREFIXES = ("admin/", "api/v1/", "static/", "media/")

Body = Callable[[Scenario, str], dict]


@dataclass(frozen=True)
class Rule:
    allowed: frozenset
    kwargs: dict[str, str] = field(default_factory=dict)  # URL kwarg -> scenario id
    methods: tuple[str, ...] = ("GET",)
    body: Body | None = None  # the POST data, from the scenario and the caller's role
    hidden: frozenset = frozenset()  # members outside the object's scope: 404
    ok: dict[str, frozenset] = field(default_factory=dict)  # method -> statuses meaning success (200 / 302)
    public: bool = False  # no sign-in needed (login, logout)
    login_next: bool = True  # anonymous callers are sent to the login page with ?next=<this page>
    setup: Callable[[Scenario, object], None] | None = None  # bring the scenario into the state the page needs
    check: Callable[[str, bool, object, Client, Scenario], None] | None = None  # extra assertions

    def success_statuses(self, method: str) -> frozenset:
        return self.ok.get(method) or frozenset({200} if method == "GET" else {302})


# --- POST bodies ---------------------------------------------------------------------------------


def form_body(form, **changes) -> dict:
    """What a browser posts back for an unchanged form (checkboxes only when ticked), with ``changes``."""
    out = {}
    for name, form_field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(form_field.widget, CheckboxInput):
            if value:
                out[form.add_prefix(name)] = "on"
            continue
        out[form.add_prefix(name)] = value
    out.update({form.add_prefix(k): v for k, v in changes.items()})
    return out


def _admin(s: Scenario):
    return s.actors["admin"]


def _template_body(s: Scenario, template=None, **changes) -> dict:
    data = form_body(TemplateForm(instance=template, actor=_admin(s)), **changes)
    data.update(
        {
            "checklist-TOTAL_FORMS": "1",
            "checklist-INITIAL_FORMS": "0",
            "checklist-MIN_NUM_FORMS": "0",
            "checklist-MAX_NUM_FORMS": "1000",
            "checklist-0-label": "Check pressure",
            "checklist-0-kind": "checkbox",
            "checklist-0-is_required": "on",
            "checklist-0-ORDER": "1",
            "parts-TOTAL_FORMS": "1",
            "parts-INITIAL_FORMS": "0",
            "parts-MIN_NUM_FORMS": "0",
            "parts-MAX_NUM_FORMS": "1000",
            "parts-0-part": str(s.ids["part"]),
            "parts-0-quantity": "2",
        }
    )
    return data


def _site_local(s: Scenario, minutes_ago: int) -> str:
    """A time ``minutes_ago`` as the site's wall clock, as a datetime-local input sends it."""
    tz = zoneinfo.ZoneInfo(Site.objects.get(pk=s.ids["site"]).timezone)
    return (timezone.now() - timedelta(minutes=minutes_ago)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _wo(s: Scenario) -> WorkOrder:
    return WorkOrder.objects.get(pk=s.ids["work_order"])


def _own_location(s: Scenario, role: str) -> dict:
    """The client and site a caller reports on: their own (another client's user: their client's)."""
    prefix = "other_" if role == "other_client_user" else ""
    return {"client": s.ids[f"{prefix}client"], "site": s.ids[f"{prefix}site"]}


# --- scenario states and extra checks ------------------------------------------------------------


def _signed(s: Scenario, world) -> None:
    services.signature_capture(
        actor=world.technician, work_order_id=s.ids["work_order"], image_png=PNG_1PX, signed_by_name="Hans Meier"
    )


def _completed(s: Scenario, world) -> None:
    wo_id = s.ids["work_order"]
    services.checklist_answer(
        actor=world.technician, work_order_id=wo_id, item_id=s.ids["checklist_item"], value="true"
    )
    services.work_order_transition(
        actor=world.technician,
        work_order_id=wo_id,
        to="completed",
        resolution_notes="Seal replaced, pressure back to 2 bar",
    )


INTERNAL = ("Key is in the meter cabinet", "meter-cabinet.png", "Shaft seal kit")  # note, file, part used


def _internal_records(s: Scenario, world) -> None:
    wo_id = s.ids["work_order"]
    services.note_create(actor=world.technician, work_order_id=wo_id, body=INTERNAL[0], is_client_visible=False)
    services.attachment_add(
        actor=world.technician,
        work_order_id=wo_id,
        is_client_visible=False,
        upload=SimpleUploadedFile(INTERNAL[1], PNG_1PX, content_type="image/png"),
    )


def _internal_records_for_staff_only(role, allowed, response, client, s) -> None:
    if allowed:
        html = _content(response)
        shown = {text for text in INTERNAL if text in html}
        assert shown == (set(INTERNAL) if role in STAFF else set()), f"{role} sees {shown}"


def _organization_switched(role, allowed, response, client, s) -> None:
    switched = client.session.get(SESSION_ORGANIZATION_KEY) == s.ids["organization"]
    assert switched == (role in MEMBERS), f"{role} switched to an organization they are not a member of"


def _signed_in_users_skip_the_form(role, allowed, response, client, s) -> None:
    assert response.status_code == (200 if role == "anonymous" else 302)


def _signed_out(role, allowed, response, client, s) -> None:
    assert "_auth_user_id" not in client.session


def _token_shown(role, allowed, response, client, s) -> None:
    if allowed:
        assert response.context["raw_token"], "the new token is shown once"


# --- the rules -----------------------------------------------------------------------------------

WO = {"pk": "work_order"}

RULES: dict[str, Rule] = {
    # sign-in, home, tokens
    "login": Rule(
        frozenset(ROLES), public=True, ok={"GET": frozenset({200, 302})}, check=_signed_in_users_skip_the_form
    ),
    "logout": Rule(frozenset(ROLES), methods=("POST",), public=True, body=lambda s, r: {}, check=_signed_out),
    "home": Rule(MEMBERS),
    # a form action: after signing in there is nothing to come back to
    "switch_organization": Rule(
        MEMBERS,
        methods=("POST",),
        login_next=False,
        check=_organization_switched,
        body=lambda s, r: {"organization": s.ids["organization"]},
    ),
    "api_tokens": Rule(
        MEMBERS,
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "nightly export"},
        ok={"POST": frozenset({200})},
        check=_token_shown,
    ),
    # settings
    "settings_home": Rule(STAFF),
    "settings_organization": Rule(
        ADMIN,
        methods=("GET", "POST"),
        body=lambda s, r: form_body(
            OrganizationForm(instance=_admin(s).organization, actor=_admin(s)), name="Acme Facility Services"
        ),
    ),
    "member_list": Rule(ADMIN),
    "member_create": Rule(
        ADMIN,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "email": "new.technician@example.com",
            "full_name": "Nina Neu",
            "role": "technician",
            "password": "a-long-unusual-passphrase-42",
        },
    ),
    "member_edit": Rule(
        ADMIN,
        kwargs={"pk": "membership"},
        methods=("GET", "POST"),
        body=lambda s, r: {"role": "dispatcher", "client": "", "is_active": "on"},
    ),
    "template_list": Rule(STAFF),
    "template_create": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: _template_body(s, name="Lift inspection", type="inspection", default_priority="normal"),
    ),
    "template_edit": Rule(
        OFFICE,
        kwargs={"pk": "template"},
        methods=("GET", "POST"),
        body=lambda s, r: _template_body(s, WorkOrderTemplate.objects.get(pk=s.ids["template"]), description="Yearly"),
    ),
    "change_history": Rule(ADMIN),
    # clients, contacts, sites
    "client_list": Rule(MEMBERS),
    "client_create": Rule(OFFICE, methods=("GET", "POST"), body=lambda s, r: {"name": "New Co", "is_active": "on"}),
    "client_detail": Rule(MEMBERS - OUT_OF_CLIENT, kwargs={"pk": "client"}, hidden=OUT_OF_CLIENT),
    "client_edit": Rule(
        OFFICE,
        kwargs={"pk": "client"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: form_body(
            ClientForm(instance=ClientRow.objects.get(pk=s.ids["client"]), actor=_admin(s)), phone="+49 30 1234"
        ),
    ),
    # GET only leads back to the client page, where the form is
    "contact_create": Rule(
        OFFICE,
        kwargs={"client_pk": "client"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        ok={"GET": frozenset({302})},
        body=lambda s, r: {"new-name": "Max Mustermann", "new-phone": "+49 30 999"},
    ),
    "contact_edit": Rule(
        OFFICE,
        kwargs={"pk": "contact"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: form_body(
            ContactForm(
                instance=Contact.objects.get(pk=s.ids["contact"]), actor=_admin(s), prefix=f"contact-{s.ids['contact']}"
            ),
            phone="+49 30 555",
        ),
    ),
    "contact_delete": Rule(
        OFFICE, kwargs={"pk": "spare_contact"}, methods=("POST",), hidden=OUT_OF_CLIENT, body=lambda s, r: {}
    ),
    "site_list": Rule(MEMBERS),
    "site_create": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "client": s.ids["client"],
            "name": "Pumpwerk Süd",
            "timezone": "Europe/Berlin",
            "is_active": "on",
        },
    ),
    "site_detail": Rule(MEMBERS - OUT_OF_CLIENT, kwargs={"pk": "site"}, hidden=OUT_OF_CLIENT),
    "site_edit": Rule(
        OFFICE,
        kwargs={"pk": "site"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: form_body(
            SiteForm(instance=Site.objects.get(pk=s.ids["site"]), actor=_admin(s)), access_notes="Key at the gate"
        ),
    ),
    # equipment and categories
    "equipment_list": Rule(MEMBERS),
    "equipment_create": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: {"site": s.ids["site"], "name": "Pump P9", "criticality": "medium", "status": "operational"},
    ),
    "equipment_detail": Rule(MEMBERS - OUT_OF_CLIENT, kwargs={"pk": "equipment"}, hidden=OUT_OF_CLIENT),
    "equipment_edit": Rule(
        OFFICE,
        kwargs={"pk": "equipment"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: form_body(
            EquipmentForm(instance=Equipment.objects.get(pk=s.ids["equipment"]), actor=_admin(s)), serial_number="SN-1"
        ),
    ),
    "category_list": Rule(MEMBERS),
    "category_create": Rule(OFFICE, methods=("GET", "POST"), body=lambda s, r: {"name": "Lifts"}),
    "category_edit": Rule(
        OFFICE,
        kwargs={"pk": "category"},
        methods=("GET", "POST"),
        body=lambda s, r: form_body(
            CategoryForm(instance=EquipmentCategory.objects.get(pk=s.ids["category"]), actor=_admin(s)),
            description="Boilers and tanks",
        ),
    ),
    # parts
    "part_list": Rule(STAFF),
    "part_create": Rule(
        BILLING,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "sku": "NEW-1",
            "name": "Gasket",
            "unit": "pc",
            "unit_cost": "2.50",
            "sale_price": "4.90",
            "is_active": "on",
        },
    ),
    "part_edit": Rule(
        BILLING,
        kwargs={"pk": "part"},
        methods=("GET", "POST"),
        body=lambda s, r: form_body(
            PartForm(instance=Part.objects.get(pk=s.ids["part"]), actor=_admin(s)), sale_price="19.90"
        ),
    ),
    # work requests
    "work_request_list": Rule(MEMBERS),
    "work_request_create": Rule(
        MEMBERS,
        methods=("GET", "POST"),
        body=lambda s, r: {**_own_location(s, r), "title": "Noise in the boiler room", "suggested_priority": "normal"},
    ),
    "work_request_detail": Rule(SEE_REQUEST, kwargs={"pk": "request"}, hidden=OUT_OF_REQUEST),
    "work_request_convert": Rule(
        OFFICE,
        kwargs={"pk": "request"},
        methods=("POST",),
        hidden=OUT_OF_REQUEST,
        body=lambda s, r: {"priority": "high", "template": s.ids["template"]},
    ),
    "work_request_reject": Rule(
        OFFICE,
        kwargs={"pk": "request"},
        methods=("POST",),
        hidden=OUT_OF_REQUEST,
        body=lambda s, r: {"reason": "Not covered by our contract"},
    ),
    "work_request_duplicate": Rule(
        OFFICE,
        kwargs={"pk": "request"},
        methods=("POST",),
        hidden=OUT_OF_REQUEST,
        body=lambda s, r: {"duplicate_of": s.ids["other_request"]},
    ),
    # work orders
    "work_order_list": Rule(MEMBERS),
    "work_order_create": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "client": s.ids["client"],
            "site": s.ids["site"],
            "equipment": s.ids["equipment"],
            "title": "Check valve",
            "is_billable": "on",
        },
    ),
    "work_order_detail": Rule(
        SEE_WORK_ORDER, kwargs=WO, hidden=OUT_OF_CLIENT, setup=_internal_records, check=_internal_records_for_staff_only
    ),
    "work_order_edit": Rule(
        OFFICE,
        kwargs=WO,
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: form_body(
            WorkOrderEditForm(actor=_admin(s), work_order=_wo(s)), description="Seal on the pump shaft leaks"
        ),
    ),
    "work_order_transition": Rule(
        RECORD,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"to": "on_hold", "hold_reason": "waiting_for_parts", "version": _wo(s).version},
    ),
    "work_order_checklist_answer": Rule(
        RECORD,
        kwargs={**WO, "item_pk": "checklist_item"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"value": "true"},
    ),
    "work_order_time_add": Rule(
        RECORD,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"started_at": _site_local(s, 90), "duration_minutes": "15", "kind": "labour"},
    ),
    "work_order_time_delete": Rule(
        RECORD, kwargs={**WO, "entry_pk": "time_entry"}, methods=("POST",), hidden=OUT_OF_CLIENT, body=lambda s, r: {}
    ),
    "work_order_timer": Rule(
        RECORD,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"action": "start", "kind": "labour"},
    ),
    "work_order_part_add": Rule(
        RECORD,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"part": s.ids["part"], "quantity": "1"},
    ),
    "work_order_part_delete": Rule(
        RECORD, kwargs={**WO, "usage_pk": "part_usage"}, methods=("POST",), hidden=OUT_OF_CLIENT, body=lambda s, r: {}
    ),
    "work_order_material_add": Rule(
        OFFICE,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"part": s.ids["part"], "quantity": "1"},
    ),
    "work_order_material_delete": Rule(
        OFFICE,
        kwargs={**WO, "material_pk": "planned_material"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {},
    ),
    "work_order_note_add": Rule(
        SEE_WORK_ORDER - {"technician2"},
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"body": "Called the client", "is_client_visible": "on"},
    ),
    "work_order_attachment_add": Rule(
        RECORD | {"accountant", "requester", "client_user"},
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {
            "file": SimpleUploadedFile("photo.png", PNG_1PX, content_type="image/png"),
            "caption": "Photo",
        },
    ),
    "work_order_signature": Rule(
        RECORD,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {
            "signed_by_name": "Hans Meier",
            "signature": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode(),
        },
    ),
    "work_order_signature_image": Rule(SEE_WORK_ORDER, kwargs=WO, hidden=OUT_OF_CLIENT, setup=_signed),
    "work_order_billing": Rule(
        BILLING,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"billing_status": "no_charge", "reason": "Goodwill"},
    ),
    "work_order_follow_up": Rule(
        OFFICE,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        setup=_completed,
        body=lambda s, r: {"reason": "Pump leaks again at the flange"},
    ),
    # files
    "attachment_download": Rule(SEE_WORK_ORDER, kwargs={"pk": "attachment"}, hidden=OUT_OF_CLIENT),
    "attachment_thumbnail": Rule(SEE_WORK_ORDER, kwargs={"pk": "attachment"}, hidden=OUT_OF_CLIENT),
    # --- SLA configuration pages (issue 3: calendars, holidays, policies) ---
    # sla.view (admin, dispatcher, accountant) reads; sla.manage (admin) changes; sla.recalculate (office).
    # The scenario (``_sla_objects``) has a calendar with a holiday, an unused calendar and a policy.
    "sla-calendar-list": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "sla-calendar-detail": Rule(frozenset({"admin", "dispatcher", "accountant"}), kwargs={"pk": "sla_calendar"}),
    "sla-calendar-create": Rule(
        ADMIN,
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Night desk", "timezone": "Europe/Berlin", "w0-0-start": "8", "w0-0-end": "17:00"},
    ),
    "sla-calendar-preview": Rule(ADMIN, body=None),
    "sla-calendar-edit": Rule(
        ADMIN,
        kwargs={"pk": "sla_calendar"},
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Office", "timezone": "Europe/Berlin", "w1-0-start": "07:00", "w1-0-end": "15:00"},
    ),
    "sla-calendar-delete": Rule(
        ADMIN,
        kwargs={"pk": "spare_sla_calendar"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("sla", "BusinessCalendar").objects.filter(pk=s.ids["spare_sla_calendar"]).exists() == allowed
            and pytest.fail(f"{role}: the calendar {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "sla-holiday-add": Rule(
        ADMIN,
        kwargs={"pk": "sla_calendar"},
        methods=("POST",),
        body=lambda s, r: {"holiday-date": "2026-12-24", "holiday-name": "Christmas Eve"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("sla", "Holiday").objects.filter(date="2026-12-24").exists() != allowed
            and pytest.fail(f"{role}: holiday added is not {allowed}")
        ),
    ),
    "sla-holiday-import": Rule(
        ADMIN,
        kwargs={"pk": "sla_calendar"},
        methods=("POST",),
        body=lambda s, r: {
            "ics-file": SimpleUploadedFile(
                "closures.ics",
                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
                b"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261231\r\nSUMMARY:Closed\r\nEND:VEVENT\r\n"
                b"END:VCALENDAR\r\n",
                content_type="text/calendar",
            )
        },
    ),
    "sla-holiday-generate": Rule(
        ADMIN,
        kwargs={"pk": "sla_calendar"},
        methods=("POST",),
        body=lambda s, r: {"gen-country": "DE", "gen-year": "2027"},
    ),
    "sla-holiday-remove": Rule(
        ADMIN,
        kwargs={"pk": "sla_holiday"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("sla", "Holiday").objects.filter(pk=s.ids["sla_holiday"]).exists() == allowed
            and pytest.fail(f"{role}: the holiday {'stayed' if allowed else 'was removed'}")
        ),
    ),
    "sla-policy-list": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "sla-policy-create": Rule(
        ADMIN,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "name": "Silver",
            "is_active": "on",
            "calendar": s.ids["sla_calendar"],
            "priorities": ["critical"],
            "at_risk_percent": "80",
            "response_met_on": "start",
            **{f"target_{p}_response": "1 h" for p in ("critical", "high", "normal", "low")},
            **{f"target_{p}_resolution": "4 h" for p in ("critical", "high", "normal", "low")},
        },
    ),
    "sla-policy-edit": Rule(
        ADMIN,
        kwargs={"pk": "sla_policy"},
        methods=("GET", "POST"),
        body=lambda s, r: {
            "name": "Gold clients",
            "is_active": "on",
            "calendar": s.ids["sla_calendar"],
            "at_risk_percent": "70",
            "response_met_on": "assignment",
            **{f"target_{p}_response": "30 min" for p in ("critical", "high", "normal", "low")},
            **{f"target_{p}_resolution": "2 h" for p in ("critical", "high", "normal", "low")},
        },
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("sla", "SlaPolicy").objects.get(pk=s.ids["sla_policy"]).at_risk_percent == 70) != allowed
            and pytest.fail(f"{role}: policy changed is not {allowed}")
        ),
    ),
    "sla-policy-delete": Rule(
        ADMIN,
        kwargs={"pk": "sla_policy"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("sla", "SlaPolicy").objects.filter(pk=s.ids["sla_policy"]).exists() == allowed
            and pytest.fail(f"{role}: the policy {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "sla-policy-move": Rule(
        ADMIN, kwargs={"pk": "sla_policy"}, methods=("POST",), body=lambda s, r: {"direction": "up"}
    ),
    "sla-policy-recalculate": Rule(OFFICE, methods=("GET", "POST"), body=lambda s, r: {}),
    # --- SLA on work order pages and the compliance report (issue 3) ---
    # sla.view holders see the whole organization's numbers; client users see none (not even their own)
    "sla-compliance": Rule(BILLING),
    "sla-work-order-recalculate": Rule(
        OFFICE,
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        check=lambda role, allowed, response, client, s: (
            apps.get_model("sla", "WorkOrderSla")
            .objects.filter(work_order_id=s.ids["work_order"], recalculated_at__isnull=False)
            .exists()
            != allowed
            and pytest.fail(f"{role}: SLA recalculated is not {allowed}")
        ),
    ),
    # --- PM plan pages (issue 6: plan list, form, detail, actions) ---
    # maintenance.view (admin, dispatcher, technicians, accountant) reads plans; maintenance.manage (office)
    # creates, edits, previews, pauses, resumes, generates and deletes. The scenario (``_pm_objects``) has
    # a quarterly plan on the pump and a spare plan, both first due in two months (nothing generated).
    "maintenance-plan-list": Rule(STAFF),
    "maintenance-plan-create": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "name": "Monthly filter check",
            "template": s.ids["template"],
            "target_kind": "equipment",
            "equipment": s.ids["equipment"],
            "time_trigger": "calendar",
            "interval": "1",
            "frequency": "monthly",
            "monthly_by": "last_day",
            "anchor": (timezone.now().date() + timedelta(days=30)).isoformat(),
            "due_time": "09:00",
            "lead_days": "7",
            "horizon_days": "365",
            "open_policy": "skip",
            "day_shift": "none",
            "is_active": "on",
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("maintenance", "MaintenancePlan")
            .objects.filter(organization_id=s.ids["organization"], name="Monthly filter check")
            .exists()
            != allowed
            and pytest.fail(f"{role}: plan created is not {allowed}")
        ),
    ),
    "maintenance-plan-preview": Rule(
        OFFICE,
        methods=("GET", "POST"),
        body=lambda s, r: {
            "equipment": s.ids["equipment"],
            "time_trigger": "calendar",
            "frequency": "weekly",
            "interval": "2",
            "weekdays": ["0", "3"],
            "anchor": timezone.now().date().isoformat(),
        },
        ok={"POST": frozenset({200})},
    ),
    "maintenance-plan-detail": Rule(STAFF, kwargs={"pk": "plan"}),
    "maintenance-plan-edit": Rule(
        OFFICE,
        kwargs={"pk": "plan"},
        methods=("GET", "POST"),
        body=lambda s, r: {
            "name": "Renamed pump service",
            "template": s.ids["template"],
            "target_kind": "equipment",
            "equipment": s.ids["equipment"],
            "time_trigger": "calendar",
            "interval": "3",
            "frequency": "monthly",
            "monthly_by": "day",
            "anchor": (timezone.now().date() + timedelta(days=60)).isoformat(),
            "due_time": "09:00",
            "lead_days": "7",
            "horizon_days": "365",
            "open_policy": "skip",
            "day_shift": "none",
            "is_active": "on",
        },
        check=lambda role, allowed, response, client, s: (
            (
                apps.get_model("maintenance", "MaintenancePlan").objects.get(pk=s.ids["plan"]).name
                == "Renamed pump service"
            )
            != allowed
            and pytest.fail(f"{role}: plan renamed is not {allowed}")
        ),
    ),
    "maintenance-plan-pause": Rule(
        OFFICE,
        kwargs={"pk": "plan"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("maintenance", "MaintenancePlan").objects.get(pk=s.ids["plan"]).is_active == allowed
            and pytest.fail(f"{role}: plan paused is not {allowed}")
        ),
    ),
    "maintenance-plan-resume": Rule(
        OFFICE,
        kwargs={"pk": "plan"},
        methods=("POST",),
        setup=lambda s, world: (
            apps.get_model("maintenance", "MaintenancePlan").objects.filter(pk=s.ids["plan"]).update(is_active=False)
        ),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("maintenance", "MaintenancePlan").objects.get(pk=s.ids["plan"]).is_active != allowed
            and pytest.fail(f"{role}: plan resumed is not {allowed}")
        ),
    ),
    "maintenance-plan-generate": Rule(OFFICE, kwargs={"pk": "plan"}, methods=("POST",)),
    "maintenance-plan-delete": Rule(
        OFFICE,
        kwargs={"pk": "spare_plan"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("maintenance", "MaintenancePlan").objects.filter(pk=s.ids["spare_plan"]).exists() == allowed
            and pytest.fail(f"{role}: the plan {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    # --- PM forecast, compliance and stale plan pages (issue 6) ---
    # maintenance.view (staff) sees the whole organization's plans; client users and requesters none. The
    # scenario's plan shows in the plan filter (its first due date is two months away, beyond this month)
    "maintenance-forecast": Rule(
        STAFF,
        check=lambda role, allowed, response, client, s: (
            allowed
            and "Quarterly pump service" not in _content(response)
            and pytest.fail(f"{role}: the scenario's plan is not offered as a filter")
        ),
    ),
    "maintenance-compliance": Rule(
        STAFF,
        check=lambda role, allowed, response, client, s: (
            allowed
            and "Quarterly pump service" not in _content(response)
            and pytest.fail(f"{role}: the scenario's plan is not offered as a filter")
        ),
    ),
    "maintenance-stale": Rule(STAFF),
    # --- meters on the equipment and work order pages (issue 6) ---
    # Everyone who sees the equipment sees its meters; equipment.manage (office) adds, changes and deletes them;
    # admins, dispatchers and technicians (assigned or not: readings are observations) record readings. The
    # scenario's meter ("Running hours") has one reading of 1000; the spare meter has none.
    "meter-detail": Rule(MEMBERS - OUT_OF_CLIENT, kwargs={"pk": "meter"}, hidden=OUT_OF_CLIENT),
    "meter-create": Rule(
        OFFICE,
        kwargs={"pk": "equipment"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"name": "Burner starts", "unit": "cycles", "kind": "continuous", "usage_window_days": "30"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("assets", "Meter").objects.filter(name="Burner starts").exists() != allowed
            and pytest.fail(f"{role}: meter added is not {allowed}")
        ),
    ),
    "meter-edit": Rule(
        OFFICE,
        kwargs={"pk": "meter"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {
            "name": "Running hours",
            "unit": "h",
            "kind": "continuous",
            "usage_window_days": "14",
            "is_active": "on",
        },
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("assets", "Meter").objects.get(pk=s.ids["meter"]).usage_window_days == 14) != allowed
            and pytest.fail(f"{role}: meter changed is not {allowed}")
        ),
    ),
    "meter-delete": Rule(
        OFFICE,
        kwargs={"pk": "spare_meter"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        check=lambda role, allowed, response, client, s: (
            apps.get_model("assets", "Meter").objects.filter(pk=s.ids["spare_meter"]).exists() == allowed
            and pytest.fail(f"{role}: the meter {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "meter-reading-record": Rule(
        RECORD | {"technician2"},
        kwargs={"pk": "meter"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {f"m{s.ids['meter']}-value": "1100"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("assets", "MeterReading").objects.filter(meter_id=s.ids["meter"], value=1100).exists()
            != allowed
            and pytest.fail(f"{role}: reading recorded is not {allowed}")
        ),
    ),
    "work-order-meter-reading": Rule(
        RECORD | {"technician2"},
        kwargs=WO,
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"meter": s.ids["meter"], f"m{s.ids['meter']}-value": "1100"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("assets", "MeterReading")
            .objects.filter(meter_id=s.ids["meter"], work_order_id=s.ids["work_order"], value=1100)
            .exists()
            != allowed
            and pytest.fail(f"{role}: reading recorded on the work order is not {allowed}")
        ),
    ),
    # --- billing configuration pages (issue 5) ---
    # billing.configure (admin, accountant) changes the seller settings, tax rates, rates, rate classes, price
    # lists, clients' billing details and contracts; whoever makes quotes (dispatchers too) reads tax rates,
    # rates, price lists, contracts and the client's billing card. Part categories follow the parts
    # (parts.view reads, parts.manage changes). The scenario (``_billing_objects``) has one of each, the
    # world's client on the price list with a contract, and unused spares to delete.
    "billing-settings": Rule(
        frozenset({"admin", "accountant"}),
        methods=("GET", "POST"),
        body=lambda s, r: {
            "legal_name": "Acme Facility GmbH",
            "country": "DE",
            "iban": "DE89 3704 0044 0532 0130 00",
            "payment_terms_days": "30",
            "invoice_series": "INV",
            "credit_note_series": "CN",
            "quote_prefix": "Q",
            "default_tax_rate": s.ids["tax_rate"],
            "labour_minimum_minutes": "15",
            "labour_increment_minutes": "15",
            "parts_markup_percent": "30",
            "call_out_fee": "0",
            "overtime_multiplier": "1.5",
            "leakage_days": "14",
            "quote_validity_days": "30",
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "BillingSettings")
            .objects.filter(organization_id=s.ids["organization"], legal_name="Acme Facility GmbH")
            .exists()
            != allowed
            and pytest.fail(f"{role}: billing settings saved is not {allowed}")
        ),
    ),
    "billing-tax-rate-list": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "billing-tax-rate-create": Rule(
        frozenset({"admin", "accountant"}),
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "VAT 5 %", "category": "S", "rate": "5", "is_active": "on"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "TaxRate")
            .objects.filter(organization_id=s.ids["organization"], name="VAT 5 %")
            .exists()
            != allowed
            and pytest.fail(f"{role}: tax rate added is not {allowed}")
        ),
    ),
    "billing-tax-rate-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "tax_rate"},
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "VAT 19 % standard", "category": "S", "rate": "19", "is_active": "on"},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "TaxRate").objects.get(pk=s.ids["tax_rate"]).name == "VAT 19 % standard")
            != allowed
            and pytest.fail(f"{role}: tax rate changed is not {allowed}")
        ),
    ),
    "billing-tax-rate-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_tax_rate"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "TaxRate").objects.filter(pk=s.ids["spare_tax_rate"]).exists() == allowed
            and pytest.fail(f"{role}: the tax rate {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "billing-rates": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "billing-rates-save": Rule(
        frozenset({"admin", "accountant"}),
        methods=("POST",),
        body=lambda s, r: {
            "labour-default-unit_price": "85",
            "labour-default-unit_cost": "40",
            f"labour-{s.ids['rate_class']}-unit_price": "110",
        },
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Rate").objects.get(pk=s.ids["rate"]).unit_price == 85) != allowed
            and pytest.fail(f"{role}: rate changed is not {allowed}")
        ),
    ),
    "billing-technicians": Rule(
        frozenset({"admin", "accountant"}),
        methods=("POST",),
        body=lambda s, r: {f"t-tech-{s.ids['technician_user']}": ""},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "TechnicianRateClass")
            .objects.filter(user_id=s.ids["technician_user"], organization_id=s.ids["organization"])
            .exists()
            == allowed
            and pytest.fail(f"{role}: technician taken off the rate class is not {allowed}")
        ),
    ),
    "billing-rate-class-create": Rule(
        frozenset({"admin", "accountant"}),
        methods=("POST",),
        body=lambda s, r: {"class-name": "Apprentice"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "RateClass")
            .objects.filter(organization_id=s.ids["organization"], name="Apprentice")
            .exists()
            != allowed
            and pytest.fail(f"{role}: rate class added is not {allowed}")
        ),
    ),
    "billing-rate-class-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "rate_class"},
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Senior service engineer"},
    ),
    "billing-rate-class-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_rate_class"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "RateClass").objects.filter(pk=s.ids["spare_rate_class"]).exists() == allowed
            and pytest.fail(f"{role}: the rate class {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "billing-price-list-list": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "billing-price-list-create": Rule(
        frozenset({"admin", "accountant"}),
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Schools", "currency": "EUR", "is_active": "on"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "PriceList")
            .objects.filter(organization_id=s.ids["organization"], name="Schools")
            .exists()
            != allowed
            and pytest.fail(f"{role}: price list added is not {allowed}")
        ),
    ),
    "billing-part-options": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "billing-price-list-detail": Rule(frozenset({"admin", "dispatcher", "accountant"}), kwargs={"pk": "price_list"}),
    "billing-price-list-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "price_list"},
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Key accounts 2026", "currency": "EUR", "is_active": "on"},
    ),
    "billing-price-list-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_price_list"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "PriceList").objects.filter(pk=s.ids["spare_price_list"]).exists() == allowed
            and pytest.fail(f"{role}: the price list {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "billing-price-list-rates": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "price_list"},
        methods=("POST",),
        body=lambda s, r: {"labour-default-unit_price": "77", "labour-default-unit_cost": "40"},
    ),
    "billing-price-list-item-add": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "price_list"},
        methods=("POST",),
        body=lambda s, r: {"item-sku": "SEAL-77", "item-unit_price": "21.50"},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "PriceListItem").objects.get(pk=s.ids["price_list_item"]).unit_price == 21.5)
            != allowed
            and pytest.fail(f"{role}: part price changed is not {allowed}")
        ),
    ),
    "billing-price-list-import": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "price_list"},
        methods=("POST",),
        body=lambda s, r: {"import-lines": "SEAL-77;22,00"},
    ),
    "billing-price-list-item-remove": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_price_list_item"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "PriceListItem").objects.filter(pk=s.ids["spare_price_list_item"]).exists()
            == allowed
            and pytest.fail(f"{role}: the part price {'stayed' if allowed else 'was removed'}")
        ),
    ),
    "billing-client-card": Rule(frozenset({"admin", "dispatcher", "accountant"}), kwargs={"pk": "client"}),
    "billing-client-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "client"},
        methods=("GET", "POST"),
        body=lambda s, r: {"city": "Lübeck", "country": "DE", "price_list": s.ids["price_list"]},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "ClientBilling").objects.get(client_id=s.ids["client"]).city == "Lübeck")
            != allowed
            and pytest.fail(f"{role}: client billing details changed is not {allowed}")
        ),
    ),
    "billing-contract-list": Rule(frozenset({"admin", "dispatcher", "accountant"})),
    "billing-contract-create": Rule(
        frozenset({"admin", "accountant"}),
        methods=("GET", "POST"),
        body=lambda s, r: {
            "client": s.ids["client"],
            "name": "Boiler care",
            "valid_from": "2026-01-01",
            "sites": [s.ids["site"]],
            "included_labour_hours": "7.5",
            "period": "quarter",
            "discount_percent": "5",
            "is_active": "on",
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "ServiceContract")
            .objects.filter(organization_id=s.ids["organization"], name="Boiler care", included_labour_minutes=450)
            .exists()
            != allowed
            and pytest.fail(f"{role}: contract added is not {allowed}")
        ),
    ),
    "billing-contract-detail": Rule(frozenset({"admin", "dispatcher", "accountant"}), kwargs={"pk": "contract"}),
    "billing-contract-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "contract"},
        methods=("GET", "POST"),
        body=lambda s, r: {
            "client": s.ids["client"],
            "name": "Pump maintenance",
            "valid_from": "2026-01-01",
            "included_labour_hours": "20",
            "period": "year",
            "discount_percent": "0",
            "is_active": "on",
        },
        check=lambda role, allowed, response, client, s: (
            (
                apps.get_model("billing", "ServiceContract").objects.get(pk=s.ids["contract"]).included_labour_minutes
                == 1200
            )
            != allowed
            and pytest.fail(f"{role}: contract changed is not {allowed}")
        ),
    ),
    "billing-contract-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_contract"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "ServiceContract").objects.filter(pk=s.ids["spare_contract"]).exists() == allowed
            and pytest.fail(f"{role}: the contract {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "part_category_list": Rule(STAFF),
    "part_category_create": Rule(
        BILLING,
        methods=("GET", "POST"),
        body=lambda s, r: {"name": "Gaskets"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("inventory", "PartCategory")
            .objects.filter(organization_id=s.ids["organization"], name="Gaskets")
            .exists()
            != allowed
            and pytest.fail(f"{role}: part category added is not {allowed}")
        ),
    ),
    "part_category_edit": Rule(
        BILLING, kwargs={"pk": "part_category"}, methods=("GET", "POST"), body=lambda s, r: {"name": "Shaft seals"}
    ),
    "part_category_delete": Rule(
        BILLING,
        kwargs={"pk": "spare_part_category"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("inventory", "PartCategory").objects.filter(pk=s.ids["spare_part_category"]).exists()
            == allowed
            and pytest.fail(f"{role}: the part category {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    # --- billing quotes (issue 5): owned by the quotes work ---
    "billing-quote-list": Rule(BILLING | {"client_user", "other_client_user"}),
    "billing-quote-create": Rule(
        BILLING,
        methods=("GET", "POST"),
        body=lambda s, r: {"source": "blank", "client": s.ids["client"], "title": "Boiler swap"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Quote").objects.filter(title="Boiler swap").exists() != allowed
            and pytest.fail(f"{role}: quote made is not {allowed}")
        ),
    ),
    # a client user sees their client's quotes once sent: the sent one, never the drafts
    "billing-quote-detail": Rule(
        BILLING | {"client_user"}, kwargs={"pk": "sent_quote"}, hidden=frozenset({"other_client_user"})
    ),
    "billing-quote-pdf": Rule(
        BILLING | {"client_user"}, kwargs={"pk": "sent_quote"}, hidden=frozenset({"other_client_user"})
    ),
    "billing-quote-edit": Rule(
        BILLING,
        kwargs={"pk": "quote"},
        methods=("POST",),
        body=lambda s, r: {"quote-title": "Pump replacement 2026", "quote-site": s.ids["site"]},
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Quote").objects.get(pk=s.ids["quote"]).title == "Pump replacement 2026")
            != allowed
            and pytest.fail(f"{role}: quote changed is not {allowed}")
        ),
    ),
    "billing-quote-delete": Rule(
        BILLING,
        kwargs={"pk": "spare_quote"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Quote").objects.filter(pk=s.ids["spare_quote"]).exists() == allowed
            and pytest.fail(f"{role}: the quote {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "billing-quote-line-add": Rule(
        BILLING,
        kwargs={"pk": "quote"},
        methods=("POST",),
        body=lambda s, r: {
            "new-kind": "manual",
            "new-description": "Flushing",
            "new-quantity": "1",
            "new-unit_price": "90",
        },
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "QuoteLine").objects.filter(description="Flushing").exists() != allowed
            and pytest.fail(f"{role}: line added is not {allowed}")
        ),
    ),
    "billing-quote-line-edit": Rule(
        BILLING,
        kwargs={"pk": "quote_line"},
        methods=("POST",),
        body=lambda s, r: {
            f"line-{s.ids['quote_line']}-{name}": value
            for name, value in {
                "kind": "manual",
                "description": "Circulation pump DN40",
                "quantity": "2",
                "unit": "pc",
                "unit_price": "1200",
            }.items()
        },
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "QuoteLine").objects.get(pk=s.ids["quote_line"]).quantity == 2) != allowed
            and pytest.fail(f"{role}: line changed is not {allowed}")
        ),
    ),
    "billing-quote-line-move": Rule(
        BILLING,
        kwargs={"pk": "quote_line"},
        methods=("POST",),
        body=lambda s, r: {"direction": "down"},
        hidden=frozenset({"client_user", "other_client_user"}),
    ),
    "billing-quote-line-remove": Rule(
        BILLING,
        kwargs={"pk": "spare_quote_line"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "QuoteLine").objects.filter(pk=s.ids["spare_quote_line"]).exists() == allowed
            and pytest.fail(f"{role}: the line {'stayed' if allowed else 'was removed'}")
        ),
    ),
    "billing-quote-send": Rule(
        BILLING,
        kwargs={"pk": "quote"},
        methods=("GET", "POST"),
        body=lambda s, r: {"send-to": "facility@example.com"},
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Quote").objects.get(pk=s.ids["quote"]).status == "sent") != allowed
            and pytest.fail(f"{role}: quote sent is not {allowed}")
        ),
    ),
    "billing-quote-withdraw": Rule(
        BILLING,
        kwargs={"pk": "sent_quote"},
        methods=("POST",),
        hidden=frozenset({"other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Quote").objects.get(pk=s.ids["sent_quote"]).status == "draft") != allowed
            and pytest.fail(f"{role}: quote withdrawn is not {allowed}")
        ),
    ),
    # converting into a work order makes one: dispatchers and admins (accountants make invoices)
    "billing-quote-convert": Rule(
        OFFICE,
        kwargs={"pk": "accepted_quote"},
        methods=("POST",),
        body=lambda s, r: {"target": "work_order", "mode": "fixed_price"},
        hidden=frozenset({"other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Quote").objects.get(pk=s.ids["accepted_quote"]).converted_at is not None)
            != allowed
            and pytest.fail(f"{role}: quote converted is not {allowed}")
        ),
    ),
    # the client's page: whoever holds the link, signed in or not. It shows the seller and the quote's own
    # client by design, so the seller is renamed (setup) to keep the leak check meaningful for the rest.
    "billing-quote-public": Rule(
        frozenset(ROLES),
        kwargs={"token": "public_quote_token"},
        public=True,
        setup=lambda s, world: (
            apps.get_model("core", "Organization").objects.filter(pk=world.org.pk).update(name="Nordwind Service"),
            apps.get_model("billing", "BillingSettings").objects.filter(organization=world.org).update(legal_name=""),
        ),
    ),
    "billing-quote-public-pdf": Rule(
        frozenset(ROLES),
        kwargs={"token": "public_quote_token"},
        public=True,
        setup=lambda s, world: (
            apps.get_model("core", "Organization").objects.filter(pk=world.org.pk).update(name="Nordwind Service"),
            apps.get_model("billing", "BillingSettings").objects.filter(organization=world.org).update(legal_name=""),
        ),
    ),
    "billing-quote-public-accept": Rule(
        frozenset(ROLES),
        kwargs={"token": "public_quote_token"},
        methods=("POST",),
        public=True,
        setup=lambda s, world: (
            apps.get_model("core", "Organization").objects.filter(pk=world.org.pk).update(name="Nordwind Service"),
            apps.get_model("billing", "BillingSettings").objects.filter(organization=world.org).update(legal_name=""),
        ),
        body=lambda s, r: {
            "signed_by_name": "Hafen Wirt",
            "agree": "on",
            "signature": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode(),
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Quote").objects.get(public_token=s.ids["public_quote_token"]).status
            != "accepted"
            and pytest.fail(f"{role}: the quote was not accepted")
        ),
    ),
    "billing-quote-public-reject": Rule(
        frozenset(ROLES),
        kwargs={"token": "public_quote_token"},
        methods=("POST",),
        public=True,
        setup=lambda s, world: (
            apps.get_model("core", "Organization").objects.filter(pk=world.org.pk).update(name="Nordwind Service"),
            apps.get_model("billing", "BillingSettings").objects.filter(organization=world.org).update(legal_name=""),
        ),
        body=lambda s, r: {"reject-reason": "We found a cheaper offer"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Quote").objects.get(public_token=s.ids["public_quote_token"]).status
            != "rejected"
            and pytest.fail(f"{role}: the quote was not rejected")
        ),
    ),
    # (end of billing quotes)
    # --- billing invoices, payments, credit notes, sending, accounting export (issue 5) ---
    # invoices.view (admin, dispatcher, accountant, client users) reads; client users only their own client's
    # issued invoices (a draft does not exist for them: 404); invoices.manage (admin, accountant) changes.
    # The scenario (``_invoice_objects``) has an issued invoice with a payment, a draft with a generated and
    # a manual line, and an empty spare draft.
    "billing-invoice-list": Rule(frozenset({"admin", "dispatcher", "accountant", "client_user", "other_client_user"})),
    "billing-invoice-export": Rule(frozenset({"admin", "accountant"})),
    "billing-invoice-closed-work": Rule(
        frozenset({"admin", "accountant"}),
        methods=("GET", "POST"),
        body=lambda s, r: {"client": s.ids["client"]},
        ok={"POST": frozenset({200})},
    ),
    "billing-invoice-detail": Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), kwargs={"pk": "invoice"}, hidden=OUT_OF_CLIENT
    ),
    "billing-invoice-pdf": Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), kwargs={"pk": "invoice"}, hidden=OUT_OF_CLIENT
    ),
    "billing-invoice-xml": Rule(
        frozenset({"admin", "dispatcher", "accountant", "client_user"}), kwargs={"pk": "invoice"}, hidden=OUT_OF_CLIENT
    ),
    "billing-invoice-update": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_draft"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        body=lambda s, r: {
            "version": apps.get_model("billing", "Invoice").objects.get(pk=s.ids["invoice_draft"]).version,
            "note": "Matrix note",
        },
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Invoice").objects.get(pk=s.ids["invoice_draft"]).note == "Matrix note")
            != allowed
            and pytest.fail(f"{role}: draft note saved is not {allowed}")
        ),
    ),
    "billing-invoice-line-add": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_draft"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        body=lambda s, r: {"add-description": "Matrix line", "add-quantity": "1", "add-unit_price": "7.50"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Invoice")
            .objects.get(pk=s.ids["invoice_draft"])
            .lines.filter(description="Matrix line")
            .exists()
            != allowed
            and pytest.fail(f"{role}: line added is not {allowed}")
        ),
    ),
    "billing-invoice-line-edit": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_line"},
        methods=("GET", "POST"),
        hidden=frozenset({"client_user", "other_client_user"}),
        ok={"GET": frozenset({302}), "POST": frozenset({302})},
        body=lambda s, r: {"edit-description": "Matrix labour", "edit-quantity": "2", "edit-unit_price": "75"},
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "InvoiceLine")
            .objects.filter(pk=s.ids["invoice_line"], description="Matrix labour")
            .exists()
            != allowed
            and pytest.fail(f"{role}: line changed is not {allowed}")
        ),
    ),
    "billing-invoice-line-remove": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_invoice_line"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "InvoiceLine").objects.filter(pk=s.ids["spare_invoice_line"]).exists() == allowed
            and pytest.fail(f"{role}: the line {'stayed' if allowed else 'was removed'}")
        ),
    ),
    "billing-invoice-regenerate": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_draft"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
    ),
    "billing-invoice-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "spare_invoice_draft"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Invoice").objects.filter(pk=s.ids["spare_invoice_draft"]).exists() == allowed
            and pytest.fail(f"{role}: the draft {'stayed' if allowed else 'was deleted'}")
        ),
    ),
    "billing-invoice-issue": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_draft"},
        methods=("POST",),
        hidden=frozenset({"client_user", "other_client_user"}),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Invoice").objects.get(pk=s.ids["invoice_draft"]).number is not None) != allowed
            and pytest.fail(f"{role}: draft issued is not {allowed}")
        ),
    ),
    "billing-invoice-send": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"to": "ap@example.com", "xml_format": "cii"},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Invoice").objects.get(pk=s.ids["invoice"]).sent_to == "ap@example.com")
            != allowed
            and pytest.fail(f"{role}: invoice sent is not {allowed}")
        ),
    ),
    "billing-invoice-payment-add": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {"amount": "1.00", "method": "transfer"},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("billing", "Invoice").objects.get(pk=s.ids["invoice"]).payments.count() == 2) != allowed
            and pytest.fail(f"{role}: payment recorded is not {allowed}")
        ),
    ),
    "billing-invoice-payment-delete": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice_payment"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Payment").objects.filter(pk=s.ids["invoice_payment"]).exists() == allowed
            and pytest.fail(f"{role}: the payment {'stayed' if allowed else 'was removed'}")
        ),
    ),
    "billing-invoice-credit-note": Rule(
        frozenset({"admin", "accountant"}),
        kwargs={"pk": "invoice"},
        methods=("GET", "POST"),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {
            f"line-{s.ids['invoice_issued_line']}": "on",
            f"quantity-{s.ids['invoice_issued_line']}": "0.5",
            "reason": "Matrix credit",
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "Invoice").objects.filter(credited_invoice_id=s.ids["invoice"]).exists()
            != allowed
            and pytest.fail(f"{role}: credit note drafted is not {allowed}")
        ),
    ),
    # (end of billing invoices)
    # --- billing revenue leakage report and the accountant's panel (issue 5) ---
    # the report for those who bill; charges on the work order page by charges.record (technicians only on
    # work assigned to them), never seen by clients
    "billing-leakage": Rule(BILLING),
    "billing-charge-add": Rule(
        RECORD,
        kwargs={"pk": "work_order"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        body=lambda s, r: {
            "kind": "expense",
            "description": "Toll",
            "quantity": "1",
            "unit": "pc",
            "unit_price": "4.20",
            "incurred_on": "2026-03-02",
            "is_billable": "on",
        },
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "WorkOrderCharge")
            .objects.filter(work_order_id=s.ids["work_order"], description="Toll")
            .exists()
            != allowed
            and pytest.fail(f"{role}: charge recorded is not {allowed}")
        ),
    ),
    "billing-charge-delete": Rule(
        RECORD,
        kwargs={"pk": "spare_charge"},
        methods=("POST",),
        hidden=OUT_OF_CLIENT,
        check=lambda role, allowed, response, client, s: (
            apps.get_model("billing", "WorkOrderCharge").objects.filter(pk=s.ids["spare_charge"]).exists() == allowed
            and pytest.fail(f"{role}: the charge {'stayed' if allowed else 'was removed'}")
        ),
    ),
    # (end of billing reports)
    # --- field sync, device bundle and held queue (issue 4) ---
    # the office's queue of what the field sent on closed or cancelled work; a refused decision leaves the item
    "field_held_list": Rule(OFFICE),
    "field_held_accept": Rule(
        OFFICE,
        kwargs={"pk": "field_held"},
        methods=("POST",),
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("field", "SyncCommand").objects.get(pk=s.ids["field_held"]).resolution == "accepted")
            != allowed
            and pytest.fail(f"{role}: the held item accepted is not {allowed}")
        ),
    ),
    "field_held_reject": Rule(
        OFFICE,
        kwargs={"pk": "field_held"},
        methods=("POST",),
        body=lambda s, r: {"reason": "Not needed"},
        check=lambda role, allowed, response, client, s: (
            (apps.get_model("field", "SyncCommand").objects.get(pk=s.ids["field_held"]).resolution == "rejected")
            != allowed
            and pytest.fail(f"{role}: the held item rejected is not {allowed}")
        ),
    ),
    # (end of field sync)
    # --- technician app /m/ (issue 4) ---
    # the shell and who is signed in: roles that do field work (field.sync); the manifest, the service worker
    # and the translations are fetched by the browser without a session (public, the same for everyone)
    "field-app": Rule(RECORD | {"technician2"}),
    "field-app-session": Rule(RECORD | {"technician2"}),
    "field-app-manifest": Rule(frozenset(ROLES), public=True),
    "field-app-sw": Rule(frozenset(ROLES), public=True),
    "field-app-i18n": Rule(frozenset(ROLES), public=True),
    # (end of field app)
    # --- live events (issue 4) ---
    # The stream of the office pages: under the test client (WSGI) it ends after its first message, a retry
    # hint (the browser polls); the open stream under ASGI is tested in tests/field/test_live.py.
    "live_events": Rule(
        OFFICE,
        check=lambda role, allowed, response, client, s: (
            allowed
            and not b"".join(response.streaming_content).startswith(b"retry: 5000\nid: ")
            and pytest.fail(f"{role}: {response['Content-Type']} is not the live event stream")
        ),
    ),
    # (end of field live)
}


# --- the URL configuration -----------------------------------------------------------------------


def _page_patterns(patterns=None, prefix: str = ""):
    """(name, route) of every page URL, recursively; the admin, the API and static files left out."""
    for p in fixflow.urls.urlpatterns if patterns is None else patterns:
        route = prefix + str(p.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(p, URLResolver):
            yield from _page_patterns(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield p.name, route


def test_every_page_has_a_rule():
    # given the pages the URL configuration serves
    patterns = list(_page_patterns())
    names = [name for name, _route in patterns]
    # then each has a unique name and a rule, and no rule names a page that is gone
    assert [route for name, route in patterns if not name] == [], "name these URL patterns"
    assert sorted({n for n in names if names.count(n) > 1}) == [], "these URL names are used twice"
    assert set(names) - set(RULES) == set(), "add a rule to RULES for these new pages"
    assert set(RULES) - set(names) == set(), "these rules name pages that no longer exist"


# --- the matrix ----------------------------------------------------------------------------------

TENANT_MODELS_APPS = ("core", "customers", "assets", "inventory", "service", "sla", "maintenance", "billing", "field")


def _fingerprint(organization_id: int | None = None) -> dict:
    """Every row of the app's tables (only the given organization's, when given): a refused POST changes none."""
    rows = {}
    for label in TENANT_MODELS_APPS:
        for model in apps.get_app_config(label).get_models():
            qs = model.objects.all()
            if organization_id is not None:
                names = {f.name for f in model._meta.concrete_fields}
                if model._meta.label_lower == "core.organization":
                    qs = qs.filter(pk=organization_id)
                elif "organization" in names:
                    qs = qs.filter(organization_id=organization_id)
                else:
                    continue
            rows[model._meta.label] = list(qs.order_by("pk").values_list())
    return rows


def _assert_unchanged(before: dict, after: dict, who: str) -> None:
    changed = sorted(label for label in before if before[label] != after[label])
    assert changed == [], f"a refused POST by {who} changed {changed}"


def _content(response) -> str:
    if response.streaming:
        return ""
    return response.content.decode(errors="replace")


def _assert_no_leak(role: str, scenario: Scenario, response) -> None:
    secrets = scenario.secrets["org" if role in OTHER_ORG else "client"]
    html = _content(response)
    shown = [text for text in secrets if text in html]
    assert shown == [], f"{role} sees {shown} (status {response.status_code})"


def _assert_sent_to_login(response, url: str, rule: Rule) -> None:
    assert response.status_code == 302, (response.status_code, _content(response)[:300])
    target = urlsplit(response.url)
    assert target.path == reverse("login")
    if rule.login_next:
        assert parse_qs(target.query).get("next") == [url]


def _call(client: Client, method: str, url: str, rule: Rule, scenario: Scenario, role: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, rule.body(scenario, role) if rule.body else {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_page_answers_each_role_as_the_role_table_says(matrix, db, name, role):
    # given the scenario, in the state the page needs, and a caller
    world, _other_world, scenario = matrix
    rule = RULES[name]
    if rule.setup:
        rule.setup(scenario, world)
    client = Client()
    if role != "anonymous":
        client.force_login(scenario.actors[role].user)
    url = reverse(name, kwargs={k: scenario.ids[v] for k, v in rule.kwargs.items()})
    allowed = role in rule.allowed
    for method in rule.methods:
        own_org_only = role in OTHER_ORG and not rule.kwargs  # acts in its own organization, if at all
        watch = method != "GET" and not allowed and not rule.public
        before = _fingerprint(world.org.pk if own_org_only else None) if watch else None
        # when
        response = _call(client, method, url, rule, scenario, role)
        status = response.status_code
        detail = (method, status, _content(response)[:300])
        # then
        assert status < 500, detail
        if role == "anonymous" and not rule.public:
            _assert_sent_to_login(response, url, rule)
        elif allowed:
            assert status in rule.success_statuses(method), detail
        elif role in OTHER_ORG:
            if rule.kwargs:  # another tenant's objects do not exist for this caller
                assert status == 404, detail
            elif method == "GET":  # its own organization's page, as its role allows
                role_there = "dispatcher" if role == "other_org" else "admin"
                assert status == (200 if role_there in rule.allowed else 403), detail
            else:  # the body names this organization's rows: refused, or done in its own organization
                assert status in (200, 302, 403, 422), detail
        elif role in rule.hidden:
            assert status == 404, detail
        else:
            assert status in (403, 404), detail
        if role in OTHER_ORG or role == "other_client_user":
            _assert_no_leak(role, scenario, response)
        if before is not None:
            _assert_unchanged(before, _fingerprint(world.org.pk if own_org_only else None), role)
    if rule.check:  # on the answer to the last method (the POST of a form page)
        rule.check(role, allowed, response, client, scenario)
