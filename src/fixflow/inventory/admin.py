from django.contrib import admin

from fixflow.core.admin import ReadOnlyAdmin

from .models import Part


@admin.register(Part)
class PartAdmin(ReadOnlyAdmin):
    list_display = ["sku", "name", "organization", "unit_cost", "sale_price", "is_active"]
    list_filter = ["organization", "is_active"]
    search_fields = ["sku", "name"]
