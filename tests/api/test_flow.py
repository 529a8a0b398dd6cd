"""The whole way through the API: a request becomes a work order that is planned, worked, completed and closed."""

from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fixflow.service.models import PartUsage, TimeEntry, WorkOrder, WorkOrderEvent, WorkRequest

from .conftest import png_bytes


def test_a_request_travels_through_the_api_to_a_closed_work_order_ready_to_invoice(api, world, template, part):
    requester, dispatcher, technician = api("requester"), api("dispatcher"), api("technician")

    # given a requester reports a problem
    r = requester.post(
        "/work-requests",
        {
            "site_id": world.site.pk,
            "equipment_id": world.equipment.pk,
            "title": "Pump P1 is leaking",
            "description": "A puddle under the pump.",
            "suggested_priority": "high",
        },
    )
    assert r.status_code == 201, r.content
    request_id = r.json()["id"]
    assert r.json()["source"] == "api" and r.json()["status"] == "new"
    assert r["Location"] == f"/api/v1/work-requests/{request_id}"
    photo = SimpleUploadedFile("puddle.png", png_bytes(), content_type="image/png")
    r = requester.upload(f"/work-requests/{request_id}/attachments", {"file": photo}, {"caption": "The puddle"})
    assert r.status_code == 201, r.content

    # when the dispatcher converts it with the template and plans it for the technician
    r = dispatcher.post(f"/work-requests/{request_id}/convert", {"template_id": template.pk})
    assert r.status_code == 201, r.content
    wo = r.json()
    wo_id = wo["id"]
    assert wo["status"] == "new" and wo["priority"] == "high" and wo["request_id"] == request_id
    assert wo["client"] == {"id": world.client.pk, "name": "Stadtwerke"}
    assert r["Location"] == f"/api/v1/work-orders/{wo_id}"
    start = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    r = dispatcher.patch(
        f"/work-orders/{wo_id}",
        {"lead_technician_id": world.technician.user_id, "scheduled_start": start.isoformat()},
        headers={"If-Match": f'"{wo["version"]}"'},
    )
    assert r.status_code == 200, r.content
    assert r.json()["lead_technician"] == {"id": world.technician.user_id, "full_name": "Tom Technician"}
    r = dispatcher.post(f"/work-orders/{wo_id}/transitions", {"to": "planned"}, headers={"If-Match": r["ETag"]})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "planned"

    # and the technician starts and records the work
    r = technician.post(f"/work-orders/{wo_id}/transitions", {"to": "in_progress"})
    assert r.json()["status"] == "in_progress"
    checklist = technician.get(f"/work-orders/{wo_id}/checklist").json()["items"]
    assert [i["label"] for i in checklist] == ["Check pressure", "Flue gas test"]
    r = technician.put(f"/work-orders/{wo_id}/checklist/{checklist[0]['id']}", {"value": 1.8})
    assert r.status_code == 200 and r.json()["value"] == "1.8" and r.json()["is_answered"] is True
    technician.put(f"/work-orders/{wo_id}/checklist/{checklist[1]['id']}", {"value": "pass"})
    r = technician.post(f"/work-orders/{wo_id}/timer/start")
    assert r.status_code == 201 and r.json()["is_running"] is True
    r = technician.post(f"/work-orders/{wo_id}/timer/stop")
    assert r.status_code == 200 and r.json()["is_running"] is False
    r = technician.post(
        "/time-entries",
        {
            "work_order_id": wo_id,
            "kind": "travel",
            "duration_minutes": 25,
            "started_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        },
    )
    assert r.status_code == 201 and r.json()["duration_minutes"] == 25
    r = technician.post("/part-usages", {"work_order_id": wo_id, "part_id": part.pk, "quantity": "2"})
    assert r.status_code == 201
    assert r.json()["unit_price"] == "12.5000" and r.json()["unit_cost"] == "8.0000"
    r = technician.post(
        "/notes", {"work_order_id": wo_id, "body": "Seal worn out, replaced.", "is_client_visible": True}
    )
    assert r.status_code == 201
    r = technician.upload(
        f"/work-orders/{wo_id}/attachments",
        {"file": SimpleUploadedFile("after.png", png_bytes(color=(0, 200, 0)), "image/png")},
        {"caption": "After the repair", "is_client_visible": "true"},
    )
    assert r.status_code == 201 and r.json()["is_client_visible"] is True

    # and completes it with the resolution notes
    r = technician.post(
        f"/work-orders/{wo_id}/transitions",
        {"to": "completed", "resolution_notes": "Replaced the shaft seal; no more leak."},
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "completed"
    assert r.json()["completed_by"]["id"] == world.technician.user_id

    # then the dispatcher closes it and it waits for invoicing
    r = dispatcher.post(f"/work-orders/{wo_id}/transitions", {"to": "closed"})
    assert r.status_code == 200, r.content
    closed = r.json()
    assert closed["status"] == "closed" and closed["billing_status"] == "to_invoice"
    assert closed["closed_by"]["id"] == world.dispatcher.user_id
    assert WorkRequest.objects.get(pk=request_id).status == "accepted"
    assert WorkOrder.objects.get(pk=wo_id).version == closed["version"]
    assert TimeEntry.objects.filter(work_order_id=wo_id).count() == 2
    assert PartUsage.objects.get(work_order_id=wo_id).quantity == Decimal("2")
    timeline = dispatcher.get(f"/work-orders/{wo_id}/timeline", {"limit": 200}).json()["items"]
    transitions = [(e["from_status"], e["to_status"]) for e in timeline if e["kind"] == "transition"]
    assert transitions == [
        ("new", "planned"),
        ("planned", "in_progress"),
        ("in_progress", "completed"),
        ("completed", "closed"),
    ]
    assert {e["kind"] for e in timeline} >= {
        "created",
        "assigned",
        "scheduled",
        "checklist",
        "time",
        "part",
        "note",
        "attachment",
        "transition",
    }
    assert len(timeline) == WorkOrderEvent.objects.filter(work_order_id=wo_id).count()
    files = dispatcher.get("/attachments", {"work_order": wo_id}).json()["items"]
    assert sorted(f["original_name"] for f in files) == ["after.png", "puddle.png"]  # the request's photo came along
