"""The demo organization: loaded once for this module (it takes a few seconds), then inspected.

The clock is fixed to a Wednesday morning whose 90-day history crosses both daylight-saving changes
(New York on 8 March, Berlin on 29 March 2026).
"""

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min
from django.test import override_settings

from fixflow.assets.models import Equipment, Meter, MeterReading
from fixflow.billing import services as billing_services
from fixflow.billing.choices import DocumentType, InvoiceStatus
from fixflow.billing.models import (
    BillingSettings,
    ClientBilling,
    Invoice,
    InvoiceLine,
    Quote,
    Rate,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
)
from fixflow.core.choices import Role
from fixflow.core.models import Membership, User
from fixflow.core.permissions import actor_for
from fixflow.customers.models import Client, Site
from fixflow.demo import CLIENT_USER_CLIENT, EMAIL_DOMAIN, ORG_NAME, PASSWORD, demo_counts, load_demo
from fixflow.inventory.models import Part
from fixflow.maintenance import generator, selectors
from fixflow.maintenance.models import MaintenancePlan, Occurrence
from fixflow.service.choices import BillingStatus, EventKind, RequestStatus, Status, TimeKind
from fixflow.service.models import (
    ChecklistAnswer,
    PartUsage,
    TimeEntry,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTemplate,
    WorkRequest,
)
from fixflow.sla import engine as sla_engine
from fixflow.sla.choices import STATE_SEVERITY, SlaState
from fixflow.sla.models import BusinessCalendar, SlaClock, SlaNotification, SlaPause, SlaPolicy, WorkOrderSla

NOW = datetime(2026, 4, 15, 8, 30, tzinfo=UTC)  # Wednesday, 10:30 in Berlin and 04:30 in New York


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    """Where the demo's files go: the seller's logo, the invoices' PDF and XML."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, demo_media):
    """The demo, loaded once inside a transaction that is rolled back after the module's tests."""
    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the per-test fixture in conftest.py
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=demo_media, PASSWORD_HASHERS=fast_hashing),
    ):
        with transaction.atomic():
            result = load_demo(now=NOW)
            yield result
            transaction.set_rollback(True)


@pytest.fixture
def org(demo, db):
    return demo.organization


def test_the_demo_is_a_maintenance_contractor_with_its_clients_sites_equipment_and_parts(org):
    # then
    assert (org.name, org.currency, org.timezone, org.work_order_prefix) == (ORG_NAME, "EUR", "Europe/Berlin", "WO")
    counts = demo_counts(org)
    assert counts["clients"] == 5 + 1  # and a business client in the Netherlands (reverse charge)
    assert counts["sites"] == 12 + 1
    assert counts["equipment"] == 60 + 2
    assert 28 <= counts["parts"] <= 35
    assert counts["templates"] == 5 + 4  # and four for the preventive maintenance plans
    assert WorkOrder.objects.filter(organization=org, pm_occurrence__isnull=True).count() == 200 + 2  # two in Venlo
    assert (
        counts["work_orders"] == 200 + 2 + Occurrence.objects.filter(organization=org, work_order__isnull=False).count()
    )
    assert counts["work_requests"] == 15
    for client in Client.objects.filter(organization=org):
        assert client.billing_address and client.vat_id[:2] in ("DE", "NL") and client.contacts.exists()
    assert not Part.objects.filter(organization=org, sale_price__lte=0).exists()


def test_the_templates_have_checklists_of_every_kind_one_signature_and_one_site_level(org):
    templates = WorkOrderTemplate.objects.filter(organization=org)
    kinds = set(ChecklistAnswer.objects.filter(organization=org).values_list("kind", flat=True))
    assert kinds == {"checkbox", "number", "text", "pass_fail"}
    assert all(t.checklist_items.filter(is_required=True).exists() for t in templates)
    assert templates.filter(requires_signature=True).count() == 1
    assert templates.filter(requires_equipment=False).count() == 1


