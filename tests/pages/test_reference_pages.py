"""Pages of the reference data: clients with contacts, sites, equipment with categories, parts."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fixflow.assets.models import Equipment, EquipmentCategory
from fixflow.customers.models import Client, Contact, Site
from fixflow.inventory.models import Part
from tests.factories import (
    CategoryFactory,
    ContactFactory,
    EquipmentFactory,
    PartFactory,
    SiteFactory,
    WorkOrderFactory,
)

ALL_ROLES = ["admin", "dispatcher", "technician", "accountant", "requester", "client_user"]


def _has_field_error(response, field: str, text: str = "") -> bool:
    html = response.content.decode()
    marker = f'class="field has-error" data-field="{field}"'
    if marker not in html and f'class="field has-error checkbox" data-field="{field}"' not in html:
        return False
    return text in html


# --- every page renders for the roles that may see it --------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_client_site_and_equipment_pages_render_for_every_role(world, ref_login, role):
    # given
    client = ref_login(world.actors[role])
    urls = [
        reverse("client_list"),
        reverse("client_detail", args=[world.client.pk]),
        reverse("site_list"),
        reverse("site_detail", args=[world.site.pk]),
        reverse("equipment_list"),
        reverse("equipment_detail", args=[world.equipment.pk]),
        reverse("category_list"),
    ]
    # when
    statuses = {url: client.get(url).status_code for url in urls}
    # then
    assert statuses == dict.fromkeys(urls, 200)


@pytest.mark.parametrize("role", ["admin", "dispatcher", "technician", "accountant"])
def test_the_parts_catalogue_renders_for_the_roles_that_use_parts(world, ref_login, role):
    # given
    PartFactory(organization=world.org, sku="GF-SEAL-32", name="Mechanical seal")
    # when
    response = ref_login(world.actors[role]).get(reverse("part_list"))
    # then
    assert response.status_code == 200
    assert "GF-SEAL-32" in response.content.decode()


@pytest.mark.parametrize("role", ["requester", "client_user"])
def test_the_parts_catalogue_is_refused_to_requesters_and_client_users(world, ref_login, role):
    # when
    response = ref_login(world.actors[role]).get(reverse("part_list"))
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "dispatcher"])
def test_the_create_and_edit_forms_render_for_office_roles(world, ref_login, role):
    # given
    client = ref_login(world.actors[role])
    category = CategoryFactory(organization=world.org)
    part = PartFactory(organization=world.org)
    contact = ContactFactory(client=world.client)
    urls = [
        reverse("client_create"),
        reverse("client_edit", args=[world.client.pk]),
        reverse("contact_edit", args=[contact.pk]),
        reverse("site_create"),
        reverse("site_edit", args=[world.site.pk]),
        reverse("equipment_create"),
        reverse("equipment_edit", args=[world.equipment.pk]),
        reverse("category_create"),
        reverse("category_edit", args=[category.pk]),
        reverse("part_create"),
        reverse("part_edit", args=[part.pk]),
    ]
    # when
    statuses = {url: client.get(url).status_code for url in urls}
    # then
    assert statuses == dict.fromkeys(urls, 200)


@pytest.mark.parametrize(
    "url_name", ["client_create", "site_create", "equipment_create", "category_create", "part_create"]
)
def test_a_technician_gets_403_on_create_forms(world, ref_login, url_name):
    # given
    client = ref_login(world.technician)
    # when
    get = client.get(reverse(url_name))
    post = client.post(reverse(url_name), {"name": "Sneaky", "sku": "X-1", "unit": "pc"})
    # then
    assert get.status_code == 403
    assert post.status_code == 403
    assert not Client.objects.filter(name="Sneaky").exists()
    assert not Part.objects.filter(sku="X-1").exists()


def test_anonymous_visitors_are_sent_to_sign_in(world, ref_login):
    # when
    response = ref_login(None).get(reverse("client_list"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- clients -------------------------------------------------------------------------------------


def test_a_dispatcher_creates_a_client(world, ref_login):
    # given
    client = ref_login(world.dispatcher)
    # when
    response = client.post(
        reverse("client_create"),
        {
            "name": "Hotel Seeblick",
            "email": "technik@seeblick.example",
            "phone": "+49 30 1",
            "vat_id": "DE1",
            "billing_address": "Seeweg 1",
            "notes": "",
            "is_active": "on",
        },
    )
    # then
    created = Client.objects.get(organization=world.org, name="Hotel Seeblick")
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[created.pk])
    assert (created.email, created.vat_id, created.is_active) == ("technik@seeblick.example", "DE1", True)


def test_a_client_without_a_name_is_refused_next_to_the_field_and_keeps_the_input(world, ref_login):
    # given
    client = ref_login(world.admin)
    before = Client.objects.count()
    # when
    response = client.post(reverse("client_create"), {"name": "", "email": "kept@example.com"})
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "name")
    assert 'value="kept@example.com"' in response.content.decode()
    assert Client.objects.count() == before


def test_a_duplicate_client_name_is_refused_and_nothing_is_written(world, ref_login):
    # given
    client = ref_login(world.admin)
    before = Client.objects.count()
    # when
    response = client.post(reverse("client_create"), {"name": world.client.name, "email": "dup@example.com"})
    # then
    assert response.status_code == 422
    assert "There is already a client with this name." in response.content.decode()
    assert Client.objects.count() == before


def test_editing_a_client_changes_the_row_and_its_version(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.dispatcher)
    page = client.get(reverse("client_edit", args=[world.client.pk]))
    # when
    response = client.post(
        reverse("client_edit", args=[world.client.pk]), ref_form_data(page, phone="+49 30 999", notes="Ring twice")
    )
    # then
    world.client.refresh_from_db()
    assert response.status_code == 302
    assert (world.client.phone, world.client.notes, world.client.version) == ("+49 30 999", "Ring twice", 2)


def test_an_edit_based_on_a_stale_version_is_refused_and_changes_nothing(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.dispatcher)
    page = client.get(reverse("client_edit", args=[world.client.pk]))
    Client.objects.filter(pk=world.client.pk).update(version=5, phone="+1 changed meanwhile")
    # when
    response = client.post(reverse("client_edit", args=[world.client.pk]), ref_form_data(page, phone="+49 mine"))
    # then
    world.client.refresh_from_db()
    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    assert world.client.phone == "+1 changed meanwhile"


def test_the_client_list_searches_and_filters_inactive_clients(world, ref_login):
    # given
    Client.objects.filter(pk=world.other_client.pk).update(is_active=False)
    client = ref_login(world.dispatcher)
    # when
    default = client.get(reverse("client_list")).content.decode()
    inactive = client.get(reverse("client_list"), {"active": "inactive"}).content.decode()
    searched = client.get(reverse("client_list"), {"q": "stadt", "active": "all"}).content.decode()
    # then
    assert world.client.name in default and world.other_client.name not in default
    assert world.other_client.name in inactive and world.client.name not in inactive
    assert world.client.name in searched and world.other_client.name not in searched


def test_the_client_page_shows_contacts_sites_and_recent_work_orders(world, ref_login):
    # given
    ContactFactory(client=world.client, name="Jana Becker", phone="+49 30 1234")
    wo = WorkOrderFactory(equipment=world.equipment, title="Pump leaking")
    # when
    html = ref_login(world.dispatcher).get(reverse("client_detail", args=[world.client.pk])).content.decode()
    # then
    assert "Jana Becker" in html and "tel:+49 30 1234" in html
    assert world.site.name in html
    assert wo.number in html and reverse("work_order_detail", args=[wo.pk]) in html


def test_another_organizations_client_is_not_found(world, other_world, ref_login):
    # given
    client = ref_login(world.admin)
    # when
    detail = client.get(reverse("client_detail", args=[other_world.client.pk]))
    edit = client.post(reverse("client_edit", args=[other_world.client.pk]), {"name": "Hijacked"})
    # then
    assert detail.status_code == 404
    assert edit.status_code == 404
    other_world.client.refresh_from_db()
    assert other_world.client.name == "Foreign Client"


def test_a_client_user_sees_only_their_own_client(world, ref_login):
    # given
    client = ref_login(world.client_user)
    # when
    listing = client.get(reverse("client_list")).content.decode()
    other = client.get(reverse("client_detail", args=[world.other_client.pk]))
    # then
    assert world.client.name in listing and world.other_client.name not in listing
    assert other.status_code == 404


# --- contacts ------------------------------------------------------------------------------------


def test_a_contact_is_added_on_the_client_page(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(
        reverse("contact_create", args=[world.client.pk]),
        {"new-name": "Mehmet Yilmaz", "new-job_title": "Shift lead", "new-phone": "+49 171 555", "new-email": ""},
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=[world.client.pk]) + "#contacts"
    contact = Contact.objects.get(client=world.client, name="Mehmet Yilmaz")
    assert (contact.job_title, contact.organization_id) == ("Shift lead", world.org.pk)


def test_an_invalid_contact_is_shown_again_in_place_with_the_error(world, ref_login):
    # given
    before = Contact.objects.count()
    # when
    response = ref_login(world.dispatcher).post(
        reverse("contact_create", args=[world.client.pk]), {"new-name": "Jana", "new-email": "not-an-email"}
    )
    # then
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="contacts"' in html and _has_field_error(response, "email")
    assert 'value="not-an-email"' in html
    assert Contact.objects.count() == before


def test_an_htmx_contact_error_answers_200_so_the_panel_is_swapped(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(
        reverse("contact_create", args=[world.client.pk]), {"new-name": ""}, headers={"HX-Request": "true"}
    )
    # then
    assert response.status_code == 200
    assert _has_field_error(response, "name")


def test_a_contact_is_edited_inline_and_deleted(world, ref_login):
    # given
    contact = ContactFactory(client=world.client, name="Jana Becker")
    client = ref_login(world.dispatcher)
    # when
    form_page = client.get(reverse("contact_edit", args=[contact.pk]), headers={"HX-Request": "true"})
    edited = client.post(
        reverse("contact_edit", args=[contact.pk]),
        {
            f"contact-{contact.pk}-name": "Jana Becker-Roth",
            f"contact-{contact.pk}-is_primary": "on",
            f"contact-{contact.pk}-version": "1",
        },
    )
    contact.refresh_from_db()
    deleted = client.post(reverse("contact_delete", args=[contact.pk]))
    # then
    assert form_page.status_code == 200 and 'class="card editing"' in form_page.content.decode()
    assert edited.status_code == 302
    assert (contact.name, contact.is_primary) == ("Jana Becker-Roth", True)
    assert deleted.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_technician_cannot_change_or_delete_contacts(world, ref_login):
    # given
    contact = ContactFactory(client=world.client, name="Jana Becker")
    client = ref_login(world.technician)
    # when
    edit = client.post(reverse("contact_edit", args=[contact.pk]), {f"contact-{contact.pk}-name": "X"})
    delete = client.post(reverse("contact_delete", args=[contact.pk]))
    # then
    assert (edit.status_code, delete.status_code) == (403, 403)
    contact.refresh_from_db()
    assert contact.name == "Jana Becker"


def test_another_organizations_contact_is_not_found(world, other_world, ref_login):
    # given
    contact = ContactFactory(client=other_world.client)
    # when
    response = ref_login(world.admin).post(reverse("contact_delete", args=[contact.pk]))
    # then
    assert response.status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- sites ---------------------------------------------------------------------------------------


def test_a_dispatcher_creates_a_site_in_its_own_time_zone(world, ref_login):
    # given
    client = ref_login(world.dispatcher)
    form = client.get(reverse("site_create"), {"client": world.client.pk})
    # when
    response = client.post(
        reverse("site_create"),
        {
            "client": world.client.pk,
            "name": "Annex NY",
            "address": "5th Avenue 100",
            "timezone": "America/New_York",
            "latitude": "40.7",
            "longitude": "-73.9",
            "access_notes": "Badge at reception",
            "is_active": "on",
        },
    )
    # then
    assert f'<option value="{world.client.pk}" selected>' in form.content.decode()
    site = Site.objects.get(name="Annex NY")
    assert response.status_code == 302
    assert response["Location"] == reverse("site_detail", args=[site.pk])
    assert (site.client_id, site.timezone, site.latitude) == (world.client.pk, "America/New_York", Decimal("40.7"))


def test_a_site_of_another_organizations_client_is_refused_at_the_client_field(world, other_world, ref_login):
    # given
    before = Site.objects.count()
    # when
    response = ref_login(world.dispatcher).post(
        reverse("site_create"), {"client": other_world.client.pk, "name": "Sneaky", "timezone": "Europe/Berlin"}
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "client")
    assert Site.objects.count() == before


def test_a_site_with_latitude_out_of_range_is_refused_next_to_the_field(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(
        reverse("site_create"),
        {"client": world.client.pk, "name": "Pole", "timezone": "Europe/Berlin", "latitude": "123"},
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "latitude")
    assert not Site.objects.filter(name="Pole").exists()


def test_editing_a_site_changes_the_row(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.admin)
    page = client.get(reverse("site_edit", args=[world.site.pk]))
    # when
    response = client.post(
        reverse("site_edit", args=[world.site.pk]),
        ref_form_data(page, access_notes="Code 4711", timezone="Europe/Vienna"),
    )
    # then
    world.site.refresh_from_db()
    assert response.status_code == 302
    assert (world.site.access_notes, world.site.timezone) == ("Code 4711", "Europe/Vienna")


def test_the_site_page_shows_address_map_link_equipment_tree_and_new_work_order_button(world, ref_login):
    # given
    child = EquipmentFactory(site=world.site, parent=world.equipment, name="Motor M1")
    WorkOrderFactory(equipment=world.equipment, title="Seal leaking")
    # when
    html = ref_login(world.dispatcher).get(reverse("site_detail", args=[world.site.pk])).content.decode()
    # then
    assert "openstreetmap.org" in html
    assert html.index(world.equipment.name) < html.index(child.name)
    assert 'style="--depth: 1"' in html
    assert "Seal leaking" in html
    assert f"{reverse('work_order_create')}?client={world.client.pk}&amp;site={world.site.pk}" in html


def test_the_site_list_filters_by_client(world, ref_login):
    # when
    html = ref_login(world.dispatcher).get(reverse("site_list"), {"client": world.other_client.pk}).content.decode()
    # then
    assert world.other_site.name in html and world.site.name not in html


def test_a_client_user_sees_only_their_clients_sites(world, ref_login):
    # given
    client = ref_login(world.client_user)
    # when
    listing = client.get(reverse("site_list")).content.decode()
    other = client.get(reverse("site_detail", args=[world.other_site.pk]))
    # then
    assert world.site.name in listing and world.other_site.name not in listing
    assert other.status_code == 404


def test_another_organizations_site_is_not_found(world, other_world, ref_login):
    # when
    response = ref_login(world.admin).get(reverse("site_edit", args=[other_world.site.pk]))
    # then
    assert response.status_code == 404


# --- equipment -----------------------------------------------------------------------------------


def test_a_dispatcher_creates_equipment_under_a_parent_at_the_same_site(world, ref_login):
    # given
    category = CategoryFactory(organization=world.org, name="Pumps")
    client = ref_login(world.dispatcher)
    form = client.get(reverse("equipment_create"), {"site": world.site.pk, "parent": world.equipment.pk})
    # when
    response = client.post(
        reverse("equipment_create"),
        {
            "site": world.site.pk,
            "parent": world.equipment.pk,
            "category": category.pk,
            "name": "Motor M1",
            "manufacturer": "Siemens",
            "install_date": "2024-03-01",
            "warranty_end": "2027-03-01",
            "criticality": "high",
            "status": "operational",
        },
    )
    # then
    html = form.content.decode()
    assert 'data-filter-by="site"' in html and f'data-parent="{world.site.pk}"' in html
    motor = Equipment.objects.get(name="Motor M1")
    assert response.status_code == 302
    assert (motor.parent_id, motor.category_id, motor.warranty_end) == (
        world.equipment.pk,
        category.pk,
        date(2027, 3, 1),
    )


def test_a_parent_at_another_site_is_refused_next_to_the_parent_field(world, ref_login):
    # given
    before = Equipment.objects.count()
    # when
    response = ref_login(world.dispatcher).post(
        reverse("equipment_create"),
        {
            "site": world.site.pk,
            "parent": world.other_equipment.pk,
            "name": "Motor M1",
            "criticality": "medium",
            "status": "operational",
        },
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "parent", "another site")
    assert 'value="Motor M1"' in response.content.decode()
    assert Equipment.objects.count() == before


def test_a_warranty_ending_before_installation_is_refused_next_to_the_field(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.dispatcher)
    page = client.get(reverse("equipment_edit", args=[world.equipment.pk]))
    # when
    response = client.post(
        reverse("equipment_edit", args=[world.equipment.pk]),
        ref_form_data(page, install_date="2024-01-01", warranty_end="2023-01-01"),
    )
    # then
    world.equipment.refresh_from_db()
    assert response.status_code == 422
    assert _has_field_error(response, "warranty_end")
    assert world.equipment.warranty_end is None


def test_editing_equipment_changes_its_status(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.admin)
    page = client.get(reverse("equipment_edit", args=[world.equipment.pk]))
    # when
    response = client.post(
        reverse("equipment_edit", args=[world.equipment.pk]),
        ref_form_data(page, status="retired", serial_number="SN-1"),
    )
    # then
    world.equipment.refresh_from_db()
    assert response.status_code == 302
    assert (world.equipment.status, world.equipment.serial_number) == ("retired", "SN-1")


def test_the_equipment_page_shows_hierarchy_qr_link_and_the_full_paginated_history(world, ref_login):
    # given
    child = EquipmentFactory(site=world.site, parent=world.equipment, name="Motor M1")
    orders = [WorkOrderFactory(equipment=world.equipment, title=f"Job {i}") for i in range(27)]
    client = ref_login(world.dispatcher)
    # when
    first = client.get(reverse("equipment_detail", args=[world.equipment.pk]))
    second = client.get(
        reverse("equipment_detail", args=[world.equipment.pk]), {"cursor": first.context["history"].next_cursor}
    )
    # then
    html = first.content.decode()
    assert child.name in html
    assert f"/r/{world.equipment.public_token}" in html
    shown = {wo.number for wo in first.context["history"].items} | {wo.number for wo in second.context["history"].items}
    assert shown == {wo.number for wo in orders}
    assert 'rel="next"' in html


def test_the_equipment_list_filters_by_client_status_and_search(world, ref_login):
    # given
    EquipmentFactory(site=world.site, name="Boiler K1", status="down", serial_number="VX-77")
    client = ref_login(world.dispatcher)
    # when
    by_client = client.get(reverse("equipment_list"), {"client": world.other_client.pk}).content.decode()
    by_status = client.get(reverse("equipment_list"), {"status": "down"}).content.decode()
    by_search = client.get(reverse("equipment_list"), {"q": "VX-77"}).content.decode()
    # then
    assert world.other_equipment.name in by_client and world.equipment.name not in by_client
    assert "Boiler K1" in by_status and world.equipment.name not in by_status
    assert "Boiler K1" in by_search and world.equipment.name not in by_search


def test_junk_list_filters_are_ignored_instead_of_failing(world, ref_login):
    # when
    response = ref_login(world.dispatcher).get(
        reverse("equipment_list"), {"client": "abc", "site": "999999", "category": "x", "status": "exploded"}
    )
    # then
    assert response.status_code == 200
    assert world.equipment.name in response.content.decode()


def test_a_client_user_sees_only_their_clients_equipment(world, ref_login):
    # given
    client = ref_login(world.client_user)
    # when
    listing = client.get(reverse("equipment_list")).content.decode()
    other = client.get(reverse("equipment_detail", args=[world.other_equipment.pk]))
    # then
    assert world.equipment.name in listing and world.other_equipment.name not in listing
    assert other.status_code == 404


def test_another_organizations_equipment_is_not_found(world, other_world, ref_login):
    # when
    response = ref_login(world.admin).get(reverse("equipment_detail", args=[other_world.equipment.pk]))
    # then
    assert response.status_code == 404


# --- categories ----------------------------------------------------------------------------------


def test_categories_are_created_and_renamed(world, ref_login):
    # given
    client = ref_login(world.dispatcher)
    # when
    created = client.post(reverse("category_create"), {"name": "Lifts", "description": "Passenger lifts"})
    category = EquipmentCategory.objects.get(organization=world.org, name="Lifts")
    renamed = client.post(
        reverse("category_edit", args=[category.pk]), {"name": "Elevators", "description": "", "version": "1"}
    )
    # then
    category.refresh_from_db()
    assert (created.status_code, renamed.status_code) == (302, 302)
    assert (category.name, category.description) == ("Elevators", "")


def test_a_category_without_a_name_is_refused(world, ref_login):
    # when
    response = ref_login(world.dispatcher).post(reverse("category_create"), {"name": ""})
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "name")
    assert not EquipmentCategory.objects.filter(organization=world.org).exists()


def test_another_organizations_category_is_not_found(world, other_world, ref_login):
    # given
    category = CategoryFactory(organization=other_world.org)
    # when
    response = ref_login(world.admin).get(reverse("category_edit", args=[category.pk]))
    # then
    assert response.status_code == 404


# --- parts ---------------------------------------------------------------------------------------


def test_a_part_is_created_and_its_price_changed(world, ref_login, ref_form_data):
    # given
    client = ref_login(world.dispatcher)
    # when
    created = client.post(
        reverse("part_create"),
        {
            "sku": "OIL-46",
            "name": "Hydraulic oil",
            "unit": "l",
            "barcode": "4012345",
            "unit_cost": "3.20",
            "sale_price": "6.90",
            "is_active": "on",
        },
    )
    part = Part.objects.get(organization=world.org, sku="OIL-46")
    page = client.get(reverse("part_edit", args=[part.pk]))
    edited = client.post(reverse("part_edit", args=[part.pk]), ref_form_data(page, sale_price="7.50"))
    # then
    part.refresh_from_db()
    assert (created.status_code, edited.status_code) == (302, 302)
    assert (part.unit, part.unit_cost, part.sale_price) == ("l", Decimal("3.2"), Decimal("7.5"))


def test_a_duplicate_sku_or_negative_price_is_refused(world, ref_login):
    # given
    PartFactory(organization=world.org, sku="OIL-46")
    client = ref_login(world.dispatcher)
    # when
    duplicate = client.post(
        reverse("part_create"), {"sku": "OIL-46", "name": "Again", "unit": "l", "unit_cost": "1", "sale_price": "2"}
    )
    negative = client.post(
        reverse("part_create"), {"sku": "NEW-1", "name": "New", "unit": "pc", "unit_cost": "-1", "sale_price": "2"}
    )
    # then
    assert duplicate.status_code == 422 and "There is already a part with this SKU." in duplicate.content.decode()
    assert negative.status_code == 422 and _has_field_error(negative, "unit_cost")
    assert Part.objects.filter(organization=world.org).count() == 1


def test_the_parts_list_searches_by_barcode_and_hides_inactive_parts(world, ref_login):
    # given
    PartFactory(organization=world.org, sku="A-1", name="Seal", barcode="4000001")
    PartFactory(organization=world.org, sku="B-2", name="Old filter", is_active=False)
    client = ref_login(world.technician)
    # when
    searched = client.get(reverse("part_list"), {"q": "4000001"}).content.decode()
    default = client.get(reverse("part_list")).content.decode()
    # then
    assert "Seal" in searched and "Old filter" not in searched
    assert "Old filter" not in default


def test_another_organizations_part_is_not_found(world, other_world, ref_login):
    # given
    part = PartFactory(organization=other_world.org)
    # when
    response = ref_login(world.admin).post(reverse("part_edit", args=[part.pk]), {"sku": "HIJACK"})
    # then
    assert response.status_code == 404
    part.refresh_from_db()
    assert part.sku != "HIJACK"


def test_another_organizations_site_cannot_be_chosen_for_equipment(world, other_world, ref_login):
    # given
    before = Equipment.objects.count()
    SiteFactory(client=other_world.client)
    # when
    response = ref_login(world.dispatcher).post(
        reverse("equipment_create"),
        {"site": other_world.site.pk, "name": "Sneaky", "criticality": "medium", "status": "operational"},
    )
    # then
    assert response.status_code == 422
    assert _has_field_error(response, "site")
    assert Equipment.objects.count() == before


def test_a_client_user_does_not_see_the_internal_notes_about_their_client(world, ref_login):
    # given
    Client.objects.filter(pk=world.client.pk).update(notes="Pays late, ask for prepayment")
    # when
    as_client = ref_login(world.client_user).get(reverse("client_detail", args=[world.client.pk])).content.decode()
    as_office = ref_login(world.dispatcher).get(reverse("client_detail", args=[world.client.pk])).content.decode()
    # then
    assert "Pays late" not in as_client
    assert "Pays late" in as_office
