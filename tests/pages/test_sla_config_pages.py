"""SLA configuration pages: calendars (week, picture, holidays) and policies (order, targets, recalculation)."""

from datetime import UTC, date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fixflow.core.clock import frozen_at
from fixflow.sla import services as sla_services
from fixflow.sla.choices import DEFAULT_TARGETS
from fixflow.sla.engine import ensure_defaults
from fixflow.sla.forms import format_duration, parse_duration
from fixflow.sla.models import BusinessCalendar, Holiday, SlaPolicy
from fixflow.sla.templatetags.sla_config_tags import week_picture, week_summary
from tests.factories import WorkOrderFactory

OFFICE_WEEK = [[["08:00", "17:00"]]] * 5 + [[], []]


def _field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def _week_post(name="Service desk", timezone="Europe/Berlin", week=None, rows=3, **extra) -> dict:
    """The calendar form's POST: ``week`` as seven lists of (start, end) text pairs, blank rows up to ``rows``."""
    week = OFFICE_WEEK if week is None else week
    data = {"name": name, "timezone": timezone}
    for day, intervals in enumerate(week):
        for i in range(max(rows, len(intervals))):
            start, end = intervals[i] if i < len(intervals) else ("", "")
            data[f"w{day}-{i}-start"], data[f"w{day}-{i}-end"] = start, end
    data.update(extra)
    return data


def _calendar(world, name="Office hours", week=None, timezone="Europe/Berlin") -> BusinessCalendar:
    return sla_services.calendar_create(
        actor=world.admin, data={"name": name, "timezone": timezone, "week": week or OFFICE_WEEK}
    )


def _targets_post(**overrides) -> dict:
    data = {}
    for priority, pair in DEFAULT_TARGETS.items():
        for kind, minutes in pair.items():
            data[f"target_{priority}_{kind}"] = format_duration(minutes)
    data.update(overrides)
    return data


def _policy_post(world, calendar, name="Gold clients", **overrides) -> dict:
    data = {
        "name": name,
        "is_active": "on",
        "calendar": str(calendar.pk),
        "clients": [str(world.client.pk)],
        "priorities": ["critical", "high"],
        "at_risk_percent": "75",
        "response_met_on": "start",
        "pausing_hold_reasons": ["waiting_for_client"],
        "escalation_email": "escalation@example.com",
        **_targets_post(),
    }
    data.update(overrides)
    return data


# --- durations and the week picture --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("45 min", 45),
        ("4 h", 240),
        ("4h", 240),
        ("1 h 30 min", 90),
        ("1:30", 90),
        ("1.5 h", 90),
        ("1,5 h", 90),
        ("1 d 2 h", 1560),
        ("2 days", 2880),
        (" 3 Hours ", 180),
    ],
)
def test_a_target_is_typed_as_people_say_it(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["", "four hours", "4 weeks", "1 h 1 h", "0.3 min", "4 h x"])
def test_a_duration_that_is_not_understood_is_refused_with_an_example(text):
    from django.forms import ValidationError

    with pytest.raises(ValidationError) as exc:
        parse_duration(text)
    assert exc.value.messages


def test_the_week_picture_has_a_block_per_interval_and_marks_today():
    # given a split shift on Mondays and a night shift from Friday into Saturday, on Wednesday 2026-03-11 at 14:30
    week = [
        [["08:00", "12:00"], ["13:00", "17:00"]],
        [],
        [["09:00", "17:00"]],
        [],
        [["22:00", "24:00"]],
        [["00:00", "06:00"]],
        [],
    ]
    # when
    pic = week_picture(week, "Europe/Berlin", holidays=[date(2026, 3, 13)], today=date(2026, 3, 11), now_minute=870)
    # then
    blocks = {c["name"]: [b["label"] for b in c["blocks"]] for c in pic["columns"]}
    assert blocks == {
        "Mon": ["08:00–12:00", "13:00–17:00"],
        "Tue": [],
        "Wed": ["09:00–17:00"],
        "Thu": [],
        "Fri": ["22:00–24:00"],
        "Sat": ["00:00–06:00"],
        "Sun": [],
    }
    assert [c["is_today"] for c in pic["columns"]] == [False, False, True, False, False, False, False]
    assert [c["is_holiday"] for c in pic["columns"]] == [False, False, False, False, True, False, False]
    monday = pic["columns"][0]["blocks"]
    assert (monday[0]["y"], monday[0]["height"]) == ("154", "60")  # 34 + 8 h × 15, 4 h × 15
    assert pic["now_y"] == "251.5"  # 34 + 14.5 h × 15
    assert week_summary(week) == "Mon 08:00–12:00, 13:00–17:00 · Wed 09:00–17:00 · Fri 22:00–24:00 · Sat 00:00–06:00"
    assert week_summary(OFFICE_WEEK) == "Mon–Fri 08:00–17:00"


