"""The preventive maintenance forecast calendar (month / week / day, filters, kinds, the per-day cap), the PM
compliance report (tables, chart, CSV) and the stale plans page; bad query parameters and refused roles."""

import csv
import html as html_lib
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from fixflow.core.clock import frozen_at
from fixflow.maintenance import generator, selectors, services
from fixflow.maintenance.models import Occurrence
from fixflow.service import services as wo_services

from ..factories import CategoryFactory, EquipmentFactory, TemplateFactory, WorkOrderFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 2, 10, 12, 0, tzinfo=BERLIN)  # a Wednesday
PLANNED_AT = datetime(2027, 1, 25, 12, 0, tzinfo=BERLIN)


def at(y, m, d, h=12, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=BERLIN)


class PmClient(Client):
    """HTTPS like production (plain HTTP is redirected)."""

    def generic(self, *args, **kwargs):
        kwargs.setdefault("secure", True)
        return super().generic(*args, **kwargs)


@pytest.fixture
def pm_login(db):
    def login(actor) -> Client:
        client = PmClient()
        client.force_login(actor.user)
        return client

    return login


def text(response) -> str:
    return response.content.decode()


def get(client, url: str, when: datetime = NOW):
    with frozen_at(when):
        return client.get(url)


def make_plan(world, *, when: datetime = PLANNED_AT, **data):
    body = {
        "name": "Weekly pump check",
        "template_id": TemplateFactory(organization=world.org).pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2027-02-01",
        "recurrence": {"frequency": "weekly"},
        "lead_days": 2,
        "lead_technician_id": world.technician.user_id,
        **data,
    }
    body = {k: v for k, v in body.items() if v is not None}
    with frozen_at(when):
        return services.plan_create(actor=world.dispatcher, data=body)


def complete(world, work_order_id: int, when: datetime) -> None:
    with frozen_at(when):
        for to, extra in (("in_progress", {}), ("completed", {"resolution_notes": "Done."})):
            wo_services.work_order_transition(actor=world.dispatcher, work_order_id=work_order_id, to=to, **extra)


def cells(page: str) -> dict[str, list[tuple[str, str]]]:
    """Day (ISO) → [(kind, plan name)] of each calendar cell."""
    out = {}
    for day, body in re.findall(r'<div class="pm-day[^"]*" data-date="([\d-]+)">(.*?)</div>', page, re.S):
        out[day] = []
        for kind, item in re.findall(r'<li class="pm-item[^"]*" data-kind="(\w+)"[^>]*>(.*?)</li>', body, re.S):
            name = re.search(r'<a class="pm-(?:line2 pm-wo-link|line2 pm-what|what)"[^>]*>([^<]+)</a>', item)
            out[day].append((kind, html_lib.unescape(name.group(1))))
    return out


@pytest.fixture
def february(world):
    """At NOW (Wed 10 Feb 2027): the weekly pump check's 1 Feb work order is open (overdue) and 8 Feb was
    skipped for it; 15 and 22 Feb are upcoming. The bakery's monthly oven check was done on time on 5 Feb
    (Tina leads it); 12 Feb was missed."""
    pump = make_plan(world)
    oven = make_plan(
        world,
        name="Monthly oven check",
        equipment_id=world.other_equipment.pk,
        anchor="2027-02-05",
        recurrence={"frequency": "monthly"},
        lead_days=7,
        lead_technician_id=world.technician2.user_id,
    )
    generator.generate(now=at(2027, 1, 30))
    generator.generate(now=at(2027, 2, 6))
    oven_wo = Occurrence.objects.get(plan=oven, key="2027-02-05").work_order
    complete(world, oven_wo.pk, at(2027, 2, 4))
    Occurrence.objects.create(
        organization_id=oven.organization_id,
        plan=oven,
        equipment=world.other_equipment,
        key="2027-02-12",
        trigger="calendar",
        due_date=date(2027, 2, 12),
        due_at=at(2027, 2, 12, 9),
        status="missed",
        reason="Missed: its date passed before the plan was generated.",
    )
    pump_wo = Occurrence.objects.get(plan=pump, key="2027-02-01").work_order
    return {"pump": pump, "oven": oven, "pump_wo": pump_wo, "oven_wo": oven_wo}


