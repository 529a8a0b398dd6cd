"""SLAs in the API: calendars, holidays (added, imported from .ics, generated), policies, recalculation,
the SLA fields, filters and sort of work orders, the explanation of one work order's SLA, compliance."""

from datetime import UTC, date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fixflow.core.clock import frozen_at
from fixflow.sla import engine
from fixflow.sla.models import BusinessCalendar, Holiday, SlaPolicy
from tests.factories import WorkOrderFactory

from .conftest import assert_problem

OFFICE_WEEK = [[["08:00", "12:00"], ["13:00", "17:00"]]] * 5 + [[], []]
TARGETS = {
    "critical": {"response": 30, "resolution": 120},
    "high": {"response": 60, "resolution": 480},
    "normal": {"response": 240, "resolution": 960},
    "low": {"response": 480, "resolution": 2400},
}
# Monday 2 March 2026, 10:00 in Berlin (CET, UTC+1)
MONDAY_10_BERLIN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _z(value: str | None) -> str | None:
    """An instant of a response in one spelling (UTC, Z) for comparisons."""
    return None if value is None else _iso(datetime.fromisoformat(value))


@pytest.fixture
def admin(api):
    return api("admin")


@pytest.fixture
def office(admin):
    """A Berlin office-hours calendar made through the API."""
    r = admin.post("/sla/calendars", {"name": "Office Berlin", "timezone": "Europe/Berlin", "week": OFFICE_WEEK})
    assert r.status_code == 201, r.content
    return r.json()


def _policy(admin, calendar_id: int, name: str = "Key accounts", **extra) -> dict:
    r = admin.post("/sla/policies", {"name": name, "calendar_id": calendar_id, "targets": TARGETS, **extra})
    assert r.status_code == 201, r.content
    return r.json()


# --- calendars ---------------------------------------------------------------------------------------------


def test_a_calendar_is_created_read_listed_changed_and_deleted(admin, world):
    # when
    r = admin.post("/sla/calendars", {"name": "Night shift NY", "timezone": "America/New_York", "week": OFFICE_WEEK})
    # then
    assert r.status_code == 201, r.content
    cal = r.json()
    assert r["Location"] == f"/api/v1/sla/calendars/{cal['id']}"
    assert r["ETag"] == '"1"'
    assert (cal["name"], cal["timezone"], cal["is_24x7"], cal["version"]) == (
        "Night shift NY",
        "America/New_York",
        False,
        1,
    )
    assert cal["week"] == OFFICE_WEEK
    # when read and listed
    got = admin.get(f"/sla/calendars/{cal['id']}")
    listed = admin.get("/sla/calendars")
    # then the built-in 24×7 calendar comes first
    assert got.json() == cal
    names = [c["name"] for c in listed.json()["items"]]
    assert names == ["24×7", "Night shift NY"]
    assert listed.json()["items"][0]["is_24x7"] is True
    # when changed with the version read
    night = [[["00:00", "06:00"], ["22:00", "24:00"]]] * 7
    r = admin.patch(f"/sla/calendars/{cal['id']}", {"name": "Nights NY", "week": night}, headers={"If-Match": '"1"'})
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["name"], r.json()["week"], r.json()["version"], r["ETag"]) == ("Nights NY", night, 2, '"2"')
    # when deleted
    r = admin.delete(f"/sla/calendars/{cal['id']}")
    # then
    assert r.status_code == 204
    assert_problem(admin.get(f"/sla/calendars/{cal['id']}"), 404, "not_found")


def test_a_calendar_takes_the_organization_time_zone_and_office_hours_by_default(admin, world):
    # when
    r = admin.post("/sla/calendars", {"name": "Plain"})
    # then
    assert r.status_code == 201, r.content
    assert r.json()["timezone"] == "Europe/Berlin"
    assert r.json()["week"] == [[["08:00", "17:00"]]] * 5 + [[], []]


def test_a_stale_if_match_is_refused_and_changes_nothing(admin, office):
    # given someone else changed the calendar
    admin.patch(f"/sla/calendars/{office['id']}", {"name": "Office Berlin HQ"})
    # when
    r = admin.patch(f"/sla/calendars/{office['id']}", {"name": "Mine"}, headers={"If-Match": '"1"'})
    # then
    body = assert_problem(r, 412, "stale_version")
    assert body["details"] == {"current_version": 2}
    assert BusinessCalendar.objects.get(pk=office["id"]).name == "Office Berlin HQ"


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"week": [[["08:00", "17:00"]]] * 6}, "week", "seven weekdays"),
        ({"week": [[["17:00", "08:00"]]] * 7}, "week", "night shift is two intervals"),
        ({"week": [[["08:00", "25:00"]]] * 7}, "week", None),
        ({"week": [[["08:00"]]] * 7}, "week", "pair of times"),
        ({"week": [[["08:00", "12:00"], ["11:00", "17:00"]]] * 7}, "week", None),
        ({"timezone": "Mars/Olympus"}, "timezone", None),
        ({"name": ""}, "name", None),
    ],
)
def test_a_bad_calendar_is_a_422_naming_the_field(admin, world, body, field, detail):
    # when
    r = admin.post("/sla/calendars", {"name": "Bad", **body})
    # then
    assert_problem(r, 422, "validation_error", field=field, detail=detail)
    assert not BusinessCalendar.objects.filter(name="Bad").exists()


