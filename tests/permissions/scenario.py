"""One realistic organization state for the permission matrices: every kind of object exists, a work
order is in progress for the world's client, assigned to ``world.technician``, made from the
requester's request; spare unused rows exist for the delete endpoints."""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fixflow.core.choices import Role
from fixflow.service import services

from ..conftest import make_actor
from ..factories import (
    CategoryFactory,
    ChecklistItemFactory,
    ClientFactory,
    ContactFactory,
    EquipmentFactory,
    PartFactory,
    SiteFactory,
    TemplateFactory,
)


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG_1PX = _png()


@dataclass
class Scenario:
    ids: dict[str, int]
    actors: dict
    # texts that only someone who may see the world's client (``client``) or organization (``org``) reads:
    # a page shown to another client's user or to another organization must contain none of them
    secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)


def build(world, other_world) -> Scenario:
    org = world.org
    category = CategoryFactory(organization=org, name="Pressure vessels")
    world.equipment.category = category
    world.equipment.save()
    part = PartFactory(organization=org, sku="SEAL-77", name="Shaft seal kit")
    template = TemplateFactory(organization=org, name="Boiler service")
    item = ChecklistItemFactory(template=template, label="Check pressure", is_required=True)
    contact = ContactFactory(client=world.client, name="Hanna Hausmeister")
    spare_client = ClientFactory(organization=org, name="Spare client")
    spare_contact = ContactFactory(client=world.client, name="Spare contact")
    spare_site = SiteFactory(client=world.client, name="Spare site")
    spare_equipment = EquipmentFactory(site=world.site, name="Spare equipment")
    spare_category = CategoryFactory(organization=org, name="Spare category")
    spare_part = PartFactory(organization=org, sku="SPARE-1")

    d, t = world.dispatcher, world.technician
    request = services.work_request_create(
        actor=world.requester, title="Pump leaks", site_id=world.site.pk, equipment_id=world.equipment.pk
    )
    services.attachment_add(
        actor=world.requester,
        work_request_id=request.pk,
        upload=SimpleUploadedFile("leak.png", PNG_1PX, content_type="image/png"),
    )
    wo = services.work_request_convert(
        actor=d,
        request_id=request.pk,
        template_id=template.pk,
        lead_technician_id=t.user_id,
        scheduled_start=timezone.now() - timedelta(hours=1),
    )
    services.work_order_transition(actor=d, work_order_id=wo.pk, to="planned")
    services.work_order_transition(actor=t, work_order_id=wo.pk, to="in_progress")
    entry = services.time_entry_create(
        actor=t, work_order_id=wo.pk, started_at=timezone.now() - timedelta(hours=1), duration_minutes=30
    )
    usage = services.part_usage_create(actor=t, work_order_id=wo.pk, part_id=part.pk, quantity=2)
    material = services.planned_material_add(actor=d, work_order_id=wo.pk, part_id=part.pk, quantity=1)
    note = services.note_create(actor=t, work_order_id=wo.pk, body="Seal worn", is_client_visible=True)
    attachment = wo.attachments.get()
    new_request = services.work_request_create(
        actor=world.requester, title="Door squeaks", site_id=world.site.pk, equipment_id=world.equipment.pk
    )
    other_request = services.work_request_create(actor=world.requester, title="Another", site_id=world.site.pk)
    checklist_item = wo.checklist.get()
    actors = dict(world.actors)
    actors["other_org"] = other_world.dispatcher
    actors["other_org_admin"] = other_world.admin
    ids = {
        "client": world.client.pk,
        "contact": contact.pk,
        "site": world.site.pk,
        "equipment": world.equipment.pk,
        "category": category.pk,
        "part": part.pk,
        "template": template.pk,
        "template_item": item.pk,
        "request": new_request.pk,
        "other_request": other_request.pk,
        "converted_request": request.pk,
        "work_order": wo.pk,
        "checklist_item": checklist_item.pk,
        "time_entry": entry.pk,
        "part_usage": usage.pk,
        "planned_material": material.pk,
        "note": note.pk,
        "attachment": attachment.pk,
        "spare_client": spare_client.pk,
        "spare_contact": spare_contact.pk,
        "spare_site": spare_site.pk,
        "spare_equipment": spare_equipment.pk,
        "spare_category": spare_category.pk,
        "spare_part": spare_part.pk,
        "technician_user": t.user_id,
        "membership_role": Role.TECHNICIAN,
        "membership": world.technician2.membership_id,
        "organization": org.pk,
        "other_client": world.other_client.pk,
        "other_site": world.other_site.pk,
        "other_equipment": world.other_equipment.pk,
    }
    ids.update(_sla_objects(world))
    ids.update(_pm_objects(world, ids))
    ids.update(_billing_objects(world, ids))
    ids.update(_quote_objects(world, ids))
    ids.update(_invoice_objects(world, ids))
    ids.update(_report_objects(world, ids))
    ids.update(_field_objects(world, ids))
    client_texts = (
        world.client.name,
        world.site.name,
        world.equipment.name,
        contact.name,
        wo.title,
        new_request.title,
        note.body,
    )
    org_texts = (
        *client_texts,
        org.name,
        category.name,
        part.name,
        template.name,
        *(a.user.full_name for a in world.actors.values()),
    )
    return Scenario(ids, actors, {"client": client_texts, "org": org_texts})