# --- calendars -----------------------------------------------------------------------------------


def test_the_calendar_list_shows_hours_holidays_and_policies_and_the_24x7_read_only(world, ref_login):
    # given
    cal = _calendar(world)
    sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day="2026-12-25", name="Christmas")
    sla_services.policy_create(
        actor=world.admin, data={"name": "Gold", "calendar_id": cal.pk, "targets": DEFAULT_TARGETS}
    )
    # when
    response = ref_login(world.dispatcher).get(reverse("sla-calendar-list"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index(f'data-calendar="{cal.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Office hours" in row and "Europe/Berlin" in row and "Mon–Fri 08:00–17:00" in row and "45 h a week" in row
    assert ">1<" in row and "Gold" in row
    builtin = BusinessCalendar.objects.get(organization=world.org, is_24x7=True)
    assert "Every day, around the clock" in html and "Standard" in html
    assert reverse("sla-calendar-edit", args=[builtin.pk]) not in html
    assert reverse("sla-calendar-create") not in html  # a dispatcher reads, an admin manages


def test_an_admin_creates_a_calendar_with_a_split_shift(world, ref_login):
    # given
    client = ref_login(world.admin)
    assert client.get(reverse("sla-calendar-create")).status_code == 200
    week = [[("8", "12:00"), ("13:00", "1700")], [("08:00", "17:00")], [], [], [], [("09:00", "13:00")], []]
    # when
    response = client.post(reverse("sla-calendar-create"), _week_post(name="Workshop", week=week))
    # then
    cal = BusinessCalendar.objects.get(organization=world.org, name="Workshop")
    assert response.status_code == 302 and response.url == reverse("sla-calendar-edit", args=[cal.pk])
    assert cal.timezone == "Europe/Berlin"
    assert cal.week == [
        [["08:00", "12:00"], ["13:00", "17:00"]],
        [["08:00", "17:00"]],
        [],
        [],
        [],
        [["09:00", "13:00"]],
        [],
    ]
    page = client.get(response.url).content.decode()
    assert 'data-interval="08:00–12:00"' in page and 'data-interval="13:00–17:00"' in page  # the picture


def test_an_admin_edits_the_week_and_the_picture_follows(world, ref_login):
    # given
    cal = _calendar(world)
    client = ref_login(world.admin)
    page = client.get(reverse("sla-calendar-edit", args=[cal.pk]))
    assert 'data-interval="08:00–17:00"' in page.content.decode()
    night = [[], [], [], [], [("22:00", "24:00")], [("00:00", "06:00")], []]
    # when
    response = client.post(
        reverse("sla-calendar-edit", args=[cal.pk]), _week_post(name="Night shift", week=night, version=cal.version)
    )
    # then
    assert response.status_code == 302
    cal.refresh_from_db()
    assert cal.name == "Night shift" and cal.week == [[], [], [], [], [["22:00", "24:00"]], [["00:00", "06:00"]], []]
    html = client.get(response.url).content.decode()
    assert 'data-interval="22:00–24:00"' in html and 'data-interval="00:00–06:00"' in html
    assert 'data-interval="08:00–17:00"' not in html


@pytest.mark.parametrize(
    ("week", "field", "message"),
    [
        ([[("08:00", "")]] + [[]] * 6, "w0-0-end", "Give both a start and an end."),
        ([[("8:61", "17:00")]] + [[]] * 6, "w0-0-start", "not a time between 00:00 and 24:00"),
        ([[("22:00", "06:00")]] + [[]] * 6, "w0-0-end", "A night shift is two intervals"),
        ([[("24:00", "24:00")]] + [[]] * 6, "w0-0-start", "24:00 is only an end"),
    ],
)
def test_a_wrong_interval_is_shown_on_its_row_and_nothing_is_saved(world, ref_login, week, field, message):
    # given
    cal = _calendar(world)
    # when
    response = ref_login(world.admin).post(
        reverse("sla-calendar-edit", args=[cal.pk]), _week_post(week=week, version=cal.version)
    )
    # then
    assert response.status_code == 422
    assert any(message in e for e in _field_errors(response, field)), response.context["form"].errors
    assert message.split("–")[0] in response.content.decode().replace("&#x27;", "'")
    cal.refresh_from_db()
    assert cal.week == OFFICE_WEEK and cal.name == "Office hours"


def test_overlapping_intervals_are_shown_on_their_day(world, ref_login):
    # given
    cal = _calendar(world)
    week = [[], [], [("08:00", "12:00"), ("11:00", "14:00")], [], [], [], []]
    # when
    response = ref_login(world.admin).post(
        reverse("sla-calendar-edit", args=[cal.pk]), _week_post(week=week, version=cal.version)
    )
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "08:00–12:00 and 11:00–14:00 overlap" in html
    assert "Check the working hours of Wednesday." in html
    cal.refresh_from_db()
    assert cal.week == OFFICE_WEEK


def test_a_week_without_working_time_is_refused_by_the_service_and_shown(world, ref_login):
    # given
    cal = _calendar(world)
    # when
    response = ref_login(world.admin).post(
        reverse("sla-calendar-edit", args=[cal.pk]), _week_post(week=[[]] * 7, version=cal.version)
    )
    # then
    assert response.status_code == 422
    assert "A calendar needs at least one working interval." in response.content.decode()
    cal.refresh_from_db()
    assert cal.week == OFFICE_WEEK


def test_a_stale_edit_is_refused(world, ref_login):
    # given someone saved the calendar after this page was loaded
    cal = _calendar(world)
    loaded = cal.version
    sla_services.calendar_update(actor=world.admin, calendar_id=cal.pk, data={"name": "Renamed"})
    # when
    response = ref_login(world.admin).post(
        reverse("sla-calendar-edit", args=[cal.pk]), _week_post(name="Mine", version=loaded)
    )
    # then
    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    cal.refresh_from_db()
    assert cal.name == "Renamed"


def test_the_live_preview_draws_what_is_typed(world, ref_login):
    # given
    params = _week_post(week=[[("7", "11"), ("12:00", "16:30")], [], [], [], [], [], [("10:00", "xx")]])
    # when
    response = ref_login(world.admin).get(reverse("sla-calendar-preview"), params, headers={"HX-Request": "true"})
    # then
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith("<svg")
    assert 'data-interval="07:00–11:00"' in html and 'data-interval="12:00–16:30"' in html
    assert "10:00–" not in html
    assert BusinessCalendar.objects.filter(organization=world.org, name="Service desk").count() == 0


def test_a_calendar_used_by_a_policy_is_not_deleted(world, ref_login):
    # given
    cal = _calendar(world)
    sla_services.policy_create(
        actor=world.admin, data={"name": "Gold", "calendar_id": cal.pk, "targets": DEFAULT_TARGETS}
    )
    client = ref_login(world.admin)
    # when
    response = client.post(reverse("sla-calendar-delete", args=[cal.pk]), follow=True)
    # then
    assert "The calendar is used by the SLA policy Gold" in response.content.decode()
    assert BusinessCalendar.objects.filter(pk=cal.pk).exists()


def test_an_unused_calendar_is_deleted(world, ref_login):
    # given
    cal = _calendar(world)
    # when
    response = ref_login(world.admin).post(reverse("sla-calendar-delete", args=[cal.pk]))
    # then
    assert response.status_code == 302 and response.url == reverse("sla-calendar-list")
    assert not BusinessCalendar.objects.filter(pk=cal.pk).exists()


def test_the_built_in_calendar_is_read_only(world, ref_login):
    # given
    ensure_defaults(world.org.pk)
    builtin = BusinessCalendar.objects.get(organization=world.org, is_24x7=True)
    client = ref_login(world.admin)
    # when
    edit = client.get(reverse("sla-calendar-edit", args=[builtin.pk]))
    delete = client.post(reverse("sla-calendar-delete", args=[builtin.pk]), follow=True)
    detail = client.get(reverse("sla-calendar-detail", args=[builtin.pk]))
    # then
    assert edit.status_code == 302 and edit.url == reverse("sla-calendar-detail", args=[builtin.pk])
    assert "cannot be changed" in delete.content.decode()
    assert BusinessCalendar.objects.filter(pk=builtin.pk).exists()
    assert detail.status_code == 200 and reverse("sla-calendar-edit", args=[builtin.pk]) not in detail.content.decode()


def test_another_organizations_calendar_does_not_exist(world, other_world, ref_login):
    # given
    theirs = sla_services.calendar_create(actor=other_world.admin, data={"name": "Theirs", "week": OFFICE_WEEK})
    client = ref_login(world.admin)
    # then
    assert client.get(reverse("sla-calendar-detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("sla-calendar-edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("sla-calendar-delete", args=[theirs.pk])).status_code == 404
    assert BusinessCalendar.objects.filter(pk=theirs.pk).exists()


# --- holidays ------------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_a_holiday(world, ref_login):
    # given
    cal = _calendar(world)
    client = ref_login(world.admin)
    # when
    added = client.post(
        reverse("sla-holiday-add", args=[cal.pk]), {"holiday-date": "2026-12-24", "holiday-name": "Christmas Eve"}
    )
    # then
    assert added.status_code == 302 and added.url.endswith("#holidays")
    holiday = Holiday.objects.get(calendar=cal)
    assert (holiday.date, holiday.name) == (date(2026, 12, 24), "Christmas Eve")
    page = client.get(reverse("sla-calendar-edit", args=[cal.pk])).content.decode()
    assert 'data-holiday="2026-12-24"' in page and "Christmas Eve" in page
    # when the same date again
    again = client.post(reverse("sla-holiday-add", args=[cal.pk]), {"holiday-date": "2026-12-24", "holiday-name": "x"})
    # then
    assert again.status_code == 422 and "2026-12-24 is already a holiday (Christmas Eve)." in again.content.decode()
    # when removed
    removed = client.post(reverse("sla-holiday-remove", args=[holiday.pk]))
    # then
    assert removed.status_code == 302 and not Holiday.objects.filter(calendar=cal).exists()


def test_a_holiday_without_a_date_is_refused_on_its_form(world, ref_login):
    cal = _calendar(world)
    response = ref_login(world.admin).post(
        reverse("sla-holiday-add", args=[cal.pk]), {"holiday-date": "24.12.", "holiday-name": "x"}
    )
    assert response.status_code == 422
    assert response.context["holiday_form"].errors["date"]
    assert not Holiday.objects.filter(calendar=cal).exists()


ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Fixflow tests//EN\r
BEGIN:VEVENT\r
UID:1@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261227\r
SUMMARY:Christmas closure\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20261231\r
SUMMARY:New Year's Eve\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_admin_imports_holidays_from_an_ics_file(world, ref_login):
    # given
    cal = _calendar(world)
    upload = SimpleUploadedFile("closures.ics", ICS, content_type="text/calendar")
    # when
    response = ref_login(world.admin).post(
        reverse("sla-holiday-import", args=[cal.pk]), {"ics-file": upload}, follow=True
    )
    # then
    assert "4 holidays added." in response.content.decode()
    assert list(Holiday.objects.filter(calendar=cal).values_list("date", "name")) == [
        (date(2026, 12, 24), "Christmas closure"),
        (date(2026, 12, 25), "Christmas closure"),
        (date(2026, 12, 26), "Christmas closure"),
        (date(2026, 12, 31), "New Year's Eve"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("closures.txt", ICS, "text/plain", "Choose an iCalendar file ending in .ics."),
        ("closures.ics", b"\x89PNG\r\n", "image/png", "is image/png, not an iCalendar file"),
        ("closures.ics", b"hello", "text/calendar", "This is not an iCalendar (.ics) file."),
        ("big.ics", b"X" * (1024 * 1024 + 1), "text/calendar", "larger than 1 MB"),
    ],
)
def test_a_file_that_is_not_a_small_ics_is_refused(world, ref_login, name, content, content_type, message):
    # given
    cal = _calendar(world)
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    # when
    response = ref_login(world.admin).post(reverse("sla-holiday-import", args=[cal.pk]), {"ics-file": upload})
    # then
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Holiday.objects.filter(calendar=cal).exists()


def test_an_admin_generates_the_public_holidays_of_germany_2027(world, ref_login):
    # given
    cal = _calendar(world)
    client = ref_login(world.admin)
    page = client.get(reverse("sla-calendar-edit", args=[cal.pk]))
    assert page.context["generate_form"]["country"].value() == "DE"  # from the calendar's time zone
    # when
    response = client.post(
        reverse("sla-holiday-generate", args=[cal.pk]), {"gen-country": "DE", "gen-year": "2027"}, follow=True
    )
    # then
    assert "9 holidays added." in response.content.decode()
    days = dict(Holiday.objects.filter(calendar=cal).values_list("date", "name"))
    assert len(days) == 9
    assert days[date(2027, 10, 3)] == "Tag der Deutschen Einheit" and days[date(2027, 3, 26)] == "Karfreitag"
    # when a region adds its own, the national ones are not added twice
    again = client.post(
        reverse("sla-holiday-generate", args=[cal.pk]),
        {"gen-country": "DE", "gen-year": "2027", "gen-subdivision": "by"},
        follow=True,
    )
    assert "holidays added." in again.content.decode()
    assert Holiday.objects.filter(calendar=cal, date=date(2027, 1, 6)).exists()  # Heilige Drei Könige in Bavaria


def test_an_unknown_region_is_refused_with_the_valid_ones(world, ref_login):
    cal = _calendar(world)
    response = ref_login(world.admin).post(
        reverse("sla-holiday-generate", args=[cal.pk]),
        {"gen-country": "DE", "gen-year": "2027", "gen-subdivision": "XX"},
    )
    assert response.status_code == 422
    assert "XX is not a subdivision of DE; use one of BB, BE, BW, BY" in response.content.decode()
    assert not Holiday.objects.filter(calendar=cal).exists()


# --- policies ------------------------------------------------------------------------------------


def test_an_admin_creates_a_policy_with_conditions_and_humane_targets(world, ref_login):
    # given
    cal = _calendar(world)
    client = ref_login(world.admin)
    assert client.get(reverse("sla-policy-create")).status_code == 200
    data = _policy_post(world, cal, target_critical_response="30 min", target_critical_resolution="1 d 2 h")
    # when
    response = client.post(reverse("sla-policy-create"), data)
    # then
    assert response.status_code == 302, response.context["form"].errors
    policy = SlaPolicy.objects.get(organization=world.org, name="Gold clients")
    assert policy.calendar == cal and not policy.is_default
    assert list(policy.clients.all()) == [world.client] and policy.priorities == ["critical", "high"]
    assert policy.targets["critical"] == {"response": 30, "resolution": 1560}
    assert policy.targets["low"] == DEFAULT_TARGETS["low"]
    assert (policy.at_risk_percent, policy.pausing_hold_reasons) == (75, ["waiting_for_client"])
    assert policy.escalation_email == "escalation@example.com"
    listing = client.get(reverse("sla-policy-list")).content.decode()
    assert 'data-target="critical-resolution">26 h<' in listing and "Clients: " + world.client.name in listing


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target_high_response": "four hours"}, "target_high_response", "is not a duration"),
        ({"target_high_response": "0"}, "target_high_response", "A target must be more than zero."),
        ({"target_low_resolution": ""}, "target_low_resolution", "This field is required."),
        (
            {"target_normal_response": "10 h", "target_normal_resolution": "8 h"},
            "target_normal_response",
            "Normal: the response target (10 h) is longer than the resolution target (8 h).",
        ),
        ({"target_critical_resolution": "400 d"}, None, "The resolution target of critical is longer than a year."),
        ({"at_risk_percent": "100"}, "at_risk_percent", "less than or equal to 99"),
    ],
)
def test_a_policy_with_invalid_targets_shows_the_errors_and_saves_nothing(world, ref_login, changes, field, message):
    # given
    cal = _calendar(world)
    # when
    response = ref_login(world.admin).post(reverse("sla-policy-create"), _policy_post(world, cal, **changes))
    # then
    assert response.status_code == 422
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(message in e for e in errors), response.context["form"].errors
    assert message.split("(")[0] in response.content.decode().replace("&#x27;", "'")
    assert not SlaPolicy.objects.filter(organization=world.org, name="Gold clients").exists()


def test_the_default_policy_has_no_conditions_and_cannot_be_deleted(world, ref_login):
    # given
    default = ensure_defaults(world.org.pk)
    client = ref_login(world.admin)
    # when
    page = client.get(reverse("sla-policy-edit", args=[default.pk]))
    saved = client.post(
        reverse("sla-policy-edit", args=[default.pk]),
        {
            "name": "Standard",
            "calendar": str(default.calendar_id),
            "at_risk_percent": "90",
            "response_met_on": "assignment",
            "version": str(default.version),
            **_targets_post(target_low_resolution="100 h"),
        },
    )
    deleted = client.post(reverse("sla-policy-delete", args=[default.pk]), follow=True)
    # then
    assert "clients" not in page.context["form"].fields and "applies to everything else" in page.content.decode()
    assert saved.status_code == 302
    default.refresh_from_db()
    assert (default.at_risk_percent, default.response_met_on, default.targets["low"]["resolution"]) == (
        90,
        "assignment",
        6000,
    )
    assert "The default SLA policy cannot be deleted." in deleted.content.decode()
    assert SlaPolicy.objects.filter(pk=default.pk).exists()
    listing = client.get(reverse("sla-policy-list")).content.decode()
    assert "Applies to everything else" in listing


def test_policies_are_listed_in_order_and_moved_up_and_down(world, ref_login):
    # given three policies and the default
    cal = _calendar(world)
    names = ["First", "Second", "Third"]
    policies = [
        sla_services.policy_create(
            actor=world.admin, data={"name": n, "calendar_id": cal.pk, "targets": DEFAULT_TARGETS}
        )
        for n in names
    ]
    client = ref_login(world.admin)

    def order():
        html = client.get(reverse("sla-policy-list")).content.decode()
        found = [(html.index(f'data-policy="{n}"'), n) for n in [*names, "Standard"]]
        return [n for _i, n in sorted(found)]

    assert order() == ["First", "Second", "Third", "Standard"]
    # when the third moves up, then the first moves down
    client.post(reverse("sla-policy-move", args=[policies[2].pk]), {"direction": "up"})
    assert order() == ["First", "Third", "Second", "Standard"]
    response = client.post(reverse("sla-policy-move", args=[policies[0].pk]), {"direction": "down"})
    # then
    assert response.status_code == 302
    assert order() == ["Third", "First", "Second", "Standard"]
    # and the last cannot go below the default, nor the first above the top
    client.post(reverse("sla-policy-move", args=[policies[1].pk]), {"direction": "down"})
    client.post(reverse("sla-policy-move", args=[policies[2].pk]), {"direction": "up"})
    assert order() == ["Third", "First", "Second", "Standard"]


def test_a_policy_is_deleted(world, ref_login):
    cal = _calendar(world)
    policy = sla_services.policy_create(
        actor=world.admin, data={"name": "Temp", "calendar_id": cal.pk, "targets": DEFAULT_TARGETS}
    )
    response = ref_login(world.admin).post(reverse("sla-policy-delete", args=[policy.pk]))
    assert response.status_code == 302 and not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_a_dispatcher_reads_policies_recalculates_but_does_not_edit(world, ref_login):
    # given
    default = ensure_defaults(world.org.pk)
    client = ref_login(world.dispatcher)
    # when
    listing = client.get(reverse("sla-policy-list"))
    # then
    html = listing.content.decode()
    assert listing.status_code == 200
    assert reverse("sla-policy-recalculate") in html
    assert reverse("sla-policy-edit", args=[default.pk]) not in html and reverse("sla-policy-create") not in html
    assert client.get(reverse("sla-policy-edit", args=[default.pk])).status_code == 403
    assert client.get(reverse("sla-calendar-create")).status_code == 403


def test_recalculating_applies_the_edited_policy_to_open_work_orders(world, ref_login):
    # given two open work orders (created on Monday 2026-03-09 10:00 UTC, normal priority) and a finished one
    with frozen_at(datetime(2026, 3, 9, 10, 0, tzinfo=UTC)):
        open_orders = [
            WorkOrderFactory(organization=world.org, equipment=world.equipment, priority="normal") for _ in range(2)
        ]
        done = WorkOrderFactory(organization=world.org, equipment=world.equipment, priority="normal", status="closed")
        from fixflow.sla import engine

        for wo in [*open_orders, done]:
            engine.apply(wo)
    default = SlaPolicy.objects.get(organization=world.org, is_default=True)
    sla_services.policy_update(
        actor=world.admin,
        policy_id=default.pk,
        data={"targets": {**DEFAULT_TARGETS, "normal": {"response": 60, "resolution": 120}}},
    )
    client = ref_login(world.dispatcher)
    # when
    confirm = client.get(reverse("sla-policy-recalculate"))
    with frozen_at(datetime(2026, 3, 9, 10, 30, tzinfo=UTC)):
        response = client.post(reverse("sla-policy-recalculate"), follow=True)
    # then
    assert "2 open work orders will get the policy" in confirm.content.decode()
    assert "2 open work orders recalculated" in response.content.decode()
    for wo in open_orders:
        wo.refresh_from_db()
        assert wo.sla.targets["normal"] == {"response": 60, "resolution": 120}
        assert wo.sla_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)  # 24×7: start + 60 min response
    done.refresh_from_db()
    assert done.sla.targets["normal"] == DEFAULT_TARGETS["normal"]


# --- who sees what -------------------------------------------------------------------------------


def test_the_settings_home_links_the_sla_pages_for_those_who_may_see_them(world, ref_login):
    for actor, shown in [
        (world.admin, True),
        (world.dispatcher, True),
        (world.accountant, True),
        (world.technician, False),
    ]:
        html = ref_login(actor).get(reverse("settings_home")).content.decode()
        assert (reverse("sla-calendar-list") in html) is shown, actor.role
        assert (reverse("sla-policy-list") in html) is shown, actor.role


def test_an_accountant_reads_a_calendar_but_cannot_change_it(world, ref_login):
    cal = _calendar(world)
    sla_services.holiday_add(actor=world.admin, calendar_id=cal.pk, day="2026-05-01", name="Labour Day")
    client = ref_login(world.accountant)
    detail = client.get(reverse("sla-calendar-detail", args=[cal.pk]))
    assert detail.status_code == 200 and "Labour Day" in detail.content.decode()
    assert reverse("sla-calendar-edit", args=[cal.pk]) not in detail.content.decode()
    assert client.get(reverse("sla-calendar-edit", args=[cal.pk])).status_code == 403
    assert client.post(reverse("sla-holiday-add", args=[cal.pk]), {"holiday-date": "2026-05-02"}).status_code == 403
    assert Holiday.objects.filter(calendar=cal).count() == 1
