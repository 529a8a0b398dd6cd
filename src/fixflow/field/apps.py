from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "fixflow.field"
    label = "field"
    verbose_name = "Field work"
