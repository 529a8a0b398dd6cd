from django.urls import path

from . import views

urlpatterns = [
    path("equipment/", views.equipment_list, name="equipment_list"),
    path("equipment/new/", views.equipment_create, name="equipment_create"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("equipment/categories/", views.category_list, name="category_list"),
    path("equipment/categories/new/", views.category_create, name="category_create"),
    path("equipment/categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
]
