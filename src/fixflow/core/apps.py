from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fixflow.core"
    label = "core"
    verbose_name = "Core"
