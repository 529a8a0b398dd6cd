"""Tenancy and scope: another organization's ids are 404s everywhere; client users and requesters see
only their own. The matrix is generated from the OpenAPI document, so a new endpoint cannot be forgotten."""

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fixflow.api import api as ninja_api
from fixflow.assets.models import Meter
from fixflow.core.models import Membership
from fixflow.customers.models import Contact
from fixflow.maintenance.models import MaintenancePlan
from fixflow.service import services
from fixflow.service.models import ChecklistAnswer, WorkOrder
from fixflow.sla.models import Holiday, SlaPolicy
from tests.factories import CategoryFactory, ChecklistItemFactory, PartFactory, TemplateFactory, WorkOrderFactory

from .conftest import BASE, assert_problem, png_bytes

PNG_B64 = base64.b64encode(png_bytes()).decode()

# A valid body for every operation that takes an id, so the refusal comes from the scope check and not
# from input validation. "file" marks a multipart upload.
BODIES = {
    ("GET", "/organization"): None,
    ("GET", "/clients/{id}"): None,
    ("PATCH", "/clients/{id}"): {},
    ("DELETE", "/clients/{id}"): None,
    ("GET", "/contacts/{id}"): None,
    ("PATCH", "/contacts/{id}"): {},
    ("DELETE", "/contacts/{id}"): None,
    ("GET", "/sites/{id}"): None,
    ("PATCH", "/sites/{id}"): {},
    ("DELETE", "/sites/{id}"): None,
    ("GET", "/equipment-categories/{id}"): None,
    ("PATCH", "/equipment-categories/{id}"): {},
    ("DELETE", "/equipment-categories/{id}"): None,
    ("GET", "/equipment/{id}"): None,
    ("PATCH", "/equipment/{id}"): {},
    ("DELETE", "/equipment/{id}"): None,
    ("GET", "/equipment/{id}/work-orders"): None,
    ("GET", "/parts/{id}"): None,
    ("PATCH", "/parts/{id}"): {},
    ("DELETE", "/parts/{id}"): None,
    ("GET", "/templates/{id}"): None,
    ("PATCH", "/templates/{id}"): {"name": "Stolen"},
    ("GET", "/work-requests/{id}"): None,
    ("POST", "/work-requests/{id}/reject"): {"reason": "spam"},
    ("POST", "/work-requests/{id}/duplicate"): {"duplicate_of_id": 1},
    ("POST", "/work-requests/{id}/convert"): {},
    ("POST", "/work-requests/{id}/attachments"): "file",
    ("GET", "/work-orders/{id}"): None,
    ("PATCH", "/work-orders/{id}"): {"title": "Stolen"},
    ("POST", "/work-orders/{id}/transitions"): {"to": "cancelled", "reason": "x"},
    ("GET", "/work-orders/{id}/transitions"): None,
    ("GET", "/work-orders/{id}/timeline"): None,
    ("POST", "/work-orders/{id}/follow-ups"): {"reason": "callback"},
    ("POST", "/work-orders/{id}/billing"): {"billing_status": "no_charge", "reason": "goodwill"},
    ("GET", "/work-orders/{id}/checklist"): None,
    ("PUT", "/work-orders/{id}/checklist/{item_id}"): {"value": "pass"},
    ("GET", "/work-orders/{id}/planned-materials"): None,
    ("POST", "/work-orders/{id}/planned-materials"): {"description": "Oil", "quantity": "1"},
    ("DELETE", "/planned-materials/{id}"): None,
    ("POST", "/work-orders/{id}/timer/start"): {},
    ("POST", "/work-orders/{id}/timer/stop"): {},
    ("POST", "/work-orders/{id}/attachments"): "file",
    ("POST", "/work-orders/{id}/signature"): {"image_png_base64": PNG_B64, "signed_by_name": "Eve"},
    ("GET", "/time-entries/{id}"): None,
    ("DELETE", "/time-entries/{id}"): None,
    ("GET", "/part-usages/{id}"): None,
    ("DELETE", "/part-usages/{id}"): None,
    ("GET", "/notes/{id}"): None,
    ("GET", "/attachments/{id}"): None,
    ("GET", "/attachments/{id}/download"): None,
    ("GET", "/sla/calendars/{id}"): None,
    ("PATCH", "/sla/calendars/{id}"): {"name": "Stolen"},
    ("DELETE", "/sla/calendars/{id}"): None,
    ("GET", "/sla/calendars/{id}/holidays"): None,
    ("POST", "/sla/calendars/{id}/holidays"): {"date": "2027-01-02", "name": "Stolen"},
    ("POST", "/sla/calendars/{id}/holidays/import"): "file",
    ("POST", "/sla/calendars/{id}/holidays/generate"): {"country": "DE", "year": 2027},
    ("DELETE", "/sla/holidays/{id}"): None,
    ("GET", "/sla/policies/{id}"): None,
    ("PATCH", "/sla/policies/{id}"): {"name": "Stolen"},
    ("DELETE", "/sla/policies/{id}"): None,
    ("POST", "/sla/policies/{id}/move"): {"position": 1},
    ("GET", "/work-orders/{id}/sla"): None,
    ("POST", "/work-orders/{id}/sla/recalculate"): {},
    ("GET", "/equipment/{id}/meters"): None,
    ("POST", "/equipment/{id}/meters"): {"name": "Stolen", "unit": "h"},
    ("GET", "/meters/{id}"): None,
    ("PATCH", "/meters/{id}"): {"unit": "x"},
    ("DELETE", "/meters/{id}"): None,
    ("GET", "/meters/{id}/readings"): None,
    ("POST", "/meters/{id}/readings"): {"value": "1"},
    ("GET", "/maintenance/plans/{id}"): None,
    ("PATCH", "/maintenance/plans/{id}"): {"name": "Stolen"},
    ("DELETE", "/maintenance/plans/{id}"): None,
    ("POST", "/maintenance/plans/{id}/pause"): {},
    ("POST", "/maintenance/plans/{id}/resume"): {},
    ("POST", "/maintenance/plans/{id}/generate"): {},
    ("GET", "/maintenance/plans/{id}/occurrences"): None,
    ("GET", "/billing/tax-rates/{id}"): None,
    ("PATCH", "/billing/tax-rates/{id}"): {"name": "Stolen"},
    ("DELETE", "/billing/tax-rates/{id}"): None,
    ("GET", "/billing/rate-classes/{id}"): None,
    ("PATCH", "/billing/rate-classes/{id}"): {"name": "Stolen"},
    ("DELETE", "/billing/rate-classes/{id}"): None,
    ("GET", "/billing/technicians/{id}"): None,
    ("PUT", "/billing/technicians/{id}"): {"rate_class_id": None},
    ("GET", "/billing/rates/{id}"): None,
    ("PATCH", "/billing/rates/{id}"): {"unit_price": "1"},
    ("DELETE", "/billing/rates/{id}"): None,
    ("GET", "/billing/price-lists/{id}"): None,
    ("PATCH", "/billing/price-lists/{id}"): {"name": "Stolen"},
    ("DELETE", "/billing/price-lists/{id}"): None,
    ("GET", "/billing/price-lists/{id}/items"): None,
    ("POST", "/billing/price-lists/{id}/items"): {"part_id": 1, "unit_price": "1"},
    ("POST", "/billing/price-lists/{id}/items/import"): {"text": "X;1"},
    ("PATCH", "/billing/price-list-items/{id}"): {"unit_price": "1"},
    ("DELETE", "/billing/price-list-items/{id}"): None,
    ("GET", "/billing/clients/{id}"): None,
    ("PATCH", "/billing/clients/{id}"): {"city": "Stolen"},
    ("GET", "/billing/contracts/{id}"): None,
    ("PATCH", "/billing/contracts/{id}"): {"name": "Stolen"},
    ("DELETE", "/billing/contracts/{id}"): None,
    ("GET", "/part-categories/{id}"): None,
    ("PATCH", "/part-categories/{id}"): {"name": "Stolen"},
    ("DELETE", "/part-categories/{id}"): None,
    # --- billing quotes (issue 5): owned by the quotes work ---
    ("GET", "/quotes/{id}"): None,
    ("GET", "/quotes/{id}/pdf"): None,
    ("PATCH", "/quotes/{id}"): {"title": "Stolen"},
    ("DELETE", "/quotes/{id}"): None,
    ("POST", "/quotes/{id}/lines"): {"description": "Stolen", "unit_price": "1"},
    ("PUT", "/quotes/{id}/lines/order"): {"line_ids": []},
    ("PATCH", "/quote-lines/{id}"): {"quantity": "2"},
    ("DELETE", "/quote-lines/{id}"): None,
    ("POST", "/quotes/{id}/send"): {"to": "thief@example.com"},
    ("POST", "/quotes/{id}/withdraw"): None,
    ("POST", "/quotes/{id}/convert"): {"target": "invoice"},
    # (end of billing quotes)
    # --- billing invoices, payments, credit notes, sending, accounting export (issue 5) ---
    ("GET", "/invoices/{id}"): None,
    ("PATCH", "/invoices/{id}"): {"note": "Stolen"},
    ("DELETE", "/invoices/{id}"): None,
    ("POST", "/invoices/{id}/regenerate"): {},
    ("POST", "/invoices/{id}/issue"): {},
    ("GET", "/invoices/{id}/pdf"): None,
    ("GET", "/invoices/{id}/xml"): None,
    ("POST", "/invoices/{id}/send"): {"to": "thief@example.com"},
    ("POST", "/invoices/{id}/lines"): {"description": "Stolen", "quantity": "1", "unit_price": "1"},
    ("GET", "/invoice-lines/{id}"): None,
    ("PATCH", "/invoice-lines/{id}"): {"quantity": "2"},
    ("DELETE", "/invoice-lines/{id}"): None,
    ("POST", "/invoices/{id}/payments"): {"amount": "1"},
    ("DELETE", "/invoice-payments/{id}"): None,
    ("POST", "/invoices/{id}/credit-notes"): {"reason": "Stolen"},
    # (end of billing invoices)
    # --- billing revenue leakage report and the accountant's panel (issue 5) ---
    ("GET", "/work-orders/{id}/charges"): None,
    ("POST", "/work-orders/{id}/charges"): {"description": "Stolen", "unit_price": "1"},
    ("GET", "/charges/{id}"): None,
    ("DELETE", "/charges/{id}"): None,
    # (end of billing reports)
    # --- field sync, device bundle and held queue (issue 4) ---
    ("POST", "/field/held/{id}/accept"): {},
    ("POST", "/field/held/{id}/reject"): {"reason": "Stolen"},
    # (end of field sync)
    # --- technician app /m/ (issue 4) ---
    # (end of field app)
    # --- live events (issue 4) ---
    # (end of field live)
}


