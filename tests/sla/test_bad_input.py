"""Bad input to the SLA code gets a clear validation error (never a 500), and odd but valid data (a
title with a line break) still gets its escalation out."""

from datetime import date

import pytest

from fixflow.core.errors import DomainError, ErrorCode
from fixflow.service.selectors import work_order_list
from fixflow.sla import services
from fixflow.sla.forms import parse_duration
from fixflow.sla.models import Holiday
from fixflow.sla.selectors import compliance_report

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    "DTSTART;VALUE=DATE:{start}\r\n{extra}SUMMARY:Holiday\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def calendar(world):
    return services.calendar_create(actor=world.admin, data={"name": "Office", "timezone": "Europe/Berlin"})


def _import(world, calendar, start, extra=""):
    content = ICS.format(start=start, extra=extra).encode()
    return services.holidays_import_ics(actor=world.admin, calendar_id=calendar.pk, content=content)


@pytest.mark.parametrize(
    ("start", "extra"),
    [
        ("2026XX01", ""),
        ("20261224", "DTEND:garbage\r\n"),
        ("20261224", "DTEND;VALUE=PERIOD:20261224T000000Z/PT1H\r\n"),
        ("99991231", ""),
        ("20261224", "DURATION:P9999D\r\n"),
    ],
)
def test_a_malformed_or_far_off_holiday_event_is_refused_and_adds_nothing(world, calendar, start, extra):
    # when
    with pytest.raises(DomainError) as exc:
        _import(world, calendar, start, extra)
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "file")
    assert not Holiday.objects.filter(calendar=calendar).exists()


def test_an_event_given_with_a_duration_covers_each_of_its_days(world, calendar):
    # when
    added = _import(world, calendar, "20261224", "DURATION:P3D\r\n")
    # then
    assert added == 3
    assert sorted(Holiday.objects.filter(calendar=calendar).values_list("date", flat=True)) == [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


@pytest.mark.parametrize(("date_from", "date_to"), [("9999-01-01", "9999-12-31"), ("0001-01-01", "0002-01-01")])
def test_the_compliance_report_refuses_dates_outside_the_years_it_can_count(world, date_from, date_to):
    # when
    with pytest.raises(DomainError) as exc:
        compliance_report(actor=world.admin, date_from=date_from, date_to=date_to)
    # then
    assert exc.value.code == ErrorCode.VALIDATION
    assert "1900" in exc.value.message


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_the_work_order_list_refuses_sla_due_instants_at_the_edges_of_time(world, value):
    # when
    with pytest.raises(DomainError) as exc:
        work_order_list(actor=world.dispatcher, filters={"sla_due_before": value, "sla_due_after": value})
    # then
    assert (exc.value.code, exc.value.field) == (ErrorCode.VALIDATION, "sla_due_after")


@pytest.mark.parametrize("text", ["²", "9" * 400 + " h", "1" * 5000])
def test_a_target_that_is_not_a_duration_is_a_form_error(text):
    from django import forms

    with pytest.raises(forms.ValidationError):
        parse_duration(text)


def test_an_escalation_subject_is_one_line_when_the_title_has_line_breaks(world):
    from fixflow.service import services as wo_services
    from fixflow.sla.choices import NotificationLevel, Target
    from fixflow.sla.models import SlaNotification
    from fixflow.sla.notifications import subject

    # given
    wo = wo_services.work_order_create(
        actor=world.dispatcher, site_id=world.site.pk, equipment_id=world.equipment.pk, title="Pump\nleaks\r\nagain"
    )
    notification = SlaNotification(
        organization_id=world.org.pk, work_order=wo, target=Target.RESOLUTION, level=NotificationLevel.BREACHED, cycle=1
    )
    # when
    text = subject(notification)
    # then
    assert "\n" not in text and "\r" not in text
    assert "Pump leaks again" in text
