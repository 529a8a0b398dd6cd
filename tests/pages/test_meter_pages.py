"""Meters on the equipment page (cards, chart, readings, add/edit/delete), the preventive maintenance section,
and the "Meter readings" card of the work order page (issue 6)."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from fixflow.assets import meters
from fixflow.assets.models import Meter, MeterReading
from fixflow.core.clock import frozen_at
from fixflow.maintenance import services as pm_services
from fixflow.maintenance.models import Occurrence
from fixflow.service.choices import Status

from ..factories import TemplateFactory, WorkOrderFactory

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 3, 15, 0, tzinfo=BERLIN)
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def html(response) -> str:
    return response.content.decode()


class MeterPagesClient(Client):
    """HTTPS, as in production."""

    def generic(self, *args, **kwargs):
        kwargs.setdefault("secure", True)
        return super().generic(*args, **kwargs)


@pytest.fixture
def meter_login(db):
    def login(actor) -> Client:
        client = MeterPagesClient()
        client.force_login(actor.user)
        return client

    return login


@pytest.fixture
def hours(world) -> Meter:
    """Running hours on the world's pump: 1,000 h on 24 Oct and 1,234 h on 3 Nov (23.4 h a day)."""
    meter = meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Running hours", "unit": "h"}
    )
    read(world, meter, "1000", at(2026, 10, 24, 15, 0))
    read(world, meter, "1234", at(2026, 11, 3, 14, 0))
    meter.refresh_from_db()
    return meter


def read(world, meter, value, when, **kwargs):
    with frozen_at(when):
        return meters.reading_record(actor=world.technician, meter_id=meter.pk, value=value, read_at=when, **kwargs)


def card(page: str, meter) -> str:
    match = re.search(rf'<article class="panel meter-card[^"]*" id="meter-{meter.pk}".*?</article>', page, re.S)
    assert match, f"no card for meter {meter.pk}"
    return match.group(0)


def reading_data(meter, value, **fields) -> dict:
    data = {f"m{meter.pk}-value": value}
    data.update({f"m{meter.pk}-{name}": v for name, v in fields.items()})
    return data


def post_reading(client, meter, value, *, htmx=True, **fields):
    url = reverse("meter-reading-record", args=[meter.pk])
    with frozen_at(NOW):
        return client.post(url, reading_data(meter, value, **fields), **(HTMX if htmx else {}))


# --- the meter card ---------------------------------------------------------------------------------


def test_the_card_shows_last_reading_lifetime_usage_rate_and_a_chart_with_a_point_per_reading(
    world, meter_login, hours
):
    # when
    with frozen_at(NOW):
        page = html(meter_login(world.dispatcher).get(reverse("equipment_detail", args=[world.equipment.pk])))
    # then
    shown = card(page, hours)
    assert "<b>1,234 h</b>" in shown
    assert "Tue 3 Nov 2026 14:00 · Tom Technician · via page" in shown
    assert re.search(r"data-lifetime>1,234 h<", shown)
    assert "23.4 h/day" in shown  # 234 h in 10 days (24 Oct was summer time: 13:00 UTC both)
    assert 'data-points="2"' in shown
    assert len(re.findall(r'<circle class="pt" data-kind="reading"', shown)) == 2
    assert "24 Oct" in shown and "3 Nov" in shown  # the time axis


def test_a_single_reading_has_no_usage_rate_yet(world, meter_login):
    meter = meters.meter_create(actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Km", "unit": "km"})
    read(world, meter, "12", at(2026, 11, 1, 9))
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("equipment_detail", args=[world.equipment.pk])))
    shown = card(page, meter)
    assert "not known yet" in shown and 'data-points="1"' in shown


def test_recording_a_reading_swaps_the_card_with_the_new_value_and_point(world, meter_login, hours):
    # when a technician records on the equipment page (htmx)
    response = post_reading(meter_login(world.technician), hours, "1250", note="Checked after the storm")
    # then the card comes back with the new reading
    assert response.status_code == 200
    shown = card(html(response), hours)
    assert "Recorded 1,250 h." in shown and "<b>1,250 h</b>" in shown
    assert 'data-points="3"' in shown
    reading = MeterReading.objects.filter(meter=hours).first()
    assert (reading.value, reading.source, reading.recorded_by_id, reading.note, reading.read_at) == (
        Decimal("1250"),
        "page",
        world.technician.user_id,
        "Checked after the storm",
        NOW,
    )