def test_the_built_in_24x7_calendar_cannot_be_changed_or_deleted(admin, world):
    # given
    engine.ensure_defaults(world.org.pk)
    cal = BusinessCalendar.objects.get(organization=world.org, is_24x7=True)
    # then
    assert_problem(admin.patch(f"/sla/calendars/{cal.pk}", {"name": "Always"}), 409, "conflict")
    assert_problem(admin.delete(f"/sla/calendars/{cal.pk}"), 409, "conflict")
    assert_problem(admin.post(f"/sla/calendars/{cal.pk}/holidays", {"date": "2026-12-25"}), 409, "conflict")


def test_a_calendar_a_policy_uses_cannot_be_deleted(admin, office):
    # given
    _policy(admin, office["id"])
    # when
    r = admin.delete(f"/sla/calendars/{office['id']}")
    # then
    assert_problem(r, 409, "conflict", detail="Key accounts")


def test_calendars_are_for_the_office_and_their_organization_only(api, other_api, office):
    # then: others may read but not write; technicians may not read; other organizations see nothing
    assert api("dispatcher").get(f"/sla/calendars/{office['id']}").status_code == 200
    assert api("accountant").get("/sla/calendars").status_code == 200
    assert_problem(api("dispatcher").post("/sla/calendars", {"name": "Mine"}), 403, "permission_denied")
    assert_problem(api("technician").get("/sla/calendars"), 403, "permission_denied")
    assert_problem(other_api("admin").get(f"/sla/calendars/{office['id']}"), 404, "not_found")
    assert_problem(other_api("admin").patch(f"/sla/calendars/{office['id']}", {"name": "x"}), 404, "not_found")
    assert_problem(other_api("admin").delete(f"/sla/calendars/{office['id']}"), 404, "not_found")
    assert "Office Berlin" not in {c["name"] for c in other_api("admin").get("/sla/calendars").json()["items"]}


# --- holidays ------------------------------------------------------------------------------------------------


def test_holidays_are_added_listed_by_year_and_removed(admin, office):
    # when
    r = admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "2026-12-25", "name": "Christmas"})
    admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "2027-01-01", "name": "New Year"})
    # then
    assert r.status_code == 201, r.content
    holiday = r.json()
    assert holiday == {"id": holiday["id"], "calendar_id": office["id"], "date": "2026-12-25", "name": "Christmas"}
    assert r["Location"] == f"/api/v1/sla/holidays/{holiday['id']}"
    listed = admin.get(f"/sla/calendars/{office['id']}/holidays").json()["items"]
    assert [h["date"] for h in listed] == ["2026-12-25", "2027-01-01"]
    only_2027 = admin.get(f"/sla/calendars/{office['id']}/holidays", {"year": 2027}).json()["items"]
    assert [h["name"] for h in only_2027] == ["New Year"]
    # and a holiday is a change of the calendar: its version grows
    assert admin.get(f"/sla/calendars/{office['id']}").json()["version"] == 3
    # when removed
    r = admin.delete(f"/sla/holidays/{holiday['id']}")
    # then
    assert r.status_code == 204
    assert [h["date"] for h in admin.get(f"/sla/calendars/{office['id']}/holidays").json()["items"]] == ["2027-01-01"]
    assert_problem(admin.delete(f"/sla/holidays/{holiday['id']}"), 404, "not_found")


def test_a_date_that_already_is_a_holiday_or_not_a_date_is_a_422(admin, office):
    # given
    admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "2026-12-25", "name": "Christmas"})
    # then
    assert_problem(
        admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "2026-12-25"}),
        422,
        "validation_error",
        field="date",
        detail="already a holiday (Christmas)",
    )
    assert_problem(
        admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "25.12.2026"}),
        422,
        "validation_error",
        field="date",
    )


ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Fixflow tests//EN\r
BEGIN:VEVENT\r
UID:christmas-2026@example.org\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261227\r
SUMMARY:Christmas break\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:newyear-2027@example.org\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20270101\r
SUMMARY:New Year\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _ics(content: bytes = ICS, name: str = "holidays.ics") -> dict:
    return {"file": SimpleUploadedFile(name, content, content_type="text/calendar")}


def test_an_ics_file_adds_each_day_of_its_all_day_events_once(admin, office):
    # when
    r = admin.upload(f"/sla/calendars/{office['id']}/holidays/import", _ics())
    # then: three days of the break (DTEND is exclusive) and New Year
    assert r.status_code == 200, r.content
    assert r.json() == {"added": 4}
    holidays = admin.get(f"/sla/calendars/{office['id']}/holidays").json()["items"]
    assert [(h["date"], h["name"]) for h in holidays] == [
        ("2026-12-24", "Christmas break"),
        ("2026-12-25", "Christmas break"),
        ("2026-12-26", "Christmas break"),
        ("2027-01-01", "New Year"),
    ]
    # when imported again
    again = admin.upload(f"/sla/calendars/{office['id']}/holidays/import", _ics())
    # then nothing is new
    assert again.json() == {"added": 0}


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (ICS.replace(b"DTSTART;VALUE=DATE:20270101", b"DTSTART:20270101T090000Z"), "time of day"),
        (b"this is not a calendar", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no all-day events"),
    ],
)
def test_an_ics_file_with_timed_events_or_no_events_is_a_422(admin, office, content, detail):
    # when
    r = admin.upload(f"/sla/calendars/{office['id']}/holidays/import", _ics(content))
    # then
    assert_problem(r, 422, "validation_error", field="file", detail=detail)
    assert not Holiday.objects.filter(calendar_id=office["id"]).exists()


