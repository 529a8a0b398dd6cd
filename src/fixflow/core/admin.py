"""The admin is a read-mostly back office: configuration through the same services as the pages.

Work orders and their records are read-only here (their writes go through the services, which
keep the timeline, versions and guards); users and memberships can be managed by superusers.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, ChangeRecord, Membership, Organization, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows; adding, changing and deleting go through the app's services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "timezone", "work_order_prefix"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "client", "is_active"]
    list_filter = ["organization", "role", "is_active"]
    raw_id_fields = ["user", "client"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "organization", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "organization", "actor", "object_type", "object_repr", "action"]
    list_filter = ["organization", "object_type", "action"]
