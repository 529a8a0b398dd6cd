from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "fixflow.assets"
    label = "assets"
    verbose_name = "Assets"
