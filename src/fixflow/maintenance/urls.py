"""Page routes of the maintenance app: plans, and the forecast / compliance / stale plan pages."""

from . import report_views, views

urlpatterns = [*views.urlpatterns, *report_views.urlpatterns]
