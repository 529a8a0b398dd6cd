from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch-organization/", views.switch_organization, name="switch_organization"),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
]