def test_every_member_role_has_a_demo_login_with_the_demo_password(org):
    memberships = Membership.objects.filter(organization=org).select_related("user", "client")
    roles = Counter(m.role for m in memberships)
    assert roles == {
        Role.ADMIN: 1,
        Role.DISPATCHER: 1,
        Role.TECHNICIAN: 6,
        Role.ACCOUNTANT: 1,
        Role.REQUESTER: 1,
        Role.CLIENT_USER: 1,
    }
    for m in memberships:
        assert m.user.email.endswith("@" + EMAIL_DOMAIN)
        assert m.user.check_password(PASSWORD)
    client_user = memberships.get(role=Role.CLIENT_USER)
    assert client_user.client is not None and client_user.user.email == f"client@{EMAIL_DOMAIN}"
    assert User.objects.filter(email=f"dispatcher@{EMAIL_DOMAIN}").exists()


def test_every_status_billing_status_and_request_status_occurs(org):
    work_orders = WorkOrder.objects.filter(organization=org)
    statuses = Counter(work_orders.values_list("status", flat=True))
    assert set(statuses) == set(Status.values)
    assert statuses[Status.CLOSED] >= 100  # most of 90 days of work is done
    assert set(work_orders.values_list("billing_status", flat=True)) == set(BillingStatus.values)
    assert set(work_orders.filter(status=Status.ON_HOLD).values_list("hold_reason", flat=True)) >= {
        "waiting_for_parts",
        "waiting_for_client",
        "waiting_for_access",
    }
    assert not work_orders.filter(status=Status.CANCELLED, status_reason="").exists()
    assert not work_orders.filter(billing_status=BillingStatus.NO_CHARGE, no_charge_reason="").exists()
    requests = Counter(WorkRequest.objects.filter(organization=org).values_list("status", flat=True))
    assert requests[RequestStatus.NEW] and requests[RequestStatus.ACCEPTED] and requests[RequestStatus.REJECTED]
    assert work_orders.filter(request__isnull=False).count() == requests[RequestStatus.ACCEPTED]
    assert work_orders.filter(follow_up_of__isnull=False).count() == 3


def test_equipment_forms_a_hierarchy_at_the_same_site(org):
    equipment = Equipment.objects.filter(organization=org).select_related("parent")
    children = [e for e in equipment if e.parent_id]
    assert len(children) >= 15
    assert all(e.site_id == e.parent.site_id for e in children)
    compressor = equipment.get(name="Compressor CH-1/C1")
    assert compressor.parent.name == "Chiller CH-1"
    assert compressor.parent.parent.name == "Chiller plant"
    assert set(equipment.values_list("category__name", flat=True)) == {
        "Boilers",
        "Chillers",
        "AHUs",
        "Pumps",
        "Lifts",
        "Fire safety",
        "Electrical",
    }


def test_sites_are_in_three_time_zones_and_each_has_work(org):
    zones = Counter(Site.objects.filter(organization=org).values_list("timezone", flat=True))
    assert set(zones) == {"Europe/Berlin", "America/New_York", "Europe/Amsterdam"}
    worked = WorkOrder.objects.filter(organization=org, status=Status.CLOSED).values_list("site__timezone", flat=True)
    assert set(worked) == {"Europe/Berlin", "America/New_York", "Europe/Amsterdam"}


def test_the_history_covers_the_last_90_days_and_nothing_lies_in_the_future(org):
    span = WorkOrder.objects.filter(organization=org).aggregate(first=Min("created_at"), last=Max("created_at"))
    assert NOW - timedelta(days=90) <= span["first"] < NOW - timedelta(days=75)
    assert NOW - timedelta(days=2) < span["last"] <= NOW
    events = WorkOrderEvent.objects.filter(organization=org)
    assert not events.filter(recorded_at__gt=NOW).exists()
    assert not events.filter(occurred_at__gt=NOW).exists()
    assert not TimeEntry.objects.filter(organization=org, ended_at__gt=NOW).exists()
    assert not WorkOrder.objects.filter(organization=org, updated_at__gt=NOW).exists()


