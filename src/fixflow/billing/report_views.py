"""Report pages of the billing app (issue 5)."""

urlpatterns: list = []
