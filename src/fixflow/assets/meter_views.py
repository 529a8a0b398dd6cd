"""Meters on the equipment page, a meter's own page, and readings from the work order page.

The equipment page shows a card per meter (last reading, lifetime value, usage rate, a chart drawn on
the server, the recent readings and a form to record one) and the preventive maintenance plans that
cover the item. Office roles (``equipment.manage``) add, change and delete meters; admins,
dispatchers and technicians record readings (``assets.meters.reading_record`` decides). The reading
forms post with htmx and swap their card; without JavaScript they post normally and come back to the
page. Reads come from ``assets.meters`` and ``maintenance.selectors``; every write is a service call.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fixflow.core.choices import Role
from fixflow.core.entities import entity_get
from fixflow.core.errors import DomainError, ErrorCode
from fixflow.core.permissions import Actor, require
from fixflow.service.choices import ACTIVE_STATUSES
from fixflow.web.forms import call_service, failed_status, posted, render_form, save_form
from fixflow.web.helpers import actor_required

from . import meters
from .choices import MeterKind, ReadingKind, ReadingSource
from .forms import MeterForm, ReadingForm
from .models import Equipment, Meter, MeterReading
from .services import EQUIPMENT

RECENT_READINGS = 5  # on a meter's card; its own page pages through all of them
CHART_READINGS = 120  # the latest readings drawn on a card's chart
READINGS_PER_PAGE = 25
RECENT_PM_WORK_ORDERS = 5
CHART = {"width": 640, "height": 200, "left": 64, "right": 14, "top": 14, "bottom": 26}


# --- the chart ------------------------------------------------------------------------------------


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** int(f"{raw:e}".split("e")[1])
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _tick_label(value: float, step: float) -> str:
    places = 0 if step >= 1 else (1 if step * 10 >= 1 else 2)
    return f"{value:,.{places}f}"


def meter_chart(meter: Meter, readings: list[MeterReading], tz: zoneinfo.ZoneInfo, due: Decimal | None = None) -> dict:
    """The readings over time, positioned for the SVG of ``assets/meters/_chart.html``.

    ``readings`` are in time order. A continuous meter is drawn by its lifetime value (what maintenance
    plans count), a gauge by its value. Replacements and rollovers are marked; ``due`` (the next meter
    value a plan waits for) is drawn as a dashed line when it is near the readings.
    """
    continuous = meter.kind == MeterKind.CONTINUOUS
    values = [float(r.lifetime if continuous else r.value) for r in readings]
    plot_w = CHART["width"] - CHART["left"] - CHART["right"]
    plot_h = CHART["height"] - CHART["top"] - CHART["bottom"]
    base = CHART["top"] + plot_h
    out = {**CHART, "base": base, "right_x": CHART["width"] - CHART["right"], "label_y": base + 17}
    if not readings:
        return {**out, "points": [], "ticks": [], "x_ticks": [], "due": None, "path": ""}
    low, high = min(values), max(values)
    due_value = float(due) if due is not None else None
    if due_value is not None:
        span = high - low
        # the due line only above the readings, and not so far above that they would look flat
        if due_value < low or (span > 0 and due_value - high > span * 1.5):
            due_value = None
        else:
            high = max(high, due_value)
    step = _nice_step(high - low if high > low else max(abs(high), 1.0))
    y_min = (low // step) * step
    y_max = y_min + step * max(1, -(-(high - y_min) // step))
    if y_max == y_min:
        y_max = y_min + step
    t0, t1 = readings[0].read_at, readings[-1].read_at
    seconds = (t1 - t0).total_seconds()

    def x_of(t: datetime) -> float:
        if seconds <= 0:
            return round(CHART["left"] + plot_w / 2, 1)
        return round(CHART["left"] + plot_w * (t - t0).total_seconds() / seconds, 1)

    def y_of(v: float) -> float:
        return round(base - plot_h * (v - y_min) / (y_max - y_min), 1)

    points = []
    for reading, value in zip(readings, values, strict=True):
        local = reading.read_at.astimezone(tz)
        x, y = x_of(reading.read_at), y_of(value)
        points.append(
            {
                "x": x,
                "y": y,
                "box_x": round(x - 4, 1),
                "box_y": round(y - 4, 1),
                "kind": reading.kind,
                "label": _point_label(meter, reading, local),
            }
        )
    ticks = []
    v = y_min
    while v <= y_max + step / 1000:
        ticks.append({"y": y_of(v), "value": _tick_label(v, step)})
        v += step
    x_ticks = []
    if seconds > 0:
        fmt = "%-d %b %Y" if seconds > 300 * 86400 else "%-d %b"
        if seconds < 2 * 86400:
            fmt = "%-d %b %H:%M"
        for i, anchor in enumerate(("start", "middle", "middle", "end")):
            t = t0 + timedelta(seconds=seconds * i / 3)
            x_ticks.append({"x": x_of(t), "label": t.astimezone(tz).strftime(fmt), "anchor": anchor})
    else:
        x_ticks.append({"x": points[0]["x"], "label": t0.astimezone(tz).strftime("%-d %b %Y"), "anchor": "middle"})
    path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['y']}" for i, p in enumerate(points))
    return {
        **out,
        "points": points,
        "ticks": ticks,
        "x_ticks": x_ticks,
        "path": path,
        "due": {"y": y_of(due_value), "label": meters.format_amount(Decimal(str(due_value)), meter.unit)}
        if due_value is not None
        else None,
        "marks": [p for p in points if p["kind"] != ReadingKind.READING],
        "radius": 3 if len(points) <= 60 else 2,
        "title": _("%(name)s: lifetime value over time") % {"name": meter.name}
        if continuous
        else _("%(name)s over time") % {"name": meter.name},
    }


def _point_label(meter: Meter, reading: MeterReading, local: datetime) -> str:
    when = local.strftime("%-d %b %Y %H:%M")
    shown = meters.format_amount(reading.value, meter.unit)
    if meter.kind != MeterKind.CONTINUOUS:
        return f"{when}: {shown}"
    lifetime = meters.format_amount(reading.lifetime, meter.unit)
    if reading.kind == ReadingKind.REPLACEMENT:
        return _("%(when)s: meter replaced, the new one shows %(shown)s (lifetime %(lifetime)s)") % locals()
    if reading.kind == ReadingKind.ROLLOVER:
        return _("%(when)s: rolled over, shows %(shown)s (lifetime %(lifetime)s)") % locals()
    return f"{when}: {shown}" + (f" (lifetime {lifetime})" if reading.lifetime != reading.value else "")


# --- the card of one meter ------------------------------------------------------------------------


@dataclass
class MeterDue:
    """The next thing a maintenance plan waits for on this meter."""

    plan_id: int
    plan_name: str
    due_value: Decimal | None
    due_date: date | None
    is_predicted: bool
    work_order_id: int | None
    work_order_number: str
    kind: str


def _meter_dues(plans: list[dict]) -> dict[str, MeterDue]:
    """Meter name → the earliest next due item of the plans counting that meter."""
    out: dict[str, MeterDue] = {}
    for entry in plans:
        plan = entry["plan"]
        if not plan.has_meter_trigger:
            continue
        for item in entry["next_due"]:
            if item.trigger != "meter" or item.due_value is None:
                continue
            current = out.get(plan.meter_name)
            if current is None or item.due_value < (current.due_value or item.due_value):
                out[plan.meter_name] = MeterDue(
                    plan.pk,
                    plan.name,
                    item.due_value,
                    item.due_date,
                    item.is_predicted,
                    item.work_order_id,
                    item.work_order_number,
                    item.kind,
                )
            break
    return out


def meter_card_context(
    request,
    meter: Meter,
    *,
    rate: Decimal | None,
    due: MeterDue | None = None,
    form: ReadingForm | None = None,
    notice: dict | None = None,
) -> dict:
    """What ``assets/meters/_card.html`` shows for one meter."""
    from fixflow.maintenance.selectors import reading_page

    actor = request.actor
    tz = zoneinfo.ZoneInfo(meter.equipment.site.timezone)
    page = reading_page(actor=actor, meter_id=meter.pk, limit=CHART_READINGS)
    latest = page.items
    can_record = actor.can("work_orders.record") and meter.is_active
    return {
        "meter": meter,
        "tz": meter.equipment.site.timezone,
        "last": latest[0] if latest else None,
        "recent": latest[:RECENT_READINGS],
        "rate": rate,
        "due": due,
        "chart": meter_chart(meter, latest[::-1], tz, due.due_value if due and due.kind == "upcoming" else None),
        "reading_form": (form or ReadingForm(meter=meter)) if can_record else None,
        "can_manage": actor.can(EQUIPMENT.manage_capability),
        "notice": notice,
        "is_continuous": meter.kind == MeterKind.CONTINUOUS,
        # requesters see only the work orders of their own requests: no links to the others
        "show_work_orders": actor.can("work_orders.view_all") or actor.is_client,
    }


def _maintenance(actor: Actor, equipment: Equipment) -> dict:
    from fixflow.maintenance.selectors import equipment_maintenance

    data = equipment_maintenance(actor=actor, equipment_id=equipment.pk)
    data["dues"] = _meter_dues(data["plans"])
    data["rates"] = {m["meter"].pk: m["usage_per_day"] for m in data["meters"]}
    return data


def _recent_pm_work_orders(actor: Actor, equipment: Equipment) -> list:
    """The latest work orders the plans generated for this item (``maintenance.view`` holders only)."""
    from fixflow.maintenance.models import Occurrence
    from fixflow.service.selectors import work_order_queryset

    if not actor.can("maintenance.view"):
        return []
    return list(
        Occurrence.objects.filter(
            organization_id=actor.organization_id,
            equipment=equipment,
            work_order__in=work_order_queryset(actor=actor),
        )
        .select_related("plan", "work_order")
        .order_by("-created_at", "-id")[:RECENT_PM_WORK_ORDERS]
    )


def _plan_rows(data: dict) -> list[dict]:
    """The plans with their next due items, meter values written with the meter's unit."""
    units = {m["meter"].name: m["meter"].unit for m in data["meters"]}
    rows = []
    for entry in data["plans"]:
        plan = entry["plan"]
        unit = units.get(plan.meter_name, "")
        items = [
            {"item": item, "value": meters.format_amount(item.due_value, unit) if item.due_value is not None else ""}
            for item in entry["next_due"]
        ]
        rows.append({"plan": plan, "summary": entry["summary"], "items": items})
    return rows


