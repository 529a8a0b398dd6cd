"""SLA on work order pages (explanation, recalculation) and the compliance report."""

urlpatterns: list = []