def test_a_reading_at_a_given_local_time_is_recorded_at_that_site_time(world, meter_login, hours):
    response = post_reading(meter_login(world.technician), hours, "1240,5", htmx=False, read_at="2026-11-03T14:30")
    assert response.status_code == 302
    assert response.url == reverse("equipment_detail", args=[world.equipment.pk]) + f"#meter-{hours.pk}"
    reading = MeterReading.objects.filter(meter=hours).first()
    assert (reading.value, reading.read_at) == (Decimal("1240.5"), at(2026, 11, 3, 14, 30))


@pytest.mark.parametrize("htmx", [True, False])
def test_a_reading_below_the_last_is_a_form_error_and_nothing_is_saved(world, meter_login, hours, htmx):
    # when
    response = post_reading(meter_login(world.technician), hours, "1200", htmx=htmx, note="typo?")
    # then the form comes back with the value typed and the reason next to it
    assert response.status_code == (200 if htmx else 422)
    shown = card(html(response), hours)
    assert (
        "1,200 h is below the last reading 1,234 h of 3 Nov 2026; if the meter was replaced or rolled over, "
        "record a meter replacement or a rollover."
    ) in shown
    assert 'value="1200"' in shown and 'value="typo?"' in shown
    assert MeterReading.objects.filter(meter=hours).count() == 2
    hours.refresh_from_db()
    assert (hours.last_value, hours.lifetime_value) == (Decimal("1234"), Decimal("1234"))


def test_a_meter_replacement_is_accepted_and_the_lifetime_keeps_counting(world, meter_login, hours):
    # when the meter was replaced and the new one shows 5 h
    response = post_reading(meter_login(world.technician), hours, "5", kind="replacement")
    # then
    shown = card(html(response), hours)
    assert "Meter replacement recorded: the new meter starts at 5 h." in shown
    assert re.search(r"data-lifetime>1,234 h ", shown)
    assert 'data-kind="replacement"' in shown  # marked on the chart
    assert "meter replaced or rolled over" in shown  # and in the legend
    # when it moves on
    post_reading(meter_login(world.technician), hours, "15")
    hours.refresh_from_db()
    assert (hours.last_value, hours.lifetime_value) == (Decimal("15"), Decimal("1244"))


def test_a_rollover_is_offered_only_for_a_meter_that_rolls_over(world, meter_login, hours):
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("equipment_detail", args=[world.equipment.pk])))
    assert 'value="rollover"' not in card(page, hours)
    meters.meter_update(actor=world.admin, meter_id=hours.pk, data={"rollover_at": "9999"})
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("equipment_detail", args=[world.equipment.pk])))
    assert 'value="rollover"' in card(page, hours)


def test_a_gauge_may_go_down_and_has_no_kind_choice(world, meter_login):
    gauge = meters.meter_create(
        actor=world.admin, equipment_id=world.equipment.pk, data={"name": "Pressure", "unit": "bar", "kind": "gauge"}
    )
    read(world, gauge, "2.4", at(2026, 11, 2, 9))
    # when
    response = post_reading(meter_login(world.technician), gauge, "1.8")
    # then
    shown = card(html(response), gauge)
    assert "Recorded 1.8 bar." in shown
    assert f'name="m{gauge.pk}-kind"' not in shown and "Lifetime" not in shown
    assert [r.value for r in gauge.readings.all()] == [Decimal("1.8"), Decimal("2.4")]


def test_a_reading_that_is_not_a_number_is_a_form_error(world, meter_login, hours):
    response = post_reading(meter_login(world.technician), hours, "twelve")
    assert "is not a number" in card(html(response), hours)
    assert MeterReading.objects.filter(meter=hours).count() == 2


def test_the_meter_page_pages_through_all_readings(world, meter_login, hours):
    for day in range(4, 30):
        read(world, hours, str(1234 + day * 10), at(2026, 11, day, 9))
    client = meter_login(world.accountant)
    with frozen_at(at(2026, 11, 30, 9)):
        first = client.get(reverse("meter-detail", args=[hours.pk]))
    page = html(first)
    assert page.count("<tr data-reading=") == 25 and 'rel="next"' in page
    assert "Record a reading" not in page  # accountants do not record
    cursor = first.context["readings"].next_cursor
    with frozen_at(at(2026, 11, 30, 9)):
        second = html(client.get(reverse("meter-detail", args=[hours.pk]) + f"?cursor={cursor}"))
    assert second.count("<tr data-reading=") == 3