def equipment_meter_context(request, equipment: Equipment, *, forms: dict | None = None) -> dict:
    """The Meters and Preventive maintenance sections of the equipment page."""
    actor = request.actor
    data = _maintenance(actor, equipment)
    cards = [
        meter_card_context(
            request,
            entry["meter"],
            rate=entry["usage_per_day"],
            due=data["dues"].get(entry["meter"].name),
            form=(forms or {}).get(entry["meter"].pk),
        )
        for entry in data["meters"]
    ]
    return {
        "meter_cards": cards,
        "pm_plans": _plan_rows(data),
        "pm_work_orders": _recent_pm_work_orders(actor, equipment),
        "can_view_maintenance": actor.can("maintenance.view"),
        "can_manage_meters": actor.can(EQUIPMENT.manage_capability),
    }


def _card_response(request, meter: Meter, *, on_meter_page: bool = False, **kwargs) -> HttpResponse:
    data = _maintenance(request.actor, meter.equipment)
    context = meter_card_context(
        request, meter, rate=data["rates"].get(meter.pk), due=data["dues"].get(meter.name), **kwargs
    )
    context["on_meter_page"] = on_meter_page
    return render(request, "assets/meters/_card.html", context)


# --- made due by a reading -------------------------------------------------------------------------


def _made_due(reading: MeterReading) -> list:
    """Work orders the maintenance plans created because of this reading (in the same transaction)."""
    from fixflow.maintenance.models import Occurrence

    return [
        o.work_order
        for o in Occurrence.objects.filter(
            organization_id=reading.organization_id,
            equipment_id=reading.meter.equipment_id,
            created_at__gte=reading.created_at,
            work_order__isnull=False,
        )
        .select_related("work_order", "plan")
        .order_by("id")
    ]


