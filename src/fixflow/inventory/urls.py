from django.urls import path

from . import views

urlpatterns = [
    path("parts/", views.part_list, name="part_list"),
    path("parts/new/", views.part_create, name="part_create"),
    path("parts/<int:pk>/edit/", views.part_edit, name="part_edit"),
    path("parts/categories/", views.part_category_list, name="part_category_list"),
    path("parts/categories/new/", views.part_category_create, name="part_category_create"),
    path("parts/categories/<int:pk>/edit/", views.part_category_edit, name="part_category_edit"),
    path("parts/categories/<int:pk>/delete/", views.part_category_delete, name="part_category_delete"),
]
