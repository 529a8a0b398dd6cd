"""Factories for every model the tests touch. Rows are created directly (fast); behaviour under
test goes through the services."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from fixflow.assets.models import Equipment, EquipmentCategory
from fixflow.core.models import Membership, Organization, User
from fixflow.customers.models import Client, Contact, Site
from fixflow.inventory.models import Part
from fixflow.service.models import TemplateChecklistItem, WorkOrder, WorkOrderTemplate, WorkRequest


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    currency = "EUR"
    timezone = "Europe/Berlin"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "dispatcher"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Client {n}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    organization = factory.SelfAttribute("client.organization")
    name = factory.Sequence(lambda n: f"Contact {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    client = factory.SubFactory(ClientFactory)
    organization = factory.SelfAttribute("client.organization")
    name = factory.Sequence(lambda n: f"Site {n}")
    address = "Hauptstraße 1\n10115 Berlin"
    timezone = "Europe/Berlin"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EquipmentCategory

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    site = factory.SubFactory(SiteFactory)
    organization = factory.SelfAttribute("site.organization")
    name = factory.Sequence(lambda n: f"Equipment {n}")
    manufacturer = "Viessmann"


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Part {n}")
    unit_cost = Decimal("10.00")
    sale_price = Decimal("15.00")


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkOrderTemplate

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    estimated_duration_minutes = 60


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateChecklistItem

    template = factory.SubFactory(TemplateFactory)
    organization = factory.SelfAttribute("template.organization")
    label = factory.Sequence(lambda n: f"Step {n}")
    position = factory.Sequence(int)


class WorkRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkRequest

    site = factory.SubFactory(SiteFactory)
    organization = factory.SelfAttribute("site.organization")
    client = factory.SelfAttribute("site.client")
    title = factory.Sequence(lambda n: f"Request {n}")
    description = "Water on the floor next to the boiler."


class WorkOrderFactory(factory.django.DjangoModelFactory):
    """A work order row in the given status, without going through the lifecycle (for fixtures)."""

    class Meta:
        model = WorkOrder

    equipment = factory.SubFactory(EquipmentFactory)
    site = factory.SelfAttribute("equipment.site")
    client = factory.SelfAttribute("equipment.site.client")
    organization = factory.SelfAttribute("equipment.organization")
    number = factory.Sequence(lambda n: f"WO-2026-{n + 1:05d}")
    title = factory.Sequence(lambda n: f"Work order {n}")
    scheduled_start = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