def _recorded_notice(reading: MeterReading) -> dict:
    made_due = _made_due(reading)
    text = _("Recorded %(value)s.") % {"value": meters.format_amount(reading.value, reading.meter.unit)}
    if reading.kind == ReadingKind.REPLACEMENT:
        text = _("Meter replacement recorded: the new meter starts at %(value)s.") % {
            "value": meters.format_amount(reading.value, reading.meter.unit)
        }
    elif reading.kind == ReadingKind.ROLLOVER:
        text = _("Rollover recorded at %(value)s.") % {"value": meters.format_amount(reading.value, reading.meter.unit)}
    return {"text": text, "work_orders": made_due}


def _flash(request, notice: dict) -> None:
    messages.success(request, notice["text"])
    for wo in notice["work_orders"]:
        messages.warning(
            request,
            _("This reading made preventive maintenance due: work order %(number)s “%(title)s” was created.")
            % {"number": wo.number, "title": wo.title},
        )


def _record(request, form: ReadingForm, meter: Meter, *, source: str, work_order_id=None):
    """Run the reading service for a valid form; a refused reading becomes a form error (None)."""
    if not form.is_valid():
        return None
    return call_service(
        form,
        lambda: meters.reading_record(
            actor=request.actor,
            meter_id=meter.pk,
            source=source,
            work_order_id=work_order_id,
            **form.service_kwargs(),
        ),
    )


