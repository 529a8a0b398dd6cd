"""Billing configuration reads, narrowed to the actor's organization.

``billing.configure`` (admins, accountants) reads everything here. Whoever makes quotes or invoices
(``quotes.manage``: dispatchers too) also reads the tax rates, rate classes, rates, price lists and
contracts they price with, and clients' billing details; the seller settings (bank account…) stay with
``billing.configure``. Client users see no configuration. An object of another organization is NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from fixflow.core.errors import DomainError, ErrorCode, not_found
from fixflow.core.models import Membership
from fixflow.core.permissions import Actor, require

from .choices import RateKind
from .config_services import FIELD_ROLES, effective_currency
from .inputs import as_id
from .models import (
    BillingSettings,
    ClientBilling,
    PriceList,
    PriceListItem,
    Rate,
    RateClass,
    ServiceContract,
    TaxRate,
    TechnicianRateClass,
)
from .services import settings_for

READ_CAPABILITIES = ("billing.configure", "quotes.manage", "invoices.manage")


def may_read(actor: Actor) -> bool:
    """Whether the actor reads tax rates, rates, price lists, contracts and clients' billing details."""
    return any(actor.can(c) for c in READ_CAPABILITIES)


def require_read(actor: Actor) -> None:
    if not may_read(actor):
        raise DomainError(ErrorCode.PERMISSION_DENIED, f"Your role ({actor.role.label}) may not see billing settings.")


def _one(qs: QuerySet, pk, what: str):
    row = qs.filter(pk=as_id(pk)).first() if as_id(pk) is not None else None
    if row is None:
        raise not_found(what)
    return row


# --- settings ---------------------------------------------------------------------------------


def billing_settings_get(*, actor: Actor) -> BillingSettings:
    """The organization's seller details and billing defaults (created with the defaults when missing)."""
    require(actor, "billing.configure")
    row = settings_for(actor.organization)
    if row.overtime_calendar_id:
        row = BillingSettings.objects.select_related("default_tax_rate", "overtime_calendar").get(pk=row.pk)
    return row


# --- tax rates --------------------------------------------------------------------------------


def tax_rate_queryset(*, actor: Actor) -> QuerySet[TaxRate]:
    require_read(actor)
    return TaxRate.objects.filter(organization_id=actor.organization_id)


def tax_rate_list(*, actor: Actor, active: bool | None = None, q: str | None = None) -> QuerySet[TaxRate]:
    qs = tax_rate_queryset(actor=actor)
    if active is not None:
        qs = qs.filter(is_active=active)
    if q := (q or "").strip():
        qs = qs.filter(Q(name__icontains=q) | Q(exemption_reason__icontains=q))
    return qs.order_by("-is_active", "category", "-rate", "name", "id")


def tax_rate_get(*, actor: Actor, pk) -> TaxRate:
    return _one(tax_rate_queryset(actor=actor), pk, "Tax rate")


# --- rate classes, technicians and rates ------------------------------------------------------


def rate_class_list(*, actor: Actor) -> QuerySet[RateClass]:
    require_read(actor)
    return (
        RateClass.objects.filter(organization_id=actor.organization_id)
        .annotate(technician_count=Count("technicians", distinct=True))
        .order_by("name", "id")
    )


def rate_class_get(*, actor: Actor, pk) -> RateClass:
    require_read(actor)
    return _one(RateClass.objects.filter(organization_id=actor.organization_id), pk, "Rate class")


@dataclass
class TechnicianRow:
    """A member who records work, with the rate class they bill at (None: the organization's rates)."""

    user_id: int
    name: str
    email: str
    role: str
    is_active: bool
    rate_class_id: int | None
    rate_class_name: str


def technician_list(*, actor: Actor) -> list[TechnicianRow]:
    """The members whose time is billed (admins, dispatchers, technicians) and their rate classes."""
    require_read(actor)
    classes = {
        t.user_id: t.rate_class
        for t in TechnicianRateClass.objects.filter(organization_id=actor.organization_id).select_related("rate_class")
    }
    members = (
        Membership.objects.filter(organization_id=actor.organization_id, role__in=FIELD_ROLES)
        .select_related("user")
        .order_by("-is_active", "user__full_name", "user_id")
    )
    rows = []
    for m in members:
        rc = classes.get(m.user_id)
        rows.append(
            TechnicianRow(
                user_id=m.user_id,
                name=m.user.full_name or m.user.email,
                email=m.user.email,
                role=m.role,
                is_active=m.is_active,
                rate_class_id=rc.pk if rc else None,
                rate_class_name=rc.name if rc else "",
            )
        )
    return rows


