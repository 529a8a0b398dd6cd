"""The JSON API at /api/v1/: one NinjaAPI, one router per app, errors mapped once."""

from ninja import NinjaAPI

from fixflow.core.api_support import SessionActorAuth, TokenAuth, install_error_handlers

api = NinjaAPI(
    title="Fixflow API",
    version="1",
    description="Work orders from request to invoice. Authenticate with a personal token "
    "(`Authorization: Bearer ffx_…`) or the browser session (with the CSRF header). "
    "Errors are application/problem+json with a stable `code`.",
    auth=[TokenAuth(), SessionActorAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)


def _mount() -> None:
    from fixflow.assets.api import router as assets_router
    from fixflow.billing.charge_api import router as billing_charge_router
    from fixflow.billing.config_api import router as billing_config_router
    from fixflow.billing.invoice_api import router as billing_invoice_router
    from fixflow.billing.quote_api import router as billing_quote_router
    from fixflow.billing.report_api import router as billing_report_router
    from fixflow.core.api import router as core_router
    from fixflow.customers.api import router as customers_router
    from fixflow.field.api import router as field_router
    from fixflow.inventory.api import router as inventory_router
    from fixflow.maintenance.api import router as maintenance_router
    from fixflow.service.api import router as service_router
    from fixflow.sla.api import router as sla_router

    api.add_router("", core_router)
    api.add_router("", customers_router)
    api.add_router("", assets_router)
    api.add_router("", inventory_router)
    api.add_router("", service_router)
    api.add_router("", sla_router)
    api.add_router("", maintenance_router)
    api.add_router("", billing_config_router)
    api.add_router("", billing_quote_router)
    api.add_router("", billing_invoice_router)
    api.add_router("", billing_report_router)
    api.add_router("", field_router)
    api.add_router("", billing_charge_router)


_mount()
