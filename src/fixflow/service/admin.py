"""Work orders in the admin: read-only views for support; every write goes through services.py."""

from django.contrib import admin

from fixflow.core.admin import ReadOnlyAdmin

from .models import WorkOrder, WorkOrderEvent, WorkOrderTemplate, WorkRequest


class EventInline(admin.TabularInline):
    model = WorkOrderEvent
    fields = ["recorded_at", "actor", "kind", "from_status", "to_status", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "organization", "status", "priority", "billing_status", "scheduled_start"]
    list_filter = ["organization", "status", "priority", "billing_status"]
    search_fields = ["number", "title"]
    inlines = [EventInline]
    list_select_related = ["organization"]


@admin.register(WorkRequest)
class WorkRequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "status", "source", "created_at"]
    list_filter = ["organization", "status", "source"]


@admin.register(WorkOrderTemplate)
class WorkOrderTemplateAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "type", "default_priority", "is_active"]
