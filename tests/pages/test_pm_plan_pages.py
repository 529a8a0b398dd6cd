"""Maintenance plan pages (issue 6): the list and its filters, the plan form for each trigger kind with the
errors it shows, optimistic locking, the live preview, and the actions of the detail page."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from fixflow.assets import meters
from fixflow.core.clock import frozen_at
from fixflow.maintenance import services
from fixflow.maintenance.forms import choices_from_rule
from fixflow.maintenance.models import MaintenancePlan, Occurrence
from fixflow.service import services as wo_services
from fixflow.service.models import WorkOrder
from tests.factories import CategoryFactory, EquipmentFactory, TemplateFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 10, 10, 0, tzinfo=BERLIN)  # a Sunday


@pytest.fixture
def template(world):
    return TemplateFactory(organization=world.org, name="Pump service")


def _plan(world, template, *, name="Monthly pump check", **data) -> MaintenancePlan:
    body = {
        "name": name,
        "template_id": template.pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2027-01-31",
        "recurrence": {"frequency": "monthly", "monthly_by": "last_day"},
        "lead_days": 7,
        **data,
    }
    with frozen_at(NOW):
        return services.plan_create(actor=world.dispatcher, data=body)


def _form(world, template, /, **changes) -> dict:
    """The POST of the plan form as a browser sends it: a monthly plan on the last day for the world's pump."""
    data = {
        "name": "Monthly pump check",
        "template": str(template.pk),
        "target_kind": "equipment",
        "site": "",
        "equipment": str(world.equipment.pk),
        "category": "",
        "time_trigger": "calendar",
        "interval": "1",
        "frequency": "monthly",
        "month": "",
        "monthly_by": "last_day",
        "month_day": "",
        "nth": "1",
        "weekday": "1",
        "interval_days": "",
        "meter_name": "",
        "meter_interval": "",
        "meter_start": "",
        "meter_mode": "fixed",
        "anchor": "2027-01-31",
        "due_time": "09:00",
        "lead_days": "7",
        "horizon_days": "365",
        "end_date": "",
        "max_count": "",
        "open_policy": "skip",
        "day_shift": "none",
        "calendar": "",
        "lead_technician": "",
        "is_active": "on",
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _errors(response, name: str | None = None) -> list[str]:
    form = response.context["form"]
    return list(form.errors.get(name or "__all__", []))


def _create(client, data):
    with frozen_at(NOW):
        return client.post(reverse("maintenance-plan-create"), data)


def _html(response) -> str:
    return response.content.decode()


def _generated_work_order(world, plan, when=NOW) -> WorkOrder:
    with frozen_at(when):
        services.plan_generate(actor=world.dispatcher, plan_id=plan.pk)
    return Occurrence.objects.get(plan=plan, work_order__isnull=False).work_order


# --- the list ------------------------------------------------------------------------------------


def test_the_plan_list_shows_target_schedule_next_dates_and_the_last_work_order(world, template, svc_login):
    # given a monthly plan whose first work order was generated, and a floating plan on a category
    monthly = _plan(world, template)
    category = CategoryFactory(organization=world.org, name="Pumps")
    EquipmentFactory(site=world.site, category=category, name="Pump P2")
    floating = _plan(
        world,
        template,
        name="Filter change",
        equipment_id=None,
        site_id=world.site.pk,
        category_id=category.pk,
        recurrence=None,
        mode="floating",
        interval_days=30,
        anchor="2027-02-15",
    )
    wo = _generated_work_order(world, monthly, datetime(2027, 1, 25, 8, tzinfo=BERLIN))
    # when
    with frozen_at(NOW):
        response = svc_login(world.technician).get(reverse("maintenance-plan-list"))
    # then
    html = _html(response)
    assert response.status_code == 200
    row = html[html.index(f'data-plan="{monthly.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Every month on the last day, 7 days ahead, skip if the last one is still open" in row
    assert "Pump P1" in row and wo.number in row and 'data-value="new"' in row
    assert '<time datetime="2027-01-31">' in row and '<time datetime="2027-02-28">' in row
    row = html[html.index(f'data-plan="{floating.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "every Pumps at Pumpwerk Nord" in row
    assert "30 days after the last completion" in row
    assert '<time datetime="2027-02-15">' in row
    assert reverse("maintenance-plan-create") not in html  # technicians read, managers create


def test_the_plan_list_filters_by_name_site_equipment_status_and_trigger(world, template, svc_login):
    # given plans of each trigger kind, one paused, one at another client's site
    calendar = _plan(world, template, name="Quarterly service")
    floating = _plan(world, template, name="Grease bearings", recurrence=None, mode="floating", interval_days=14)
    meter = _plan(world, template, name="Oil change", recurrence=None, meter_name="Running hours", meter_interval="500")
    oven = _plan(world, template, name="Oven clean", equipment_id=world.other_equipment.pk)
    services.plan_set_active(actor=world.dispatcher, plan_id=oven.pk, active=False)
    client = svc_login(world.dispatcher)

    def listed(**params) -> set[int]:
        response = client.get(reverse("maintenance-plan-list"), params)
        assert response.status_code == 200
        return {row.plan.pk for row in response.context["rows"]}

    # then
    assert listed() == {calendar.pk, floating.pk, meter.pk, oven.pk}
    assert listed(q="oil") == {meter.pk}
    assert listed(site=world.other_site.pk) == {oven.pk}
    assert listed(equipment=world.equipment.pk) == {calendar.pk, floating.pk, meter.pk}
    assert listed(status="paused") == {oven.pk}
    assert listed(status="active") == {calendar.pk, floating.pk, meter.pk}
    assert listed(trigger="calendar") == {calendar.pk, oven.pk}
    assert listed(trigger="floating") == {floating.pk}
    assert listed(trigger="meter", site=world.site.pk) == {meter.pk}
    assert listed(trigger="nonsense") == {calendar.pk, floating.pk, meter.pk, oven.pk}  # an unknown value is ignored


def test_the_plan_list_pages_by_name(world, template, svc_login):
    # given 55 plans
    for i in range(55):
        _plan(world, template, name=f"Plan {i:02d}")
    client = svc_login(world.dispatcher)
    # when
    first = client.get(reverse("maintenance-plan-list"))
    second = client.get(reverse("maintenance-plan-list"), {"cursor": first.context["page"].next_cursor})
    # then
    assert [r.plan.name for r in first.context["rows"]][:2] == ["Plan 00", "Plan 01"]
    assert len(first.context["rows"]) == 50
    assert [r.plan.name for r in second.context["rows"]] == [f"Plan {i}" for i in range(50, 55)]


def test_the_plan_list_reads_a_fixed_number_of_queries(world, template, svc_login, django_assert_max_num_queries):
    # given 12 plans of every kind, some generated
    category = CategoryFactory(organization=world.org)
    EquipmentFactory(site=world.site, category=category)
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Hours", "unit": "h"})
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="10")
    for i in range(4):
        _generated_work_order(world, _plan(world, template, name=f"Monthly {i}"), datetime(2027, 1, 25, tzinfo=BERLIN))
        _plan(world, template, name=f"Floating {i}", recurrence=None, mode="floating", interval_days=10 + i)
        _plan(
            world,
            template,
            name=f"Meter {i}",
            equipment_id=None,
            site_id=world.site.pk,
            category_id=category.pk,
            recurrence=None,
            meter_name="Hours",
            meter_interval="100",
        )
    client = svc_login(world.dispatcher)
    # then
    with django_assert_max_num_queries(20):  # 15 on SQLite: session, user, plans, rows, forecast context
        response = client.get(reverse("maintenance-plan-list"))
    assert len(response.context["rows"]) == 12


# --- the form: each trigger kind ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({}, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1"),
        ({"interval": "3"}, "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1"),
        ({"frequency": "daily", "interval": "10"}, "FREQ=DAILY;INTERVAL=10"),
        ({"frequency": "weekly", "interval": "2", "weekdays": ["0", "3"]}, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"),
        ({"frequency": "weekly"}, "FREQ=WEEKLY;INTERVAL=1;BYDAY=SU"),  # no weekday: the first due date's (Sunday)
        ({"monthly_by": "nth_weekday", "nth": "2", "weekday": "1"}, "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU"),
        ({"monthly_by": "nth_weekday", "nth": "-1", "weekday": "4"}, "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR"),
        ({"monthly_by": "day", "month_day": "15"}, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15"),
        ({"monthly_by": "day"}, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=31,-1;BYSETPOS=1"),  # the anchor's day
        (
            {"frequency": "yearly", "month": "2", "monthly_by": "day", "month_day": "29"},
            "FREQ=YEARLY;INTERVAL=1;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1",
        ),
    ],
)
def test_a_manager_creates_a_calendar_plan_from_plain_choices(world, template, svc_login, changes, rule):
    # when
    response = _create(svc_login(world.dispatcher), _form(world, template, **changes))
    # then
    plan = MaintenancePlan.objects.get(organization=world.org)
    assert response.status_code == 302 and response.url == reverse("maintenance-plan-detail", args=[plan.pk])
    assert (plan.rule, plan.mode, plan.interval_days, plan.meter_name) == (rule, "fixed", None, "")
    assert (plan.equipment_id, plan.site_id, plan.lead_days) == (world.equipment.pk, world.site.pk, 7)


def test_a_manager_creates_a_floating_plan(world, template, svc_login):
    # when
    response = _create(
        svc_login(world.admin),
        _form(
            world, template, time_trigger="floating", interval_days="30", lead_technician=str(world.technician.user.pk)
        ),
    )
    # then
    assert response.status_code == 302
    plan = MaintenancePlan.objects.get(organization=world.org)
    assert (plan.mode, plan.interval_days, plan.rule) == ("floating", 30, "")
    assert plan.lead_technician_id == world.technician.user.pk


def test_a_manager_creates_a_meter_plan(world, template, svc_login):
    # when
    response = _create(
        svc_login(world.dispatcher),
        _form(
            world,
            template,
            time_trigger="none",
            use_meter="on",
            meter_name="Running hours",
            meter_interval="500",
            meter_start="1500",
            meter_mode="floating",
        ),
    )
    # then
    assert response.status_code == 302
    plan = MaintenancePlan.objects.get(organization=world.org)
    assert (plan.rule, plan.mode, plan.interval_days) == ("", "fixed", None)
    assert (plan.meter_name, plan.meter_interval, plan.meter_start, plan.meter_mode) == (
        "Running hours",
        Decimal("500"),
        Decimal("1500"),
        "floating",
    )


def test_days_after_completion_and_a_meter_together_mean_whichever_comes_first(world, template, svc_login):
    # when
    response = _create(
        svc_login(world.dispatcher),
        _form(
            world,
            template,
            time_trigger="floating",
            interval_days="180",
            use_meter="on",
            meter_name="Running hours",
            meter_interval="500",
        ),
    )
    # then
    assert response.status_code == 302
    plan = MaintenancePlan.objects.get(organization=world.org)
    assert plan.has_floating_trigger and plan.has_meter_trigger and not plan.has_calendar_trigger


def test_a_manager_creates_a_plan_for_every_item_of_a_category_at_a_site(world, template, svc_login):
    # given
    category = CategoryFactory(organization=world.org, name="Pumps")
    # when
    response = _create(
        svc_login(world.dispatcher),
        _form(world, template, target_kind="category", site=str(world.site.pk), category=str(category.pk)),
    )
    # then the equipment chosen before switching to a category is not kept
    assert response.status_code == 302
    plan = MaintenancePlan.objects.get(organization=world.org)
    assert (plan.equipment_id, plan.site_id, plan.category_id) == (None, world.site.pk, category.pk)


def test_the_form_for_a_new_plan_can_be_prefilled_from_an_equipment_item(world, template, svc_login):
    # when
    response = svc_login(world.dispatcher).get(
        reverse("maintenance-plan-create"), {"equipment": world.equipment.pk, "template": template.pk}
    )
    # then
    form = response.context["form"]
    assert response.status_code == 200
    assert (form["equipment"].value(), form["template"].value()) == (str(world.equipment.pk), str(template.pk))
    assert 'id="plan-preview"' in _html(response) and 'hx-trigger="change, input delay:400ms"' in _html(response)


# --- the form: refused input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"anchor": ""}, "anchor", "required"),
        ({"anchor": "31.01.2027"}, "anchor", "valid date"),
        ({"anchor": "9999-12-31"}, "anchor", "Enter a date from 1900 to 2999."),
        ({"end_date": "9999-12-31"}, "end_date", "Enter a date from 1900 to 2999."),
        ({"name": ""}, "name", "required"),
        ({"template": ""}, "template", "required"),
        ({"equipment": ""}, "equipment", "Choose the equipment"),
        ({"time_trigger": "floating"}, "interval_days", "number of days after the last completion"),
        ({"time_trigger": "none"}, "time_trigger", "Give the plan a trigger"),
        ({"use_meter": "on", "meter_name": "Running hours", "meter_interval": "500"}, "time_trigger", "floating"),
        ({"time_trigger": "none", "use_meter": "on", "meter_name": "Running hours"}, "meter_interval", "both"),
        (
            {"time_trigger": "none", "use_meter": "on", "meter_name": "Hours", "meter_interval": "0"},
            "meter_interval",
            "more than zero",
        ),
        ({"end_date": "2027-01-01"}, "end_date", "before its first due date"),
        ({"lead_days": "-1"}, "lead_days", "greater than or equal to 0"),
        ({"lead_days": "many"}, "lead_days", "whole number"),
        ({"month_day": "32", "monthly_by": "day"}, "month_day", "less than or equal to 31"),
        ({"target_kind": "category", "category": ""}, "site", "Choose the site"),
        ({"target_kind": "category", "site": "{site}", "category": ""}, "equipment", "a category"),
        ({"time_trigger": "custom"}, "time_trigger", "valid choice"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(world, template, svc_login, changes, field, text):
    # given
    changes = {k: (v.format(site=world.site.pk) if isinstance(v, str) else v) for k, v in changes.items()}
    # when
    response = _create(svc_login(world.dispatcher), _form(world, template, **changes))
    # then
    assert response.status_code == 422
    form = response.context["form"]
    errors = " ".join(str(e) for e in form.errors.get(field, []))
    assert text in errors, dict(form.errors)
    assert not MaintenancePlan.objects.exists()
    assert f'data-field="{field}"' in _html(response)  # the field (with its error) is on the page


def test_another_organizations_template_is_refused(world, other_world, template, svc_login):
    # given
    foreign = TemplateFactory(organization=other_world.org)
    # when
    response = _create(svc_login(world.dispatcher), _form(world, template, template=str(foreign.pk)))
    # then
    assert response.status_code == 422
    assert _errors(response, "template")
    assert not MaintenancePlan.objects.exists()


# --- editing --------------------------------------------------------------------------------------


def test_the_edit_form_shows_the_plan_as_its_plain_choices(world, template, svc_login):
    # given a plan on the 2nd Tuesday of every other month
    plan = _plan(
        world,
        template,
        recurrence={"frequency": "monthly", "interval": 2, "monthly_by": "nth_weekday", "nth": 2, "weekday": 1},
    )
    # when
    response = svc_login(world.dispatcher).get(reverse("maintenance-plan-edit", args=[plan.pk]))
    # then
    form = response.context["form"]
    values = {
        name: form[name].value() for name in ("time_trigger", "frequency", "interval", "monthly_by", "nth", "weekday")
    }
    assert values == {
        "time_trigger": "calendar",
        "frequency": "monthly",
        "interval": 2,
        "monthly_by": "nth_weekday",
        "nth": "2",
        "weekday": "1",
    }
    assert "Every 2 months on the 2nd Tuesday" in _html(response)  # the preview of the saved plan


def test_saving_the_edit_form_unchanged_changes_nothing(world, template, svc_login, ref_form_data):
    # given plans of every kind
    plans = [
        _plan(world, template),
        _plan(world, template, recurrence={"frequency": "weekly", "interval": 2, "weekdays": [0, 3]}),
        _plan(world, template, recurrence={"frequency": "yearly", "month": 2, "monthly_by": "day", "month_day": 29}),
        _plan(
            world,
            template,
            recurrence=None,
            mode="floating",
            interval_days=30,
            meter_name="Hours",
            meter_interval="250",
        ),
        _plan(world, template, recurrence=None, meter_name="Hours", meter_interval="250.5", meter_start="1000"),
    ]
    client = svc_login(world.dispatcher)
    for plan in plans:
        page = client.get(reverse("maintenance-plan-edit", args=[plan.pk]))
        # when it is saved as shown
        with frozen_at(NOW):
            response = client.post(reverse("maintenance-plan-edit", args=[plan.pk]), ref_form_data(page))
        # then
        assert response.status_code == 302, dict(response.context["form"].errors)
        saved = MaintenancePlan.objects.get(pk=plan.pk)
        assert (saved.version, saved.rule) == (plan.version, plan.rule), plan.name


def test_a_manager_changes_the_schedule_of_a_plan(world, template, svc_login, ref_form_data):
    # given
    plan = _plan(world, template)
    client = svc_login(world.dispatcher)
    page = client.get(reverse("maintenance-plan-edit", args=[plan.pk]))
    # when
    with frozen_at(NOW):
        response = client.post(
            reverse("maintenance-plan-edit", args=[plan.pk]), ref_form_data(page, interval="3", lead_days="14")
        )
    # then
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.rule, plan.lead_days, plan.version) == ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", 14, 2)


def test_a_stale_save_is_refused_with_a_clear_message_and_keeps_the_input(world, template, svc_login, ref_form_data):
    # given the dispatcher opens the form, then the admin saves a change
    plan = _plan(world, template)
    client = svc_login(world.dispatcher)
    page = client.get(reverse("maintenance-plan-edit", args=[plan.pk]))
    services.plan_update(actor=world.admin, plan_id=plan.pk, data={"lead_days": 3}, expected_version=1)
    # when the dispatcher saves their own change
    data = ref_form_data(page, name="Renamed by the dispatcher", interval="2")
    with frozen_at(NOW):
        response = client.post(reverse("maintenance-plan-edit", args=[plan.pk]), data)
    # then nothing of theirs is saved, they are told why, and the form still holds what they typed
    assert response.status_code == 422
    plan.refresh_from_db()
    assert (plan.name, plan.lead_days, plan.version) == ("Monthly pump check", 3, 2)
    html = _html(response)
    assert "Someone else saved this plan while you were editing it" in html and "data-stale" in html
    form = response.context["form"]
    assert (form["name"].value(), form["interval"].value(), form["version"].value()) == (
        "Renamed by the dispatcher",
        "2",
        "2",
    )
    # when they save again, on purpose
    with frozen_at(NOW):
        again = client.post(reverse("maintenance-plan-edit", args=[plan.pk]), ref_form_data(response))
    # then their version wins
    assert again.status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.rule, plan.version) == (
        "Renamed by the dispatcher",
        "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1",
        3,
    )


def test_a_rule_set_through_the_api_is_kept_when_the_plan_is_edited(world, template, svc_login, ref_form_data):
    # given a rule the plain choices cannot show (two weekdays of the month)
    plan = _plan(world, template, recurrence=None, rule="FREQ=MONTHLY;BYDAY=1MO,3MO")
    client = svc_login(world.dispatcher)
    page = client.get(reverse("maintenance-plan-edit", args=[plan.pk]))
    assert page.context["form"]["time_trigger"].value() == "custom"
    assert "Keep the current rule" in _html(page)
    # when only the name changes
    with frozen_at(NOW):
        response = client.post(
            reverse("maintenance-plan-edit", args=[plan.pk]), ref_form_data(page, name="First and third Monday")
        )
    # then
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.rule) == ("First and third Monday", "FREQ=MONTHLY;BYDAY=1MO,3MO")


def test_choices_from_rule_reads_back_only_the_rules_the_choices_write():
    anchor = datetime(2027, 1, 31).date()
    assert choices_from_rule("FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1", anchor) == {
        "frequency": "monthly",
        "interval": 1,
        "monthly_by": "last_day",
    }
    assert choices_from_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", anchor)["weekdays"] == [0, 3]
    assert choices_from_rule("FREQ=MONTHLY", anchor) is None  # dateutil would skip short months
    assert choices_from_rule("FREQ=MONTHLY;BYDAY=1MO,3MO", anchor) is None
    assert choices_from_rule("garbage", anchor) is None


# --- the live preview -----------------------------------------------------------------------------


def _preview(client, data, method="post"):
    with frozen_at(NOW):
        return getattr(client, method)(reverse("maintenance-plan-preview"), data)


def test_the_preview_shows_the_summary_and_the_next_five_due_dates(world, template, svc_login):
    # when
    response = _preview(svc_login(world.dispatcher), _form(world, template, interval="3", anchor="2027-01-31"))
    # then
    html = _html(response)
    assert response.status_code == 200
    assert "Every 3 months on the last day, 7 days ahead, skip if the last one is still open." in html
    for day in ("2027-01-31", "2027-04-30", "2027-07-31", "2027-10-31", "2028-01-31"):
        assert f'data-date="{day}"' in html
    assert 'data-date="2028-04-30"' not in html
    assert "the first one on Sun 24 Jan 2027" in html


def test_the_preview_answers_a_get_too_and_lists_dates_from_today(world, template, svc_login):
    # given a weekly plan that started in the past
    data = _form(world, template, frequency="weekly", weekdays=["0", "3"], anchor="2026-12-01", lead_days="0")
    # when
    response = _preview(svc_login(world.dispatcher), data, method="get")
    # then the dates start today (Sunday 10 January 2027), Mondays and Thursdays
    html = _html(response)
    assert response.status_code == 200
    assert 'data-date="2027-01-11"' in html and 'data-date="2027-01-14"' in html and 'data-date="2027-01-25"' in html
    assert "2027-01-07" not in html
    assert "Work orders are created on their due day." in html


def test_the_preview_moves_dates_off_non_working_days(world, template, svc_login):
    # when the last day of the month moves to the previous working day
    response = _preview(svc_login(world.dispatcher), _form(world, template, day_shift="previous"))
    # then 31 January 2027 (a Sunday) becomes Friday the 29th
    html = _html(response)
    assert 'data-date="2027-01-29"' in html and 'data-date="2027-01-31"' not in html
    assert "moved to the previous working day" in html


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"anchor": ""}, "<b>First due date</b>: This field is required."),
        ({"anchor": "soon"}, "Enter a valid date"),
        ({"anchor": "9999-12-31"}, "Enter a date from 1900 to 2999."),
        ({"time_trigger": "floating"}, "A floating plan needs the number of days"),
        ({"use_meter": "on", "meter_name": "Hours", "meter_interval": "50"}, "choose the floating mode"),
        ({"interval": "0"}, "greater than or equal to 1"),
        ({"frequency": "hourly"}, "valid choice"),
        ({"time_trigger": "none"}, "Give the plan a trigger"),
    ],
)
def test_the_preview_explains_incomplete_or_invalid_input_with_a_200(world, template, svc_login, changes, text):
    # when
    changes.setdefault("anchor", "2027-01-31")
    if changes["anchor"] == "":
        changes["anchor"] = None
    response = _preview(svc_login(world.dispatcher), _form(world, template, **changes))
    # then htmx swaps it in: a 200 that says what to fix
    html = _html(response)
    assert response.status_code == 200
    assert 'data-preview-state="incomplete"' in html and text in html, html