def test_each_timeline_starts_with_creation_and_runs_in_order(org):
    by_work_order: dict[int, list] = {}
    for e in WorkOrderEvent.objects.filter(organization=org).order_by("work_order_id", "id"):
        by_work_order.setdefault(e.work_order_id, []).append(e)
    created = dict(WorkOrder.objects.filter(organization=org).values_list("pk", "created_at"))
    assert set(by_work_order) == set(created)
    for pk, events in by_work_order.items():
        assert events[0].kind == EventKind.CREATED and events[0].recorded_at == created[pk]
        times = [e.recorded_at for e in events]
        assert times == sorted(times)
    # numbers were given in the order the work orders were created
    numbers = list(
        WorkOrder.objects.filter(organization=org).order_by("created_at", "id").values_list("number", flat=True)
    )
    assert numbers == sorted(numbers) and numbers[0] == "WO-2026-00001"


def test_technicians_work_in_working_hours_of_the_site(org):
    entries = TimeEntry.objects.filter(organization=org, kind=TimeKind.LABOUR).select_related("work_order__site")
    assert entries.count() > 100
    for entry in entries:
        tz = ZoneInfo(entry.work_order.site.timezone)
        start = entry.started_at.astimezone(tz)
        assert start.weekday() < 5
        assert 7 <= start.hour + start.minute / 60 <= 17.5, (entry.work_order.number, start)
        if entry.ended_at:
            assert entry.ended_at.astimezone(tz).hour <= 18


def test_every_technician_has_work_today(org):
    for m in Membership.objects.filter(organization=org, role=Role.TECHNICIAN).select_related("user"):
        today = [
            wo
            for wo in WorkOrder.objects.filter(lead_technician=m.user, scheduled_start__isnull=False).select_related(
                "site"
            )
            if wo.scheduled_start.astimezone(ZoneInfo(wo.site.timezone)).date()
            == NOW.astimezone(ZoneInfo(wo.site.timezone)).date()
        ]
        assert len(today) >= 2, m.user.email


def test_finished_work_carries_time_parts_answers_and_resolution_notes(org):
    finished = WorkOrder.objects.filter(organization=org, status__in=[Status.COMPLETED, Status.CLOSED]).annotate(
        labour=Count("time_entries"), parts=Count("part_usages", distinct=True)
    )
    assert all(wo.labour > 0 and wo.resolution_notes for wo in finished)
    assert sum(1 for wo in finished if wo.parts) > len(finished) / 2
    assert not ChecklistAnswer.objects.filter(work_order__in=finished, is_required=True, value="").exists()
    assert not finished.filter(requires_signature=True, signed_by_name="").exists()
    assert PartUsage.objects.filter(organization=org, unit_price__gt=0).exists()


def test_loading_again_changes_nothing_and_prints_the_logins(org):
    # given
    before = demo_counts(org)
    last_change = WorkOrder.objects.filter(organization=org).aggregate(last=Max("updated_at"))["last"]
    out = StringIO()
    # when
    again = load_demo(now=NOW + timedelta(days=1))
    call_command("load_demo", stdout=out)
    # then
    assert again.created is False and again.organization.pk == org.pk
    assert demo_counts(org) == before
    assert WorkOrder.objects.filter(organization=org).aggregate(last=Max("updated_at"))["last"] == last_change
    text = out.getvalue()
    assert "already exists" in text
    assert f"dispatcher@{EMAIL_DOMAIN}" in text and PASSWORD in text
    assert "http://127.0.0.1:8000/" in text


# --- SLA ----------------------------------------------------------------------------------------


