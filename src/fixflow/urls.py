"""Page routes of every app, the admin, and the JSON API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("", include("fixflow.web.urls")),
    path("", include("fixflow.customers.urls")),
    path("", include("fixflow.assets.urls")),
    path("", include("fixflow.inventory.urls")),
    path("", include("fixflow.service.urls")),
    path("", include("fixflow.sla.urls")),
    path("", include("fixflow.maintenance.urls")),
    path("", include("fixflow.billing.urls")),
    path("", include("fixflow.field.urls")),
    path("settings/", include("fixflow.web.settings_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
