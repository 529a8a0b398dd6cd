from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "fixflow.inventory"
    label = "inventory"
    verbose_name = "Inventory"
