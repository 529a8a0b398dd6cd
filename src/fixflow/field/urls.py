"""Page routes of the field app: the technician app under /m/, the office's held queue, live events."""

from . import app_views, held_views, live_views

urlpatterns = [*app_views.urlpatterns, *held_views.urlpatterns, *live_views.urlpatterns]
