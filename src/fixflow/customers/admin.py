from django.contrib import admin

from fixflow.core.admin import ReadOnlyAdmin

from .models import Client, Site


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "email", "is_active"]
    list_filter = ["organization", "is_active"]
    search_fields = ["name"]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "client", "organization", "timezone"]
    list_filter = ["organization"]
    search_fields = ["name"]