def _sla_objects(world) -> dict[str, int]:
    """SLA configuration (issue 3): a calendar with a holiday and a policy on it, and unused spares to delete.

    The work order above already has an SLA: creating it applied the default policy (and made the
    built-in 24×7 calendar).
    """
    from fixflow.sla import services as sla_services
    from fixflow.sla.choices import DEFAULT_TARGETS
    from fixflow.sla.models import BusinessCalendar, SlaPolicy

    admin = world.admin
    calendar = sla_services.calendar_create(actor=admin, data={"name": "Office hours Berlin"})
    holiday = sla_services.holiday_add(actor=admin, calendar_id=calendar.pk, day="2026-12-25", name="Christmas")
    spare_holiday = sla_services.holiday_add(actor=admin, calendar_id=calendar.pk, day="2026-12-26")
    spare_calendar = sla_services.calendar_create(actor=admin, data={"name": "Spare calendar"})
    policy = sla_services.policy_create(
        actor=admin,
        data={
            "name": "Key account SLA",
            "calendar_id": calendar.pk,
            "targets": DEFAULT_TARGETS,
            "priorities": ["high"],
        },
    )
    spare_policy = sla_services.policy_create(
        actor=admin, data={"name": "Spare SLA", "calendar_id": calendar.pk, "targets": DEFAULT_TARGETS}
    )
    return {
        "sla_calendar": calendar.pk,
        "sla_calendar_24x7": BusinessCalendar.objects.get(organization=world.org, is_24x7=True).pk,
        "spare_sla_calendar": spare_calendar.pk,
        "sla_holiday": holiday.pk,
        "spare_sla_holiday": spare_holiday.pk,
        "sla_policy": policy.pk,
        "sla_policy_default": SlaPolicy.objects.get(organization=world.org, is_default=True).pk,
        "spare_sla_policy": spare_policy.pk,
    }


def _pm_objects(world, ids: dict) -> dict[str, int]:
    """Preventive maintenance (issue 6): a plan on the world's pump and a spare one, both first due in two
    months (nothing is generated); a meter with one reading and a spare meter without readings."""
    from datetime import date

    from fixflow.assets import meters
    from fixflow.maintenance import services as pm_services

    first_due = (date.today() + timedelta(days=60)).isoformat()
    plan_data = {
        "template_id": ids["template"],
        "equipment_id": ids["equipment"],
        "anchor": first_due,
        "recurrence": {"frequency": "monthly", "interval": 3},
    }
    plan = pm_services.plan_create(actor=world.dispatcher, data={"name": "Quarterly pump service", **plan_data})
    spare_plan = pm_services.plan_create(actor=world.dispatcher, data={"name": "Spare plan", **plan_data})
    meter = meters.meter_create(
        actor=world.admin, equipment_id=ids["equipment"], data={"name": "Running hours", "unit": "h"}
    )
    meters.reading_record(actor=world.technician, meter_id=meter.pk, value="1000")
    spare_meter = meters.meter_create(
        actor=world.admin, equipment_id=ids["equipment"], data={"name": "Spare counter", "unit": "cycles"}
    )
    return {"plan": plan.pk, "spare_plan": spare_plan.pk, "meter": meter.pk, "spare_meter": spare_meter.pk}


