from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "fixflow.maintenance"
    label = "maintenance"
    verbose_name = "Preventive maintenance"
