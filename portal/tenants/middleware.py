from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www


class PortalTenantMiddleware(TenantMainMiddleware):
    """Route by host name; a suspended tenant answers 403 and serves nothing."""

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        # Host names are case-insensitive and may end in a dot (`ACME.LOCALHOST.:8000`);
        # domains are stored in lower case without one.
        domain, _port = split_domain_port(request.get_host())
        return str(remove_www(domain))

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if response is None and tenant is not None and not tenant.is_active:
            return HttpResponse("This portal is suspended. Ask the platform operator.", status=403)
        return response

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        # Parent raises Http404 whose message shows in debug only; say it plainly.
        return HttpResponse(f"No portal is served at {hostname}.", status=404)
