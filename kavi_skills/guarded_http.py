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

from kavi_skills.errors import SideEffectRefused
from kavi_skills.hosts import check_url

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1_000_000


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
