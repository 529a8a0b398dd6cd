"""One realistic organization state for the permission matrices: every kind of object exists, a work
order is in progress for the world's client, assigned to ``world.technician``, made from the
requester's request; spare unused rows exist for the delete endpoints."""

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
    """Quotes (issue 5): filled by the quotes work."""
    return {}


def _invoice_objects(world, ids: dict) -> dict[str, int]:
    """Invoices (issue 5): drafts, issued invoices, payments and credit notes; filled by the invoice work."""
    return {}
