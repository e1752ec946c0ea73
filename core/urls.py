from django.contrib.auth import views as auth_views
from django.urls import path

from core import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("pick/<slug:kind>/", views.PickView.as_view(), name="pick"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/sso/", views.SingleSignOnStartView.as_view(), name="oidc_authentication_init"),
    path(
        "login/sso/callback/",
        views.SingleSignOnCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("healthz", views.HealthView.as_view(), name="healthz"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/tokens/", views.TokenCreateView.as_view(), name="token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
    path(
        "history/<slug:app_label>/<slug:model_name>/<str:pk>/",
        views.HistoryView.as_view(),
        name="object_history",
    ),
]
