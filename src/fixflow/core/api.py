"""Who am I, and the organization's settings."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from .api_support import actor_of, if_match_version, set_etag
from .models import Organization
from .services import organization_update

router = Router(tags=["organization"])


class MeUser(Schema):
    id: int
    email: str
    full_name: str


class MeOrganization(Schema):
    id: int
    name: str
    currency: str
    timezone: str


class MeOut(Schema):
    user: MeUser
    organization: MeOrganization
    role: str
    client_id: int | None = Field(description="For client users: the client whose data they see.")


class OrganizationOut(Schema):
    id: int
    name: str
    currency: str
    timezone: str
    work_order_prefix: str
    reopen_window_days: int
    requires_four_eyes_review: bool
    version: int
    created_at: datetime


class OrganizationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR")
    timezone: str | None = Field(None, max_length=64, description="IANA time zone, e.g. Europe/Berlin")
    work_order_prefix: str | None = Field(None, min_length=1, max_length=10)
    reopen_window_days: int | None = Field(None, ge=0, le=3650)
    requires_four_eyes_review: bool | None = None


@router.get("/me", response=MeOut, url_name="me", summary="The signed-in user, organization and role")
def me(request: HttpRequest):
    actor = actor_of(request)
    return {
        "user": actor.user,
        "organization": actor.organization,
        "role": actor.role.value,
        "client_id": actor.client_id,
    }


@router.get("/organization", response=OrganizationOut, url_name="organization_get", summary="The organization")
def organization_get(request: HttpRequest, response: HttpResponse):
    org = Organization.objects.get(pk=actor_of(request).organization_id)
    set_etag(response, org.version)
    return org


@router.patch(
    "/organization",
    response=OrganizationOut,
    url_name="organization_patch",
    summary="Change the organization's settings (admin)",
)
def organization_patch(request: HttpRequest, payload: OrganizationPatch, response: HttpResponse):
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    org = organization_update(actor=actor_of(request), data=data, expected_version=if_match_version(request))
    set_etag(response, org.version)
    return org