def test_the_preview_of_a_meter_plan_shows_the_meter_and_warns_when_it_is_missing(world, template, svc_login):
    # given the pump has a running hours meter at 1000 h
    meter = meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Running hours", "unit": "h"}
    )
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1000")
    client = svc_login(world.dispatcher)
    meter_form = {"time_trigger": "none", "use_meter": "on", "meter_interval": "500"}
    # when
    found = _preview(client, _form(world, template, meter_name="Running hours", **meter_form))
    missing = _preview(client, _form(world, template, meter_name="Km", **meter_form))
    # then
    assert "Running hours reads 1000 h now." in _html(found) and "The first one is due at 1500 h." in _html(found)
    assert "Due when Running hours reaches the next value" in _html(found)
    assert "This equipment has no meter named “Km” yet" in _html(missing)


def test_the_preview_of_a_category_plan_counts_its_items(world, template, svc_login):
    # given
    category = CategoryFactory(organization=world.org)
    EquipmentFactory(site=world.site, category=category)
    EquipmentFactory(site=world.site, category=category)
    data = _form(world, template, target_kind="category", site=str(world.site.pk), category=str(category.pk))
    # when
    response = _preview(svc_login(world.dispatcher), data)
    # then
    assert "The plan covers 2 equipment items now" in _html(response)