def test_the_import_needs_a_file(admin, office):
    # when
    r = admin.upload(f"/sla/calendars/{office['id']}/holidays/import", {})
    # then
    assert_problem(r, 422, "validation_error", field="file")


def test_the_public_holidays_of_germany_2027_are_generated(admin, office):
    # when
    r = admin.post(f"/sla/calendars/{office['id']}/holidays/generate", {"country": "de", "year": 2027})
    # then: the nine nationwide holidays
    assert r.status_code == 200, r.content
    assert r.json() == {"added": 9}
    dates = [h["date"] for h in admin.get(f"/sla/calendars/{office['id']}/holidays").json()["items"]]
    assert dates == [
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-01",
        "2027-05-06",
        "2027-05-17",
        "2027-10-03",
        "2027-12-25",
        "2027-12-26",
    ]
    # when Bavaria's are added
    r = admin.post(
        f"/sla/calendars/{office['id']}/holidays/generate", {"country": "DE", "year": 2027, "subdivision": "BY"}
    )
    # then only its own three are new (Epiphany, Corpus Christi, All Saints)
    assert r.json() == {"added": 3}
    assert Holiday.objects.filter(calendar_id=office["id"], date=date(2027, 1, 6)).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "XX", "year": 2027}, "country"),
        ({"country": "DE", "year": 1800}, "year"),
        ({"country": "DE", "year": 2027, "subdivision": "ZZ"}, "subdivision"),
        ({"year": 2027}, "country"),
    ],
)
def test_an_unknown_country_year_or_subdivision_is_a_422(admin, office, body, field):
    # when
    r = admin.post(f"/sla/calendars/{office['id']}/holidays/generate", body)
    # then
    assert_problem(r, 422, "validation_error", field=field)
    assert not Holiday.objects.filter(calendar_id=office["id"]).exists()


def test_holidays_are_for_admins_of_the_organization(api, other_api, admin, office):
    # given
    holiday = admin.post(f"/sla/calendars/{office['id']}/holidays", {"date": "2026-12-25"}).json()
    # then
    assert api("dispatcher").get(f"/sla/calendars/{office['id']}/holidays").status_code == 200
    assert_problem(api("dispatcher").delete(f"/sla/holidays/{holiday['id']}"), 403, "permission_denied")
    assert_problem(
        api("dispatcher").upload(f"/sla/calendars/{office['id']}/holidays/import", _ics()), 403, "permission_denied"
    )
    assert_problem(other_api("admin").delete(f"/sla/holidays/{holiday['id']}"), 404, "not_found")
    assert_problem(other_api("admin").get(f"/sla/calendars/{office['id']}/holidays"), 404, "not_found")
    assert_problem(
        other_api("admin").post(f"/sla/calendars/{office['id']}/holidays/generate", {"country": "DE", "year": 2027}),
        404,
        "not_found",
    )
    assert Holiday.objects.filter(calendar_id=office["id"]).count() == 1


# --- policies ------------------------------------------------------------------------------------------------


def test_a_policy_is_created_read_changed_and_deleted(admin, world, office):
    # when
    r = admin.post(
        "/sla/policies",
        {
            "name": "Key accounts",
            "calendar_id": office["id"],
            "targets": TARGETS,
            "client_ids": [world.client.pk],
            "site_ids": [world.site.pk],
            "priorities": ["critical", "high"],
            "types": ["corrective"],
            "criticalities": ["high", "critical"],
            "at_risk_percent": 75,
            "response_met_on": "assignment",
            "pausing_hold_reasons": ["waiting_for_client"],
            "notify_technician": True,
            "escalation_email": "escalation@example.org",
        },
    )
    # then
    assert r.status_code == 201, r.content
    p = r.json()
    assert r["Location"] == f"/api/v1/sla/policies/{p['id']}"
    assert r["ETag"] == '"1"'
    assert p["calendar"] == {"id": office["id"], "name": "Office Berlin", "timezone": "Europe/Berlin", "is_24x7": False}
    assert p["clients"] == [{"id": world.client.pk, "name": "Stadtwerke"}]
    assert [s["id"] for s in p["sites"]] == [world.site.pk]
    assert (p["position"], p["is_default"], p["is_active"]) == (1, False, True)
    assert (p["priorities"], p["types"], p["criticalities"]) == (
        ["critical", "high"],
        ["corrective"],
        ["high", "critical"],
    )
    assert p["targets"] == TARGETS
    assert (p["at_risk_percent"], p["response_met_on"], p["pausing_hold_reasons"]) == (
        75,
        "assignment",
        ["waiting_for_client"],
    )
    assert (p["notify_technician"], p["escalation_email"]) == (True, "escalation@example.org")
    assert admin.get(f"/sla/policies/{p['id']}").json() == p
    # when changed
    r = admin.patch(
        f"/sla/policies/{p['id']}",
        {"targets": {**TARGETS, "critical": {"response": 15, "resolution": 60}}, "client_ids": []},
        headers={"If-Match": '"1"'},
    )
    # then
    assert r.status_code == 200, r.content
    assert (r.json()["targets"]["critical"], r.json()["clients"], r.json()["version"], r["ETag"]) == (
        {"response": 15, "resolution": 60},
        [],
        2,
        '"2"',
    )
    # and a stale version is refused
    assert_problem(
        admin.patch(f"/sla/policies/{p['id']}", {"name": "x"}, headers={"If-Match": '"1"'}), 412, "stale_version"
    )
    # when deleted
    assert admin.delete(f"/sla/policies/{p['id']}").status_code == 204
    assert_problem(admin.get(f"/sla/policies/{p['id']}"), 404, "not_found")


