"""Settings pages: organization, members, work order templates, change history."""

import pytest
from django.urls import reverse

from fixflow.core.models import ChangeRecord, Membership, User
from fixflow.service.models import WorkOrderTemplate
from tests.factories import ChecklistItemFactory, MembershipFactory, PartFactory, TemplateFactory


def _has_field_error(response, field: str) -> bool:
    html = response.content.decode()
    return any(f'class="field has-error{extra}" data-field="{field}"' in html for extra in ("", " checkbox"))


def _template_post(*, name="Lift check", checklist=(), parts=(), initial_checklist=0, initial_parts=0, **fields):
    """The POST data of the template editor: the template fields and both formsets."""
    data = {
        "name": name,
        "type": "inspection",
        "default_priority": "normal",
        "description": "",
        "estimated_duration_minutes": "45",
        "is_billable": "on",
        "requires_equipment": "on",
        "is_active": "on",
        "checklist-TOTAL_FORMS": str(len(checklist)),
        "checklist-INITIAL_FORMS": str(initial_checklist),
        "checklist-MIN_NUM_FORMS": "0",
        "checklist-MAX_NUM_FORMS": "1000",
        "parts-TOTAL_FORMS": str(len(parts)),
        "parts-INITIAL_FORMS": str(initial_parts),
        "parts-MIN_NUM_FORMS": "0",
        "parts-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(checklist):
        data.update({f"checklist-{i}-{k}": v for k, v in row.items()})
    for i, row in enumerate(parts):
        data.update({f"parts-{i}-{k}": v for k, v in row.items()})
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- who sees what -------------------------------------------------------------------------------


def test_an_admin_sees_every_settings_page(world, ref_login):
    # given
    client = ref_login(world.admin)
    template = TemplateFactory(organization=world.org)
    membership = Membership.objects.get(user=world.technician.user)
    urls = [
        reverse("settings_home"),
        reverse("settings_organization"),
        reverse("member_list"),
        reverse("member_create"),
        reverse("member_edit", args=[membership.pk]),
        reverse("template_list"),
        reverse("template_create"),
        reverse("template_edit", args=[template.pk]),
        reverse("change_history"),
    ]
    # when
    statuses = {url: client.get(url).status_code for url in urls}
    # then
    assert statuses == dict.fromkeys(urls, 200)


def test_a_dispatcher_manages_templates_but_not_the_organization_or_members(world, ref_login):
    # given
    client = ref_login(world.dispatcher)
    template = TemplateFactory(organization=world.org)
    # when
    allowed = [
        client.get(reverse(name, args=args)).status_code
        for name, args in [
            ("settings_home", []),
            ("template_list", []),
            ("template_create", []),
            ("template_edit", [template.pk]),
        ]
    ]
    refused = [
        client.get(reverse(name)).status_code
        for name in ["settings_organization", "member_list", "member_create", "change_history"]
    ]
    # then
    assert allowed == [200, 200, 200, 200]
    assert refused == [403, 403, 403, 403]


def test_a_technician_sees_templates_but_gets_403_on_the_template_forms(world, ref_login):
    # given
    client = ref_login(world.technician)
    template = TemplateFactory(organization=world.org, name="Pump inspection")
    # when
    listing = client.get(reverse("template_list"))
    create = client.get(reverse("template_create"))
    post = client.post(reverse("template_create"), _template_post(name="Sneaky"))
    edit = client.get(reverse("template_edit", args=[template.pk]))
    # then
    assert listing.status_code == 200 and "Pump inspection" in listing.content.decode()
    assert (create.status_code, post.status_code, edit.status_code) == (403, 403, 403)
    assert not WorkOrderTemplate.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("role", ["requester", "client_user"])
def test_requesters_and_client_users_have_no_settings(world, ref_login, role):
    # when
    response = ref_login(world.actors[role]).get(reverse("settings_home"))
    # then
    assert response.status_code == 403


# --- organization --------------------------------------------------------------------------------


def test_an_admin_changes_the_organization_settings_and_a_change_record_is_written(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.admin)
    page = client.get(reverse("settings_organization"))
    # when
    response = client.post(
        reverse("settings_organization"),
        ref_form_data(
            page,
            timezone="Europe/Vienna",
            work_order_prefix="AM",
            reopen_window_days="30",
            requires_four_eyes_review=None,
        ),
    )
    # then
    world.org.refresh_from_db()
    assert response.status_code == 302
    assert (
        world.org.timezone,
        world.org.work_order_prefix,
        world.org.reopen_window_days,
        world.org.requires_four_eyes_review,
    ) == ("Europe/Vienna", "AM", 30, False)
    record = ChangeRecord.objects.get(organization=world.org, object_type="core.organization")
    assert (record.before["work_order_prefix"], record.after["work_order_prefix"]) == ("WO", "AM")


def test_invalid_organization_settings_are_refused_next_to_the_field(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.admin)
    page = client.get(reverse("settings_organization"))
    # when
    response = client.post(reverse("settings_organization"), ref_form_data(page, name="", timezone="Mars/Base"))
    # then
    world.org.refresh_from_db()
    assert response.status_code == 422
    assert _has_field_error(response, "name") and _has_field_error(response, "timezone")
    assert world.org.name == "Acme Maintenance" and world.org.timezone == "Europe/Berlin"


def test_a_dispatcher_cannot_change_the_organization(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(reverse("settings_organization"), {"name": "Mine now"})
    # then
    world.org.refresh_from_db()
    assert response.status_code == 403
    assert world.org.name == "Acme Maintenance"


# --- members -------------------------------------------------------------------------------------


def test_an_admin_adds_a_new_person_who_can_then_sign_in(world, ref_login):
    # given
    client = ref_login(world.admin)
    # when
    response = client.post(
        reverse("member_create"),
        {
            "email": "Nina.New@Example.com",
            "full_name": "Nina New",
            "role": "technician",
            "password": "a-long-initial-secret",
        },
    )
    # then
    assert response.status_code == 302
    membership = Membership.objects.get(organization=world.org, user__email="nina.new@example.com")
    assert membership.role == "technician"
    assert membership.user.check_password("a-long-initial-secret")
    assert ChangeRecord.objects.filter(object_type="core.membership", object_id=str(membership.pk)).exists()


def test_a_new_person_without_password_or_name_is_refused_and_nothing_is_written(world, ref_login):
    # given
    before = User.objects.count()
    # when
    response = ref_login(world.admin).post(
        reverse("member_create"),
        {"email": "nina@example.com", "full_name": "", "role": "technician", "password": "short"},
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "password") and _has_field_error(response, "full_name")
    assert 'value="nina@example.com"' in response.content.decode()
    assert User.objects.count() == before


def test_a_client_user_without_a_client_is_refused_at_the_client_field(world, ref_login):
    # when
    response = ref_login(world.admin).post(
        reverse("member_create"),
        {"email": "cu@example.com", "full_name": "Cu User", "role": "client_user", "password": "a-long-initial-secret"},
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "client")
    assert not User.objects.filter(email="cu@example.com").exists()


def test_an_admin_changes_a_members_role_and_deactivates_them(world, ref_login):
    # given
    membership = Membership.objects.get(user=world.technician.user)
    # when
    response = ref_login(world.admin).post(
        reverse("member_edit", args=[membership.pk]), {"role": "client_user", "client": world.client.pk}
    )
    # then
    membership.refresh_from_db()
    assert response.status_code == 302
    assert (membership.role, membership.client_id, membership.is_active) == ("client_user", world.client.pk, False)


def test_the_last_admin_cannot_be_demoted(world, ref_login):
    # given
    membership = Membership.objects.get(user=world.admin.user)
    # when
    response = ref_login(world.admin).post(
        reverse("member_edit", args=[membership.pk]), {"role": "dispatcher", "is_active": "on"}
    )
    # then
    membership.refresh_from_db()
    assert response.status_code == 422
    assert _has_field_error(response, "role")
    assert "at least one active admin" in response.content.decode()
    assert membership.role == "admin"


def test_another_organizations_member_is_not_found(world, other_world, ref_login):
    # given
    foreign = MembershipFactory(organization=other_world.org, role="technician")
    # when
    response = ref_login(world.admin).post(reverse("member_edit", args=[foreign.pk]), {"role": "admin"})
    # then
    foreign.refresh_from_db()
    assert response.status_code == 404
    assert foreign.role == "technician"


def test_the_member_list_shows_roles_and_filters_by_role(world, ref_login):
    # when
    html = ref_login(world.admin).get(reverse("member_list"), {"role": "client_user"}).content.decode()
    # then
    assert "Clara Client" in html and world.client.name in html
    assert "Tom Technician" not in html


# --- templates -----------------------------------------------------------------------------------


def test_a_dispatcher_creates_a_template_with_checklist_and_parts_in_the_given_order(world, ref_login):
    # given
    seal = PartFactory(organization=world.org, sku="SEAL")
    # when
    response = ref_login(world.dispatcher).post(
        reverse("template_create"),
        _template_post(
            checklist=[
                {"label": "Doors close", "kind": "checkbox", "is_required": "on", "ORDER": "2"},
                {"label": "Emergency phone works", "kind": "pass_fail", "ORDER": "1"},
                {"label": "", "kind": "checkbox", "ORDER": "3"},
            ],
            parts=[{"part": seal.pk, "quantity": "2"}, {"part": "", "quantity": ""}],
        ),
    )
    # then
    assert response.status_code == 302
    template = WorkOrderTemplate.objects.get(organization=world.org, name="Lift check")
    assert [(i.label, i.kind, i.is_required) for i in template.checklist_items.all()] == [
        ("Emergency phone works", "pass_fail", False),
        ("Doors close", "checkbox", True),
    ]
    assert [(p.part_id, p.quantity) for p in template.parts.all()] == [(seal.pk, 2)]
    assert template.estimated_duration_minutes == 45


def test_editing_a_template_reorders_and_removes_checklist_rows(world, ref_login):
    # given
    template = TemplateFactory(organization=world.org, name="Pump inspection")
    for position, label in enumerate(["Check seal", "Measure pressure", "Listen to bearings"]):
        ChecklistItemFactory(template=template, label=label, position=position)
    client = ref_login(world.dispatcher)
    page = client.get(reverse("template_edit", args=[template.pk]))
    # when
    response = client.post(
        reverse("template_edit", args=[template.pk]),
        _template_post(
            name="Pump inspection",
            version=str(template.version),
            initial_checklist=3,
            checklist=[
                {"label": "Check seal", "kind": "checkbox", "ORDER": "2"},
                {"label": "Measure pressure", "kind": "number", "ORDER": "1"},
                {"label": "Listen to bearings", "kind": "checkbox", "ORDER": "3", "DELETE": "on"},
            ],
        ),
    )
    # then
    assert 'name="checklist-2-label"' in page.content.decode()
    assert response.status_code == 302
    assert [(i.label, i.kind) for i in template.checklist_items.all()] == [
        ("Measure pressure", "number"),
        ("Check seal", "checkbox"),
    ]
    template.refresh_from_db()
    assert template.version == 2
    assert ChangeRecord.objects.filter(object_type="service.workordertemplate", action="update").count() == 1


def test_a_template_without_a_name_is_refused_and_the_checklist_is_kept(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(
        reverse("template_create"),
        _template_post(name="", checklist=[{"label": "Doors close", "kind": "checkbox", "ORDER": "1"}]),
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "name")
    assert 'value="Doors close"' in response.content.decode()
    assert not WorkOrderTemplate.objects.filter(organization=world.org).exists()


def test_a_part_of_another_organization_cannot_be_planned_on_a_template(world, other_world, ref_login):
    # given
    foreign = PartFactory(organization=other_world.org)
    # when
    response = ref_login(world.dispatcher).post(
        reverse("template_create"), _template_post(parts=[{"part": foreign.pk, "quantity": "1"}])
    )
    # then
    assert response.status_code == 422
    assert "valid choice" in response.content.decode()
    assert not WorkOrderTemplate.objects.filter(organization=world.org).exists()


def test_a_zero_quantity_is_refused_in_the_parts_editor(world, ref_login):
    # given
    part = PartFactory(organization=world.org)
    # when
    response = ref_login(world.dispatcher).post(
        reverse("template_create"), _template_post(parts=[{"part": part.pk, "quantity": "0"}])
    )
    # then
    assert response.status_code == 422
    assert 'class="panel editor has-error" data-formset="parts"' in response.content.decode()
    assert not WorkOrderTemplate.objects.filter(organization=world.org).exists()


def test_another_organizations_template_is_not_found(world, other_world, ref_login):
    # given
    template = TemplateFactory(organization=other_world.org)
    # when
    response = ref_login(world.admin).get(reverse("template_edit", args=[template.pk]))
    # then
    assert response.status_code == 404


# --- change history ------------------------------------------------------------------------------


def test_the_change_history_shows_who_changed_what_before_and_after(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.admin)
    page = client.get(reverse("settings_organization"))
    client.post(reverse("settings_organization"), ref_form_data(page, reopen_window_days="21"))
    # when
    response = client.get(reverse("change_history"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ada Admin" in html and "Reopen window (days)" in html
    assert '<td class="before">14</td>' in html and '<td class="after">21</td>' in html


def test_the_change_history_filters_by_kind_of_object(world, ref_login):
    # given
    client = ref_login(world.admin)
    client.post(reverse("template_create"), _template_post(name="Boiler service"))
    client.post(
        reverse("member_edit", args=[Membership.objects.get(user=world.technician.user).pk]),
        {"role": "dispatcher", "is_active": "on"},
    )
    # when
    response = client.get(reverse("change_history"), {"type": "service.workordertemplate"})
    # then
    assert "Boiler service" in response.content.decode()
    assert {r.object_type for r in response.context["page"].items} == {"service.workordertemplate"}


def test_the_change_history_never_shows_another_organizations_changes(world, other_world, ref_login):
    # given
    ChangeRecord.objects.create(
        organization=other_world.org,
        object_type="core.organization",
        object_id=str(other_world.org.pk),
        object_repr="Secret Org",
        action="update",
        before={"name": "a"},
        after={"name": "b"},
    )
    # when
    html = ref_login(world.admin).get(reverse("change_history")).content.decode()
    # then
    assert "Secret Org" not in html
