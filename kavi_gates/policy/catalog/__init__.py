"""What each policy category means, as qualified names. Categories do the work, not config.

A module name covers its submodules and everything in them (``urllib.request`` covers
``urllib.request.urlopen``); a function name covers only itself. The tables are plain data
(no libcst): the pre-filter and the finding-code declarations read them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from kavi_gates.policy.catalog.dynamic import (
    ANCHOR_IMPORTERS,
    DESERIALIZER_FUNCTIONS,
    DESERIALIZER_MODULES,
    DYNAMIC_BUILTINS,
    DYNAMIC_IMPORTERS,
    ESCAPE_ATTRIBUTES,
    IMPORT_MACHINERY_MODULES,
    IMPORT_MACHINERY_NAMES,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    MODULE_TABLE_GETTERS,
    NATIVE_MODULES,
    RESOLVERS,
    SAFE_SUBMODULES,
    STAR_EXPORTS,
    YAML_LOADERS,
    YAML_SAFE_LOADERS,
)
from kavi_gates.policy.catalog.network import NETWORK_FUNCTIONS, NETWORK_METHODS, NETWORK_MODULES
from kavi_gates.policy.catalog.process import PROCESS_FUNCTIONS, PROCESS_METHODS, PROCESS_MODULES

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
# Longest re-export suffix worth building by default: no built-in catalogue entry is longer.
_SUFFIX_PARTS = 8


def reexport_suffixes(qualname: str, max_parts: int = _SUFFIX_PARTS) -> list[str]:
    """``shutil.os.system`` may be ``os.system``: also check suffixes at re-exported modules.

    Only the first parts of a suffix can match a catalogue entry, so each suffix is cut
    short: a chain of a thousand ``os.os.os…`` costs a thousand short strings, not a
    million characters."""
    parts = qualname.split(".")
    return [
        ".".join(parts[i : i + max_parts])
        for i in range(1, len(parts))
        if parts[i] in REEXPORTED_MODULES
    ]


@lru_cache(maxsize=256)
def table_depth(table: frozenset[str]) -> int:
    """The most parts any entry of ``table`` has."""
    return max((name.count(".") + 1 for name in table), default=0)


def matches(qualname: str, names: Iterable[str]) -> str | None:
    """The entry that is ``qualname`` or a parent module of it (shortest first).

    Prefix lookups in a set, never deeper than the table's longest entry: O(depth of the
    catalogue), whatever the size of the catalog or the length of the name.
    """
    table = names if isinstance(names, frozenset) else frozenset(names)
    end = -1
    for _ in range(table_depth(table)):
        end = qualname.find(".", end + 1)
        prefix = qualname if end < 0 else qualname[:end]
        if prefix in table:
            return prefix
        if end < 0:
            break
    return None


# Compatibility layers that re-export standard-library modules under other names: a name
# reached through one is the module it stands for (``six.moves.http_client`` is
# ``http.client``), so every table sees the standard name.
_MOVED_PREFIXES = ("six.moves.", "future.moves.", "future.backports.", "future.standard_library.")
_SIX_MOVES = {
    "http_client": "http.client",
    "http_cookiejar": "http.cookiejar",
    "http_cookies": "http.cookies",
    "BaseHTTPServer": "http.server",
    "CGIHTTPServer": "http.server",
    "SimpleHTTPServer": "http.server",
    "xmlrpc_client": "xmlrpc.client",
    "xmlrpc_server": "xmlrpc.server",
    "urllib_parse": "urllib.parse",
    "urllib_error": "urllib.error",
    "urllib_request": "urllib.request",
    "urllib_response": "urllib.response",
    "urllib_robotparser": "urllib.robotparser",
    "cPickle": "pickle",
    "reload_module": "importlib.reload",
    "dbm_gnu": "dbm.gnu",
    "dbm_ndbm": "dbm.ndbm",
    "getcwd": "os.getcwd",
    "getcwdb": "os.getcwdb",
    "input": "builtins.input",
    "intern": "sys.intern",
    "reduce": "functools.reduce",
    "shlex_quote": "shlex.quote",
    "html_parser": "html.parser",
    "html_entities": "html.entities",
}
_SIX_NAMES = {"six.exec_": "builtins.exec", "six.print_": "builtins.print"}


def canonical(qualname: str) -> str:
    """The standard name of something reached through a compatibility layer (``six.moves``,
    ``future``); any other name as it is. Cheap for the common case (one prefix test)."""
    if not qualname.startswith(("six.", "future.")):
        return qualname
    if qualname in _SIX_NAMES:
        return _SIX_NAMES[qualname]
    for prefix in _MOVED_PREFIXES:
        if qualname.startswith(prefix):
            rest = qualname[len(prefix) :]
            head, dot, tail = rest.partition(".")
            return _SIX_MOVES.get(head, head) + dot + tail if rest else qualname
    return qualname


def exempt(qualname: str, hit: str, safe: frozenset[str]) -> bool:
    """Is ``qualname`` (matched by table entry ``hit``) inside a safe submodule of it?"""
    return any(len(s) > len(hit) and (qualname == s or qualname.startswith(s + ".")) for s in safe)


def builtin_qualname(name: str) -> str:
    """Config may name builtins bare (``eval``); normalise to ``builtins.eval``."""
    if "." in name:
        return name
    return f"builtins.{name}"


# Words through which resolution reaches a name spelled only inside string literals
# (``getattr(os, "sys" "tem")``, ``__import__("o" "s")``, ``sys.modules["o" "s"]``): a
# rule that matches names must also look at files that contain one of these. Reaching
# ``a.b.c`` by an importer takes importing ``a`` or naming ``c``: first and last parts.
INDIRECTION_WORDS = frozenset(
    {
        "getattr",
        "getattr_static",
        "attrgetter",
        "methodcaller",
        "__dict__",
        "__builtins__",
        "builtins",
    }
)


def key_words(*tables: Iterable[str]) -> frozenset[str]:
    """The first and last part of every name in ``tables``: reaching ``a.b.c`` takes
    importing ``a`` or naming ``c`` (``builtins`` aside: builtins need no import)."""
    return frozenset(
        part
        for table in tables
        for name in table
        for part in {name.split(".")[0], name.rsplit(".", 1)[-1]}
        if part != "builtins"
    )


# Importers are reached through their module or by their name; anchor importers only
# through theirs (``files`` and ``path`` name too much else to be worth a word).
INDIRECTION_WORDS |= key_words(
    DYNAMIC_IMPORTERS - ANCHOR_IMPORTERS, MODULE_TABLE_GETTERS
) | frozenset(name.split(".")[0] for name in ANCHOR_IMPORTERS)


def words_of(*tables: Iterable[str]) -> frozenset[str]:
    """Every identifier in the qualified names of ``tables`` (``builtins`` aside): the words
    one of which a file must contain to reach any of them."""
    return frozenset(
        part for table in tables for name in table for part in name.split(".") if part != "builtins"
    )


__all__ = [
    "ANCHOR_IMPORTERS",
    "DESERIALIZER_FUNCTIONS",
    "DESERIALIZER_MODULES",
    "DYNAMIC_BUILTINS",
    "DYNAMIC_IMPORTERS",
    "ESCAPE_ATTRIBUTES",
    "IMPORT_MACHINERY_MODULES",
    "IMPORT_MACHINERY_NAMES",
    "INDIRECTION_WORDS",
    "INTROSPECTION_NAMES",
    "MODULE_HOSTS",
    "MODULE_TABLE_GETTERS",
    "NATIVE_MODULES",
    "NETWORK_FUNCTIONS",
    "NETWORK_METHODS",
    "NETWORK_MODULES",
    "PROCESS_FUNCTIONS",
    "PROCESS_METHODS",
    "PROCESS_MODULES",
    "REEXPORTED_MODULES",
    "RESOLVERS",
    "SAFE_SUBMODULES",
    "STAR_EXPORTS",
    "YAML_LOADERS",
    "YAML_SAFE_LOADERS",
    "builtin_qualname",
    "canonical",
    "exempt",
    "key_words",
    "matches",
    "reexport_suffixes",
    "table_depth",
    "words_of",
]