# --- the detail page and its actions ------------------------------------------------------------


def test_the_detail_page_shows_the_plan_its_equipment_and_occurrences(world, template, svc_login):
    # given a plan whose January occurrence was generated and February one skipped (January still open)
    plan = _plan(world, template)
    wo = _generated_work_order(world, plan, datetime(2027, 1, 25, 8, tzinfo=BERLIN))
    with frozen_at(datetime(2027, 2, 22, 8, tzinfo=BERLIN)):
        services.plan_generate(actor=world.dispatcher, plan_id=plan.pk)
    # when
    with frozen_at(datetime(2027, 2, 22, 9, tzinfo=BERLIN)):
        response = svc_login(world.accountant).get(reverse("maintenance-plan-detail", args=[plan.pk]))
    # then
    html = _html(response)
    assert response.status_code == 200
    assert "Every month on the last day, 7 days ahead, skip if the last one is still open." in html
    assert reverse("work_order_detail", args=[wo.pk]) in html
    assert f"Skipped: {wo.number} is still open." in html
    assert 'data-status="skipped"' in html and 'data-status="generated"' in html
    targets = response.context["targets"]
    assert [t.equipment.pk for t in targets] == [world.equipment.pk]
    assert targets[0].next_due[0].work_order_id == wo.pk and targets[0].next_due[0].is_overdue
    assert reverse("maintenance-plan-edit", args=[plan.pk]) not in html  # accountants read only
    # when filtered by outcome
    skipped = svc_login(world.accountant).get(reverse("maintenance-plan-detail", args=[plan.pk]), {"status": "skipped"})
    assert [o.status for o in skipped.context["occurrences"].items] == ["skipped"]


