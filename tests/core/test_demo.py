"""The demo organization: loaded once for this module (it takes a few seconds), then inspected.

The clock is fixed to a Wednesday morning whose 90-day history crosses both daylight-saving changes
(New York on 8 March, Berlin on 29 March 2026).
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min
from django.test import override_settings

from fixflow.assets.models import Equipment
from fixflow.core.choices import Role
from fixflow.core.models import Membership, User
from fixflow.customers.models import Client, Site
from fixflow.demo import EMAIL_DOMAIN, ORG_NAME, PASSWORD, demo_counts, load_demo
from fixflow.inventory.models import Part
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

NOW = datetime(2026, 4, 15, 8, 30, tzinfo=UTC)  # Wednesday, 10:30 in Berlin and 04:30 in New York


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, loaded once inside a transaction that is rolled back after the module's tests."""
    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the per-test fixture in conftest.py
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), PASSWORD_HASHERS=fast_hashing),
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
    assert counts["clients"] == 5
    assert counts["sites"] == 12
    assert counts["equipment"] == 60
    assert 28 <= counts["parts"] <= 35
    assert counts["templates"] == 5
    assert counts["work_orders"] == 200
    assert counts["work_requests"] == 15
    for client in Client.objects.filter(organization=org):
        assert client.billing_address and client.vat_id.startswith("DE") and client.contacts.exists()
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


def test_sites_are_in_two_time_zones_and_both_have_work(org):
    zones = Counter(Site.objects.filter(organization=org).values_list("timezone", flat=True))
    assert set(zones) == {"Europe/Berlin", "America/New_York"}
    worked = WorkOrder.objects.filter(organization=org, status=Status.CLOSED).values_list("site__timezone", flat=True)
    assert set(worked) == {"Europe/Berlin", "America/New_York"}


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
