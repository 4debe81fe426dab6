"""Websocket origin check: a page may open a live stream only from this very site (scheme, host and port), or from
an origin listed in CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compares hosts only, so another
site on the same machine (another port) could read a viewer's live frames with the viewer's session cookie."""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of `netloc` under `scheme`, default ports filled in; None when it is malformed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        return None
    if not host or scheme not in DEFAULT_PORTS:
        return None
    return scheme, host.lower(), port or DEFAULT_PORTS[scheme]


def allowed_origin(scope: dict) -> bool:
    headers = {name: value.decode("latin1") for name, value in scope.get("headers", [])}
    raw = headers.get(b"origin")
    if not raw:
        return False
    parts = urlsplit(raw)
    origin = _origin(parts.scheme, parts.netloc)
    if origin is None:
        return False
    trusted = {o for o in (_origin(urlsplit(t).scheme, urlsplit(t).netloc) for t in settings.CSRF_TRUSTED_ORIGINS) if o}
    if origin in trusted:
        return True
    secure = scope.get("scheme") == "wss" or _forwarded_https(headers)
    scheme = "https" if secure else "http"
    host = headers.get(b"host")
    if host is None:
        # No Host header: not a browser handshake (in-process clients); only an allowed host on the default port.
        domain, port = origin[1], origin[2]
        return origin[0] == scheme and port == DEFAULT_PORTS[scheme] and validate_host(domain, settings.ALLOWED_HOSTS)
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == _origin(scheme, host)


def _forwarded_https(headers: dict) -> bool:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy:
        return False
    name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
    return headers.get(name) == proxy[1]


class SameOriginValidator:
    """ASGI middleware: websocket handshakes from any other origin are closed before any consumer runs."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not allowed_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
