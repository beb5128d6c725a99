"""``network: deny``: sockets and HTTP clients, by qualified name."""

from __future__ import annotations

NETWORK_MODULES = frozenset(
    {
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "http.client",
        "http.server",
        "urllib.request",
        "urllib.robotparser",
        "urllib2",
        "urllib3",
        "httplib",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "smtpd",
        "poplib",
        "imaplib",
        "telnetlib",
        "nntplib",
        "xmlrpc",
        "socketserver",
        "SocketServer",
        "asyncore",
        "asynchat",
        "wsgiref.simple_server",
        "websocket",
        "websockets",
        "paramiko",
        "pycurl",
        "httplib2",
        "grpc",
        "zmq",
        "openai",
        "anthropic",
        "boto3",
        "botocore",
        "twisted",
        "tornado",
        "mechanize",
        "dns",
        "scapy",
        "multiprocessing.connection",
        "ollama",
        "litellm",
    }
)
NETWORK_FUNCTIONS = frozenset(
    {
        "asyncio.open_connection",
        "asyncio.start_server",
        "asyncio.open_unix_connection",
        "asyncio.start_unix_server",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "asyncio.streams.open_connection",
        "asyncio.streams.start_server",
        "logging.handlers.SocketHandler",
        "logging.handlers.DatagramHandler",
        "logging.handlers.HTTPHandler",
        "logging.handlers.SMTPHandler",
        "logging.handlers.SysLogHandler",
        "logging.config.listen",
    }
)
# Event-loop and socket-ish methods reached on objects we cannot type (``loop.X(...)``).
NETWORK_METHODS = frozenset(
    {
        "create_connection",
        "create_server",
        "create_datagram_endpoint",
        "create_unix_connection",
        "create_unix_server",
        "sock_connect",
        "open_connection",
        "start_server",
        "urlopen",
    }
)
