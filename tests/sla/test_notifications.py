"""SLA escalation e-mails: received by a real SMTP server, each (work order, target, level, cycle) once."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult

from fixflow.core.choices import Role
from fixflow.core.clock import frozen_at
from fixflow.core.scheduler import run_worker
from fixflow.service import services as wo_services
from fixflow.sla import engine, notifications
from fixflow.sla import services as sla_services
from fixflow.sla.models import SlaClock, SlaNotification
from tests.conftest import make_actor
from tests.smtp import free_port, smtp_mailers

from .conftest import BASE_URL

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
# Mon–Fri 08:00–17:00 Berlin, resolution 540 business minutes: Friday 16:00 + 1 h + 8 h = Monday 16:00
RESOLUTION_DUE = datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN)
# 80 % of 540 min = 432 min: Friday 1 h, Monday 08:00 + 6 h 12 min
RESOLUTION_AT_RISK = datetime(2026, 11, 30, 14, 12, tzinfo=BERLIN)


def office_policy(world, **extra):
    cal = sla_services.calendar_create(actor=world.admin, data={"name": "Office", "timezone": "Europe/Berlin"})
    return sla_services.policy_create(
        actor=world.admin,
        data={
            "name": "Stadtwerke",
            "calendar_id": cal.pk,
            "client_ids": [world.client.pk],
            "targets": {p: {"response": 60, "resolution": 540} for p in ("critical", "high", "normal", "low")},
            **extra,
        },
    )


def started_work_order(world, *, title="Pump P1 leaks", site=None, with_equipment=True):
    """A work order created Friday 16:00 whose technician arrived at 16:30 (response met)."""
    site = site or world.site
    equipment = world.equipment if with_equipment else None
    with frozen_at(FRIDAY_16):
        wo = wo_services.work_order_create(
            actor=world.dispatcher,
            title=title,
            site_id=site.pk,
            equipment_id=equipment.pk if equipment else None,
            requires_equipment=equipment is not None,
            priority="high",
            lead_technician_id=world.technician.user_id,
        )
    with frozen_at(FRIDAY_16 + timedelta(minutes=30)):
        wo_services.work_order_transition(actor=world.technician, work_order_id=wo.pk, to="in_progress")
    return wo


def emails(*actors) -> list[str]:
    return sorted(a.user.email for a in actors)


def test_a_breached_resolution_is_mailed_once_even_when_the_scan_runs_twice(world, smtp):
    # given a started work order whose resolution is due Monday 16:00 Berlin
    office_policy(world, escalation_email="escalation@stadtwerke.example")
    wo = started_work_order(world)
    after_due = RESOLUTION_DUE + timedelta(minutes=1)

    # when the scan runs twice and both the queue's task and the sweep try to send
    first = engine.scan(now=after_due)
    second = engine.scan(now=after_due + timedelta(minutes=1))
    ids = list(SlaNotification.objects.values_list("pk", flat=True))
    sent = notifications.send_notifications(ids) + notifications.send_unsent() + notifications.send_notifications(ids)

    # then one breach, one notification row, one e-mail
    assert first == {"at_risk": 0, "breached": 1} and second == {"at_risk": 0, "breached": 0}
    assert sent == 1
    [row] = SlaNotification.objects.all()
    assert (row.work_order_id, row.target, row.level, row.cycle) == (wo.pk, "resolution", "breached", 1)
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_until is None and row.last_error == ""
    [mail] = smtp.wait_for(1)
    assert mail.subject == f"[Fixflow] SLA breached: {wo.number} Pump P1 leaks — resolution"
    expected_to = [*emails(world.dispatcher), "escalation@stadtwerke.example"]
    assert sorted(mail.rcpt_tos) == sorted(expected_to)
    assert row.recipients == expected_to
    assert mail.mail_from == "fixflow@example.com"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    text = mail.body("plain")
    url = f"{BASE_URL}/work-orders/{wo.pk}/"
    assert "The resolution target of this work order is breached." in text
    assert "Target:     Resolution" in text
    assert "State now:  Breached" in text
    assert "Due:        Mon 30 Nov 2026, 16:00 CET (Europe/Berlin)" in text
    assert "Priority:   High" in text
    assert "Client:     Stadtwerke" in text
    assert "Site:       Pumpwerk Nord" in text
    assert "Equipment:  Pump P1" in text
    assert "Policy:     Stadtwerke (Office)" in text
    assert url in text
    html = mail.body("html")
    assert f'href="{url}"' in html
    assert "Mon 30 Nov 2026, 16:00 CET (Europe/Berlin)" in html


def test_at_risk_then_breached_are_two_emails(world, smtp):
    # given a started work order
    office_policy(world)
    wo = started_work_order(world)

    # when the scan runs past the at-risk instant, then past the due instant
    engine.scan(now=RESOLUTION_AT_RISK)
    notifications.send_unsent()
    engine.scan(now=RESOLUTION_DUE)
    notifications.send_unsent()
    notifications.send_unsent()

    # then one e-mail per level
    subjects = [m.subject for m in smtp.wait_for(2)]
    assert subjects == [
        f"[Fixflow] SLA at risk: {wo.number} Pump P1 leaks — resolution",
        f"[Fixflow] SLA breached: {wo.number} Pump P1 leaks — resolution",
    ]
    assert "is at risk." in smtp.messages[0].body()
    assert "State now:  At risk" in smtp.messages[0].body()
    assert sorted(SlaNotification.objects.values_list("level", flat=True)) == ["at_risk", "breached"]


def test_recipients_are_active_dispatchers_the_technician_when_configured_and_the_escalation_address(world, smtp):
    # given a second active dispatcher, an inactive one, and a policy notifying the technician
    second = make_actor(world.org, Role.DISPATCHER, email="zoe.dispatcher@example.com")
    gone = make_actor(world.org, Role.DISPATCHER, email="gone.dispatcher@example.com")
    gone.user.memberships.update(is_active=False)
    make_actor(world.org, Role.ADMIN, email="another.admin@example.com")
    office_policy(world, notify_technician=True, escalation_email=world.dispatcher.user.email.upper())
    wo = started_work_order(world)

    # when it breaches
    engine.scan(now=RESOLUTION_DUE)
    assert notifications.send_unsent() == 1

    # then the dispatchers, the lead technician; the escalation address, a dispatcher's, comes once
    [mail] = smtp.wait_for(1)
    expected = [*emails(world.dispatcher, second), world.technician.user.email]
    assert sorted(mail.rcpt_tos) == sorted(expected)
    assert SlaNotification.objects.get(work_order=wo).recipients == expected


def test_the_due_instant_is_shown_in_the_sites_time_zone_and_the_calendars(world, smtp):
    # given a site in New York served on the Berlin office calendar
    from tests.factories import SiteFactory

    ny_site = SiteFactory(client=world.client, name="Brooklyn Depot", timezone="America/New_York")
    office_policy(world)
    wo = started_work_order(world, title="Door jammed", site=ny_site, with_equipment=False)

    # when it breaches
    engine.scan(now=RESOLUTION_DUE)
    notifications.send_unsent()

    # then the e-mail says the due instant as read in New York, and in the calendar's Berlin time
    [mail] = smtp.wait_for(1)
    assert RESOLUTION_DUE.astimezone(NEW_YORK).hour == 10
    assert "Due:        Mon 30 Nov 2026, 10:00 EST (America/New_York) = Mon 30 Nov 2026, 16:00 CET (Europe/Berlin)" in (
        mail.body()
    )
    assert "Equipment:  —" in mail.body()
    assert mail.subject == f"[Fixflow] SLA breached: {wo.number} Door jammed — resolution"


def test_an_smtp_failure_is_recorded_and_the_sweep_sends_it_after_the_retry_delay(world, smtp):
    # given a breach while the SMTP server refuses mail
    office_policy(world)
    started_work_order(world)
    engine.scan(now=RESOLUTION_DUE)
    smtp.refuse = True
    now = datetime(2026, 11, 30, 16, 5, tzinfo=BERLIN)

    # when the queued task tries to send
    [pk] = SlaNotification.objects.values_list("pk", flat=True)
    assert notifications.send_notifications([pk], now=now) == 0

    # then the failure is on the row, held back for the retry delay
    row = SlaNotification.objects.get()
    assert row.sent_at is None and row.attempts == 1 and "451" in row.last_error
    assert row.claimed_until == now + timedelta(seconds=notifications.RETRY_DELAYS_SECONDS[0])
    assert notifications.send_unsent(now + timedelta(seconds=30)) == 0
    assert SlaNotification.objects.get().attempts == 1

    # when the server is back and the delay has passed
    smtp.refuse = False
    assert notifications.send_unsent(now + timedelta(seconds=61)) == 1

    # then it went out once, and the error is cleared
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""
    assert len(smtp.wait_for(1)) == 1
    assert notifications.send_unsent(now + timedelta(days=1)) == 0
    assert len(smtp.messages) == 1


def test_the_sweep_gives_up_after_the_last_attempt(world, settings):
    # given a breach and no SMTP server listening at all
    settings.MAILERS = smtp_mailers("127.0.0.1", free_port())
    office_policy(world)
    started_work_order(world)
    engine.scan(now=RESOLUTION_DUE)
    now = datetime(2026, 11, 30, 17, 0, tzinfo=BERLIN)

    # when the sweep runs every day for longer than the attempts last
    for day in range(notifications.MAX_ATTEMPTS + 2):
        assert notifications.send_unsent(now + timedelta(days=day)) == 0

    # then it tried MAX_ATTEMPTS times, kept the error, and is no longer claimable
    row = SlaNotification.objects.get()
    assert row.attempts == notifications.MAX_ATTEMPTS
    assert row.sent_at is None and row.claimed_until is None
    assert "ConnectionRefusedError" in row.last_error
    assert not notifications.claim(row.pk, now=now + timedelta(days=30))


def test_a_claim_is_taken_once_and_can_be_taken_again_when_it_expires(world):
    # given an unsent notification
    office_policy(world)
    started_work_order(world)
    engine.scan(now=RESOLUTION_DUE)
    [pk] = SlaNotification.objects.values_list("pk", flat=True)
    now = datetime(2026, 11, 30, 17, 0, tzinfo=BERLIN)

    # when two senders claim it, and a third after the claim ran out (the first died)
    first, second = notifications.claim(pk, now=now), notifications.claim(pk, now=now)
    third = notifications.claim(pk, now=now + timedelta(seconds=notifications.CLAIM_SECONDS + 1))

    # then only the first and the third get it
    assert (first, second, third) == (True, False, True)
    assert SlaNotification.objects.get().attempts == 2


def test_an_at_risk_warning_is_not_sent_when_the_target_was_met_before_sending(world, smtp):
    # given an at-risk notification not sent yet (the queue was down)
    office_policy(world)
    wo = started_work_order(world)
    engine.scan(now=RESOLUTION_AT_RISK)
    # when the work is completed in time, then the sweep runs
    with frozen_at(RESOLUTION_AT_RISK + timedelta(minutes=10)):
        wo_services.work_order_transition(
            actor=world.technician, work_order_id=wo.pk, to="completed", resolution_notes="Seal replaced."
        )
    assert SlaClock.objects.get(work_order=wo, target="resolution").state == "met"
    assert notifications.send_unsent() == 0

    # then no e-mail, and the row says why
    row = SlaNotification.objects.get()
    assert row.sent_at is not None and row.recipients == []
    assert "met" in row.last_error
    assert smtp.messages == []


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_send_one_email_per_key(world, smtp):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so two scans cannot overlap")
    # given ten started work orders and ten that nobody started (both targets run)
    office_policy(world, escalation_email="escalation@stadtwerke.example")
    for n in range(10):
        started_work_order(world, title=f"Started {n}")
    with frozen_at(FRIDAY_16):
        for n in range(10):
            wo_services.work_order_create(
                actor=world.dispatcher, title=f"Waiting {n}", site_id=world.site.pk, equipment_id=world.equipment.pk
            )
    after_due = RESOLUTION_DUE + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scan_and_send():
        try:
            barrier.wait(10)
            counts = engine.scan(now=after_due)
            barrier.wait(10)
            results.append((counts, notifications.send_unsent()))
        except Exception as exc:  # reported below: an assert in a thread would pass silently
            errors.append(exc)
        finally:
            connections.close_all()

    # when two workers scan and sweep at the same moment
    threads = [threading.Thread(target=scan_and_send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    # then every clock was breached by one of them and each key was mailed exactly once
    assert errors == []
    assert sum(c["breached"] for c, _ in results) == 30  # 10 resolutions + 10 responses + 10 resolutions
    assert sum(sent for _, sent in results) == 30
    keys = list(SlaNotification.objects.values_list("work_order_id", "target", "level", "cycle"))
    assert len(keys) == len(set(keys)) == 30
    assert SlaNotification.objects.filter(sent_at=None).count() == 0
    assert SlaNotification.objects.exclude(attempts=1).count() == 0
    mails = smtp.wait_for(30)
    assert len(mails) == 30
    assert len({m.message["X-Fixflow-Notification"] for m in mails}) == 30
    # the sending tasks the scans queued after commit find nothing left to send
    queued = DBTaskResult.objects.filter(task_path="fixflow.sla.tasks.send_sla_notifications")
    assert queued.count() >= 1
    assert run_worker(once=True, with_scheduler=False, worker_id="test-worker") == 0
    assert sorted(queued.values_list("status", flat=True).distinct()) == ["SUCCESSFUL"]
    assert sum(r.return_value for r in queued) == 0
    assert notifications.send_unsent(after_due + timedelta(days=1)) == 0
    assert len(smtp.messages) == 30
