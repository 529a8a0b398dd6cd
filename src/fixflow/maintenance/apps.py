from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "fixflow.maintenance"
    label = "maintenance"
    verbose_name = "Preventive maintenance"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
