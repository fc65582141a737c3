"""Every answer under /api/ is JSON, the errors Django answers itself included."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

API_PREFIX = "/api/"

# Errors Django answers before or after the API's views, by status.
ERRORS = {
    400: ("bad_request", "The request could not be read."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not take that method."),
    413: ("too_large", "The request is too large."),
    500: ("server_error", "The server could not answer this request; the error is logged."),
}


class ApiErrorMiddleware:
    """Turns an HTML error under /api/ (an unknown address, an unhandled exception that
    Django answered with its 500 page) into `{"code", "message"}` with the same status.

    Django has logged an unhandled exception by then; the answer names no internals.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return api_error(response.status_code)
        return response


def api_error(status: int) -> HttpResponse:
    default = ("server_error", ERRORS[500][1]) if status >= 500 else ("error", "Request refused.")
    code, message = ERRORS.get(status, default)
    return JsonResponse({"code": code, "message": message}, status=status)
