"""Page routes of the billing app (the configuration pages; the quote and invoice pages join later)."""

from . import config_views

urlpatterns = [*config_views.urlpatterns]
