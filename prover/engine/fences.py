"""Fences around what a user's config makes a worker touch: the hosts it calls and the files it opens.

Pure functions: the caller passes the allowed hosts and roots (the web service takes them from its settings,
docs/security.md), so the core stays free of Django. Each raises `FenceError` with a message fit for a field
error; a refused path's message never says whether the path exists, so nobody learns the layout of the worker's
disk outside the roots.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit


class FenceError(ValueError):
    pass


# Cloud metadata services answer on these whatever the allow-list says: their answers hold credentials.
_NEVER = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"),
          ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"),
          ipaddress.ip_network("0.0.0.0/8"))


def canonical_host(host: str) -> str:
    """A host as the resolver reads it: `0x7f000001`, `2130706433`, `127.1` and `0177.0.0.1` are all 127.0.0.1
    to inet_aton, so they compare as that address; names are lower-cased; IPv6 written in its short form."""
    host = host.strip().lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    return host


def check_service_url(url: str, *, allowed_hosts: Iterable[str], refused: Iterable[tuple[str, int]] = ()) -> str:
    """`url` (an http(s) base URL of a policy or encoder server) if its host is allowed, else FenceError.

    `refused` lists (host, port) pairs never to call even on an allowed host: the service's own Redis and database
    listen on loopback too."""
    if not isinstance(url, str):
        raise FenceError("must be an http(s) URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FenceError(f"must be an http(s) URL, got scheme {parts.scheme or 'none'!r}")
    if "@" in parts.netloc:
        raise FenceError("must not carry a user name or password")
    if "?" in url or "#" in url:
        raise FenceError("must be a base URL without a query or fragment")
    try:
        hostname, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise FenceError(f"has an invalid host or port ({exc})") from None
    if not hostname:
        raise FenceError("must name a host")
    host = canonical_host(hostname)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and any(address in net for net in _NEVER if net.version == address.version):
        raise FenceError(f"host {hostname!r} is a link-local or metadata address; never allowed")
    port = _port or (443 if parts.scheme == "https" else 80)
    if any(canonical_host(h) == host and p == port for h, p in refused):
        raise FenceError(f"{hostname}:{port} is one of the service's own stores (Redis, database); never allowed")
    allowed = {canonical_host(h) for h in allowed_hosts if h}
    if host not in allowed:
        raise FenceError(f"host {hostname!r} is not one of the allowed service hosts "
                         f"({', '.join(sorted(allowed)) or 'none'}); an admin adds hosts in BURNQED_SERVICE_HOSTS")
    return url


def check_path(path: str, *, roots: Iterable[str | os.PathLike]) -> str:
    """`path` resolved (symlinks followed, `..` collapsed) if it lies under one of `roots`, else FenceError.

    The answer is the same whether or not the path exists."""
    roots = [Path(r).resolve() for r in roots]
    if not isinstance(path, str) or not path.strip():
        raise FenceError("must be a path")
    if "\x00" in path:
        raise FenceError("must not contain a NUL character")
    if not roots:
        raise FenceError("no folder is allowed for this setting")
    candidate = Path(path.strip())
    if not candidate.is_absolute():  # a worker would read it relative to its own working folder
        raise FenceError(f"must be an absolute path under {' or '.join(str(r) for r in roots)}")
    resolved = candidate.resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise FenceError(f"must be under {' or '.join(str(r) for r in roots)}")
    return str(resolved)
