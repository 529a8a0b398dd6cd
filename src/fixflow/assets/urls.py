from django.urls import path

from . import meter_views, views

urlpatterns = [
    path("equipment/", views.equipment_list, name="equipment_list"),
    path("equipment/new/", views.equipment_create, name="equipment_create"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("equipment/categories/", views.category_list, name="category_list"),
    path("equipment/categories/new/", views.category_create, name="category_create"),
    path("equipment/categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    # meters and their readings (issue 6)
    path("equipment/<int:pk>/meters/new/", meter_views.meter_create, name="meter-create"),
    path("equipment/meters/<int:pk>/", meter_views.meter_detail, name="meter-detail"),
    path("equipment/meters/<int:pk>/edit/", meter_views.meter_edit, name="meter-edit"),
    path("equipment/meters/<int:pk>/delete/", meter_views.meter_delete, name="meter-delete"),
    path("equipment/meters/<int:pk>/readings/", meter_views.meter_reading_record, name="meter-reading-record"),
    path(
        "work-orders/<int:pk>/meter-readings/",
        meter_views.work_order_meter_reading,
        name="work-order-meter-reading",
    ),
]