# --- the forecast calendar --------------------------------------------------------------------------------------


def test_the_month_view_shows_every_kind_with_text_and_links(world, pm_login, february):
    # when
    response = get(pm_login(world.dispatcher), "/maintenance/forecast/")
    # then the month of today, Monday first, with each kind told by text as well as colour
    assert response.status_code == 200
    page = text(response)
    assert "February 2027" in page
    days = cells(page)
    assert list(days)[0] == "2027-02-01" and list(days)[-1] == "2027-02-28"  # 1 Feb 2027 is a Monday
    assert days["2027-02-01"] == [("overdue", "Weekly pump check")]
    assert days["2027-02-05"] == [("generated", "Monthly oven check")]
    assert days["2027-02-08"] == [("skipped", "Weekly pump check")]
    assert days["2027-02-12"] == [("missed", "Monthly oven check")]
    assert days["2027-02-15"] == days["2027-02-22"] == [("upcoming", "Weekly pump check")]
    assert days["2027-02-10"] == []
    for label in ("! Overdue", "● Generated", "○ Upcoming", "⊘ Skipped", "✕ Missed"):
        assert label.split()[1] in page
    # generated ones link to their work order, with its status
    assert f'href="/work-orders/{february["oven_wo"].pk}/"' in page
    assert f'href="/work-orders/{february["pump_wo"].pk}/"' in page
    assert 'data-status="completed">· Completed' in page and 'data-status="new">· New' in page
    # the skip's reason is in the hover text; today is marked; the legend counts the month
    assert f"Skipped: {february['pump_wo'].number} is still open." in page
    assert 'data-date="2027-02-10">' in page and "pm-today" in page
    counts = dict(re.findall(r'data-kind="(\w+)"><span class="pm-tag">.*?<b class="pm-count">(\d+)</b>', page, re.S))
    assert counts == {"overdue": "1", "generated": "1", "upcoming": "2", "skipped": "1", "missed": "1"}


def test_the_week_view_has_seven_days_with_due_times_and_pages_by_week(world, pm_login, february):
    client = pm_login(world.technician)
    # when
    response = get(client, "/maintenance/forecast/?view=week&date=2027-02-10")
    # then Monday 8 to Sunday 14 February
    page = text(response)
    assert response.status_code == 200
    assert "Week 6, 2027 · 8 Feb – 14 Feb 2027" in page
    days = cells(page)
    assert list(days) == [f"2027-02-{d:02d}" for d in range(8, 15)]
    assert 'class="pm-time">09:00</span>' in page
    assert "Skipped: " in page  # the reason is written out in the roomier week view
    # and the navigation keeps the view and the filters
    assert 'href="?view=week&amp;date=2027-02-01"' in page  # previous
    assert 'href="?view=week&amp;date=2027-02-15"' in page  # next
    assert 'href="?view=week&amp;date=2027-02-10"' in page  # today
    assert 'href="?view=month&amp;date=2027-02-10"' in page  # the month around this date


def test_previous_and_next_months_page_through_the_year(world, pm_login, february):
    client = pm_login(world.admin)
    page = text(get(client, "/maintenance/forecast/?view=month&date=2027-01-15"))
    assert "January 2027" in page
    assert 'href="?view=month&amp;date=2026-12-01"' in page and 'href="?view=month&amp;date=2027-02-01"' in page
    days = cells(page)
    assert list(days)[0] == "2026-12-28" and list(days)[-1] == "2027-01-31"  # the weeks around January
    assert text(get(client, "/maintenance/forecast/?date=2027-03-01")).count('data-kind="upcoming"') >= 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("site={other_site}", {"Monthly oven check"}),
        ("equipment={equipment}", {"Weekly pump check"}),
        ("technician={technician2}", {"Monthly oven check"}),
        ("plan={pump}", {"Weekly pump check"}),
        ("site={site}&plan={oven}", set()),
    ],
)
def test_the_calendar_filters_by_site_equipment_technician_and_plan(world, pm_login, february, query, expected):
    ids = {
        "site": world.site.pk,
        "other_site": world.other_site.pk,
        "equipment": world.equipment.pk,
        "technician2": world.technician2.user_id,
        "pump": february["pump"].pk,
        "oven": february["oven"].pk,
    }
    # when
    response = get(pm_login(world.dispatcher), "/maintenance/forecast/?" + query.format(**ids))
    # then
    assert response.status_code == 200
    shown = {name for items in cells(text(response)).values() for _kind, name in items}
    assert shown == expected
    assert response.context["is_filtered"] is True