def test_the_sla_calendars_have_split_office_hours_a_night_shift_and_berlin_holidays(org):
    # given
    calendars = {c.name: c for c in BusinessCalendar.objects.filter(organization=org)}
    # then
    office = calendars["Office hours Berlin"]
    assert office.timezone == "Europe/Berlin"
    assert office.week == [[["07:30", "12:00"], ["12:30", "17:00"]]] * 5 + [[], []]
    holidays = set(office.holidays.values_list("date", flat=True))
    for year in (NOW.year, NOW.year + 1):  # this year and next, Berlin's own holiday included
        assert {date(year, 1, 1), date(year, 3, 8), date(year, 10, 3), date(year, 12, 25)} <= holidays
    assert date(NOW.year, 1, 6) not in holidays  # Epiphany is not a holiday in Berlin
    plant = calendars["Shift plant 24×5 Newark"]
    assert plant.timezone == "America/New_York"
    assert plant.week[0] == [["06:00", "24:00"]] and plant.week[5] == [["00:00", "06:00"]] and plant.week[6] == []
    assert date(NOW.year, 7, 4) in set(plant.holidays.values_list("date", flat=True))
    assert calendars["24×7"].is_24x7


def test_the_sla_policies_apply_in_order_with_the_default_on_office_hours(org):
    policies = list(SlaPolicy.objects.filter(organization=org).select_related("calendar"))
    assert [p.name for p in policies] == [
        "Planned maintenance",
        "Critical equipment",
        "Hansa Klinikum hospital contract",
        "Newark plant",
        "Standard",
    ]
    by_name = {p.name: p for p in policies}
    assert by_name["Critical equipment"].calendar.is_24x7
    assert by_name["Critical equipment"].criticalities == ["critical", "high"]
    assert [c.name for c in by_name["Hansa Klinikum hospital contract"].clients.all()] == [CLIENT_USER_CLIENT]
    assert by_name["Newark plant"].calendar.name == "Shift plant 24×5 Newark"
    assert by_name["Standard"].is_default and by_name["Standard"].calendar.name == "Office hours Berlin"
    # every policy is used by some work order
    applied = Counter(WorkOrderSla.objects.filter(organization=org).values_list("policy_name", flat=True))
    assert set(applied) == set(by_name)


def test_every_work_order_has_clocks_started_in_the_past_and_every_sla_state_occurs(org):
    # given
    work_orders = WorkOrder.objects.filter(organization=org).select_related("sla", "request")
    # then
    due_at = dict(Occurrence.objects.filter(organization=org).values_list("work_order_id", "due_at"))
    for wo in work_orders:
        start = wo.request.created_at if wo.request_id else wo.created_at
        if wo.pk in due_at:  # preventive work: the clocks start when it is due (rule 9 of §3)
            start = max(due_at[wo.pk], wo.created_at)
        assert wo.sla.started_at == start, wo.number
        assert wo.sla.applied_at == wo.created_at
    states = Counter(work_orders.values_list("sla_state", flat=True))
    assert set(states) == {s.value for s in SlaState}, states
    assert states[SlaState.MET] > states[SlaState.BREACHED] > states[SlaState.AT_RISK]
    clocks = SlaClock.objects.filter(organization=org)
    for field in ("paused_since", "met_at", "breached_at", "updated_at"):
        assert not clocks.filter(**{f"{field}__gt": NOW}).exists(), field
    assert not clocks.filter(started_at__gt=NOW, work_order__pm_occurrence__isnull=True).exists()
    # the summary on each work order is the worst of its current clocks
    severity = {s.value: rank for s, rank in STATE_SEVERITY.items()}
    for wo in work_orders.prefetch_related("sla_clocks"):
        current = [c.state for c in wo.sla_clocks.all() if c.is_current]
        assert wo.sla_state == min(current, key=severity.__getitem__), wo.number


def test_the_states_are_current_a_scan_at_load_time_finds_nothing_to_change(org):
    assert sla_engine.scan(now=NOW) == {"at_risk": 0, "breached": 0}


