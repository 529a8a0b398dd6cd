from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "fixflow.sla"
    label = "sla"
    verbose_name = "SLA"
