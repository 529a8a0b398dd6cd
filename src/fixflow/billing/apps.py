from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "fixflow.billing"
    label = "billing"
    verbose_name = "Billing"