def test_the_detail_page_of_a_meter_plan_shows_the_meter_and_its_next_due_value(world, template, svc_login):
    # given
    meter = meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Running hours", "unit": "h"}
    )
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1200")
    plan = _plan(world, template, recurrence=None, meter_name="Running hours", meter_interval="500", meter_start="1500")
    # when
    response = svc_login(world.dispatcher).get(reverse("maintenance-plan-detail", args=[plan.pk]))
    # then
    html = _html(response)
    assert "Running hours: 1200 h" in html and "next at 1500 h" in html


def test_pausing_and_resuming_a_plan(world, template, svc_login):
    # given
    plan = _plan(world, template)
    client = svc_login(world.dispatcher)
    # when
    paused = client.post(reverse("maintenance-plan-pause", args=[plan.pk]), follow=True)
    # then
    plan.refresh_from_db()
    assert not plan.is_active and "paused: it creates no work orders until resumed" in _html(paused)
    assert "Resume" in _html(paused)
    # when
    resumed = client.post(reverse("maintenance-plan-resume", args=[plan.pk]), follow=True)
    # then
    plan.refresh_from_db()
    assert plan.is_active and "resumed" in _html(resumed)


def test_generate_now_creates_what_is_due_and_says_how_many(world, template, svc_login):
    # given a plan due on 31 January, created 7 days ahead, on the 25th
    plan = _plan(world, template)
    client = svc_login(world.dispatcher)
    # when
    with frozen_at(datetime(2027, 1, 25, 8, tzinfo=BERLIN)):
        response = client.post(reverse("maintenance-plan-generate", args=[plan.pk]), follow=True)
    # then
    html = _html(response)
    wo = Occurrence.objects.get(plan=plan).work_order
    assert "1 work order created, 0 skipped." in html
    assert (wo.title, wo.type, wo.equipment_id) == ("Monthly pump check", "preventive", world.equipment.pk)
    assert wo.number in html
    # when again
    with frozen_at(datetime(2027, 1, 25, 9, tzinfo=BERLIN)):
        again = client.post(reverse("maintenance-plan-generate", args=[plan.pk]), follow=True)
    # then nothing new, and why
    assert "0 work orders created, 0 skipped. Nothing is due yet: the next one is due on Sun 28 Feb 2027" in _html(
        again
    )
    assert Occurrence.objects.filter(plan=plan).count() == 1