def test_the_day_view_lists_everything_due_that_day(world, pm_login, february):
    response = get(pm_login(world.accountant), "/maintenance/forecast/?view=day&date=2027-02-08")
    page = text(response)
    assert response.status_code == 200
    assert "Monday 8 February 2027" in page
    rows = re.findall(r'<tr class="pm-row pm-(\w+)"', page)
    assert rows == ["skipped"]
    assert "Pumpwerk Nord" in page and "Tom Technician" in page


def test_a_busy_day_shows_a_few_items_and_links_to_the_rest(world, pm_login, django_assert_max_num_queries):
    # given a daily plan on every pump of a category at the site: six items a day
    category = CategoryFactory(organization=world.org, name="Pumps")
    for n in range(6):
        EquipmentFactory(site=world.site, category=category, name=f"Pump {n}")
    make_plan(
        world,
        name="Daily pump look",
        equipment_id=None,
        site_id=world.site.pk,
        category_id=category.pk,
        recurrence={"frequency": "daily"},
        anchor="2027-02-10",
    )
    client = pm_login(world.dispatcher)
    # when
    with django_assert_max_num_queries(25):
        page = text(get(client, "/maintenance/forecast/"))
    # then each day shows four and links to the day view for the other two
    days = cells(page)
    assert len(days["2027-02-12"]) == 4
    assert '<a class="pm-more" href="?view=day&amp;date=2027-02-12">+2 more</a>' in page
    day = text(get(client, "/maintenance/forecast/?view=day&date=2027-02-12"))
    assert len(re.findall(r'<tr class="pm-row pm-upcoming"', day)) == 6


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("site=abc", "Select a valid choice."),
        ("site=999999", "Select a valid choice."),
        ("equipment=1.5", "Select a valid choice."),
        ("technician=-1", "Select a valid choice."),
        ("plan=999999", "Select a valid choice."),
        ("date=2027-02-31", "Date: Enter a valid date."),
        ("date=99999-01-01", "Date: Enter a valid date."),
        ("date=3100-01-01", "Date: Choose a date between 1900 and 2999."),
        ("view=year", "View: Select a valid choice."),
    ],
)
def test_bad_query_parameters_are_form_errors_on_the_calendar(world, pm_login, february, query, message):
    response = get(pm_login(world.dispatcher), "/maintenance/forecast/?" + query)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "February 2027" in page or "Week 6" in page  # the bad value is ignored: today's month


def test_another_organizations_plan_or_site_is_not_a_filter(world, other_world, pm_login, february):
    foreign = make_plan(other_world, equipment_id=other_world.equipment.pk, name="Foreign plan")
    client = pm_login(world.dispatcher)
    for query in (f"plan={foreign.pk}", f"site={other_world.site.pk}", f"equipment={other_world.equipment.pk}"):
        page = text(get(client, "/maintenance/forecast/?" + query))
        assert "Select a valid choice." in page
        assert "Foreign plan" not in page and "Foreign Site" not in page and "Foreign Pump" not in page


# --- PM compliance ---------------------------------------------------------------------------------------------


def _occurrence(plan, key: str, *, status="generated", wo_status=None, completed_at=None, equipment=None):
    day = date.fromisoformat(key)
    equipment = equipment or plan.equipment
    wo = None
    if wo_status is not None:
        wo = WorkOrderFactory(equipment=equipment, status=wo_status, completed_at=completed_at)
    return Occurrence.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        equipment=equipment,
        key=key,
        trigger="calendar",
        due_date=day,
        due_at=datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN),
        status=status,
        work_order=wo,
    )


