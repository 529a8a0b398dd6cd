from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of DOMAIN.md §1. A membership has exactly one role in its organization."""

    ADMIN = "admin", _("Admin")
    DISPATCHER = "dispatcher", _("Dispatcher")
    TECHNICIAN = "technician", _("Technician")
    ACCOUNTANT = "accountant", _("Accountant")
    REQUESTER = "requester", _("Requester")
    CLIENT_USER = "client_user", _("Client user")


OFFICE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})
STAFF_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN, Role.ACCOUNTANT})