def test_policies_are_listed_in_evaluation_order_with_the_default_last(admin, office):
    # given
    a, b, c = (_policy(admin, office["id"], name) for name in ("A", "B", "C"))
    # when
    names = [p["name"] for p in admin.get("/sla/policies").json()["items"]]
    # then
    assert names == ["A", "B", "C", "Standard"]
    default = admin.get("/sla/policies").json()["items"][-1]
    assert default["is_default"] is True
    assert default["calendar"]["is_24x7"] is True
    # when C moves first
    r = admin.post(f"/sla/policies/{c['id']}/move", {"position": 1})
    # then the answer is the new order
    assert r.status_code == 200, r.content
    assert [p["name"] for p in r.json()["items"]] == ["C", "A", "B", "Standard"]
    assert [p["position"] for p in r.json()["items"][:3]] == [1, 2, 3]
    assert [p["name"] for p in admin.get("/sla/policies").json()["items"]] == ["C", "A", "B", "Standard"]
    # and beyond the end means last among the others
    r = admin.post(f"/sla/policies/{c['id']}/move", {"position": 99})
    assert [p["name"] for p in r.json()["items"]] == ["A", "B", "C", "Standard"]
    # and inactive policies can be left out
    admin.patch(f"/sla/policies/{b['id']}", {"is_active": False})
    assert [p["name"] for p in admin.get("/sla/policies", {"is_active": True}).json()["items"]] == [
        "A",
        "C",
        "Standard",
    ]
    assert a["position"] == 1


def test_policies_page_with_a_cursor(admin, office):
    # given
    for name in ("A", "B", "C"):
        _policy(admin, office["id"], name)
    # when
    first = admin.get("/sla/policies", {"limit": 2}).json()
    second = admin.get("/sla/policies", {"limit": 2, "cursor": first["next_cursor"]}).json()
    # then
    assert [p["name"] for p in first["items"] + second["items"]] == ["A", "B", "C", "Standard"]
    assert second["next_cursor"] is None


def test_the_default_policy_cannot_be_deleted_moved_or_given_conditions(admin, world):
    # given
    default = admin.get("/sla/policies").json()["items"][-1]
    # then
    assert_problem(admin.delete(f"/sla/policies/{default['id']}"), 409, "conflict", detail="default")
    assert_problem(
        admin.post(f"/sla/policies/{default['id']}/move", {"position": 1}), 422, "validation_error", field="position"
    )
    assert_problem(admin.patch(f"/sla/policies/{default['id']}", {"priorities": ["high"]}), 422, "validation_error")
    assert_problem(
        admin.patch(f"/sla/policies/{default['id']}", {"is_active": False}), 422, "validation_error", field="is_active"
    )
    assert SlaPolicy.objects.filter(pk=default["id"], is_default=True, is_active=True).exists()
    # but its targets may change
    r = admin.patch(f"/sla/policies/{default['id']}", {"targets": TARGETS})
    assert r.status_code == 200, r.content
    assert r.json()["targets"] == TARGETS


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        (
            {"targets": {**TARGETS, "high": {"response": 500, "resolution": 480}}},
            "targets",
            "longer than its resolution",
        ),
        ({"targets": {k: v for k, v in TARGETS.items() if k != "low"}}, "targets", "low priority has no targets"),
        ({"targets": {**TARGETS, "low": {"response": 0, "resolution": 10}}}, "targets", "more than zero"),
        ({"targets": {**TARGETS, "urgent": {"response": 1, "resolution": 2}}}, "targets", "urgent is not a priority"),
        ({"targets": {**TARGETS, "low": {"response": "soon", "resolution": 2}}}, "targets.low.response", None),
        ({"at_risk_percent": 100}, "at_risk_percent", "between 1 and 99"),
        ({"escalation_email": "not-an-address"}, "escalation_email", None),
        ({"priorities": ["urgent"]}, "priorities.0", None),
        ({"client_ids": [999999]}, "clients", None),
        ({"calendar_id": 999999}, "calendar_id", "no calendar"),
        ({"name": "Standard"}, "name", None),
    ],
)
def test_a_bad_policy_is_a_422_naming_the_field(admin, office, change, field, detail, nothing_written):
    # given
    body = {"name": "Bad", "calendar_id": office["id"], "targets": TARGETS, **change}
    admin.get("/sla/policies")  # the default policy exists
    with nothing_written():
        # when
        r = admin.post("/sla/policies", body)
    # then
    assert_problem(r, 422, "validation_error", field=field, detail=detail)
    assert not SlaPolicy.objects.filter(name="Bad").exists()