# --- pages ------------------------------------------------------------------------------------------


def _equipment_of(request, pk) -> Equipment:
    return entity_get(EQUIPMENT, actor=request.actor, pk=pk)


@actor_required
def meter_detail(request, pk):
    """A meter's page: its card and every reading, page by page."""
    return _meter_page(request, meters.meter_get(actor=request.actor, pk=pk))


def _meter_page(request, meter: Meter, *, form: ReadingForm | None = None, status: int = 200):
    from fixflow.maintenance.selectors import reading_page

    actor = request.actor
    data = _maintenance(actor, meter.equipment)
    card = meter_card_context(
        request, meter, rate=data["rates"].get(meter.pk), due=data["dues"].get(meter.name), form=form
    )
    cursor = request.GET.get("cursor") or None
    page = reading_page(actor=actor, meter_id=meter.pk, cursor=cursor, limit=READINGS_PER_PAGE)
    context = {"nav": "equipment", "equipment": meter.equipment, "readings": page, "on_meter_page": True, **card}
    return render(request, "assets/meters/meter_detail.html", context, status=status)


@actor_required
def meter_create(request, pk):
    actor = request.actor
    equipment = _equipment_of(request, pk)
    require(actor, EQUIPMENT.manage_capability)
    form = MeterForm(posted(request), actor=actor)
    meter = save_form(
        request, form, lambda: meters.meter_create(actor=actor, equipment_id=equipment.pk, data=form.service_data())
    )
    if meter:
        messages.success(request, _("Meter %(name)s added.") % {"name": meter.name})
        return redirect(reverse("equipment_detail", args=[equipment.pk]) + f"#meter-{meter.pk}")
    return render_form(
        request, "assets/meters/meter_form.html", {"nav": "equipment", "form": form, "equipment": equipment}
    )


@actor_required
def meter_edit(request, pk):
    actor = request.actor
    meter = meters.meter_get(actor=actor, pk=pk)
    require(actor, EQUIPMENT.manage_capability)
    form = MeterForm(posted(request), instance=meter, actor=actor)
    saved = save_form(
        request,
        form,
        lambda: meters.meter_update(
            actor=actor, meter_id=meter.pk, data=form.service_data(), expected_version=form.expected_version
        ),
    )
    if saved:
        messages.success(request, _("Changes saved."))
        return redirect(reverse("equipment_detail", args=[meter.equipment_id]) + f"#meter-{meter.pk}")
    return render_form(
        request,
        "assets/meters/meter_form.html",
        {"nav": "equipment", "form": form, "equipment": meter.equipment, "meter": meter},
    )


@require_POST
@actor_required
def meter_delete(request, pk):
    actor = request.actor
    meter = meters.meter_get(actor=actor, pk=pk)
    try:
        meters.meter_delete(actor=actor, meter_id=meter.pk)
    except DomainError as exc:
        if exc.code in (ErrorCode.NOT_FOUND, ErrorCode.PERMISSION_DENIED):
            raise
        messages.error(request, exc.message)
        return redirect("meter-edit", meter.pk)
    messages.success(request, _("Meter %(name)s deleted.") % {"name": meter.name})
    return redirect(reverse("equipment_detail", args=[meter.equipment_id]) + "#meters")


