"""What each policy category means, as qualified names. Categories do the work, not config.

A module name covers its submodules and everything in them (``urllib.request`` covers
``urllib.request.urlopen``); a function name covers only itself.
"""

from __future__ import annotations

from collections.abc import Iterable

_OS_EXEC = [f"os.exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]
_OS_SPAWN = [f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]

PROCESS_MODULES = frozenset({
    "subprocess", "_posixsubprocess", "pty", "multiprocessing", "asyncio.subprocess",
    "concurrent.futures.process", "webbrowser", "popen2", "commands", "pexpect", "sh",
    "plumbum", "distutils.spawn", "_winapi",
})
PROCESS_FUNCTIONS = frozenset({
    "os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4", "os.fork", "os.forkpty",
    "os.startfile", "os.posix_spawn", "os.posix_spawnp", "os.plock", *_OS_EXEC, *_OS_SPAWN,
    "posix.system", "posix.fork", "posix.posix_spawn", "nt.system",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    "concurrent.futures.ProcessPoolExecutor", "platform.popen",
})

NETWORK_MODULES = frozenset({
    "socket", "_socket", "ssl", "_ssl", "http.client", "http.server", "urllib.request",
    "urllib.robotparser", "urllib2", "urllib3", "httplib", "requests", "httpx", "aiohttp",
    "ftplib", "smtplib", "smtpd", "poplib", "imaplib", "telnetlib", "nntplib", "xmlrpc",
    "socketserver", "SocketServer", "asyncore", "asynchat", "wsgiref.simple_server",
    "websocket", "websockets", "paramiko", "pycurl", "httplib2", "grpc", "zmq", "openai",
    "anthropic", "boto3", "botocore", "twisted", "tornado", "mechanize", "dns", "scapy",
    "multiprocessing.connection", "ollama", "litellm",
})
NETWORK_FUNCTIONS = frozenset({
    "asyncio.open_connection", "asyncio.start_server", "asyncio.open_unix_connection",
    "asyncio.start_unix_server", "urllib.urlopen", "urllib.urlretrieve",
    "logging.handlers.SocketHandler", "logging.handlers.DatagramHandler",
    "logging.handlers.HTTPHandler", "logging.handlers.SMTPHandler",
    "logging.handlers.SysLogHandler", "logging.config.listen",
})

DYNAMIC_BUILTINS = frozenset({
    "builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__",
    "builtins.breakpoint", "builtins.execfile",
})
IMPORT_MACHINERY_MODULES = frozenset({
    "importlib", "imp", "runpy", "pkgutil", "zipimport", "code", "codeop",
})
IMPORT_MACHINERY_NAMES = frozenset({
    "sys.modules", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache",
})
INTROSPECTION_NAMES = frozenset({
    "builtins", "builtins.globals", "builtins.vars", "builtins.locals", "sys._getframe",
    "inspect.currentframe", "inspect.stack", "inspect.trace", "inspect.getouterframes",
    "types.FunctionType", "types.CodeType", "types.LambdaType", "gc.get_referrers",
    "gc.get_objects",
})
ESCAPE_ATTRIBUTES = frozenset({
    "__globals__", "__builtins__", "__subclasses__", "__code__", "__getattribute__",
    "f_globals", "f_locals", "f_builtins", "gi_frame", "cr_frame", "ag_frame", "func_globals",
})
DESERIALIZER_MODULES = frozenset({
    "pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle",
    "joblib", "pickletools",
})
DESERIALIZER_FUNCTIONS = frozenset({
    "yaml.unsafe_load", "yaml.unsafe_load_all", "pandas.read_pickle", "torch.load",
    "numpy.load", "yaml.full_load", "yaml.full_load_all",
})
YAML_LOADERS = frozenset({"yaml.load", "yaml.load_all"})
YAML_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
NATIVE_MODULES = frozenset({"ctypes", "_ctypes", "cffi"})


def matches(qualname: str, names: Iterable[str]) -> str | None:
    """The first entry that is ``qualname`` or a parent module of it."""
    for name in names:
        if qualname == name or qualname.startswith(name + "."):
            return name
    return None


def builtin_qualname(name: str) -> str:
    """Config may name builtins bare (``eval``); normalise to ``builtins.eval``."""
    if "." in name:
        return name
    return f"builtins.{name}"