def test_a_policy_of_another_organization_is_not_found(admin, other_api, office):
    # given
    p = _policy(admin, office["id"])
    # then
    for call in (
        lambda c: c.get(f"/sla/policies/{p['id']}"),
        lambda c: c.patch(f"/sla/policies/{p['id']}", {"name": "Mine"}),
        lambda c: c.delete(f"/sla/policies/{p['id']}"),
        lambda c: c.post(f"/sla/policies/{p['id']}/move", {"position": 1}),
    ):
        assert_problem(call(other_api("admin")), 404, "not_found")
    # and its calendar cannot be used there
    r = other_api("admin").post("/sla/policies", {"name": "Mine", "calendar_id": office["id"], "targets": TARGETS})
    assert_problem(r, 422, "validation_error", field="calendar_id")
    assert SlaPolicy.objects.get(pk=p["id"]).name == "Key accounts"


def test_policies_are_read_by_the_office_and_written_by_admins(api, admin, office):
    # given
    p = _policy(admin, office["id"])
    # then
    assert api("accountant").get(f"/sla/policies/{p['id']}").status_code == 200
    assert_problem(api("dispatcher").patch(f"/sla/policies/{p['id']}", {"name": "x"}), 403, "permission_denied")
    assert_problem(
        api("dispatcher").post("/sla/policies", {"name": "x", "calendar_id": office["id"], "targets": TARGETS}),
        403,
        "permission_denied",
    )
    assert_problem(api("technician").get("/sla/policies"), 403, "permission_denied")
    assert_problem(api("client_user").get(f"/sla/policies/{p['id']}"), 403, "permission_denied")


# --- the SLA on work orders --------------------------------------------------------------------------------


def _create(api, world, title: str, priority: str, at: datetime) -> dict:
    with frozen_at(at):
        r = api("dispatcher").post(
            "/work-orders",
            {"title": title, "site_id": world.site.pk, "equipment_id": world.equipment.pk, "priority": priority},
        )
    assert r.status_code == 201, r.content
    return r.json()


def _start(api, world, wo: dict, at: datetime) -> None:
    """Plan the work order for the technician and let them start it at ``at`` (meets the response)."""
    with frozen_at(at):
        r = api("dispatcher").patch(
            f"/work-orders/{wo['id']}", {"lead_technician_id": world.technician.user_id, "scheduled_start": _iso(at)}
        )
        assert r.status_code == 200, r.content
        assert api("dispatcher").post(f"/work-orders/{wo['id']}/transitions", {"to": "planned"}).status_code == 200
        r = api("technician").post(f"/work-orders/{wo['id']}/transitions", {"to": "in_progress"})
        assert r.status_code == 200, r.content


def _sla(body: dict) -> list[tuple]:
    return [(t["target"], t["state"], _z(t["due_at"]), t["remaining_minutes"]) for t in body["sla"]]


def test_a_work_order_shows_its_sla_targets_with_the_business_minutes_left(api, world):
    # given a critical work order under the default policy (24×7: response 60 min, resolution 240 min)
    wo = _create(api, world, "Boiler down", "critical", MONDAY_10_BERLIN)
    # then
    assert (wo["sla_state"], _z(wo["sla_due_at"])) == ("pending", "2026-03-02T10:00:00Z")
    assert _sla(wo) == [
        ("response", "pending", "2026-03-02T10:00:00Z", 60),
        ("resolution", "pending", "2026-03-02T13:00:00Z", 240),
    ]
    # when read at 09:50 after the scan (at risk from 80 %: 09:48)
    at = datetime(2026, 3, 2, 9, 50, tzinfo=UTC)
    engine.scan(now=at)
    with frozen_at(at):
        body = api("dispatcher").get(f"/work-orders/{wo['id']}").json()
    # then
    assert body["sla_state"] == "at_risk"
    assert _sla(body)[0] == ("response", "at_risk", "2026-03-02T10:00:00Z", 10)
    # when read at 10:30 after the scan
    at = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    engine.scan(now=at)
    with frozen_at(at):
        body = api("dispatcher").get(f"/work-orders/{wo['id']}").json()
        row = next(i for i in api("dispatcher").get("/work-orders").json()["items"] if i["id"] == wo["id"])
    # then the response is overdue by 30 minutes, and the list row shows the summary
    assert body["sla_state"] == "breached"
    assert _sla(body) == [
        ("response", "breached", "2026-03-02T10:00:00Z", -30),
        ("resolution", "pending", "2026-03-02T13:00:00Z", 150),
    ]
    assert (row["sla_state"], _z(row["sla_due_at"])) == ("breached", "2026-03-02T10:00:00Z")
    assert "sla" not in row


def test_the_sla_of_a_work_order_counts_business_minutes_of_its_calendar(api, world, admin, office):
    # given high priority work goes by office hours (response 60 business minutes)
    _policy(admin, office["id"], priorities=["high"])
    friday_1630_berlin = datetime(2026, 2, 27, 15, 30, tzinfo=UTC)
    # when created on Friday at 16:30
    wo = _create(api, world, "Door jammed", "high", friday_1630_berlin)
    # then 30 minutes count on Friday, the other 30 on Monday from 08:00
    assert _sla(wo)[0] == ("response", "pending", "2026-03-02T07:30:00Z", 60)
    # and on Saturday 30 business minutes are left, whatever the hour
    with frozen_at(datetime(2026, 2, 28, 12, 0, tzinfo=UTC)):
        body = api("dispatcher").get(f"/work-orders/{wo['id']}").json()
    assert _sla(body)[0] == ("response", "pending", "2026-03-02T07:30:00Z", 30)


