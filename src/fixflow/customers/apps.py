from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "fixflow.customers"
    label = "customers"
    verbose_name = "Customers"