def technician_get(*, actor: Actor, user_id) -> TechnicianRow:
    for row in technician_list(actor=actor):
        if row.user_id == as_id(user_id):
            return row
    raise not_found("Technician")


def rate_queryset(*, actor: Actor) -> QuerySet[Rate]:
    require_read(actor)
    return Rate.objects.filter(organization_id=actor.organization_id).select_related("price_list", "rate_class")


def rate_list(
    *, actor: Actor, price_list_id=None, organization_only: bool = False, rate_class_id=None, kind: str | None = None
) -> QuerySet[Rate]:
    """Rates; ``organization_only`` for the organization's defaults (no price list)."""
    qs = rate_queryset(actor=actor)
    if organization_only:
        qs = qs.filter(price_list__isnull=True)
    elif price_list_id is not None:
        qs = qs.filter(price_list_id=as_id(price_list_id))
    if rate_class_id is not None:
        qs = qs.filter(rate_class_id=as_id(rate_class_id))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("price_list_id", "rate_class_id", "kind", "id")


def rate_get(*, actor: Actor, pk) -> Rate:
    return _one(rate_queryset(actor=actor), pk, "Rate")


@dataclass
class RateTableRow:
    """One line of a rate table: the default (``rate_class`` None) or a rate class, with its labour and
    travel rate where set."""

    rate_class: RateClass | None
    labour: Rate | None
    travel: Rate | None

    @property
    def key(self) -> str:
        return str(self.rate_class.pk) if self.rate_class else "default"


def rate_table(*, actor: Actor, price_list: PriceList | None = None) -> list[RateTableRow]:
    """The rates of a price list (or the organization's) as a table: a default row, then one per class."""
    rates = {
        (r.rate_class_id, r.kind): r
        for r in rate_list(
            actor=actor, organization_only=price_list is None, price_list_id=price_list.pk if price_list else None
        )
    }
    rows = [RateTableRow(None, rates.get((None, RateKind.LABOUR)), rates.get((None, RateKind.TRAVEL)))]
    for rc in RateClass.objects.filter(organization_id=actor.organization_id).order_by("name", "id"):
        rows.append(RateTableRow(rc, rates.get((rc.pk, RateKind.LABOUR)), rates.get((rc.pk, RateKind.TRAVEL))))
    return rows


# --- price lists ------------------------------------------------------------------------------


def price_list_queryset(*, actor: Actor) -> QuerySet[PriceList]:
    require_read(actor)
    return PriceList.objects.filter(organization_id=actor.organization_id)