@require_POST
@actor_required
def meter_reading_record(request, pk):
    """Record a reading from the equipment page (or the meter's page): htmx swaps the meter's card."""
    actor = request.actor
    meter = meters.meter_get(actor=actor, pk=pk)
    form = ReadingForm(request.POST, meter=meter)
    reading = _record(request, form, meter, source=ReadingSource.PAGE)
    if reading is not None:
        notice = _recorded_notice(reading)
        if request.htmx:
            fresh = meters.meter_get(actor=actor, pk=meter.pk)
            return _card_response(request, fresh, notice=notice, on_meter_page=_from_meter_page(request))
        _flash(request, notice)
        return redirect(_back(request, meter))
    if request.htmx:
        response = _card_response(request, meter, form=form, on_meter_page=_from_meter_page(request))
        response.status_code = failed_status(request)
        return response
    if _from_meter_page(request):
        return _meter_page(request, meter, form=form, status=failed_status(request))
    from .views import equipment_detail_page

    return equipment_detail_page(request, meter.equipment, status=failed_status(request), forms={meter.pk: form})


def _from_meter_page(request) -> bool:
    return request.POST.get("next") == "meter"


def _back(request, meter: Meter) -> str:
    if _from_meter_page(request):
        return reverse("meter-detail", args=[meter.pk])
    return reverse("equipment_detail", args=[meter.equipment_id]) + f"#meter-{meter.pk}"


# --- the card on the work order page -----------------------------------------------------------------


def work_order_card_context(request, wo, *, forms: dict | None = None, notice: dict | None = None) -> dict:
    """The compact "Meter readings" card of a work order whose equipment has meters (for those who may
    record readings); empty when there is nothing to show."""
    actor = request.actor
    if not wo.equipment_id or not actor.can("work_orders.record"):
        return {"wo_meters": []}
    active = meters.meter_queryset(actor=actor).filter(equipment_id=wo.equipment_id, is_active=True)
    rows = [
        {"meter": meter, "form": (forms or {}).get(meter.pk) or ReadingForm(meter=meter)}
        for meter in active.order_by("name", "id")
    ]
    return {
        "wo": wo,
        "wo_meters": rows,
        "wo_meters_tz": wo.site.timezone if rows else "",
        "wo_meters_notice": notice,
        "wo_meters_open": wo.status in ACTIVE_STATUSES,
    }


def _work_order_card(request, wo, *, status: int = 200, **kwargs) -> HttpResponse:
    context = work_order_card_context(request, wo, **kwargs)
    html = render_to_string("assets/meters/_work_order_card.html", context, request=request)
    return HttpResponse(html, status=status)


@require_POST
@actor_required
def work_order_meter_reading(request, pk):
    """Record a reading from a work order's "Meter readings" card: linked to the work order, source "phone"
    when a technician records it (the field view), "page" otherwise."""
    from fixflow.service.selectors import work_order_get

    actor = request.actor
    wo = work_order_get(actor=actor, pk=pk)
    try:
        meter = meters.meter_get(actor=actor, pk=request.POST.get("meter"))
    except DomainError:
        raise Http404("Meter not found.") from None
    if meter.equipment_id != wo.equipment_id:
        raise Http404("That meter is not on this work order's equipment.")
    form = ReadingForm(request.POST, meter=meter)
    source = ReadingSource.PHONE if actor.role == Role.TECHNICIAN else ReadingSource.PAGE
    reading = _record(request, form, meter, source=source, work_order_id=wo.pk)
    if reading is not None:
        notice = _recorded_notice(reading)
        if request.htmx:
            return _work_order_card(request, wo, notice=notice)
        _flash(request, notice)
        return redirect(reverse("work_order_detail", args=[wo.pk]) + "#wo-meters")
    if request.htmx:
        return _work_order_card(request, wo, status=failed_status(request), forms={meter.pk: form})
    # without JavaScript: the work order page again, with this card's form and its errors
    from fixflow.service.views import work_order_detail

    request.meter_reading_forms = {meter.pk: form}
    response = work_order_detail(request, wo.pk)
    response.status_code = failed_status(request)
    return response