# --- who sees and does what -------------------------------------------------------------------------


def test_client_users_and_requesters_see_the_meters_but_no_forms(world, meter_login, hours):
    for who in (world.client_user, world.requester, world.accountant):
        with frozen_at(NOW):
            page = html(meter_login(who).get(reverse("equipment_detail", args=[world.equipment.pk])))
        shown = card(page, hours)
        assert "<b>1,234 h</b>" in shown
        assert "<form" not in shown and "meter-edit" not in shown
        assert "+ Add meter" not in page
        assert 'id="maintenance"' in page if who.can("maintenance.view") else 'id="maintenance"' not in page


def test_another_clients_user_gets_not_found_for_the_meter(world, meter_login, hours):
    client = meter_login(world.other_client_user)
    assert client.get(reverse("meter-detail", args=[hours.pk])).status_code == 404
    assert post_reading(client, hours, "1300").status_code == 404
    assert MeterReading.objects.filter(meter=hours).count() == 2


@pytest.mark.parametrize("role", ["client_user", "requester", "accountant"])
def test_roles_without_the_right_cannot_record(world, meter_login, hours, role):
    response = post_reading(meter_login(world.actors[role]), hours, "1300")
    assert response.status_code == 403
    assert MeterReading.objects.filter(meter=hours).count() == 2


def test_office_roles_add_edit_and_delete_meters(world, meter_login):
    client = meter_login(world.dispatcher)
    # when a meter is added
    page = client.get(reverse("meter-create", args=[world.equipment.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("meter-create", args=[world.equipment.pk]),
        {"name": "Starts", "unit": "cycles", "kind": "continuous", "usage_window_days": "14"},
    )
    meter = Meter.objects.get(equipment=world.equipment, name="Starts")
    assert response.status_code == 302 and response.url.endswith(f"#meter-{meter.pk}")
    # when it is renamed
    response = client.post(
        reverse("meter-edit", args=[meter.pk]),
        {
            "name": "Burner starts",
            "unit": "cycles",
            "kind": "continuous",
            "usage_window_days": "14",
            "is_active": "on",
            "version": meter.version,
        },
    )
    assert response.status_code == 302
    meter.refresh_from_db()
    assert (meter.name, meter.usage_window_days, meter.version) == ("Burner starts", 14, 2)
    # when it is deleted (no readings)
    response = client.post(reverse("meter-delete", args=[meter.pk]))
    assert response.status_code == 302 and not Meter.objects.filter(pk=meter.pk).exists()


def test_a_meter_form_error_is_shown_on_the_form(world, meter_login):
    response = meter_login(world.admin).post(
        reverse("meter-create", args=[world.equipment.pk]),
        {"name": "Valve", "unit": "bar", "kind": "gauge", "usage_window_days": "0"},
    )
    assert response.status_code == 422
    assert "The usage window is 1 to 3650 days." in html(response)
    assert not Meter.objects.filter(name="Valve").exists()


def test_deleting_a_meter_with_readings_is_refused_clearly(world, meter_login, hours):
    client = meter_login(world.admin)
    response = client.post(reverse("meter-delete", args=[hours.pk]), follow=True)
    assert "This meter has readings; deactivate it instead of deleting its history." in html(response)
    assert Meter.objects.filter(pk=hours.pk).exists()
    # and the kind of a meter with readings cannot be changed on its form
    assert 'name="kind"' in html(response) and "disabled" in re.search(
        r'<input[^>]*name="kind"[^>]*>', html(response)
    ).group(0)


@pytest.mark.parametrize("role", ["technician", "accountant", "client_user"])
def test_other_roles_cannot_manage_meters(world, meter_login, hours, role):
    client = meter_login(world.actors[role])
    assert client.get(reverse("meter-create", args=[world.equipment.pk])).status_code == 403
    assert client.get(reverse("meter-edit", args=[hours.pk])).status_code == 403
    assert client.post(reverse("meter-delete", args=[hours.pk])).status_code == 403
    assert Meter.objects.filter(pk=hours.pk).exists()


# --- preventive maintenance on the equipment page ---------------------------------------------------


def plan(world, **data):
    payload = {
        "name": "Quarterly pump service",
        "template_id": TemplateFactory(organization=world.org, name="Pump service").pk,
        "equipment_id": world.equipment.pk,
        "anchor": "2026-12-31",
        "recurrence": {"frequency": "monthly", "interval": 3},
        **data,
    }
    with frozen_at(NOW):
        return pm_services.plan_create(actor=world.dispatcher, data=payload)


def test_the_maintenance_section_shows_the_plans_and_their_next_due_dates(world, meter_login):
    quarterly = plan(world)
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("equipment_detail", args=[world.equipment.pk])))
    section = re.search(r'<section class="panel pm-section" id="maintenance">.*?</section>', page, re.S).group(0)
    assert "Quarterly pump service" in section
    assert re.findall(r'data-due="([0-9-]+)"', section) == ["2026-12-31", "2027-03-31", "2027-06-30"]
    assert "Thu 31 Dec 2026" in section
    assert f'<a href="{reverse("maintenance-plan-detail", args=[quarterly.pk])}">' in section


