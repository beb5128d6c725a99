"""What each policy category means, as qualified names. Categories do the work, not config.

A module name covers its submodules and everything in them (``urllib.request`` covers
``urllib.request.urlopen``); a function name covers only itself.
"""

from __future__ import annotations

from collections.abc import Iterable

_OS_EXEC = [f"os.exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]
_OS_SPAWN = [f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]

PROCESS_MODULES = frozenset(
    {
        "subprocess",
        "_posixsubprocess",
        "pty",
        "multiprocessing",
        "asyncio.subprocess",
        "concurrent.futures.process",
        "webbrowser",
        "popen2",
        "commands",
        "pexpect",
        "sh",
        "plumbum",
        "distutils.spawn",
        "_winapi",
        "venv",
        "ensurepip",
        "antigravity",
        "pydoc",
        "pip",
    }
)
PROCESS_FUNCTIONS = frozenset(
    {
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "os.posix_spawn",
        "os.posix_spawnp",
        "os.plock",
        *_OS_EXEC,
        *_OS_SPAWN,
        *(
            f"{mod}.{name.split('.', 1)[1]}"
            for mod in ("posix", "nt")
            for name in (
                "os.system",
                "os.popen",
                "os.fork",
                "os.forkpty",
                "os.posix_spawn",
                "os.posix_spawnp",
                "os.startfile",
                *_OS_EXEC,
                *_OS_SPAWN,
            )
        ),
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "concurrent.futures.ProcessPoolExecutor",
        "platform.popen",
    }
)

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

DYNAMIC_BUILTINS = frozenset(
    {
        "builtins.eval",
        "builtins.exec",
        "builtins.compile",
        "builtins.__import__",
        "builtins.breakpoint",
        "builtins.execfile",
        # Standard-library helpers that evaluate Python source given as a string:
        "typing.get_type_hints",
        "inspect.get_annotations",
        "timeit.timeit",
        "timeit.repeat",
        "timeit.Timer",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "pdb.run",
        "pdb.runeval",
        "pdb.runctx",
        "pdb.runcall",
        "trace.Trace",
        "doctest",
        "logging.config.fileConfig",
        "logging.config.dictConfig",
        "logging.config.listen",
        "sys.breakpointhook",
        "sys.__breakpointhook__",
    }
)
IMPORT_MACHINERY_MODULES = frozenset(
    {
        "importlib",
        "imp",
        "runpy",
        "pkgutil",
        "zipimport",
        "code",
        "codeop",
        "pydoc",
    }
)
IMPORT_MACHINERY_NAMES = frozenset(
    {
        "sys.modules",
        "sys.meta_path",
        "sys.path_hooks",
        "sys.path_importer_cache",
        "sys.__loader__",
        "logging.config.BaseConfigurator",
        "pydoc.locate",
    }
)
INTROSPECTION_NAMES = frozenset(
    {
        "builtins",
        "builtins.globals",
        "builtins.vars",
        "builtins.locals",
        "sys._getframe",
        "inspect.currentframe",
        "inspect.stack",
        "inspect.trace",
        "inspect.getouterframes",
        "types.FunctionType",
        "types.CodeType",
        "types.LambdaType",
        "gc.get_referrers",
        "gc.get_objects",
        "gc.get_referents",
        "inspect.getattr_static",
        "inspect.getmembers",
        "inspect.getmembers_static",
    }
)
ESCAPE_ATTRIBUTES = frozenset(
    {
        "__globals__",
        "__builtins__",
        "__subclasses__",
        "__code__",
        "__getattribute__",
        "f_globals",
        "f_locals",
        "f_builtins",
        "gi_frame",
        "cr_frame",
        "ag_frame",
        "func_globals",
        "__self__",
        "__loader__",
        "gi_code",
        "cr_code",
        "ag_code",
        "tb_frame",
        "f_back",
    }
)
DESERIALIZER_MODULES = frozenset(
    {
        "pickle",
        "cPickle",
        "_pickle",
        "marshal",
        "shelve",
        "dill",
        "cloudpickle",
        "jsonpickle",
        "joblib",
        "pickletools",
    }
)
DESERIALIZER_FUNCTIONS = frozenset(
    {
        "yaml.unsafe_load",
        "yaml.unsafe_load_all",
        "pandas.read_pickle",
        "torch.load",
        "numpy.load",
        "yaml.full_load",
        "yaml.full_load_all",
        "yaml.UnsafeLoader",
        "yaml.Loader",
        "yaml.CLoader",
        "yaml.CUnsafeLoader",
        "yaml.FullLoader",
        "yaml.CFullLoader",
    }
)
YAML_LOADERS = frozenset({"yaml.load", "yaml.load_all"})
YAML_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
NATIVE_MODULES = frozenset({"ctypes", "_ctypes", "cffi"})
# Event-loop and socket-ish methods reached on objects we cannot type (``loop.X(...)``).
PROCESS_METHODS = frozenset({"subprocess_exec", "subprocess_shell"})
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
# Modules that host dangerous functions: passing one around as a value defeats name
# resolution (``def m(): return os`` → ``m().system``), so that is itself a finding.
MODULE_HOSTS = frozenset(
    {
        "os",
        "posix",
        "nt",
        "sys",
        "builtins",
        "shutil",
        "io",
        "_io",
        "codecs",
        "asyncio",
        "importlib",
        "subprocess",
        "socket",
        "pickle",
        "marshal",
        "ctypes",
        "pty",
        "multiprocessing",
        "runpy",
        "operator",
        "functools",
        "inspect",
        "gc",
        "types",
        "pathlib",
        "tempfile",
    }
)
# Attribute names through which one module re-exports another (``shutil.os``).
REEXPORTED_MODULES = frozenset(
    {
        "os",
        "sys",
        "builtins",
        "subprocess",
        "socket",
        "importlib",
        "posix",
        "nt",
        "shutil",
        "pickle",
        "marshal",
        "io",
        "codecs",
        "_io",
        "types",
        "ctypes",
        "urllib",
        "http",
        "ssl",
        "pty",
    }
)


def reexport_suffixes(qualname: str) -> list[str]:
    """``shutil.os.system`` may be ``os.system``: also check suffixes at re-exported modules."""
    parts = qualname.split(".")
    return [".".join(parts[i:]) for i in range(1, len(parts) - 0) if parts[i] in REEXPORTED_MODULES]


def matches(qualname: str, names: Iterable[str]) -> str | None:
    """The entry that is ``qualname`` or a parent module of it (shortest first).

    Prefix lookups in a set: O(depth of the name), whatever the size of the catalog.
    """
    table = names if isinstance(names, frozenset | set) else frozenset(names)
    prefix = ""
    for part in qualname.split("."):
        prefix = f"{prefix}.{part}" if prefix else part
        if prefix in table:
            return prefix
    return None


def builtin_qualname(name: str) -> str:
    """Config may name builtins bare (``eval``); normalise to ``builtins.eval``."""
    if "." in name:
        return name
    return f"builtins.{name}"