def _billing_objects(world, ids: dict) -> dict[str, int]:
    """Billing configuration (issue 5): seller settings with a logo and a default tax rate; a rate class the
    technician bills at; default and price list rates; a price list with a part price that the world's
    client is billed with; a contract covering the client's site and a part category; unused spares of each
    to delete."""
    from django.core.files.uploadedfile import SimpleUploadedFile as Upload

    from fixflow.billing import config_services as billing
    from fixflow.billing.config_services import RateRow
    from fixflow.inventory import services as inventory

    admin = world.admin
    tax_rate = billing.tax_rate_create(actor=admin, data={"name": "VAT 19 %", "category": "S", "rate": "19"})
    spare_tax_rate = billing.tax_rate_create(actor=admin, data={"name": "Spare VAT", "category": "S", "rate": "7"})
    billing.billing_settings_update(
        actor=admin,
        data={
            "legal_name": "Acme Maintenance GmbH",
            "iban": "DE89370400440532013000",
            "default_tax_rate_id": tax_rate.pk,
        },
        logo=Upload("logo.png", PNG_1PX, content_type="image/png"),
    )
    rate_class = billing.rate_class_create(actor=admin, data={"name": "Senior engineer"})
    spare_rate_class = billing.rate_class_create(actor=admin, data={"name": "Spare class"})
    billing.technician_rate_class_set(actor=admin, user_id=ids["technician_user"], rate_class_id=rate_class.pk)
    rate, spare_rate = billing.rates_replace(
        actor=admin, rows=[RateRow(None, "labour", "80", "40"), RateRow(rate_class.pk, "labour", "110", "55")]
    )
    price_list = billing.price_list_create(actor=admin, data={"name": "Key accounts", "currency": "EUR"})
    spare_price_list = billing.price_list_create(actor=admin, data={"name": "Spare list", "currency": "EUR"})
    billing.rates_replace(actor=admin, price_list_id=price_list.pk, rows=[RateRow(None, "labour", "75", "40")])
    item = billing.price_list_item_set(
        actor=admin, price_list_id=price_list.pk, part_id=ids["part"], unit_price="19.90"
    )
    spare_item = billing.price_list_item_set(
        actor=admin, price_list_id=price_list.pk, part_id=ids["spare_part"], unit_price="4.90"
    )
    billing.client_billing_update(
        actor=admin, client_id=ids["client"], data={"city": "Kiel", "price_list_id": price_list.pk}
    )
    part_category = inventory.part_category_create(actor=admin, data={"name": "Seals"})
    spare_part_category = inventory.part_category_create(actor=admin, data={"name": "Spare category"})
    contract_data = {
        "client_id": ids["client"],
        "valid_from": "2026-01-01",
        "site_ids": [ids["site"]],
        "included_labour_minutes": 600,
        "covered_part_category_ids": [part_category.pk],
    }
    contract = billing.contract_create(actor=admin, data={"name": "Pump maintenance", **contract_data})
    spare_contract = billing.contract_create(actor=admin, data={"name": "Spare contract", **contract_data})
    return {
        "tax_rate": tax_rate.pk,
        "spare_tax_rate": spare_tax_rate.pk,
        "rate_class": rate_class.pk,
        "spare_rate_class": spare_rate_class.pk,
        "rate": rate.pk,
        "spare_rate": spare_rate.pk,
        "price_list": price_list.pk,
        "spare_price_list": spare_price_list.pk,
        "price_list_item": item.pk,
        "spare_price_list_item": spare_item.pk,
        "part_category": part_category.pk,
        "spare_part_category": spare_part_category.pk,
        "contract": contract.pk,
        "spare_contract": spare_contract.pk,
    }


__all__ = ["PNG_1PX", "Scenario", "build", "make_actor"]


def _quote_objects(world, ids: dict) -> dict[str, int]:
    """Quotes (issue 5), all for the world's client except the last: a draft with two lines (the second a spare
    to remove), a spare draft to delete, a sent quote, an accepted one to convert, and a quote sent to a client
    of its own whose public page (``public_quote_token``) anyone holding the link may open."""
    from PIL import Image, ImageDraw

    from fixflow.billing import quote_services as quotes

    office = world.dispatcher
    pump = {"description": "Circulation pump DN40", "quantity": "1", "unit_price": "1200"}

    def draft(title: str, client_id=None, site_id=None):
        quote = quotes.quote_create(
            actor=office, client_id=client_id or ids["client"], site_id=site_id or ids["site"], title=title
        )
        line = quotes.quote_line_add(actor=office, quote_id=quote.pk, data=pump)
        return quote, line

    def sent(title: str, client_id=None, site_id=None):
        quote, _line = draft(title, client_id, site_id)
        return quotes.quote_send(actor=office, quote_id=quote.pk, to="facility@example.com")

    quote, line = draft("Pump replacement")
    spare_line = quotes.quote_line_add(
        actor=office, quote_id=quote.pk, data={"description": "Disposal", "unit_price": "35"}
    )
    spare_quote, _line = draft("Spare quote")
    sent_quote = sent("Pump overhaul")
    accepted = sent("Valve replacement")
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 80), (150, 20), (290, 70)], fill=(0, 0, 0, 255), width=4)
    signature = io.BytesIO()
    image.save(signature, "PNG")
    quotes.quote_accept(
        token=accepted.public_token, signed_by_name="H. Hausmeister", signature_png=signature.getvalue()
    )
    harbour = ClientFactory(organization=world.org, name="Harbour Café")
    public = sent("Espresso machine descaling", client_id=harbour.pk, site_id=SiteFactory(client=harbour).pk)
    return {
        "quote": quote.pk,
        "quote_line": line.pk,
        "spare_quote_line": spare_line.pk,
        "spare_quote": spare_quote.pk,
        "sent_quote": sent_quote.pk,
        "accepted_quote": accepted.pk,
        "public_quote_token": public.public_token,
    }


