"""Page routes of the billing app: configuration, quotes (with the public accept page), invoices, reports."""

from . import charge_views, config_views, invoice_views, quote_views, report_views

urlpatterns = [
    *config_views.urlpatterns,
    *quote_views.urlpatterns,
    *invoice_views.urlpatterns,
    *report_views.urlpatterns,
    *charge_views.urlpatterns,
]