def test_generate_now_on_a_paused_plan_is_refused_with_a_message(world, template, svc_login):
    # given
    plan = _plan(world, template, is_active=False)
    # when
    with frozen_at(datetime(2027, 1, 25, 8, tzinfo=BERLIN)):
        response = svc_login(world.dispatcher).post(reverse("maintenance-plan-generate", args=[plan.pk]), follow=True)
    # then
    assert "The plan is paused; resume it first." in _html(response)
    assert not Occurrence.objects.exists()


def test_a_plan_without_work_orders_is_deleted(world, template, svc_login):
    # given
    plan = _plan(world, template)
    # when
    response = svc_login(world.dispatcher).post(reverse("maintenance-plan-delete", args=[plan.pk]), follow=True)
    # then
    assert response.redirect_chain[-1][0] == reverse("maintenance-plan-list")
    assert "Plan Monthly pump check deleted." in _html(response)
    assert not MaintenancePlan.objects.filter(pk=plan.pk).exists()


def test_deleting_a_plan_with_work_orders_is_refused_with_a_clear_message(world, template, svc_login):
    # given
    plan = _plan(world, template)
    _generated_work_order(world, plan, datetime(2027, 1, 25, 8, tzinfo=BERLIN))
    # when
    response = svc_login(world.dispatcher).post(reverse("maintenance-plan-delete", args=[plan.pk]), follow=True)
    # then
    assert response.redirect_chain[-1][0] == reverse("maintenance-plan-detail", args=[plan.pk])
    assert "This plan has generated work orders; pause it instead of deleting its history." in _html(response)
    assert MaintenancePlan.objects.filter(pk=plan.pk).exists()