APRIL = at(2027, 4, 10)


@pytest.fixture
def history(world):
    """March: the pump plan 2 on time, 1 late, 1 skipped; the oven plan 1 on time, 1 missed. April: 1 on time,
    and one not due yet."""
    pump = make_plan(world)
    oven = make_plan(world, name="Oven check", equipment_id=world.other_equipment.pk)
    _occurrence(pump, "2027-03-01", wo_status="completed", completed_at=at(2027, 3, 1, 23, 30))
    _occurrence(pump, "2027-03-08", wo_status="closed", completed_at=at(2027, 3, 7))
    _occurrence(pump, "2027-03-15", wo_status="completed", completed_at=at(2027, 3, 16, 0, 30))
    _occurrence(pump, "2027-03-22", status="skipped")
    _occurrence(oven, "2027-03-05", wo_status="completed", completed_at=at(2027, 3, 5))
    _occurrence(oven, "2027-03-19", status="missed")
    _occurrence(pump, "2027-04-05", wo_status="completed", completed_at=at(2027, 4, 5))
    _occurrence(pump, "2027-04-20", wo_status="new")
    return {"pump": pump, "oven": oven}


def test_the_compliance_page_shows_totals_chart_and_tables(world, pm_login, history):
    # when, with the default range (the last twelve months until today)
    response = get(pm_login(world.accountant), "/maintenance/compliance/", APRIL)
    # then
    assert response.status_code == 200
    page = text(response)
    report = response.context["report"]
    assert (report.date_from, report.date_to, report.group) == (date(2026, 5, 1), date(2027, 4, 10), "month")
    assert (report.totals.due, report.totals.on_time, report.totals.compliance_percent) == (7, 4, 57.1)
    assert 'value="2026-05-01"' in page and 'value="2027-04-10"' in page  # the range used is the range shown
    assert "57.1 %" in page
    # one pair of bars per month, told in words on hover
    assert page.count('class="bar-met"') == 12 and page.count('class="bar-breached"') == 12
    assert "2027-03: 3 of 6 on time" in page and "2027-03: 3 of 6 not done on time" in page
    # per month, site and plan, with the sites and plans as filter links
    assert re.search(r'<tr data-key="2027-03">.*?>6</td>.*?>3</td>.*?50.0 %</td>.*?>1</td>', page, re.S)
    assert f'href="?site={world.other_site.pk}"' in page and f'href="?plan={history["pump"].pk}"' in page
    assert "Pumpwerk Nord" in page and "Backstube" in page


def test_compliance_filters_by_dates_site_plan_and_groups_by_week_or_quarter(world, pm_login, history):
    client = pm_login(world.dispatcher)
    span = "date_from=2027-03-01&date_to=2027-04-30"
    weekly = get(client, f"/maintenance/compliance/?{span}&group=week", APRIL).context["report"]
    assert [r.key for r in weekly.by_period][:3] == ["2027-W09", "2027-W10", "2027-W11"]
    quarterly = get(client, f"/maintenance/compliance/?{span}&group=quarter", APRIL).context["report"]
    assert [(r.key, r.due, r.on_time) for r in quarterly.by_period] == [("2027-Q1", 6, 3), ("2027-Q2", 1, 1)]
    by_site = get(client, f"/maintenance/compliance/?{span}&site={world.other_site.pk}", APRIL).context["report"]
    assert (by_site.totals.due, by_site.totals.on_time) == (2, 1)
    by_plan = get(client, f"/maintenance/compliance/?{span}&plan={history['pump'].pk}", APRIL).context["report"]
    assert (by_plan.totals.due, by_plan.totals.late, by_plan.totals.skipped) == (5, 1, 1)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2027-04-01&date_to=2027-03-01", "date_to", "date_to cannot be before date_from."),
        ("date_from=yesterday", "date_from", "Enter a valid date."),
        ("date_to=2027-02-30", "date_to", "Enter a valid date."),
        ("date_from=1000-01-01&date_to=1000-12-31", "date_from", "Choose a date between 1900 and 2999."),
        ("date_from=9999-12-01&date_to=9999-12-31", "date_from", "Choose a date between 1900 and 2999."),
        ("date_from=2000-01-01&date_to=2027-01-01", "date_to", "The range covers at most 3661 days."),
        ("group=fortnight", "group", "Select a valid choice."),
        ("site=abc", "site", "Select a valid choice."),
        ("plan=999999", "plan", "Select a valid choice."),
    ],
)
def test_bad_compliance_parameters_are_form_errors(world, pm_login, history, query, field, message):
    response = get(pm_login(world.dispatcher), "/maintenance/compliance/?" + query, APRIL)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert message.replace("'", "&#x27;") in text(response)
    # and the CSV with the same parameters still answers (with the defaults)
    csv_response = get(pm_login(world.dispatcher), "/maintenance/compliance/?format=csv&" + query, APRIL)
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")


