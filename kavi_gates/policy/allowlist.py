"""``policy.imports: allow``: the curated safe standard library, and how a name is judged.

A denylist never ends (every new client library is a new miss); an allowlist names what a
skill may use and refuses the rest. The curated set holds standard-library modules and
names that compute: no module that starts processes, opens connections, writes or deletes
files, loads code by name or reaches the interpreter's internals. Where a module mixes both
(``os``), only its safe names are listed (``os.path``, ``os.sep``): ``import os`` is then
allowed, and every use of it that is not one of those names is a finding. The project adds
its own trusted packages in ``policy.allowed_imports`` (``pydantic``, ``kavi_skills``).

An entry allows itself and everything under it (``logging`` allows
``logging.getLogger``); ``EXCLUDED`` names stay outside even under an allowed entry
(``logging.FileHandler`` writes files, ``pydantic.ImportString`` imports by name) unless
the project names one exactly in ``allowed_imports``. The longest matching entry decides.
Plain data and string work: never imports libcst.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from kavi_gates.policy.catalog import (
    DESERIALIZER_MODULES,
    IMPORT_MACHINERY_MODULES,
    INDIRECTION_WORDS,
    NATIVE_MODULES,
    NETWORK_MODULES,
    PROCESS_MODULES,
)
from kavi_gates.policy.catalog.secrets import SKILL_API, SKILL_API_MODULES

# Whole modules: pure computation, data formats, text, numbers, time.
_SAFE_MODULES = (
    "__future__",
    "abc",
    "array",
    "base64",
    "binascii",
    "bisect",
    "calendar",
    "cmath",
    "collections",
    "colorsys",
    "contextlib",
    "contextvars",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fnmatch",
    "fractions",
    "functools",
    "graphlib",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "logging",
    "math",
    "numbers",
    "operator",
    "pprint",
    "random",
    "re",
    "reprlib",
    "secrets",
    "statistics",
    "string",
    "struct",
    "textwrap",
    "time",
    "tomllib",
    "traceback",
    "typing",
    "unicodedata",
    "urllib.parse",
    "warnings",
    "weakref",
    "zlib",
    "zoneinfo",
)
# Single names of modules that also hold process, file-write or import machinery.
_SAFE_NAMES = (
    # os: path manipulation and read-only path queries; not os itself (system, remove,
    # environ, exec*, fork, ...).
    "os.path",
    "os.fspath",
    "os.PathLike",
    "os.sep",
    "os.altsep",
    "os.extsep",
    "os.pathsep",
    "os.linesep",
    "os.curdir",
    "os.pardir",
    # sys: facts about the interpreter and the standard streams; not sys.modules,
    # sys.settrace, sys.path, ...
    "sys.version_info",
    "sys.hexversion",
    "sys.platform",
    "sys.byteorder",
    "sys.maxsize",
    "sys.float_info",
    "sys.stdout",
    "sys.stderr",
    # in-memory streams; not io.open or io.FileIO.
    "io.StringIO",
    "io.BytesIO",
    # pure paths; not pathlib.Path (write_text, unlink, ...).
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    # in-memory compression; not the open()/File classes.
    "gzip.compress",
    "gzip.decompress",
    "bz2.compress",
    "bz2.decompress",
    "lzma.compress",
    "lzma.decompress",
    # uuid1/getnode may run ifconfig or ipconfig.
    "uuid.UUID",
    "uuid.uuid3",
    "uuid.uuid4",
    "uuid.uuid5",
    "uuid.NAMESPACE_DNS",
    "uuid.NAMESPACE_URL",
    "uuid.NAMESPACE_OID",
    "uuid.NAMESPACE_X500",
    "types.SimpleNamespace",
    "types.MappingProxyType",
    # types that annotations and isinstance checks name; not FunctionType or CodeType
    # (a function from a code object runs bytecode no scan has seen).
    "types.TracebackType",
    "types.NoneType",
    "types.UnionType",
    "types.GenericAlias",
    "types.EllipsisType",
    "types.NotImplementedType",
    "ast.literal_eval",
)
SAFE_IMPORTS = frozenset(_SAFE_MODULES + _SAFE_NAMES)
"""The curated set every ``imports: allow`` policy starts from."""

EXCLUDED = frozenset(
    {
        # writes files, opens sockets, or listens and executes configuration
        "logging.FileHandler",
        "logging.basicConfig",
        "logging.handlers",
        "logging.config",
        # attribute access by a string: getattr's power (operator.attrgetter("system"))
        "operator.attrgetter",
        "operator.methodcaller",
        # Formatter().get_field("0.__init__.__globals__", (cls,), {}) returns the object:
        # attribute access by a string, like attrgetter
        "string.Formatter",
        # evaluate strings as code (forward references)
        "typing.get_type_hints",
        "typing.ForwardRef",
        # changes the working directory that relative write paths are proven against
        "contextlib.chdir",
        # allowed modules' names for things outside the set: enum.bltns is builtins
        # (exec, open, __import__); dataclasses.FunctionType builds a function from a
        # code object
        "enum.bltns",
        "dataclasses.FunctionType",
        # import by name: a string in data becomes any module or function
        "pydantic.ImportString",
        "pydantic.types.ImportString",
        "pydantic.v1",
        "pydantic.PyObject",
        # the deprecated API unpickles (parse.load_str_bytes, load_file); the mypy plugin
        # is a whole type checker that reads and writes its cache
        "pydantic.deprecated",
        "pydantic.mypy",
        # pathlib.Path (write_text, unlink) under another name, and the field types whose
        # validation hands the skill a pathlib.Path
        "pydantic.types.Path",
        *(
            f"{module}.{name}"
            for module in ("pydantic", "pydantic.types")
            for name in ("FilePath", "DirectoryPath", "NewPath", "SocketPath")
        ),
    }
)
"""Names under an allowed entry that stay outside unless ``allowed_imports`` names them
exactly (an explicit, reviewable decision)."""

PACKAGE_APIS: dict[str, tuple[str, ...]] = {
    # kavi_skills is also the runtime that runs skills: its executor, sandbox, loader,
    # records, MCP server, LLM and HTTP clients start processes, open sockets and write.
    # A skill needs the API it is written against, and only that.
    "kavi_skills": tuple(sorted(SKILL_API | SKILL_API_MODULES)),  # one list, with KAV121
}
"""Packages that are also machinery: ``allowed_imports: [kavi_skills]`` allows their
public API, not all of them; a project that trusts more names it exactly
(``kavi_skills.chain``)."""

HARMLESS_DUNDERS = frozenset({"__name__", "__doc__", "__version__", "__all__", "__qualname__"})
"""Dunder attributes of an allowed module that reach nothing else."""

KNOWN_MODULES = frozenset(sys.stdlib_module_names) | frozenset(
    name.split(".")[0]
    for table in (
        PROCESS_MODULES,
        NETWORK_MODULES,
        DESERIALIZER_MODULES,
        NATIVE_MODULES,
        IMPORT_MACHINERY_MODULES,
    )
    for name in table
)
"""Names that, as an attribute of another module, are most likely a module it imported
(``logging.os``, an allowed package's ``client.requests``): reaching one that way must be
allowed by its own name."""

ALLOWLIST_WORDS = frozenset({"import", "__import__", "importlib", "import_module", "help"}) | (
    INDIRECTION_WORDS
)
"""Words one of which a file must contain to import anything (the pre-filter adds them
when ``policy.imports`` is ``allow``)."""


class ImportAllowlist:
    """The curated set plus a project's additions, and the judgement of one dotted name.

    Every question costs time in the depth of the tables (their longest entry), never in
    the length of the name: a chain of a thousand attributes is judged in linear time."""

    def __init__(self, added: Iterable[str] = ()) -> None:
        added = frozenset(added)
        self.allowed = SAFE_IMPORTS | frozenset(
            api for entry in added for api in PACKAGE_APIS.get(entry, (entry,))
        )
        self.excluded = EXCLUDED - added
        self._depth = max(entry.count(".") + 1 for entry in self.allowed | self.excluded)
        self._ancestors = frozenset(
            ".".join(parts[:i])
            for parts in (entry.split(".") for entry in self.allowed)
            for i in range(1, len(parts))
        )

    def allows(self, name: str) -> bool:
        """Is ``name`` (a module or a dotted name in one) allowed?"""
        return self._allows(name.split(".", self._depth)[: self._depth])

    def covers(self, name: str) -> bool:
        """Is ``name`` a module some of whose names are allowed (``os`` for ``os.path``)?"""
        return name in self._ancestors

    def reach_problem(self, name: str, module: str) -> str | None:
        """What is wrong with ``name`` (allowed as such) past ``module``, the module it was
        imported from: a private name (``random._os``), or another module reached as an
        attribute (``logging.os``) that the allowlist does not allow by its own name."""
        if len(name) <= len(module):
            return None
        parts = name.split(".")
        for index in range(module.count(".") + 1, len(parts)):
            part = parts[index]
            if part.startswith("_") and part not in HARMLESS_DUNDERS:
                kind = "special attribute" if part.endswith("__") else "private name"
                return f"the {kind} '{part}' of '{_head(parts, index)}'"
            if part in KNOWN_MODULES and not self._allows(parts[index : index + self._depth]):
                return f"the module '{part}' through '{_head(parts, index)}'"
        return None

    def _allows(self, parts: list[str]) -> bool:
        """``parts``: a name's first parts, at most the tables' depth."""
        return _longest(parts, self.allowed) > _longest(parts, self.excluded)


def _longest(parts: list[str], table: frozenset[str]) -> int:
    """Parts in the longest entry of ``table`` that is a prefix of ``parts``."""
    found = 0
    prefix = ""
    for length, part in enumerate(parts, start=1):
        prefix = f"{prefix}.{part}" if prefix else part
        if prefix in table:
            found = length
    return found


def _head(parts: list[str], index: int) -> str:
    shown = ".".join(parts[: min(index, 6)])
    return shown if index <= 6 else shown + "..."


__all__ = [
    "ALLOWLIST_WORDS",
    "EXCLUDED",
    "PACKAGE_APIS",
    "SAFE_IMPORTS",
    "ImportAllowlist",
]