def test_a_work_order_on_hold_for_parts_shows_its_resolution_paused(api, world):
    # given a critical work order started at 09:10 UTC (response met) and put on hold for parts at 09:30
    wo = _create(api, world, "Valve", "critical", MONDAY_10_BERLIN)
    _start(api, world, wo, datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
    with frozen_at(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)):
        r = api("technician").post(
            f"/work-orders/{wo['id']}/transitions", {"to": "on_hold", "hold_reason": "waiting_for_parts"}
        )
    assert r.status_code == 200, r.content
    # when read hours later
    with frozen_at(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)):
        body = api("dispatcher").get(f"/work-orders/{wo['id']}").json()
    # then the resolution clock stopped after 30 of its 240 minutes and has no due instant while paused
    assert _sla(body) == [
        ("response", "met", "2026-03-02T10:00:00Z", None),
        ("resolution", "paused", None, 210),
    ]
    assert (body["sla_state"], body["sla_due_at"]) == ("paused", None)


def test_a_work_order_without_an_sla_has_empty_sla_fields(api, world):
    # given a work order made without the services (no policy was applied)
    wo = WorkOrderFactory(organization=world.org, equipment=world.equipment, number="LEGACY-1")
    # when
    body = api("dispatcher").get(f"/work-orders/{wo.pk}").json()
    # then
    assert (body["sla_state"], body["sla_due_at"], body["sla"]) == ("", None, [])


@pytest.fixture
def sla_board(api, world):
    """Three work orders created at Monday 10:00 Berlin (critical, high, low) and the scan run at 10:30 UTC+1,
    plus one without an SLA. Response due: critical 10:00Z (breached), high 13:00Z, low next day 01:00Z."""
    rows = {
        priority: _create(api, world, f"SLA {priority}", priority, MONDAY_10_BERLIN)
        for priority in ("critical", "high", "low")
    }
    engine.scan(now=datetime(2026, 3, 2, 10, 30, tzinfo=UTC))
    rows["none"] = {
        "id": WorkOrderFactory(
            organization=world.org, equipment=world.equipment, title="SLA none", number="LEGACY-1"
        ).pk
    }
    return rows


def _titles(r) -> list[str]:
    assert r.status_code == 200, r.content
    return [i["title"] for i in r.json()["items"] if i["title"].startswith("SLA ")]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sla_state": "breached"}, ["SLA critical"]),
        ({"sla_state": "pending,at_risk", "sort": "sla_due"}, ["SLA high", "SLA low"]),
        ({"sla_state": ["breached", "pending"], "sort": "sla_due"}, ["SLA critical", "SLA high", "SLA low"]),
        ({"sla_due_before": "2026-03-02T12:00:00Z"}, ["SLA critical"]),
        ({"sla_due_before": "2026-03-02T15:00:00+01:00"}, ["SLA critical", "SLA high"]),
        ({"sla_due_after": "2026-03-02T12:00:00Z", "sort": "sla_due"}, ["SLA high", "SLA low"]),
        ({"sla_due_after": "2026-03-02T10:00:00Z", "sla_due_before": "2026-03-02T13:00:01Z"}, None),
        ({"sort": "sla_due"}, ["SLA critical", "SLA high", "SLA low", "SLA none"]),
        ({"sort": "-sla_due"}, ["SLA low", "SLA high", "SLA critical", "SLA none"]),
    ],
)
def test_work_orders_filter_and_sort_by_sla(api, sla_board, params, expected):
    # when
    r = api("dispatcher").get("/work-orders", params)
    # then
    titles = _titles(r)
    if expected is None:  # [10:00, 13:00:01): critical and high, in any order
        assert sorted(titles) == ["SLA critical", "SLA high"]
    elif "sort" in params:
        assert titles == expected
    else:
        assert sorted(titles) == sorted(expected)


def test_the_sla_sort_pages_with_a_cursor_over_work_without_an_sla(api, sla_board):
    # when
    first = api("dispatcher").get("/work-orders", {"sort": "sla_due", "limit": 2}).json()
    second = api("dispatcher").get("/work-orders", {"sort": "sla_due", "limit": 2, "cursor": first["next_cursor"]})
    # then
    titles = [i["title"] for i in first["items"]] + [i["title"] for i in second.json()["items"]]
    assert titles == ["SLA critical", "SLA high", "SLA low", "SLA none"]


def test_an_unencoded_plus_in_an_instant_is_read_as_the_offset(api, sla_board):
    # when the + of "+01:00" arrives as a space
    r = api("dispatcher").client.get("/api/v1/work-orders?sla_due_before=2026-03-02T12:00:00+01:00", secure=True)
    # then
    assert _titles(r) == ["SLA critical"]


@pytest.mark.parametrize(
    ("params", "field", "detail"),
    [
        ({"sla_state": "late"}, "sla_state", "use one of pending, at_risk, paused, breached, met"),
        ({"sla_state": "breached,soon"}, "sla_state", "'soon' is not a valid sla state"),
        ({"sla_due_before": "tomorrow"}, "sla_due_before", "2026-03-02T08:00:00+01:00"),
        ({"sla_due_after": "2026-03-02T08:00:00"}, "sla_due_after", "needs an offset"),
        ({"sort": "sla"}, "sort", None),
    ],
)
def test_a_bad_sla_filter_is_a_422_saying_what_to_send(api, world, params, field, detail):
    # when
    r = api("dispatcher").get("/work-orders", params)
    # then
    assert_problem(r, 422, "validation_error", field=field, detail=detail)