def price_list_list(*, actor: Actor, active: bool | None = None, q: str | None = None) -> QuerySet[PriceList]:
    qs = price_list_queryset(actor=actor)
    if active is not None:
        qs = qs.filter(is_active=active)
    if q := (q or "").strip():
        qs = qs.filter(name__icontains=q)
    clients = (
        ClientBilling.objects.filter(price_list=OuterRef("pk"))
        .order_by()
        .values("price_list")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(
        item_count=Count("items", distinct=True),
        client_count=Coalesce(Subquery(clients), 0),
    ).order_by("-is_active", "name", "id")


def price_list_get(*, actor: Actor, pk) -> PriceList:
    return _one(price_list_queryset(actor=actor), pk, "Price list")


def price_list_items(*, actor: Actor, price_list: PriceList, q: str | None = None) -> QuerySet[PriceListItem]:
    """The part prices of a price list, by SKU; ``q`` searches SKU and name."""
    require_read(actor)
    qs = PriceListItem.objects.filter(organization_id=actor.organization_id, price_list=price_list).select_related(
        "part"
    )
    if q := (q or "").strip():
        qs = qs.filter(Q(part__sku__icontains=q) | Q(part__name__icontains=q))
    return qs.order_by("part__sku", "id")


def price_list_item_get(*, actor: Actor, pk) -> PriceListItem:
    require_read(actor)
    qs = PriceListItem.objects.filter(organization_id=actor.organization_id).select_related("part", "price_list")
    return _one(qs, pk, "Part price")


# --- clients' billing details -----------------------------------------------------------------


def client_billing_get(*, actor: Actor, client_id):
    """(client, its billing details or an unsaved empty record) for a client of the organization."""
    from fixflow.customers.models import Client

    require_read(actor)
    client = _one(Client.objects.filter(organization_id=actor.organization_id), client_id, "Client")
    billing = ClientBilling.objects.filter(client=client).select_related("price_list", "tax_rate").first()
    if billing is None:
        billing = ClientBilling(organization_id=actor.organization_id, client=client)
    return client, billing


@dataclass
class ClientBillingSummary:
    """What the client page shows about billing: the details, the effective currency, tax and contracts."""

    client: object
    billing: ClientBilling
    currency: str
    tax_rate: TaxRate | None
    tax_is_default: bool
    payment_terms_days: int
    contracts: list[ServiceContract]

    @property
    def address_lines(self) -> list[str]:
        b = self.billing
        city = " ".join(p for p in (b.postcode, b.city) if p)
        return [line for line in (b.legal_name, b.street, b.address_line_2, city, b.country) if line]


def client_billing_summary(*, actor: Actor, client_id) -> ClientBillingSummary:
    client, billing = client_billing_get(actor=actor, client_id=client_id)
    settings = settings_for(actor.organization)
    tax = billing.tax_rate if billing.tax_rate_id else settings.default_tax_rate
    terms = billing.payment_terms_days if billing.payment_terms_days is not None else settings.payment_terms_days
    return ClientBillingSummary(
        client=client,
        billing=billing,
        currency=effective_currency(actor.organization, billing),
        tax_rate=tax,
        tax_is_default=not billing.tax_rate_id,
        payment_terms_days=terms,
        contracts=list(contract_list(actor=actor, client_id=client.pk)),
    )


# --- service contracts ------------------------------------------------------------------------


def contract_queryset(*, actor: Actor) -> QuerySet[ServiceContract]:
    require_read(actor)
    return ServiceContract.objects.filter(organization_id=actor.organization_id).select_related("client", "price_list")


def contract_list(
    *, actor: Actor, client_id=None, active: bool | None = None, q: str | None = None
) -> QuerySet[ServiceContract]:
    qs = contract_queryset(actor=actor)
    if client_id not in (None, ""):
        qs = qs.filter(client_id=as_id(client_id))
    if active is not None:
        qs = qs.filter(is_active=active)
    if q := (q or "").strip():
        qs = qs.filter(Q(name__icontains=q) | Q(reference__icontains=q) | Q(client__name__icontains=q))
    return qs.prefetch_related("sites", "equipment", "covered_part_categories").order_by(
        "client__name", "-valid_from", "id"
    )


def contract_get(*, actor: Actor, pk) -> ServiceContract:
    qs = contract_queryset(actor=actor).prefetch_related("sites", "equipment", "covered_part_categories")
    return _one(qs, pk, "Contract")


def price_list_clients(*, actor: Actor, price_list: PriceList) -> list:
    """The clients billed with a price list, by name."""
    require_read(actor)
    return [
        b.client
        for b in ClientBilling.objects.filter(organization_id=actor.organization_id, price_list=price_list)
        .select_related("client")
        .order_by("client__name")
    ]


# --- parts, for the part price form -----------------------------------------------------------


def part_by_sku(*, actor: Actor, sku: str):
    """The organization's part with this SKU (exactly, else ignoring case), or None."""
    from fixflow.inventory.models import Part

    require_read(actor)
    sku = (sku or "").strip()
    parts = Part.objects.filter(organization_id=actor.organization_id)
    return parts.filter(sku=sku).first() or parts.filter(sku__iexact=sku).first()


def part_search(*, actor: Actor, q: str, limit: int = 20) -> list:
    """Active parts whose SKU, name or barcode contains ``q`` (SKU matches first)."""
    from fixflow.inventory.models import Part

    require_read(actor)
    q = (q or "").strip()
    parts = Part.objects.filter(organization_id=actor.organization_id, is_active=True)
    if not q:
        return list(parts.order_by("sku")[:limit])
    found = list(parts.filter(sku__istartswith=q).order_by("sku")[:limit])
    if len(found) < limit:
        more = parts.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(barcode=q)).exclude(
            pk__in=[p.pk for p in found]
        )
        found += list(more.order_by("sku")[: limit - len(found)])
    return found
