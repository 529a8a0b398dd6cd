"""One query-count guard per list endpoint, with enough rows that an N+1 would show."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fixflow.service.models import (
    Attachment,
    ChecklistAnswer,
    PartUsage,
    PlannedMaterial,
    TemplateChecklistItem,
    TemplatePart,
    TimeEntry,
    WorkOrderEvent,
    WorkOrderHelper,
    WorkOrderNote,
)
from tests.factories import (
    CategoryFactory,
    EquipmentFactory,
    PartFactory,
    TemplateFactory,
    WorkOrderFactory,
    WorkRequestFactory,
)

ROWS = 30
# token and membership lookups, the scope check of a parent, the page itself and its prefetches (today: 3 to 5)
MAX_QUERIES = 6


@pytest.fixture
def lots(world, part):
    """ROWS rows of everything, spread over people, equipment, categories and templates."""
    org, now = world.org, timezone.now()
    techs = [world.technician.user, world.technician2.user]
    categories = [CategoryFactory(organization=org) for _ in range(ROWS)]
    parent = EquipmentFactory(site=world.site, name="Plant")
    for i in range(ROWS):
        EquipmentFactory(
            site=world.site if i % 2 else world.other_site, category=categories[i], parent=parent if i % 2 else None
        )
        PartFactory(organization=org)
        WorkRequestFactory(
            site=world.site if i % 2 else world.other_site, equipment=None, requester=world.requester.user
        )
    wos = []
    for i in range(ROWS):
        wo = WorkOrderFactory(
            organization=org,
            equipment=world.equipment if i % 2 else world.other_equipment,
            lead_technician=techs[i % 2],
            number=f"T-{i:03d}",
        )
        WorkOrderHelper.objects.create(organization=org, work_order=wo, user=techs[(i + 1) % 2])
        wos.append(wo)
    wo = wos[1]  # at the client user's site
    for i in range(ROWS):
        t = TemplateFactory(organization=org)
        TemplateChecklistItem.objects.create(organization=org, template=t, label="Step")
        TemplatePart.objects.create(organization=org, template=t, part=part, quantity=1)
        ChecklistAnswer.objects.create(
            organization=org,
            work_order=wo,
            label=f"Step {i}",
            position=i,
            value="done",
            answered_by=techs[i % 2],
            answered_at=now,
        )
        PlannedMaterial.objects.create(
            organization=org, work_order=wo, part=part if i % 2 else None, description="Oil", quantity=Decimal(1)
        )
        TimeEntry.objects.create(
            organization=org,
            work_order=wos[i],
            technician=techs[i % 2],
            started_at=now - timedelta(hours=i + 1),
            ended_at=now - timedelta(hours=i),
            duration_minutes=60,
            created_by=techs[i % 2],
        )
        PartUsage.objects.create(
            organization=org,
            work_order=wos[i],
            part=part if i % 2 else None,
            description="Filter",
            quantity=Decimal(1),
            created_by=techs[i % 2],
        )
        WorkOrderNote.objects.create(
            organization=org, work_order=wos[i], author=techs[i % 2], body="Note", is_client_visible=bool(i % 2)
        )
        Attachment.objects.create(
            organization=org,
            work_order=wos[i],
            file=f"attachments/{org.pk}/{i}.pdf",
            original_name=f"{i}.pdf",
            content_type="application/pdf",
            size_bytes=10,
            uploaded_by=techs[i % 2],
            is_client_visible=bool(i % 2),
        )
        WorkOrderEvent.objects.create(
            organization=org,
            work_order=wo,
            actor=techs[i % 2],
            kind="note",
            occurred_at=now,
            recorded_at=now,
            data={"client_visible": True},
        )
    return {"wo": wo}


LISTS = [
    ("/work-orders", {}),
    ("/work-orders", {"technician": "{tech}", "open": True, "sort": "priority", "q": "Work"}),
    ("/work-requests", {}),
    ("/templates", {}),
    ("/time-entries", {}),
    ("/part-usages", {}),
    ("/notes", {}),
    ("/attachments", {}),
    ("/equipment", {}),
    ("/equipment-categories", {}),
    ("/parts", {}),
    ("/work-orders/{wo}/timeline", {}),
    ("/work-orders/{wo}/checklist", {}),
    ("/work-orders/{wo}/planned-materials", {}),
    ("/work-orders/{wo}/transitions", {}),
    ("/equipment/{equipment}/work-orders", {}),
]


@pytest.mark.parametrize(("path", "params"), LISTS)
@pytest.mark.parametrize("role", ["dispatcher", "client_user"])
def test_a_list_reads_a_constant_number_of_queries(api, world, lots, path, params, role, django_assert_max_num_queries):
    # given a caller whose token was used before (so its last-used stamp is fresh)
    caller = api(role)
    caller.get("/me")
    url = path.format(wo=lots["wo"].pk, equipment=world.equipment.pk)
    forbidden = role == "client_user" and path in ("/templates", "/time-entries", "/part-usages", "/parts")
    # when
    with django_assert_max_num_queries(MAX_QUERIES):
        r = caller.get(
            url, {"limit": 100, **{k: str(v).format(tech=world.technician.user_id) for k, v in params.items()}}
        )
    # then
    if forbidden:
        assert r.status_code == 403
        return
    assert r.status_code == 200, r.content
    if role == "dispatcher" and "transitions" not in path:
        assert len(r.json()["items"]) >= ROWS // 2, (path, len(r.json()["items"]))
