"""The HTTP client NETWORK skills receive: GET JSON from the declared hosts, nothing else.

Exact host match (case-insensitive; an entry ``host:port`` also pins the port), ``http`` or
``https`` only, no user-info in URLs, environment proxies ignored, redirects followed only to
an allowed host, a timeout and a response size cap.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from kavi_skills.errors import SideEffectRefused

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1_000_000


def _host_port(url: str) -> tuple[str, int | None]:
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
    """Refuse ``url`` unless it is http(s), carries no credentials and names an allowed host."""
    host, port = _host_port(url)
    hosts = tuple(allowed_hosts)
    for allowed in hosts:
        name, sep, allowed_port = allowed.lower().partition(":")
        if name == host and (not sep or (port is not None and str(port) == allowed_port)):
            return
    declared = ", ".join(hosts) or "none"
    raise SideEffectRefused(f"refused {url!r}: host {host!r} is not declared (allowed: {declared})")


class _AllowlistRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only when its target passes the same host check."""

    def __init__(self, client: GuardedHTTP) -> None:
        self._client = client

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        self._client.check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GuardedHTTP:
    """GET JSON from the skill's declared ``allowed_hosts`` only."""

    def __init__(
        self,
        allowed_hosts: Iterable[str],
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.allowed_hosts = tuple(host.lower() for host in allowed_hosts)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _AllowlistRedirects(self)
        )

    def check_url(self, url: str) -> None:
        """Refuse ``url`` unless its scheme and host are allowed."""
        check_url(url, self.allowed_hosts)

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` and parse its JSON body (at most ``max_bytes``)."""
        self.check_url(url)
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", **(headers or {})}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as err:
            raise SideEffectRefused(f"GET {url} failed: HTTP {err.code} {err.reason}") from None
        except urllib.error.URLError as err:
            raise SideEffectRefused(f"GET {url} failed: {err.reason}") from None
        except TimeoutError:
            raise SideEffectRefused(f"GET {url} timed out after {self.timeout}s") from None
        if len(body) > self.max_bytes:
            raise SideEffectRefused(f"GET {url}: response larger than {self.max_bytes} bytes")
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise SideEffectRefused(f"GET {url}: response is not JSON: {err}") from None