def test_the_compliance_csv_has_one_row_per_period_site_and_plan(world, pm_login, history):
    # given a second site's plan due in March too
    client = pm_login(world.admin)
    # when
    response = get(client, "/maintenance/compliance/?date_from=2027-03-01&date_to=2027-04-30&format=csv", APRIL)
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pm-compliance-2027-03-01-2027-04-30-month.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "period",
        "site_id",
        "site",
        "plan_id",
        "plan",
        "due",
        "on_time",
        "late",
        "open",
        "cancelled",
        "skipped",
        "missed",
        "compliance_percent",
    ]
    pump, oven = history["pump"].pk, history["oven"].pk
    assert rows[1:] == [
        [
            "2027-03",
            str(world.other_site.pk),
            "Backstube",
            str(oven),
            "Oven check",
            "2",
            "1",
            "0",
            "0",
            "0",
            "0",
            "1",
            "50.0",
        ],
        [
            "2027-03",
            str(world.site.pk),
            "Pumpwerk Nord",
            str(pump),
            "Weekly pump check",
            "4",
            "2",
            "1",
            "0",
            "0",
            "1",
            "0",
            "50.0",
        ],
        [
            "2027-04",
            str(world.site.pk),
            "Pumpwerk Nord",
            str(pump),
            "Weekly pump check",
            "1",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
            "100.0",
        ],
    ]
    # the same filters as the page
    quarterly = get(
        client,
        f"/maintenance/compliance/?date_from=2027-03-01&date_to=2027-04-30&group=quarter&site={world.site.pk}&format=csv",
        APRIL,
    )
    assert [r[:5] for r in csv.reader(io.StringIO(quarterly.content.decode()))][1:] == [
        ["2027-Q1", str(world.site.pk), "Pumpwerk Nord", str(pump), "Weekly pump check"],
        ["2027-Q2", str(world.site.pk), "Pumpwerk Nord", str(pump), "Weekly pump check"],
    ]
    # and the page links to it with its own filters
    page = text(get(client, "/maintenance/compliance/?date_from=2027-03-01&group=week", APRIL))
    assert 'href="?date_from=2027-03-01&amp;group=week&amp;format=csv" download' in page


def test_compliance_csv_cells_cannot_run_as_formulas(world, pm_login, history):
    services.plan_update(
        actor=world.dispatcher,
        plan_id=history["oven"].pk,
        data={"name": '=HYPERLINK("http://x")'},
        expected_version=history["oven"].version,
    )
    response = get(pm_login(world.admin), "/maintenance/compliance/?date_from=2027-03-01&format=csv", APRIL)
    names = [r[4] for r in csv.reader(io.StringIO(response.content.decode()))]
    assert '\'=HYPERLINK("http://x")' in names


# --- stale plans -----------------------------------------------------------------------------------------------