def _invoice_objects(world, ids: dict) -> dict[str, int]:
    """Invoices (issue 5), all for the world's client: an issued invoice (real PDF and XML) with a partial
    payment; a draft made by “invoice closed work” from a closed billable work order, with a generated line
    and a manual one (the spare to remove); an empty spare draft to delete. Labour is billed at the rates of
    ``_billing_objects`` without the client's contract (``skip_contract``), so the invoices are not 0."""
    from datetime import UTC, datetime

    from fixflow.billing import services as billing
    from fixflow.billing.models import Invoice

    from ..billing.factories import closed_work_order, time_entry, wo_billing

    def closed(title: str, day: int):
        closed_at = datetime(2026, 3, day, 16, 0, tzinfo=UTC)
        wo = closed_work_order(world, title=title, closed=closed_at, number=f"WO-2026-9{day:04d}")
        wo_billing(wo, skip_contract=True)
        time_entry(wo, datetime(2026, 3, day, 8, 0, tzinfo=UTC), 90)
        return wo

    from fixflow.billing import config_services

    config_services.billing_settings_update(  # what issuing needs besides ``_billing_objects``' settings
        actor=world.admin,
        data={
            "street": "Hafenstraße 12",
            "postcode": "20457",
            "city": "Hamburg",
            "country": "DE",
            "vat_id": "DE123456789",
        },
    )
    config_services.client_billing_update(  # the buyer's address: EN 16931 wants its country (BR-11)
        actor=world.admin,
        client_id=world.client.pk,
        data={"street": "Am Wasserturm 3", "postcode": "24103", "country": "DE"},
    )
    accountant = world.accountant
    closed("Invoiced boiler repair", 2)
    [issued] = billing.invoice_closed_work(actor=accountant, client_ids=[world.client.pk])
    issued = billing.invoice_issue(actor=accountant, invoice_id=issued.pk)
    payment = billing.payment_record(actor=accountant, invoice_id=issued.pk, amount="10.00", reference="Matrix")
    closed("Valve replaced, waiting for its invoice", 3)
    [draft] = billing.invoice_closed_work(actor=accountant, client_ids=[world.client.pk])
    manual = billing.invoice_line_add(
        actor=accountant, invoice_id=draft.pk, data={"description": "Disposal", "quantity": "1", "unit_price": "5"}
    )
    spare = Invoice.objects.create(
        organization=world.org, client=world.client, currency=issued.currency, series=issued.series
    )
    return {
        "invoice": issued.pk,
        "invoice_issued_line": issued.lines.get().pk,
        "invoice_payment": payment.pk,
        "invoice_draft": draft.pk,
        "invoice_line": draft.lines.exclude(pk=manual.pk).get().pk,
        "spare_invoice_line": manual.pk,
        "spare_invoice_draft": spare.pk,
    }


def _field_objects(world, ids: dict) -> dict[str, int]:
    """Field work (issue 4): the technician's phone synced a note on a work order the office had cancelled,
    so it is held for the office (the device and its held command); the world's work order is untouched."""
    import uuid

    from fixflow.field.models import Device, SyncCommand
    from fixflow.field.sync import CommandIn, sync_commands

    cancelled = services.work_order_create(
        actor=world.dispatcher,
        site_id=ids["site"],
        equipment_id=ids["equipment"],
        title="Field sync check",
        lead_technician_id=world.technician.user_id,
    )
    services.work_order_transition(
        actor=world.dispatcher, work_order_id=cancelled.pk, to="cancelled", reason="Called off"
    )
    note = CommandIn(
        mutation_id=uuid.uuid4(), seq=1, type="note.add", work_order_id=cancelled.pk, payload={"body": "x"}
    )
    device_id = uuid.uuid4()
    sync_commands(actor=world.technician, device_id=device_id, commands=[note])
    return {
        "field_device": Device.objects.get(device_id=device_id).pk,
        "field_held": SyncCommand.objects.get(mutation_id=note.mutation_id).pk,
    }


def _report_objects(world, ids: dict) -> dict[str, int]:
    """Billing reports and charges (issue 5): an expense the technician recorded on the world's work order,
    and a spare call-out fee to delete. (The revenue-leakage report reads the invoices' work above.)"""
    from fixflow.billing import services as billing

    expense = billing.charge_add(
        actor=world.technician, work_order_id=ids["work_order"], description="Parking", unit_price="7.50"
    )
    spare = billing.charge_add(
        actor=world.dispatcher,
        work_order_id=ids["work_order"],
        kind="call_out",
        description="Spare call-out",
        unit_price="45",
    )
    return {"charge": expense.pk, "spare_charge": spare.pk}
