from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "fixflow.service"
    label = "service"
    verbose_name = "Service"