# --- the explanation, recalculation ---------------------------------------------------------------------------


def test_the_sla_of_a_work_order_is_explained(api, world):
    # given a critical work order started at 09:10 UTC and on hold for parts since 09:30
    wo = _create(api, world, "Valve", "critical", MONDAY_10_BERLIN)
    _start(api, world, wo, datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
    with frozen_at(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)):
        api("technician").post(
            f"/work-orders/{wo['id']}/transitions", {"to": "on_hold", "hold_reason": "waiting_for_parts"}
        )
    # when
    with frozen_at(datetime(2026, 3, 2, 12, 0, tzinfo=UTC)):
        r = api("dispatcher").get(f"/work-orders/{wo['id']}/sla")
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["policy_name"], body["policy_version"], body["priority"], body["targets"]) == (
        "Standard",
        1,
        "critical",
        {"response": 60, "resolution": 240},
    )
    assert (_z(body["started_at"]), body["timezone"], body["state"], body["due_at"]) == (
        "2026-03-02T09:00:00Z",
        "Europe/Berlin",
        "paused",
        None,
    )
    assert body["calendar"]["is_24x7"] is True
    response, resolution = body["statuses"]
    assert (response["target"], response["state"], _z(response["met_at"]), response["remaining_minutes"]) == (
        "response",
        "met",
        "2026-03-02T09:10:00Z",
        None,
    )
    assert (resolution["state"], _z(resolution["paused_since"]), resolution["remaining_minutes"]) == (
        "paused",
        "2026-03-02T09:30:00Z",
        210,
    )
    assert [(p["target"], p["reason"], p["ended_at"], p["business_minutes"]) for p in body["pauses"]] == [
        ("resolution", "waiting_for_parts", None, 150)
    ]
    assert body["cycles"] == []
    assert body["explanation"][0] == "Policy “Standard” (version 1) applies; targets for priority critical."
    assert "Started Mon 2 Mar 10:00 (Europe/Berlin) when the work order was created." in body["explanation"]
    assert any(step.startswith("Paused since Mon 2 Mar 10:30") for step in body["explanation"])


def test_the_sla_is_read_by_whoever_sees_the_work_order(api, other_api, world):
    # given
    wo = _create(api, world, "Valve", "critical", MONDAY_10_BERLIN)
    # then
    for role in ("technician", "accountant", "client_user"):
        assert api(role).get(f"/work-orders/{wo['id']}/sla").status_code == 200, role
    assert_problem(api("other_client_user").get(f"/work-orders/{wo['id']}/sla"), 404, "not_found")
    assert_problem(other_api("admin").get(f"/work-orders/{wo['id']}/sla"), 404, "not_found")


def test_a_work_order_without_an_sla_answers_404_saying_so(api, world):
    # given
    wo = WorkOrderFactory(organization=world.org, equipment=world.equipment, number="LEGACY-1")
    # when
    r = api("dispatcher").get(f"/work-orders/{wo.pk}/sla")
    # then
    assert_problem(r, 404, "not_found", detail="recalculate it")


def test_recalculating_a_work_order_applies_the_policy_that_matches_now(api, world, admin, office):
    # given a high priority work order under the default policy (response 240 min, 24×7) ...
    wo = _create(api, world, "Door", "high", MONDAY_10_BERLIN)
    assert _z(wo["sla_due_at"]) == "2026-03-02T13:00:00Z"
    # ... and afterwards a policy on office hours for high priority (response 60, resolution 480 business minutes)
    _policy(admin, office["id"], priorities=["high"])
    # then the work order keeps its snapshot
    assert _z(api("dispatcher").get(f"/work-orders/{wo['id']}").json()["sla_due_at"]) == "2026-03-02T13:00:00Z"
    # when the dispatcher recalculates it
    with frozen_at(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)):
        r = api("dispatcher").post(f"/work-orders/{wo['id']}/sla/recalculate")
    # then: response Mon 11:00 Berlin; resolution Mon 10–12, 13–17 (6 h), Tue 08–10 (2 h)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["policy_name"], _z(body["recalculated_at"]), body["calendar"]["name"]) == (
        "Key accounts",
        "2026-03-02T09:30:00Z",
        "Office Berlin",
    )
    assert [(s["target"], _z(s["due_at"]), s["remaining_minutes"]) for s in body["statuses"]] == [
        ("response", "2026-03-02T10:00:00Z", 30),
        ("resolution", "2026-03-03T09:00:00Z", 450),
    ]
    assert _z(api("dispatcher").get(f"/work-orders/{wo['id']}").json()["sla_due_at"]) == "2026-03-02T10:00:00Z"