def _operations_with_ids() -> set[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return {
        (method.upper(), path.removeprefix(BASE))
        for path, ops in schema["paths"].items()
        for method in ops
        if "{" in path
    }


def test_the_tenant_matrix_covers_every_operation_that_takes_an_id():
    # then
    missing = _operations_with_ids() - set(BODIES)
    assert not missing, f"add these operations to BODIES: {sorted(missing)}"


@pytest.fixture
def foreign(other_world):
    """One object of every kind in the other organization, recorded on a started work order."""
    ow = other_world
    template = TemplateFactory(organization=ow.org)
    ChecklistItemFactory(template=template, label="Foreign step")
    wo = services.work_order_create(
        actor=ow.dispatcher,
        site_id=ow.site.pk,
        equipment_id=ow.equipment.pk,
        template_id=template.pk,
        title="Foreign work",
    )
    services.work_order_update(
        actor=ow.dispatcher, work_order_id=wo.pk, data={"lead_technician_id": ow.technician.user_id}
    )
    services.work_order_transition(actor=ow.technician, work_order_id=wo.pk, to="in_progress")
    part = PartFactory(organization=ow.org)
    req = services.work_request_create(actor=ow.dispatcher, site_id=ow.site.pk, title="Foreign request")
    upload = SimpleUploadedFile("secret.png", png_bytes(), "image/png")
    ids = {
        "/work-orders/": wo.pk,
        "/work-requests/": req.pk,
        "/templates/": template.pk,
        "/time-entries/": services.time_entry_create(
            actor=ow.technician,
            work_order_id=wo.pk,
            started_at=timezone.now() - timedelta(hours=2),
            duration_minutes=30,
        ).pk,
        "/part-usages/": services.part_usage_create(
            actor=ow.technician, work_order_id=wo.pk, part_id=part.pk, quantity=Decimal(1)
        ).pk,
        "/notes/": services.note_create(actor=ow.technician, work_order_id=wo.pk, body="Foreign note").pk,
        "/attachments/": services.attachment_add(actor=ow.technician, upload=upload, work_order_id=wo.pk).pk,
        "/planned-materials/": services.planned_material_add(
            actor=ow.dispatcher, work_order_id=wo.pk, description="Oil", quantity=Decimal(1)
        ).pk,
        "/equipment/": ow.equipment.pk,
        "/equipment-categories/": CategoryFactory(organization=ow.org).pk,
        "/parts/": part.pk,
        "/clients/": ow.client.pk,
        "/contacts/": Contact.objects.create(organization=ow.org, client=ow.client, name="Foreign contact").pk,
        "/sites/": ow.site.pk,
        "item_id": ChecklistAnswer.objects.get(work_order=wo).pk,
    }
    policy = SlaPolicy.objects.get(organization=ow.org, is_default=True)  # made with the foreign work order
    ids["/sla/policies/"] = policy.pk
    ids["/sla/calendars/"] = policy.calendar_id
    ids["/sla/holidays/"] = Holiday.objects.create(
        organization=ow.org, calendar_id=policy.calendar_id, date="2027-01-01", name="Foreign holiday"
    ).pk
    ids["/meters/"] = Meter.objects.create(organization=ow.org, equipment=ow.equipment, name="Hours", unit="h").pk
    ids["/maintenance/plans/"] = MaintenancePlan.objects.create(
        organization=ow.org,
        name="Foreign plan",
        template=template,
        site=ow.site,
        equipment=ow.equipment,
        rule="FREQ=MONTHLY",
        anchor="2027-01-01",
    ).pk
    ids.update(_foreign_billing(ow, part))
    ids.update(_foreign_quotes(ow, ids))
    ids.update(_foreign_invoices(ow, ids))
    ids.update(_foreign_reports(ow, ids))
    ids.update(_foreign_field(ow, ids))
    return ids


def _foreign_billing(ow, part) -> dict:
    """The other organization's billing configuration: one object per billing id route."""
    from fixflow.billing import config_services as billing
    from fixflow.billing.config_services import RateRow
    from fixflow.inventory import services as inventory

    admin = ow.admin
    rate_class = billing.rate_class_create(actor=admin, data={"name": "Foreign class"})
    price_list = billing.price_list_create(actor=admin, data={"name": "Foreign list", "currency": "EUR"})
    (rate,) = billing.rates_replace(actor=admin, rows=[RateRow(None, "labour", "70")])
    billing.technician_rate_class_set(actor=admin, user_id=ow.technician.user_id, rate_class_id=rate_class.pk)
    item = billing.price_list_item_set(actor=admin, price_list_id=price_list.pk, part_id=part.pk, unit_price="1")
    contract = billing.contract_create(
        actor=admin, data={"client_id": ow.client.pk, "name": "Foreign contract", "valid_from": "2026-01-01"}
    )
    return {
        "/billing/tax-rates/": billing.tax_rate_create(actor=admin, data={"name": "Foreign VAT", "rate": "20"}).pk,
        "/billing/rate-classes/": rate_class.pk,
        "/billing/technicians/": ow.technician.user_id,
        "/billing/rates/": rate.pk,
        "/billing/price-lists/": price_list.pk,
        "/billing/price-list-items/": item.pk,
        "/billing/clients/": ow.client.pk,
        "/billing/contracts/": contract.pk,
        "/part-categories/": inventory.part_category_create(actor=admin, data={"name": "Foreign category"}).pk,
    }


def _foreign_quotes(ow, ids: dict) -> dict:
    """The other organization's quotes: a draft with a line (every quote route answers 404 for it)."""
    from fixflow.billing import quote_services as quotes

    quote = quotes.quote_create(actor=ow.dispatcher, client_id=ow.client.pk, title="Foreign quote")
    line = quotes.quote_line_add(
        actor=ow.dispatcher,
        quote_id=quote.pk,
        data={"description": "Foreign work", "unit_price": "10", "tax_rate_id": ids["/billing/tax-rates/"]},
    )
    return {"/quotes/": quote.pk, "/quote-lines/": line.pk}


def _foreign_invoices(ow, ids: dict) -> dict:
    """The other organization's invoices, lines and payments: one object per invoice id route (rows made
    directly: the scope check comes before anything that would read them)."""
    from datetime import date

    from fixflow.billing.models import Invoice, InvoiceLine, Payment

    issued = Invoice.objects.create(
        organization=ow.org,
        client=ow.client,
        currency="EUR",
        series="INV",
        number="INV-2026-00001",
        issue_date=date(2026, 3, 2),
        total_net=Decimal("10"),
        total_gross=Decimal("11.90"),
        amount_due=Decimal("11.90"),
    )
    line = InvoiceLine.objects.create(
        organization=ow.org,
        invoice=issued,
        description="Foreign line",
        unit_price=Decimal("10"),
        net_amount=Decimal("10"),
    )
    Invoice.objects.filter(pk=issued.pk).update(status="issued")
    payment = Payment.objects.create(organization=ow.org, invoice=issued, amount=Decimal("1"), paid_on=date(2026, 3, 3))
    return {"/invoices/": issued.pk, "/invoice-lines/": line.pk, "/invoice-payments/": payment.pk}


def _foreign_field(ow, ids: dict) -> dict:
    """The other organization's held queue: a note its technician synced on work its office had cancelled."""
    import uuid

    from fixflow.field.models import SyncCommand
    from fixflow.field.sync import CommandIn, sync_commands

    wo = services.work_order_create(
        actor=ow.dispatcher,
        site_id=ow.site.pk,
        equipment_id=ow.equipment.pk,
        title="Foreign field work",
        lead_technician_id=ow.technician.user_id,
    )
    services.work_order_transition(actor=ow.dispatcher, work_order_id=wo.pk, to="cancelled", reason="Called off")
    note = CommandIn(mutation_id=uuid.uuid4(), seq=1, type="note.add", work_order_id=wo.pk, payload={"body": "x"})
    sync_commands(actor=ow.technician, device_id=uuid.uuid4(), commands=[note])
    return {"/field/held/": SyncCommand.objects.get(mutation_id=note.mutation_id).pk}


def _foreign_reports(ow, ids: dict) -> dict:
    """The other organization's charges: one on its started work order."""
    from fixflow.billing import services as billing

    charge = billing.charge_add(
        actor=ow.dispatcher, work_order_id=ids["/work-orders/"], description="Foreign parking", unit_price="5"
    )
    return {"/charges/": charge.pk}


def _url(path: str, ids: dict) -> str:
    prefix = next(p for p in ids if p != "item_id" and path.startswith(p) and path[len(p) :].startswith("{id}"))
    return path.replace("{id}", str(ids[prefix])).replace("{item_id}", str(ids["item_id"]))


def test_another_organizations_objects_are_404_for_every_operation(api, world, foreign, nothing_written):
    # given an admin of this organization, who may do everything here
    admin = api("admin")
    foreign_versions = dict(WorkOrder.objects.values_list("pk", "version"))
    with nothing_written():
        for method, path in sorted(_operations_with_ids()):
            url = _url(path, foreign)
            body = BODIES[(method, path)]
            # when
            if body == "file":
                r = admin.upload(url, {"file": SimpleUploadedFile("x.png", png_bytes(), "image/png")})
            elif method == "GET":
                r = admin.get(url)
            elif method == "DELETE":
                r = admin.delete(url)
            else:
                r = getattr(admin, method.lower())(url, body)
            # then
            assert r.status_code == 404, (method, url, r.status_code, r.content)
            assert r.json()["code"] == "not_found"
    assert dict(WorkOrder.objects.values_list("pk", "version")) == foreign_versions


@pytest.mark.parametrize(
    "path",
    [
        "/work-orders",
        "/work-requests",
        "/templates",
        "/time-entries",
        "/part-usages",
        "/notes",
        "/attachments",
        "/equipment",
        "/equipment-categories",
        "/parts",
        "/sla/calendars",
        "/sla/policies",
        "/maintenance/plans",
    ],
)
def test_lists_never_show_another_organizations_rows(api, world, foreign, path):
    # when
    r = api("admin").get(path)
    # then
    assert r.status_code == 200
    ids = {item["id"] for item in r.json()["items"]}
    foreign_id = foreign.get(path + "/")
    assert foreign_id not in ids


def test_filtering_a_list_by_a_foreign_work_order_finds_nothing(api, world, foreign):
    # when
    r = api("admin").get("/notes", {"work_order": foreign["/work-orders/"]})
    # then
    assert r.json() == {"items": [], "next_cursor": None}


def test_a_foreign_site_cannot_be_used_to_create_work(api, world, other_world, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").post(
            "/work-orders", {"site_id": other_world.site.pk, "title": "Leak", "equipment_id": other_world.equipment.pk}
        )
    # then
    assert_problem(r, 422, "validation_error", field="site")


def test_a_foreign_technician_cannot_be_assigned(api, world, other_world, work_order, nothing_written):
    with nothing_written():
        # when
        r = api("dispatcher").patch(
            f"/work-orders/{work_order.pk}", {"lead_technician_id": other_world.technician.user_id}
        )
    # then
    assert_problem(r, 422, "validation_error", field="lead_technician")


# --- client users and requesters ------------------------------------------------------------------


@pytest.fixture
def two_clients_work(world, template):
    ours = services.work_order_create(
        actor=world.dispatcher, site_id=world.site.pk, equipment_id=world.equipment.pk, title="Ours"
    )
    theirs = services.work_order_create(
        actor=world.dispatcher, site_id=world.other_site.pk, equipment_id=world.other_equipment.pk, title="Theirs"
    )
    return ours, theirs


def test_a_client_user_lists_only_their_clients_work_orders(api, two_clients_work):
    # when
    r = api("client_user").get("/work-orders")
    # then
    assert [wo["title"] for wo in r.json()["items"]] == ["Ours"]


def test_a_client_user_gets_a_404_for_another_clients_work_order(api, two_clients_work):
    # given
    _ours, theirs = two_clients_work
    # when
    r = api("client_user").get(f"/work-orders/{theirs.pk}")
    # then
    assert_problem(r, 404, "not_found")


def test_a_client_user_sees_only_their_clients_equipment(api, world):
    # when
    listed = api("client_user").get("/equipment").json()["items"]
    other = api("client_user").get(f"/equipment/{world.other_equipment.pk}")
    # then
    assert [e["name"] for e in listed] == ["Pump P1"]
    assert_problem(other, 404, "not_found")


def test_a_client_user_sees_only_client_visible_notes(api, world, started_work_order):
    # given
    technician = api("technician")
    technician.post("/notes", {"work_order_id": started_work_order.pk, "body": "Internal: client was rude"})
    technician.post(
        "/notes", {"work_order_id": started_work_order.pk, "body": "Seal replaced", "is_client_visible": True}
    )
    # when
    r = api("client_user").get("/notes", {"work_order": started_work_order.pk})
    # then
    assert [n["body"] for n in r.json()["items"]] == ["Seal replaced"]


def test_a_client_users_note_is_always_visible_to_the_client(api, started_work_order):
    # when
    r = api("client_user").post(
        "/notes", {"work_order_id": started_work_order.pk, "body": "Thanks!", "is_client_visible": False}
    )
    # then
    assert r.status_code == 201 and r.json()["is_client_visible"] is True


def test_a_client_users_timeline_hides_effort_and_internal_notes(api, world, started_work_order, part):
    # given
    technician = api("technician")
    technician.post("/part-usages", {"work_order_id": started_work_order.pk, "part_id": part.pk, "quantity": 1})
    technician.post("/notes", {"work_order_id": started_work_order.pk, "body": "Internal"})
    # when
    kinds = [
        e["kind"] for e in api("client_user").get(f"/work-orders/{started_work_order.pk}/timeline").json()["items"]
    ]
    # then
    assert "part" not in kinds and "note" not in kinds
    assert kinds.count("transition") == 2


@pytest.mark.parametrize("path", ["/time-entries", "/part-usages"])
def test_client_users_and_requesters_may_not_read_effort_and_costs(api, world, path):
    # when
    for role in ("client_user", "requester"):
        r = api(role).get(path)
        # then
        assert_problem(r, 403, "permission_denied")


def test_a_requester_sees_only_their_own_requests_and_the_work_made_from_them(api, world, template):
    # given
    mine = (
        api("requester")
        .post("/work-requests", {"site_id": world.site.pk, "title": "Mine", "equipment_id": world.equipment.pk})
        .json()
    )
    api("client_user").post("/work-requests", {"site_id": world.site.pk, "title": "Not mine"})
    api("dispatcher").post(f"/work-requests/{mine['id']}/convert", {"template_id": template.pk})
    WorkOrderFactory(organization=world.org, equipment=world.equipment, title="Unrelated", number="X-1")
    # when
    requests = api("requester").get("/work-requests").json()["items"]
    work_orders = api("requester").get("/work-orders").json()["items"]
    # then
    assert [r["title"] for r in requests] == ["Mine"]
    assert [wo["title"] for wo in work_orders] == ["Mine"]


def test_a_deactivated_member_is_refused(api, world):
    # given
    requester = api("requester")
    Membership.objects.filter(user=world.requester.user).update(is_active=False)
    # when
    r = requester.get("/me")
    # then
    assert_problem(r, 401, "not_authenticated")
