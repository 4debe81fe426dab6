"""Sends BURNQED_CSP as the Content-Security-Policy of every response that has none: a stored script payload that
escaping ever missed still could not load code from elsewhere or post to another site."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.BURNQED_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.BURNQED_CSP
        return response
