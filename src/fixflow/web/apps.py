from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "fixflow.web"
    label = "web"
    verbose_name = "Web"
