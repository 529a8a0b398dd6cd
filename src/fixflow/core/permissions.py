"""Who may do what: the acting user in one organization, and the capability table of the roles.

Services call :func:`require`; selectors narrow querysets to what the actor may see. Views only pass
the actor along, so every entrance (pages, API, admin actions, sync, jobs) is checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .choices import Role
from .errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from .models import Organization, User

A, D, T, C, R, U = Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN, Role.ACCOUNTANT, Role.REQUESTER, Role.CLIENT_USER
EVERYONE = frozenset(Role)

# Capability → roles that hold it. Scoping (own client, own requests, assigned work) is applied by the
# selectors and by the services on top of this table.
CAPABILITIES: dict[str, frozenset[Role]] = {
    "organization.manage": frozenset({A}),
    "members.manage": frozenset({A}),
    "tokens.own": EVERYONE,
    "clients.view": frozenset({A, D, T, C, R, U}),
    "clients.manage": frozenset({A, D}),
    "contacts.view": frozenset({A, D, T, C, U}),
    "equipment.view": EVERYONE,
    "equipment.manage": frozenset({A, D}),
    "parts.view": frozenset({A, D, T, C}),
    "parts.manage": frozenset({A, D, C}),
    "templates.view": frozenset({A, D, T, C}),
    "templates.manage": frozenset({A, D}),
    "requests.create": EVERYONE,
    "requests.view_all": frozenset({A, D}),
    "requests.triage": frozenset({A, D}),
    "work_orders.view": EVERYONE,
    "work_orders.view_all": frozenset({A, D, T, C}),
    "work_orders.create": frozenset({A, D}),
    "work_orders.plan": frozenset({A, D}),
    "work_orders.record": frozenset({A, D, T}),
    "work_orders.record_any": frozenset({A, D}),
    "work_orders.billing": frozenset({A, D, C}),
    "work_orders.costs": frozenset({A, D, T, C}),
    "notes.internal": frozenset({A, D, T, C}),
    "sla.view": frozenset({A, D, C}),  # calendars, policies, the compliance report
    "sla.manage": frozenset({A}),
    "sla.recalculate": frozenset({A, D}),
    "maintenance.view": frozenset({A, D, T, C}),  # plans, forecast, PM compliance
    "maintenance.manage": frozenset({A, D}),
    # billing (issue 5): client users see their own client's sent quotes and issued invoices (portal)
    "billing.configure": frozenset({A, C}),  # seller details, tax rates, price lists, rates, contracts
    "quotes.view": frozenset({A, D, C, U}),
    "quotes.manage": frozenset({A, D, C}),
    "invoices.view": frozenset({A, D, C, U}),
    "invoices.manage": frozenset({A, C}),  # drafts, issue, credit notes, payments
    "charges.record": frozenset({A, D, T}),  # expenses and fixed charges on a work order
    # field (issue 4)
    "field.sync": frozenset({A, D, T}),  # the phone app: bundle of assigned work, offline sync, own devices
    "field.review": frozenset({A, D}),  # the office: the held queue (accept, reject) and every device
    "field.live": frozenset({A, D}),  # the office pages follow technicians' work live (SSE, /live/events/)
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The user acting, in the organization they are working in, with that membership's role."""

    user: User
    organization: Organization
    role: Role
    client_id: int | None = None
    membership_id: int | None = None

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    @property
    def user_id(self) -> int:
        return self.user.pk

    def can(self, capability: str) -> bool:
        try:
            return self.role in CAPABILITIES[capability]
        except KeyError:  # a typo must not grant anything
            raise KeyError(f"Unknown capability {capability!r}") from None

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT_USER

    @property
    def is_office(self) -> bool:
        return self.role in (Role.ADMIN, Role.DISPATCHER)


def require(actor: Actor, capability: str, message: str | None = None) -> None:
    """Raise PERMISSION_DENIED unless the actor's role holds the capability."""
    if not actor.can(capability):
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            message or f"Your role ({actor.role.label}) may not do this.",
        )


def actor_for(user: User, organization_id: int | None = None) -> Actor | None:
    """The actor for a user in an organization (or their first active one); None without membership."""
    from .models import Membership

    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = Membership.objects.select_related("organization").filter(user=user, is_active=True)
    if organization_id is not None:
        membership = memberships.filter(organization_id=organization_id).first()
    else:
        membership = None
    if membership is None:
        membership = memberships.order_by("organization__name", "id").first()
    if membership is None:
        return None
    return Actor(
        user=user,
        organization=membership.organization,
        role=Role(membership.role),
        client_id=membership.client_id,
        membership_id=membership.pk,
    )