@pytest.fixture
def neglected(world):
    """A plan whose last three work orders, due and passed, were never started; a busy one with a started one."""
    stale = make_plan(world, name="Neglected filter check")
    orders = [
        _occurrence(stale, key, wo_status=s).work_order
        for key, s in (("2027-03-01", "new"), ("2027-03-08", "planned"), ("2027-03-15", "cancelled"))
    ]
    busy = make_plan(world, name="Busy check", equipment_id=world.other_equipment.pk)
    _occurrence(busy, "2027-03-01", wo_status="new")
    _occurrence(busy, "2027-03-08", wo_status="in_progress")
    _occurrence(busy, "2027-03-15", wo_status="new")
    return {"stale": stale, "busy": busy, "orders": orders}


def test_stale_plans_lists_plans_with_links_to_the_plan_and_its_work_orders(world, pm_login, neglected):
    response = get(pm_login(world.technician), "/maintenance/stale/", APRIL)
    assert response.status_code == 200
    page = text(response)
    assert [p.name for p in response.context["plans"]] == ["Neglected filter check"]
    assert f'href="/maintenance/plans/{neglected["stale"].pk}/"' in page
    for wo in neglected["orders"]:
        assert f'href="/work-orders/{wo.pk}/"' in page and wo.number in page
    assert page.index(neglected["orders"][2].number) < page.index(neglected["orders"][0].number)  # newest first
    assert "Busy check" not in page
    assert 'value="3"' in page and "whose last 3 generated work orders" in page  # the default N is shown


def test_stale_plans_takes_n_from_the_page(world, pm_login, neglected):
    client = pm_login(world.dispatcher)
    one = get(client, "/maintenance/stale/?n=1", APRIL)
    assert [p.name for p in one.context["plans"]] == ["Busy check", "Neglected filter check"]
    assert "whose last generated work order, due and passed, was never started" in text(one)
    four = get(client, "/maintenance/stale/?n=4", APRIL)
    assert four.context["plans"] == []
    assert "No stale plans" in text(four)


@pytest.mark.parametrize(
    ("n", "message"),
    [("abc", "Enter a whole number."), ("0", "greater than or equal to 1"), ("21", "less than or equal to 20")],
)
def test_a_bad_n_is_a_form_error_and_the_default_applies(world, pm_login, neglected, n, message):
    response = get(pm_login(world.dispatcher), f"/maintenance/stale/?n={n}", APRIL)
    assert response.status_code == 200
    assert message in text(response)
    assert response.context["last_n"] == 3
    assert [p.name for p in response.context["plans"]] == ["Neglected filter check"]


# --- who may see them ------------------------------------------------------------------------------------------

PAGES = (
    "/maintenance/forecast/",
    "/maintenance/compliance/",
    "/maintenance/compliance/?format=csv",
    "/maintenance/stale/",
)


@pytest.mark.parametrize("role", ["client_user", "other_client_user", "requester"])
def test_client_users_and_requesters_are_refused(world, pm_login, february, role):
    client = pm_login(getattr(world, role))
    for url in PAGES:
        response = get(client, url)
        assert response.status_code == 403, url
        assert "Weekly pump check" not in text(response)


@pytest.mark.parametrize("role", ["admin", "dispatcher", "technician", "accountant"])
def test_staff_with_the_maintenance_right_see_all_three_pages(world, pm_login, february, role):
    client = pm_login(getattr(world, role))
    for url in PAGES:
        assert get(client, url).status_code == 200, url
    tabs = text(get(client, "/maintenance/stale/"))
    assert 'href="/maintenance/forecast/"' in tabs and 'href="/maintenance/compliance/"' in tabs


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    for url in PAGES:
        response = PmClient().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("group", ["week", "month", "quarter", "year"])
def test_compliance_reaches_the_last_day_of_the_calendar_without_failing(world, group):
    # the API takes any date; the last period of year 9999 has no next one
    report = selectors.compliance(actor=world.admin, date_from="9999-11-01", date_to="9999-12-31", group=group)
    assert report.by_period[-1].key in ("9999-W52", "9999-12", "9999-Q4", "9999")
    assert report.totals.due == 0
