"""Page routes of the SLA app: configuration (calendars, policies) and the work order/report pages."""

from . import config_views, report_views

urlpatterns = [*config_views.urlpatterns, *report_views.urlpatterns]