def test_a_meter_plan_shows_the_next_due_value_with_its_predicted_date(world, meter_login, hours):
    plan(
        world, name="Every 500 h", recurrence=None, meter_name="Running hours", meter_interval="500", meter_start="1500"
    )
    with frozen_at(NOW):
        page = html(meter_login(world.dispatcher).get(reverse("equipment_detail", args=[world.equipment.pk])))
    # 266 h to go at 23.4 h a day: 11.4 days after 3 Nov 15:00
    section = re.search(r'id="maintenance">.*?</section>', page, re.S).group(0)
    assert re.search(r"at 1,500 h ·\s+expected Sat 14 Nov 2026", section)
    shown = card(page, hours)
    assert re.search(r"at 1,500 h · expected Sat 14 Nov 2026", shown)
    assert "next service at 1,500 h" in shown  # the dashed line on the chart


def test_the_maintenance_section_lists_the_work_orders_the_plans_generated(world, meter_login, hours):
    plan(
        world, name="Every 500 h", recurrence=None, meter_name="Running hours", meter_interval="500", meter_start="1500"
    )
    read(world, hours, "1510", at(2026, 11, 4, 9))
    occurrence = Occurrence.objects.get(plan__name="Every 500 h")
    with frozen_at(at(2026, 11, 4, 10)):
        page = html(meter_login(world.dispatcher).get(reverse("equipment_detail", args=[world.equipment.pk])))
    section = re.search(r'id="maintenance">.*?</section>', page, re.S).group(0)
    assert occurrence.work_order.number in section
    assert reverse("work_order_detail", args=[occurrence.work_order_id]) in section


# --- the work order page's card ---------------------------------------------------------------------


@pytest.fixture
def wo(world):
    return WorkOrderFactory(
        organization=world.org,
        equipment=world.equipment,
        title="Pump P1 inspection",
        lead_technician=world.technician.user,
        status=Status.IN_PROGRESS,
    )


def wo_card(page: str) -> str:
    match = re.search(r'<section class="panel wo-meters" id="wo-meters">.*?</section>', page, re.S)
    assert match, "no meter card on the work order page"
    return match.group(0)


def post_wo_reading(client, wo, meter, value, *, htmx=True, when=NOW, **fields):
    data = {"meter": meter.pk, **reading_data(meter, value, **fields)}
    with frozen_at(when):
        return client.post(reverse("work-order-meter-reading", args=[wo.pk]), data, **(HTMX if htmx else {}))


def test_the_work_order_page_offers_the_meter_card_with_the_last_value(world, meter_login, hours, wo):
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("work_order_detail", args=[wo.pk])))
    shown = wo_card(page)
    assert "Running hours" in shown and "<b data-last-value>1,234 h</b>" in shown
    assert reverse("work-order-meter-reading", args=[wo.pk]) in shown


def test_a_technician_records_on_the_work_order_card_as_from_the_phone(world, meter_login, hours, wo):
    # when
    response = post_wo_reading(meter_login(world.technician), wo, hours, "1260")
    # then the card comes back with the new value, and the reading is linked to the work order
    assert response.status_code == 200
    shown = wo_card(html(response))
    assert "Recorded 1,260 h." in shown and "<b data-last-value>1,260 h</b>" in shown
    reading = MeterReading.objects.filter(meter=hours).first()
    assert (reading.value, reading.source, reading.work_order_id) == (Decimal("1260"), "phone", wo.pk)