# --- who may do what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["technician", "accountant"])
def test_technicians_and_accountants_read_plans_but_cannot_change_them(world, template, svc_login, role):
    # given
    plan = _plan(world, template)
    client = svc_login(world.actors[role])
    # then they read the list and the plan
    assert client.get(reverse("maintenance-plan-list")).status_code == 200
    detail = client.get(reverse("maintenance-plan-detail", args=[plan.pk]))
    assert detail.status_code == 200
    assert ">Generate now</button>" not in _html(detail) and ">Pause</button>" not in _html(detail)
    # and may not create, edit, preview, pause, generate or delete
    assert client.get(reverse("maintenance-plan-create")).status_code == 403
    assert _create(client, _form(world, template)).status_code == 403
    assert client.get(reverse("maintenance-plan-edit", args=[plan.pk])).status_code == 403
    assert _preview(client, _form(world, template)).status_code == 403
    for name in ("maintenance-plan-pause", "maintenance-plan-generate", "maintenance-plan-delete"):
        assert client.post(reverse(name, args=[plan.pk])).status_code == 403
    plan.refresh_from_db()
    assert plan.is_active and plan.version == 1 and not Occurrence.objects.exists()
    assert MaintenancePlan.objects.count() == 1


def test_the_maintenance_link_shows_for_the_roles_that_read_plans(world, svc_login):
    for role, shown in [("admin", True), ("technician", True), ("accountant", True), ("requester", False)]:
        html = _html(svc_login(world.actors[role]).get(reverse("home")))
        assert (reverse("maintenance-plan-list") in html) == shown, role