def test_a_critical_breakdown_nobody_has_reached_yet_is_at_risk(org):
    wo = WorkOrder.objects.get(organization=org, status=Status.NEW, priority="critical", reports_equipment_down=True)
    response = wo.sla_clocks.get(target="response")
    assert wo.sla.policy_name == "Critical equipment"
    assert response.state == SlaState.AT_RISK and response.at_risk_at <= NOW < response.due_at
    assert wo.sla_state == SlaState.AT_RISK


def test_work_waiting_for_parts_pauses_its_resolution_clock(org):
    paused = WorkOrder.objects.filter(organization=org, sla_state=SlaState.PAUSED)
    assert paused.exists()
    for wo in paused:
        assert wo.status == Status.ON_HOLD and wo.hold_reason in ("waiting_for_parts", "waiting_for_client")
        resolution = wo.sla_clocks.get(target="resolution", is_current=True)
        assert resolution.paused_since is not None and resolution.due_at is None
        assert SlaPause.objects.filter(clock=resolution, ended_at=None, reason=wo.hold_reason).exists()
    # work that went on hold and resumed carries the paused business time
    assert SlaClock.objects.filter(organization=org, target="resolution", paused_seconds__gt=0).exists()


def test_escalations_of_the_history_are_recorded_once_and_count_as_sent(org):
    notifications = SlaNotification.objects.filter(organization=org)
    assert notifications.filter(level="breached").exists() and notifications.filter(level="at_risk").exists()
    assert not notifications.filter(sent_at=None).exists()
    assert not notifications.filter(created_at__gt=NOW).exists()
    for n in notifications.filter(level="breached"):
        clock = SlaClock.objects.get(work_order_id=n.work_order_id, target=n.target, cycle=n.cycle)
        assert clock.state == SlaState.BREACHED


# --- preventive maintenance ---------------------------------------------------------------------


@pytest.fixture
def dispatcher(org):
    return actor_for(User.objects.get(email=f"dispatcher@{EMAIL_DOMAIN}"), org.pk)


def test_the_preventive_plans_cover_every_kind_of_trigger(org):
    plans = {p.name: p for p in MaintenancePlan.objects.filter(organization=org, is_active=True)}
    assert len(plans) == 6
    monthly = plans["AHU-02 filter change (month end)"]
    assert (monthly.rule, monthly.day_shift) == ("FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1", "previous")
    assert monthly.calendar.name == "Office hours Berlin"
    assert plans["Bed lift L1 inspection (quarterly, 2nd Tuesday)"].rule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=2TU"
    floating = plans["HP-1 pump inspection (30 days after the last)"]
    assert (floating.mode, floating.interval_days) == ("floating", 30)
    metered = plans["Chiller CH-1 service (every 500 running hours)"]
    assert (metered.meter_name, metered.meter_interval) == ("Running hours", 500)
    assert plans["Emergency generator weekly test run"].open_policy == "stack"
    assert all(p.lead_technician_id and p.equipment_id for p in plans.values())


def test_the_chiller_meter_has_a_year_of_weekly_readings_and_a_usage_rate(org):
    meter = Meter.objects.get(organization=org, name="Running hours")
    readings = MeterReading.objects.filter(meter=meter).order_by("read_at")
    assert readings.count() >= 50
    assert readings.first().read_at < NOW - timedelta(days=355) and readings.last().read_at <= NOW
    lifetimes = list(readings.values_list("lifetime", flat=True))
    assert lifetimes == sorted(lifetimes)
    rate = selectors.usage_rates([meter], now=NOW)[meter.pk]
    assert 4 <= rate <= 20  # hours a day, spring