def test_a_dispatcher_records_on_the_work_order_card_as_from_the_page(world, meter_login, hours, wo):
    response = post_wo_reading(meter_login(world.dispatcher), wo, hours, "1260", htmx=False)
    assert response.status_code == 302 and response.url.endswith("#wo-meters")
    assert MeterReading.objects.filter(meter=hours).first().source == "page"


def test_a_refused_reading_on_the_work_order_card_comes_back_with_its_error(world, meter_login, hours, wo):
    client = meter_login(world.technician)
    # with htmx: the card
    shown = wo_card(html(post_wo_reading(client, wo, hours, "1000")))
    assert "1,000 h is below the last reading 1,234 h of 3 Nov 2026" in shown and 'value="1000"' in shown
    # without: the whole page, 422
    response = post_wo_reading(client, wo, hours, "1000", htmx=False)
    assert response.status_code == 422
    assert "is below the last reading" in wo_card(html(response))
    assert MeterReading.objects.filter(meter=hours).count() == 2


def test_a_reading_that_makes_a_meter_plan_due_says_which_work_order_was_created(world, meter_login, hours, wo):
    plan(
        world, name="Every 500 h", recurrence=None, meter_name="Running hours", meter_interval="500", meter_start="1500"
    )
    # when
    response = post_wo_reading(meter_login(world.technician), wo, hours, "1502")
    # then
    created = Occurrence.objects.get(plan__name="Every 500 h").work_order
    shown = wo_card(html(response))
    assert "This reading made preventive maintenance due:" in shown
    assert f'<a href="{reverse("work_order_detail", args=[created.pk])}">{created.number}</a>' in shown


def test_a_meter_of_other_equipment_cannot_be_recorded_through_a_work_order(world, meter_login, wo):
    other = meters.meter_create(
        actor=world.admin, equipment_id=world.other_equipment.pk, data={"name": "Oven hours", "unit": "h"}
    )
    response = post_wo_reading(meter_login(world.technician), wo, other, "10")
    assert response.status_code == 404
    assert not other.readings.exists()


def test_no_meter_card_for_roles_that_do_not_record_or_equipment_without_meters(world, meter_login, hours, wo):
    with frozen_at(NOW):
        page = html(meter_login(world.client_user).get(reverse("work_order_detail", args=[wo.pk])))
    assert 'id="wo-meters"' not in page
    other = WorkOrderFactory(organization=world.org, equipment=world.other_equipment, status=Status.IN_PROGRESS)
    with frozen_at(NOW):
        page = html(meter_login(world.technician).get(reverse("work_order_detail", args=[other.pk])))
    assert 'id="wo-meters"' not in page


def test_a_closed_work_order_shows_the_last_values_without_a_form(world, meter_login, hours, wo):
    WorkOrderFactory._meta.model.objects.filter(pk=wo.pk).update(status=Status.CLOSED)
    with frozen_at(NOW):
        shown = wo_card(html(meter_login(world.technician).get(reverse("work_order_detail", args=[wo.pk]))))
    assert "1,234 h" in shown and "<form" not in shown


# --- the chart's geometry (no database) -------------------------------------------------------------


def test_the_chart_spans_the_readings_and_draws_the_due_line_only_near_them():
    from fixflow.assets.meter_views import CHART, meter_chart

    meter = Meter(pk=1, name="Running hours", unit="h", kind="continuous")
    readings = [
        MeterReading(read_at=at(2026, 11, d, 9), value=Decimal(v), lifetime=Decimal(v), kind="reading")
        for d, v in ((1, "1000"), (2, "1050"), (4, "1120"))
    ]
    chart = meter_chart(meter, readings, BERLIN, due=Decimal("1200"))
    xs, ys = [p["x"] for p in chart["points"]], [p["y"] for p in chart["points"]]
    assert xs[0] == CHART["left"] and xs[-1] == CHART["width"] - CHART["right"] and xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # going up
    assert chart["due"]["label"] == "1,200 h" and chart["due"]["y"] < min(ys)
    assert [t["value"] for t in chart["ticks"]] == ["1,000", "1,050", "1,100", "1,150", "1,200"]
    # a due value far above the readings would flatten them: no line
    assert meter_chart(meter, readings, BERLIN, due=Decimal("5000"))["due"] is None
