"""Which URLs a skill's HTTP capability may reach: http(s), no credentials, a declared host.

Kept apart from the HTTP client itself so a skill's child can check early without importing
``urllib.request`` (the parent's check is the one that counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from kavi_skills.errors import SideEffectRefused


def host_port(url: str) -> tuple[str, int | None]:
    """The lower-cased host and the port of an http(s) URL, or a refusal saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise SideEffectRefused(f"refused {url!r}: only http and https are allowed")
    if parts.username is not None or parts.password is not None:
        raise SideEffectRefused(f"refused {url!r}: credentials in URLs are not allowed")
    try:
        port = parts.port
    except ValueError:
        raise SideEffectRefused(f"refused {url!r}: invalid port") from None
    if not parts.hostname:
        raise SideEffectRefused(f"refused {url!r}: no host")
    return parts.hostname.lower(), port


def check_url(url: str, allowed_hosts: Iterable[str]) -> None:
    """Refuse ``url`` unless it is http(s), carries no credentials and names an allowed host
    (exact, case-insensitive; an entry ``host:port`` also pins the port)."""
    host, port = host_port(url)
    hosts = tuple(allowed_hosts)
    for allowed in hosts:
        name, sep, allowed_port = allowed.lower().partition(":")
        if name == host and (not sep or (port is not None and str(port) == allowed_port)):
            return
    declared = ", ".join(hosts) or "none"
    raise SideEffectRefused(f"refused {url!r}: host {host!r} is not declared (allowed: {declared})")