def test_the_maintenance_history_has_work_done_on_time_one_late_and_one_skipped(org, dispatcher):
    # given
    start = (NOW - timedelta(days=90)).date()
    report = selectors.compliance(actor=dispatcher, date_from=start, date_to=NOW.date(), now=NOW)
    # then
    totals = report.totals
    assert totals.late >= 2  # the last filter change, and the sprinkler test that waited for parts
    assert totals.skipped == 1
    assert totals.missed == totals.cancelled == 0
    assert totals.on_time > totals.late and totals.open >= 3  # the generator tests nobody started
    skipped = Occurrence.objects.get(organization=org, status="skipped")
    assert skipped.reason.startswith("Skipped: WO-") and skipped.reason.endswith("is still open.")
    # the generated work orders are the system's, numbered in order with the rest
    made = WorkOrder.objects.filter(organization=org, pm_occurrence__isnull=False)
    assert set(made.values_list("type", flat=True)) == {"preventive"}
    assert set(made.values_list("created_by__email", flat=True)) == {generator.SYSTEM_EMAIL}
    done = made.filter(status__in=[Status.COMPLETED, Status.CLOSED])
    assert done.count() >= 8 and not done.filter(resolution_notes="").exists()


def test_the_stale_plans_page_has_the_generator_test_nobody_started(org, dispatcher):
    stale = selectors.stale_plans(actor=dispatcher, now=NOW)
    assert [p.name for p in stale] == ["Emergency generator weekly test run"]
    assert all(w.status == Status.NEW for w in stale[0].work_orders)


def test_the_forecast_shows_what_is_coming_and_what_is_overdue(org, dispatcher):
    items = selectors.forecast(
        actor=dispatcher, date_from=NOW.date() - timedelta(days=30), date_to=NOW.date() + timedelta(days=92), now=NOW
    )
    kinds = Counter(i.kind for i in items)
    assert kinds["upcoming"] >= 8 and kinds["overdue"] >= 3 and kinds["generated"] >= 3
    upcoming = {i.plan_name for i in items if i.kind == "upcoming"}
    assert "Chiller CH-1 service (every 500 running hours)" in upcoming  # predicted from the usage rate
    assert any(i.is_predicted for i in items)


def test_the_generator_finds_nothing_to_do_at_load_time(org):
    before = Occurrence.objects.filter(organization=org).count()
    stats = generator.generate(organization_id=org.pk, now=NOW)
    assert (stats.plans, stats.work_orders, stats.skipped, stats.missed, stats.errors) == (6, 0, 0, 0, [])
    assert Occurrence.objects.filter(organization=org).count() == before


# --- billing --------------------------------------------------------------------------------------


@pytest.fixture
def accountant(org):
    return actor_for(User.objects.get(email=f"accountant@{EMAIL_DOMAIN}"), org.pk)


def test_the_seller_is_set_up_with_its_taxes_rates_prices_contract_and_logo(org, demo_media):
    # given
    settings = BillingSettings.objects.select_related("default_tax_rate", "overtime_calendar").get(organization=org)
    # then
    assert settings.legal_name == "Nordwind Facility Services GmbH" and settings.vat_id.startswith("DE")
    assert settings.iban and settings.bic and settings.payment_terms_days == 14
    assert settings.logo.name.endswith(".png") and (demo_media / settings.logo.name).is_file()
    assert (settings.default_tax_rate.category, settings.default_tax_rate.rate) == ("S", Decimal("19.00"))
    assert settings.overtime_calendar is not None and settings.overtime_multiplier == Decimal("1.5")
    taxes = {(t.category, t.rate) for t in TaxRate.objects.filter(organization=org)}
    assert taxes == {("S", Decimal("19.00")), ("S", Decimal("7.00")), ("AE", Decimal("0")), ("E", Decimal("0"))}
    technicians = Membership.objects.filter(organization=org, role=Role.TECHNICIAN).values_list("user_id", flat=True)
    assert set(TechnicianRateClass.objects.filter(organization=org).values_list("user_id", flat=True)) == set(
        technicians
    )
    assert {r.kind for r in Rate.objects.filter(organization=org, price_list=None, rate_class=None)} == {
        "labour",
        "travel",
    }
    # the key client: a price list with rates and part prices, and a maintenance contract
    key = ClientBilling.objects.select_related("price_list").get(client__name=CLIENT_USER_CLIENT)
    assert key.price_list.items.count() >= 5 and key.price_list.rates.count() >= 2
    contract = ServiceContract.objects.get(organization=org, client=key.client)
    assert contract.included_labour_minutes > 0 and contract.covered_part_categories.exists()
    assert contract.waives_call_out and contract.discount_percent > 0
    # every client has billing details; the one in the Netherlands is invoiced under the reverse charge
    assert ClientBilling.objects.filter(organization=org).count() == Client.objects.filter(organization=org).count()
    abroad = ClientBilling.objects.select_related("client", "tax_rate").get(organization=org, country="NL")
    assert abroad.tax_rate.category == "AE" and abroad.client.vat_id.startswith("NL")


