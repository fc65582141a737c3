"""The billing pages, mounted under /org/."""

from __future__ import annotations

from django.urls import path

from billing.views import customer_access as access
from billing.views import organizations as org
from billing.views import sharing, transfers

urlpatterns = [
    path("organizations/", org.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/new/", org.OrganizationCreateView.as_view(), name="organization-create"),
    path(
        "organizations/<int:pk>/", org.OrganizationDetailView.as_view(), name="organization-detail"
    ),
    path(
        "organizations/<int:pk>/edit/",
        org.OrganizationChangeView.as_view(),
        name="organization-change",
    ),
    path("ous/new/", org.OUCreateView.as_view(), name="ou-create"),
    path("ous/<int:pk>/edit/", org.OUChangeView.as_view(), name="ou-change"),
    path("accounts/", org.AccountListView.as_view(), name="account-list"),
    path("accounts/new/", org.AccountCreateView.as_view(), name="account-create"),
    path("accounts/<int:pk>/", org.AccountDetailView.as_view(), name="account-detail"),
    path("accounts/<int:pk>/edit/", org.AccountChangeView.as_view(), name="account-change"),
    path("transfers/", transfers.TransferListView.as_view(), name="transfer-list"),
    path("transfers/new/", transfers.TransferCreateView.as_view(), name="transfer-create"),
    path("transfers/<int:pk>/", transfers.TransferDetailView.as_view(), name="transfer-detail"),
    *[
        path(
            f"transfers/<int:pk>/{step}/",
            transfers.TransferStepView.as_view(step=step),
            name=f"transfer-{step}",
        )
        for step in ("accept", "decline", "cancel", "withdraw")
    ],
    path("billing-views/", sharing.BillingViewListView.as_view(), name="billingview-list"),
    path("billing-views/new/", sharing.BillingViewCreateView.as_view(), name="billingview-create"),
    path(
        "billing-views/<int:pk>/",
        sharing.BillingViewDetailView.as_view(),
        name="billingview-detail",
    ),
    path(
        "billing-views/<int:pk>/edit/",
        sharing.BillingViewChangeView.as_view(),
        name="billingview-change",
    ),
    path("teams/", sharing.TeamListView.as_view(), name="team-list"),
    path("teams/new/", sharing.TeamCreateView.as_view(), name="team-create"),
    path("teams/<int:pk>/", sharing.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<int:pk>/edit/", sharing.TeamChangeView.as_view(), name="team-change"),
    path("end-customers/new/", sharing.EndCustomerCreateView.as_view(), name="endcustomer-create"),
    path(
        "end-customers/<int:pk>/",
        access.EndCustomerAccessView.as_view(),
        name="endcustomer-detail",
    ),
    path(
        "end-customers/<int:pk>/edit/",
        sharing.EndCustomerChangeView.as_view(),
        name="endcustomer-change",
    ),
    path(
        "end-customers/<int:pk>/logins/new/",
        access.CustomerLoginCreateView.as_view(),
        name="endcustomer-login-create",
    ),
    path(
        "end-customers/<int:pk>/logins/link/",
        access.CustomerLoginLinkView.as_view(),
        name="endcustomer-login-link",
    ),
    path(
        "end-customers/<int:pk>/logins/<int:user_id>/remove/",
        access.CustomerLoginRemoveView.as_view(),
        name="endcustomer-login-remove",
    ),
    path(
        "end-customers/<int:pk>/logins/<int:user_id>/invite/",
        access.CustomerLoginInviteView.as_view(),
        name="endcustomer-login-invite",
    ),
    path(
        "end-customers/set-password/<str:uidb64>/<str:token>/",
        access.set_password_view,
        name="customer-set-password",
    ),
]
