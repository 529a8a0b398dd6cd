from django.urls import path

from . import settings_views as views

urlpatterns = [
    path("", views.settings_home, name="settings_home"),
    path("organization/", views.organization_settings, name="settings_organization"),
    path("members/", views.member_list, name="member_list"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create_view, name="template_create"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("history/", views.change_history, name="change_history"),
]
