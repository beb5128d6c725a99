"""``network: deny`` — no sockets, no HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.policy.catalog import NETWORK_FUNCTIONS, NETWORK_METHODS, NETWORK_MODULES
from kavi_gates.policy.queries import method_hits, module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class NetworkModule(Rule):
    """A networking module is imported (``network: deny``).

    socket, ssl, http.client, http.server, urllib.request, ftplib, smtplib, xmlrpc,
    socketserver and the common third-party clients (requests, httpx, aiohttp, urllib3,
    websockets, paramiko, grpc, openai, boto3, …), in every import form. ``urllib.parse``
    and ``http.HTTPStatus`` are not network access.
    """

    id = "KAV301"
    category = "network"
    MESSAGE = "import of a networking module"
    VALID = [
        "from urllib.parse import urlparse\n",
        "import http\ncode = http.HTTPStatus.OK\n",
        "import json\n",
    ]
    INVALID = [
        "import socket\n",
        "import requests\n",
        "from urllib.request import urlopen\n",
        "import urllib\nurllib.request.urlopen('http://x')\n",
        "import http.client as hc\n",
        "def fetch():\n    import httpx\n    return httpx.get('http://x')\n",
        "mod = __import__('socket')\n",
    ]

    def enabled(self) -> bool:
        return self.policy.network == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, NETWORK_MODULES):
            yield Violation(node, f"'{hit}' reaches the network (policy.network: deny)")


class NetworkCall(Rule):
    """A function that opens a network connection is referenced (``network: deny``).

    asyncio.open_connection / start_server, the socket-backed logging handlers, …
    """

    id = "KAV302"
    category = "network"
    MESSAGE = "reference to a network function"
    VALID = ["import asyncio\nasyncio.sleep(1)\n", "import logging\nlogging.getLogger('x')\n"]
    INVALID = [
        "import asyncio\nasyncio.open_connection('example.com', 80)\n",
        "from logging.handlers import HTTPHandler\n",
    ]

    def enabled(self) -> bool:
        return self.policy.network == "deny"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, NETWORK_FUNCTIONS):
            yield Violation(node, f"'{hit}' opens a network connection (policy.network: deny)")
        for node, method in method_hits(facts, NETWORK_METHODS):
            yield Violation(
                node, f"'.{method}()' opens a network connection (policy.network: deny)"
            )
