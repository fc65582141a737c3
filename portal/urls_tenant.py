"""Pages and API of a tenant's site (e.g. acme.localhost)."""

from __future__ import annotations

from django.urls import include, path

from insights.views.customers import EndCustomerFiguresView
from insights.views.home import home_view
from insights.views.score_settings import ScoreSettingsView
from insights.views.teams import TeamCostBindingView
from portal.audit.views import AuditLogView
from portal.users import views as user_views

urlpatterns = [
    path("", home_view, name="dashboard"),
    path("login/", user_views.login_view, name="login"),
    path("logout/", user_views.logout_view, name="logout"),
    path("users/", user_views.UserListView.as_view(), name="user-list"),
    path("users/new/", user_views.UserCreateView.as_view(), name="user-create"),
    path("users/<int:pk>/", user_views.UserChangeView.as_view(), name="user-change"),
    path("audit/", AuditLogView.as_view(), name="audit-log"),
    path("scores/settings/", ScoreSettingsView.as_view(), name="score-settings"),
    path("org/teams/<int:pk>/cost/", TeamCostBindingView.as_view(), name="team-cost-binding"),
    path("org/end-customers/", EndCustomerFiguresView.as_view(), name="endcustomer-list"),
    path("org/", include("billing.urls")),
    path("costs/", include("insights.urls")),
    path("budgets/", include("insights.budgets.urls")),
    path("anomalies/", include("insights.anomalies.urls")),
    path("settings/notifications/", include("insights.notifications.urls")),
    path("costs/", include("billing.ingest.urls")),
    path("allocation/", include("allocation.urls")),
    path("invoices/", include("invoices.urls")),
    path("api/v1/", include("portal.api_urls")),
]
