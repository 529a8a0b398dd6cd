"""Pages to configure SLAs: business calendars (week, holidays) and policies."""

urlpatterns: list = []