def test_closed_work_is_invoiced_each_month_with_gap_free_numbers_and_stored_documents(org, demo_media):
    # given
    issued = list(
        Invoice.objects.filter(organization=org, document_type=DocumentType.INVOICE)
        .exclude(status=InvoiceStatus.DRAFT)
        .order_by("number")
    )
    # then: one series, numbered 1, 2, 3… with dates that never go backwards
    assert len(issued) >= 8
    assert [i.number for i in issued] == [f"INV-2026-{n:05d}" for n in range(1, len(issued) + 1)]
    days = [i.issue_date for i in issued]
    assert days == sorted(days)
    runs = {i.issue_date for i in issued if i.lines.exclude(work_order=None).exists()}
    assert {d.day for d in runs} <= {1, 2, 3} and len(runs) >= 2  # the first working day of each month
    for invoice in issued:
        assert invoice.pdf and invoice.xml_cii and invoice.xml_ubl and len(invoice.pdf_sha256) == 64
        pdf = (demo_media / invoice.pdf.name).read_bytes()
        assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == invoice.pdf_sha256
        assert invoice.seller["vat_id"] == "DE298765431" and invoice.seller["logo_path"]
        assert invoice.created_at <= invoice.issued_at <= NOW
    # the work on them is invoiced; work closed before this month's run waits only if it is this month's
    on_issued = WorkOrder.objects.filter(invoice_lines__invoice__in=issued).distinct()
    assert set(on_issued.values_list("billing_status", flat=True)) == {BillingStatus.INVOICED}
    last_run = max(runs)
    month_start = datetime.combine(last_run.replace(day=1), datetime.min.time(), tzinfo=ZoneInfo("Europe/Berlin"))
    waiting = WorkOrder.objects.filter(organization=org, billing_status=BillingStatus.TO_INVOICE)
    assert waiting.exists() and not waiting.filter(closed_at__lt=month_start).exists()
    # the lines show the contract (covered time at 100 % discount) and the reverse charge
    lines = InvoiceLine.objects.filter(invoice__in=issued)
    assert lines.filter(discount_percent=100, contract__isnull=False).exists()
    assert lines.filter(tax_category="AE", exemption_code="VATEX-EU-AE").exists()
    assert set(lines.values_list("kind", flat=True)) >= {"labour", "travel", "part", "call_out"}


def test_invoices_are_paid_in_part_in_full_or_not_at_all_and_one_is_corrected_by_a_credit_note(org):
    # given
    invoices = Invoice.objects.filter(organization=org, document_type=DocumentType.INVOICE)
    today = NOW.astimezone(ZoneInfo("Europe/Berlin")).date()
    # then
    assert invoices.filter(status=InvoiceStatus.PAID).count() >= 3
    assert invoices.filter(status=InvoiceStatus.PARTIALLY_PAID).exists()
    assert invoices.filter(status=InvoiceStatus.ISSUED, due_date__lt=today).exists()  # overdue
    for invoice in invoices.exclude(status=InvoiceStatus.DRAFT):
        paid = sum((p.amount for p in invoice.payments.all()), Decimal(0))
        assert paid == invoice.amount_paid
        assert all(p.paid_on <= today and p.created_at <= NOW for p in invoice.payments.all())
    note = Invoice.objects.get(organization=org, document_type=DocumentType.CREDIT_NOTE)
    assert note.number == "CN-2026-00001" and note.status == InvoiceStatus.ISSUED
    credited = note.credited_invoice
    assert note.issue_date > credited.issue_date and note.total_gross > 0
    assert credited.status == InvoiceStatus.PAID and credited.amount_paid == credited.total_gross - note.total_gross