def test_another_organizations_plan_is_not_found(world, other_world, template, svc_login):
    # given
    plan = _plan(world, template)
    client = svc_login(other_world.dispatcher)
    # then
    assert client.get(reverse("maintenance-plan-detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("maintenance-plan-edit", args=[plan.pk])).status_code == 404
    assert client.post(reverse("maintenance-plan-delete", args=[plan.pk])).status_code == 404
    assert client.post(reverse("maintenance-plan-preview") + f"?plan={plan.pk}", {}).status_code == 404
    assert MaintenancePlan.objects.filter(pk=plan.pk).exists()


def test_completing_the_work_order_shows_on_the_plan(world, template, svc_login):
    # given a floating plan whose first work order is done
    plan = _plan(
        world,
        template,
        recurrence=None,
        mode="floating",
        interval_days=30,
        anchor="2027-01-12",
        lead_days=3,
        lead_technician_id=world.technician.user.pk,
    )
    wo = _generated_work_order(world, plan)
    with frozen_at(datetime(2027, 1, 12, 15, tzinfo=BERLIN)):
        wo_services.work_order_transition(actor=world.dispatcher, work_order_id=wo.pk, to="in_progress")
        wo_services.work_order_transition(
            actor=world.dispatcher, work_order_id=wo.pk, to="completed", resolution_notes="Done."
        )
    # when
    with frozen_at(datetime(2027, 1, 13, 9, tzinfo=BERLIN)):
        response = svc_login(world.dispatcher).get(reverse("maintenance-plan-detail", args=[plan.pk]))
    # then the next one is due 30 days after the completion
    assert response.context["next_due"][0].isoformat() == "2027-02-11"
    assert "Tue 12 Jan 2027 15:00" in _html(response)  # last completed, local time
