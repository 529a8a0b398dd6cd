from django.contrib import admin

from fixflow.core.admin import ReadOnlyAdmin

from .models import Equipment


@admin.register(Equipment)
class EquipmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "site", "organization", "status", "criticality"]
    list_filter = ["organization", "status", "criticality"]
    search_fields = ["name", "serial_number"]