def test_drafts_wait_with_this_months_work_and_manual_lines_at_7_percent_and_exempt(org):
    # given
    drafts = Invoice.objects.filter(organization=org, status=InvoiceStatus.DRAFT).select_related("client")
    # then
    assert {d.client.name for d in drafts} == {CLIENT_USER_CLIENT, "Van Dijk Koelhuizen B.V."}
    key = drafts.get(client__name=CLIENT_USER_CLIENT)
    categories = {(g["category"], Decimal(g["rate"])) for g in key.tax_breakdown}
    assert categories == {("S", Decimal("19")), ("S", Decimal("7")), ("E", Decimal("0"))}
    assert key.lines.filter(kind="manual").count() == 2 and key.number is None
    assert key.lines.filter(discount_percent=100, contract__isnull=False).exists()  # the contract's hours
    abroad = drafts.get(client__name="Van Dijk Koelhuizen B.V.")
    assert {g["category"] for g in abroad.tax_breakdown} == {"AE"} and abroad.total_tax == 0


def test_the_accountant_can_invoice_the_waiting_work_and_issue_a_draft(org, accountant):
    # when
    drafts = billing_services.invoice_closed_work(actor=accountant)
    issued = billing_services.invoice_issue(actor=accountant, invoice_id=drafts[0].pk)
    # then
    assert (
        drafts
        and not WorkOrder.objects.filter(organization=org, billing_status=BillingStatus.TO_INVOICE)
        .exclude(invoice_lines__isnull=False)
        .exists()
    )
    assert issued.number.startswith("INV-") and issued.status in (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def test_quotes_were_sent_accepted_with_a_signature_rejected_and_one_is_still_a_draft(org):
    # given
    quotes = {q.status: q for q in Quote.objects.filter(organization=org).select_related("converted_invoice")}
    # then
    assert set(quotes) == {"draft", "sent", "accepted", "rejected"}
    assert all(q.lines.exists() and q.total_gross > 0 for q in quotes.values())
    assert quotes["sent"].sent_at <= NOW and quotes["sent"].valid_until > NOW.date()
    accepted = quotes["accepted"]
    assert accepted.decided_by_name and accepted.decision_signature and accepted.decided_from_ip
    assert accepted.converted_invoice.number.startswith("INV-") and accepted.converted_invoice.issued_at < NOW
    assert quotes["rejected"].rejection_reason and quotes["draft"].sent_at is None
    assert all(q.created_at <= q.updated_at <= NOW for q in quotes.values())


def test_two_changes_from_a_phone_wait_for_the_office_in_the_held_queue(org):
    # given the demo's field commands
    from fixflow.field.choices import CommandStatus
    from fixflow.field.models import SyncCommand

    held = SyncCommand.objects.filter(organization=org).select_related("work_order")
    # then one change on closed work and one on invoiced work wait, and nothing of them was recorded
    assert sorted((c.type, c.status, c.hold_reason) for c in held) == [
        ("part.use", CommandStatus.HELD, "invoiced"),
        ("time.add", CommandStatus.HELD, "closed"),
    ]
    for command in held:
        assert command.user_id == command.work_order.lead_technician_id
        assert command.effective_at <= NOW and not command.time_flagged
    closed = held.get(type="time.add").work_order
    assert not closed.time_entries.filter(note="Drive back to the depot").exists()
