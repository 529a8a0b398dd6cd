"""Invoice endpoints of the billing API (issue 5)."""

from ninja import Router

router = Router()