def test_recalculating_all_open_work_orders_counts_them(api, world, admin, office):
    # given two open work orders and a cancelled one
    a = _create(api, world, "A", "high", MONDAY_10_BERLIN)
    _create(api, world, "B", "low", MONDAY_10_BERLIN)
    c = _create(api, world, "C", "high", MONDAY_10_BERLIN)
    api("dispatcher").post(f"/work-orders/{c['id']}/transitions", {"to": "cancelled", "reason": "Duplicate"})
    _policy(admin, office["id"], priorities=["high"])
    # when
    with frozen_at(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)):
        r = api("admin").post("/sla/recalculate")
    # then
    assert r.status_code == 200, r.content
    assert r.json() == {"recalculated": 2}
    assert _z(api("dispatcher").get(f"/work-orders/{a['id']}").json()["sla_due_at"]) == "2026-03-02T10:00:00Z"
    # and a finished work order is not recalculated
    assert_problem(api("dispatcher").post(f"/work-orders/{c['id']}/sla/recalculate"), 409, "conflict")


def test_only_the_office_recalculates(api, other_api, world):
    # given
    wo = _create(api, world, "A", "high", MONDAY_10_BERLIN)
    # then
    assert_problem(api("technician").post("/sla/recalculate"), 403, "permission_denied")
    assert_problem(api("accountant").post(f"/work-orders/{wo['id']}/sla/recalculate"), 403, "permission_denied")
    assert_problem(other_api("dispatcher").post(f"/work-orders/{wo['id']}/sla/recalculate"), 404, "not_found")


# --- compliance ---------------------------------------------------------------------------------------------


@pytest.fixture
def decided(api, world):
    """Two critical work orders created Monday 2 March 10:00 Berlin at the world's site: one started at 09:10 UTC
    (response met), one not started when the scan ran at 10:30 (response breached); both resolutions open."""
    met = _create(api, world, "Met", "critical", MONDAY_10_BERLIN)
    _start(api, world, met, datetime(2026, 3, 2, 9, 10, tzinfo=UTC))
    late = _create(api, world, "Late", "critical", MONDAY_10_BERLIN)
    engine.scan(now=datetime(2026, 3, 2, 10, 30, tzinfo=UTC))
    return met, late


def _row(row: dict) -> tuple:
    return (row["key"], row["met"], row["breached"], row["open"], row["total"], row["compliance_percent"])


def test_the_compliance_report_counts_met_and_breached_targets(api, world, decided):
    # when
    r = api("accountant").get("/sla/compliance", {"date_from": "2026-03-01", "date_to": "2026-05-01"})
    # then
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["date_from"], body["date_to"], body["timezone"]) == ("2026-03-01", "2026-05-01", "Europe/Berlin")
    assert _row(body["totals"]) == ("total", 1, 1, 2, 4, 50.0)
    assert [_row(row) for row in body["by_client"]] == [(str(world.client.pk), 1, 1, 2, 4, 50.0)]
    assert body["by_client"][0]["label"] == "Stadtwerke"
    assert [_row(row) for row in body["by_priority"]] == [("critical", 1, 1, 2, 4, 50.0)]
    assert [_row(row) for row in body["by_month"]] == [("2026-03", 1, 1, 2, 4, 50.0), ("2026-04", 0, 0, 0, 0, None)]
    assert [_row(row) for row in body["by_target"]] == [
        ("response", 1, 1, 0, 2, 50.0),
        ("resolution", 0, 0, 2, 2, None),
    ]


@pytest.mark.parametrize(
    ("params", "totals"),
    [
        ({"target": "response"}, ("total", 1, 1, 0, 2, 50.0)),
        ({"priority": "high"}, ("total", 0, 0, 0, 0, None)),
        ({"client": "{other_client}"}, ("total", 0, 0, 0, 0, None)),
        ({"client": "{client}", "target": "resolution"}, ("total", 0, 0, 2, 2, None)),
        ({"date_from": "2026-03-03"}, ("total", 0, 0, 0, 0, None)),
    ],
)
def test_the_compliance_report_filters(api, world, decided, params, totals):
    # given
    query = {"date_from": "2026-03-01", "date_to": "2026-04-01", **params}
    query = {k: v.format(client=world.client.pk, other_client=world.other_client.pk) for k, v in query.items()}
    # when
    r = api("dispatcher").get("/sla/compliance", query)
    # then
    assert r.status_code == 200, r.content
    assert _row(r.json()["totals"]) == totals


def test_the_compliance_report_covers_the_last_six_months_by_default(api, world):
    # when
    r = api("admin").get("/sla/compliance")
    # then
    assert r.status_code == 200, r.content
    assert len(r.json()["by_month"]) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-04-01", "date_to": "2026-03-01"}, "date_to"),
        ({"date_from": "March", "date_to": "2026-04-01"}, "date_from"),
        ({"date_from": "2026-03-01", "date_to": "2026-04-01", "client": 999999}, "client"),
        ({"date_from": "2026-03-01", "date_to": "2026-04-01", "priority": "urgent"}, "priority"),
        ({"date_from": "2026-03-01", "date_to": "2026-04-01", "target": "repair"}, "target"),
    ],
)
def test_a_bad_compliance_query_is_a_422(api, world, params, field):
    # when
    r = api("admin").get("/sla/compliance", params)
    # then
    assert_problem(r, 422, "validation_error", field=field)


def test_the_compliance_report_is_for_the_office(api, other_api, decided):
    # then
    for role in ("technician", "client_user", "requester"):
        assert_problem(api(role).get("/sla/compliance"), 403, "permission_denied")
    # and another organization counts only its own
    body = other_api("admin").get("/sla/compliance", {"date_from": "2026-03-01", "date_to": "2026-04-01"}).json()
    assert _row(body["totals"]) == ("total", 0, 0, 0, 0, None)
