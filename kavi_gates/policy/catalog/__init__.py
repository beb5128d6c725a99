"""What each policy category means, as qualified names. Categories do the work, not config.

A module name covers its submodules and everything in them (``urllib.request`` covers
``urllib.request.urlopen``); a function name covers only itself. The tables are plain data
(no libcst): the pre-filter and the finding-code declarations read them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from kavi_gates.policy.catalog.dynamic import (
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


def builtin_qualname(name: str) -> str:
    """Config may name builtins bare (``eval``); normalise to ``builtins.eval``."""
    if "." in name:
        return name
    return f"builtins.{name}"


# Words through which resolution reaches a name spelled only inside string literals
# (``getattr(os, "sys" "tem")``, ``__import__("o" "s")``, ``sys.modules["o" "s"]``): a
# rule that matches names must also look at files that contain one of these.
INDIRECTION_WORDS = frozenset(
    {"getattr", "attrgetter", "__dict__", "__builtins__", "builtins"}
) | frozenset(
    part
    for name in DYNAMIC_IMPORTERS | MODULE_TABLE_GETTERS
    for part in name.split(".")
    if part != "builtins"
)


def words_of(*tables: Iterable[str]) -> frozenset[str]:
    """Every identifier in the qualified names of ``tables`` (``builtins`` aside): the words
    one of which a file must contain to reach any of them."""
    return frozenset(
        part for table in tables for name in table for part in name.split(".") if part != "builtins"
    )


__all__ = [
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
    "YAML_LOADERS",
    "YAML_SAFE_LOADERS",
    "builtin_qualname",
    "matches",
    "reexport_suffixes",
    "table_depth",
    "words_of",
]
