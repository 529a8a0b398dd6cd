"""The breach scan takes its locks in the order every other writer does (work order, then clocks): a
scan and a transition of the same work order at the same instant wait for each other, never deadlock."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections

from fixflow.service import services as wo_services
from fixflow.sla import engine
from fixflow.sla.models import SlaClock
from tests.conftest import build_world

from .test_notifications import RESOLUTION_DUE, office_policy, started_work_order


@pytest.mark.django_db(transaction=True)
def test_a_scan_and_a_transition_of_the_same_work_order_do_not_deadlock():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so the two cannot interleave")
    # given a work order whose resolution clock is past due, and a scan that pauses inside its transaction
    world = build_world()
    office_policy(world)
    wo = started_work_order(world)
    after_due = RESOLUTION_DUE + timedelta(minutes=1)
    inside_scan, errors, results = threading.Event(), {}, {}

    def slow_summary_update(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith('UPDATE "SERVICE_WORKORDER"') and not inside_scan.is_set():
            inside_scan.set()
            time.sleep(1.5)  # meanwhile the transition asks for the same work order
        return execute(sql, params, many, context)

    def scan():
        try:
            with connections["default"].execute_wrapper(slow_summary_update):
                results["scan"] = engine.scan(now=after_due)
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            errors["scan"] = repr(exc)
        finally:
            connections.close_all()

    def transition():
        try:
            inside_scan.wait(20)
            wo_services.work_order_transition(
                actor=world.technician, work_order_id=wo.pk, to="on_hold", hold_reason="waiting_for_parts"
            )
        except Exception as exc:  # noqa: BLE001
            errors["transition"] = repr(exc)
        finally:
            connections.close_all()

    # when both run at once
    threads = [threading.Thread(target=scan), threading.Thread(target=transition)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then both finished without error: the breach recorded, the hold applied after it (a breach does not pause)
    assert inside_scan.is_set()
    assert errors == {}
    assert results["scan"]["breached"] >= 1
    clock = SlaClock.objects.get(work_order=wo, target="resolution", is_current=True)
    assert (clock.state, clock.paused_since) == ("breached", None)
    wo.refresh_from_db()
    assert (wo.status, wo.sla_state) == ("on_hold", "breached")
