"""``allowed_write_paths`` — every file write or delete must target a literal path inside an
allowed directory; a path computed at run time cannot be proven, so it is a finding."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from kavi_gates.policy.analysis import ModuleFacts, Site, literal_string
from kavi_gates.policy.catalog import reexport_suffixes
from kavi_gates.policy.rule import Rule, Violation

# qualified name → (path argument positions/keywords, mode position, mode keyword, default mode)
_OPENERS: dict[str, tuple[tuple[tuple[int, str], ...], int, str, str]] = {
    "builtins.open": (((0, "file"),), 1, "mode", "r"),
    "io.open": (((0, "file"),), 1, "mode", "r"),
    "io.FileIO": (((0, "file"),), 1, "mode", "r"),
    "_io.open": (((0, "file"),), 1, "mode", "r"),
    "_io.FileIO": (((0, "file"),), 1, "mode", "r"),
    "tarfile.TarFile": (((0, "name"),), 1, "mode", "r"),
    "zipfile.PyZipFile": (((0, "file"),), 1, "mode", "r"),
    "codecs.open": (((0, "filename"),), 1, "mode", "r"),
    "gzip.open": (((0, "filename"),), 1, "mode", "rb"),
    "gzip.GzipFile": (((0, "filename"),), 1, "mode", "rb"),
    "bz2.open": (((0, "filename"),), 1, "mode", "rb"),
    "bz2.BZ2File": (((0, "filename"),), 1, "mode", "r"),
    "lzma.open": (((0, "filename"),), 1, "mode", "rb"),
    "lzma.LZMAFile": (((0, "filename"),), 1, "mode", "r"),
    "tarfile.open": (((0, "name"),), 1, "mode", "r"),
    "zipfile.ZipFile": (((0, "file"),), 1, "mode", "r"),
    "dbm.open": (((0, "file"),), 1, "flag", "r"),
}
_P0, _P1 = ((0, "path"),), ((1, "dst"),)
_WRITERS: dict[str, tuple[tuple[int, str], ...]] = {
    **{
        f"os.{n}": _P0
        for n in (
            "remove",
            "unlink",
            "rmdir",
            "removedirs",
            "mkdir",
            "makedirs",
            "truncate",
            "chmod",
            "lchmod",
            "chown",
            "lchown",
            "utime",
            "mkfifo",
            "mknod",
            "chflags",
            "lchflags",
            "setxattr",
            "removexattr",
        )
    },
    **{
        f"os.{n}": ((0, "src"), (1, "dst"))
        for n in ("rename", "renames", "replace", "link", "symlink")
    },
    **{
        f"shutil.{n}": _P1
        for n in ("copy", "copy2", "copyfile", "copytree", "copymode", "copystat")
    },
    "shutil.move": ((0, "src"), (1, "dst")),
    "shutil.rmtree": _P0,
    "shutil.chown": _P0,
    "shutil.make_archive": ((0, "base_name"),),
    "shutil.unpack_archive": ((1, "extract_dir"),),
    "sqlite3.connect": ((0, "database"),),
    "os.chdir": _P0,
    "logging.basicConfig": ((99, "filename"),),
    "logging.FileHandler": ((0, "filename"),),
    "logging.handlers.RotatingFileHandler": ((0, "filename"),),
    "logging.handlers.TimedRotatingFileHandler": ((0, "filename"),),
    "logging.handlers.WatchedFileHandler": ((0, "filename"),),
    "numpy.save": ((0, "file"),),
    "numpy.savez": ((0, "file"),),
    "numpy.savez_compressed": ((0, "file"),),
    "numpy.savetxt": ((0, "fname"),),
    **{
        f"tempfile.{n}": ((99, "dir"),)
        for n in (
            "mkstemp",
            "mkdtemp",
            "NamedTemporaryFile",
            "TemporaryFile",
            "TemporaryDirectory",
            "SpooledTemporaryFile",
        )
    },
}
# Methods of path objects that write or delete (receiver is the path).
_PATH_METHODS = frozenset(
    {
        "write_text",
        "write_bytes",
        "touch",
        "mkdir",
        "unlink",
        "rmdir",
        "rename",
        "replace",
        "symlink_to",
        "hardlink_to",
        "link_to",
        "chmod",
        "lchmod",
    }
)
_TWO_PATH_METHODS = frozenset({"rename", "replace", "symlink_to", "hardlink_to", "link_to"})
# Methods of data objects that write to the path given as first argument.
_SAVE_METHODS = frozenset(
    {
        "to_csv",
        "to_json",
        "to_parquet",
        "to_excel",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "to_stata",
        "savefig",
        "tofile",
    }
)
# Archive methods that write into a directory (default: the working directory).
_EXTRACT_METHODS = frozenset({"extractall", "extract"})
_NOT_PATHS = (cst.Dict, cst.List, cst.Set, cst.Integer, cst.Float, cst.Imaginary, cst.Tuple)
_PATH_CTORS = frozenset(
    {
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.PurePosixPath",
        "pathlib.WindowsPath",
        "pathlib.PureWindowsPath",
    }
)
_SAFE_TARGETS = frozenset({":memory:", ""})


@dataclass(frozen=True)
class WriteOp:
    node: cst.CSTNode
    what: str
    path: str | None
    """The literal path after evaluation, or None when it is computed at run time."""


def _arg(call: cst.Call, pos: int, keyword: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in positional[: pos + 1]):
        return cst.Name("__starred__")  # unknown: fails closed as a computed value
    return positional[pos].value if len(positional) > pos else None


def _has_unknown_kwargs(call: cst.Call) -> bool:
    return any(a.star == "**" for a in call.args)


def literal_path(
    expr: cst.CSTNode | None, facts: ModuleFacts, site: Site, depth: int = 0
) -> str | None:
    """Evaluate a path expression built only from literals (and module constants)."""
    if expr is None or depth > 8:
        return None
    text = literal_string(expr)
    if text is not None:
        return text
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value.decode("latin-1") if isinstance(value, bytes) else None
    if isinstance(expr, cst.Name):
        const = facts.module_constant(expr.value, site.scope)
        return literal_path(const, facts, site, depth + 1) if const is not None else None
    if isinstance(expr, cst.BinaryOperation):
        left = literal_path(expr.left, facts, site, depth + 1)
        right = literal_path(expr.right, facts, site, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(expr.operator, cst.Divide):
            return posixpath.join(left, right)
        if isinstance(expr.operator, cst.Add):
            return left + right
        return None
    if isinstance(expr, cst.Call):
        funcs = facts.resolve(expr.func, site.scope, site.order)
        if funcs and (funcs <= _PATH_CTORS or funcs == {"os.path.join"}):
            parts = [literal_path(a.value, facts, site, depth + 1) for a in expr.args]
            if any(p is None for p in parts) or any(a.keyword or a.star for a in expr.args):
                return None
            return posixpath.join(*parts) if parts else "."  # type: ignore[arg-type]
    return None


def _is_write_mode(mode: cst.BaseExpression | None, default: str, flag_style: bool) -> bool:
    if mode is None:
        text: str | None = default
    else:
        text = literal_string(mode)
    if text is None:
        return True  # a computed mode may be a write: fail closed
    chars = "cnw" if flag_style else "wax+"
    return any(c in text for c in chars)


def write_operations(facts: ModuleFacts) -> Iterator[WriteOp]:
    """Every write or delete the code can do, with its target path when provable."""
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        yield from _resolved_writes(call, funcs, facts, site)
        if isinstance(call.func, cst.Attribute) and not any(
            q.startswith("builtins.")
            or _known_writer(q)
            or any(_known_writer(x) for x in reexport_suffixes(q))
            for q in funcs
        ):
            yield from _method_writes(call, call.func, facts, site)
    # A writer passed around as a value (functools.partial(open, ...)) cannot be checked.
    for ref, quals in facts.resolved_refs:
        if id(ref.node) in facts.called_ids:
            continue
        writer = sorted(q for q in quals if q in _OPENERS or q in _WRITERS or q == "os.open")
        if writer:
            yield WriteOp(ref.node, f"{writer[0].removeprefix('builtins.')} (as a value)", None)


def _resolved_writes(
    call: cst.Call, funcs: frozenset[str], facts: ModuleFacts, site: Site
) -> Iterator[WriteOp]:
    expanded = set(funcs)
    for qual in funcs:  # shutil.os.remove is os.remove
        expanded.update(reexport_suffixes(qual))
    for qual in sorted(expanded):
        if qual in _OPENERS:
            paths, mode_pos, mode_kw, default = _OPENERS[qual]
            mode = _arg(call, mode_pos, mode_kw)
            if _has_unknown_kwargs(call) or _is_write_mode(mode, default, qual == "dbm.open"):
                for pos, kw in paths:
                    target = _arg(call, pos, kw)
                    yield WriteOp(
                        call, qual.removeprefix("builtins."), literal_path(target, facts, site)
                    )
            return
        if qual == "os.open":
            flags = _arg(call, 1, "flags")
            read_only = flags is not None and facts.resolve(flags, site.scope, site.order) == {
                "os.O_RDONLY"
            }
            if not read_only:
                yield WriteOp(call, qual, literal_path(_arg(call, 0, "path"), facts, site))
            return
        if qual in _WRITERS:
            for pos, kw in _WRITERS[qual]:
                target = _arg(call, pos, kw)
                if target is None and pos == 99:
                    if qual.startswith("tempfile."):  # default: the system temp directory
                        yield WriteOp(call, qual, None)
                    continue
                yield WriteOp(call, qual, literal_path(target, facts, site))
            return
        if qual.startswith("pathlib.") and qual.rsplit(".", 1)[-1] in _PATH_METHODS:
            yield WriteOp(call, qual, literal_path(_arg(call, 0, "self"), facts, site))
            return


def _known_writer(qual: str) -> bool:
    return (
        qual in _OPENERS
        or qual in _WRITERS
        or qual == "os.open"
        or (qual.startswith("pathlib.") and qual.rsplit(".", 1)[-1] in _PATH_METHODS)
    )


def _not_a_path_receiver(receiver: cst.BaseExpression, facts: ModuleFacts, site: Site) -> bool:
    """Receivers that are certainly not path objects: instances of classes defined in this
    file, and values returned by known library functions other than path constructors."""
    if not isinstance(receiver, cst.Call):
        return False
    func = receiver.func
    if isinstance(func, cst.Name):
        owner = facts._owner(func.value, site.scope)
        if owner is not None and all(b.kind == "class" for b in owner.bindings[func.value]):
            return True
    quals = facts.resolve(func, site.scope, site.order)
    return bool(quals) and not any(
        q.startswith(("pathlib.", "os.path.", "tempfile.", "zipfile.", "tarfile.")) for q in quals
    )


def _method_writes(
    call: cst.Call, func: cst.Attribute, facts: ModuleFacts, site: Site
) -> Iterator[WriteOp]:
    method = func.attr.value
    positional = [a for a in call.args if a.keyword is None]
    if method in _EXTRACT_METHODS:
        target = _arg(call, 0 if method == "extractall" else 1, "path")
        yield WriteOp(call, f".{method}()", literal_path(target, facts, site))
        return
    if method in _PATH_METHODS and _not_a_path_receiver(func.value, facts, site):
        return
    if method in _PATH_METHODS:
        target_kw = _arg(call, 99, "target")
        if (
            method in ("replace", "rename")
            and target_kw is None
            and (len(positional) != 1 or isinstance(positional[0].value, _NOT_PATHS))
        ):
            return  # str.replace(old, new), dict-style rename(mapping): not path operations
        yield WriteOp(call, f".{method}()", literal_path(func.value, facts, site))
        if method in _TWO_PATH_METHODS and (positional or target_kw is not None):
            second = target_kw if target_kw is not None else positional[0].value
            yield WriteOp(call, f".{method}()", literal_path(second, facts, site))
    elif method == "open":
        if _not_a_path_receiver(func.value, facts, site):
            return
        modes = [literal_string(a.value) for a in call.args[:2] if a.keyword is None]
        keyword_mode = _arg(call, 99, "mode")
        writes = any(
            m is not None and m and set(m) <= set("rwxabt+U") and any(c in m for c in "wax+")
            for m in modes
        )
        if writes or (keyword_mode is not None and _is_write_mode(keyword_mode, "r", False)):
            yield WriteOp(call, ".open()", literal_path(func.value, facts, site))
    elif method in _SAVE_METHODS and call.args:
        target = _arg(call, 0, "path_or_buf")
        yield WriteOp(call, f".{method}()", literal_path(target, facts, site))


def normalise(path: str) -> str:
    """Separators unified, ``.`` and ``..`` folded: ``vault_out/../x`` → ``x``."""
    return posixpath.normpath(path.replace("\\", "/")) if path else path


def inside(path: str, allowed: tuple[str, ...]) -> bool:
    """Is a literal path strictly inside one of the allowed directories (component-wise)?"""
    target = normalise(path)
    if target.startswith("../") or target == ".." or target.startswith("~"):
        return False
    parts = target.split("/")
    for root in allowed:
        root_parts = normalise(root).split("/")
        if root_parts == ["."]:
            return not posixpath.isabs(target)
        if len(parts) > len(root_parts) and parts[: len(root_parts)] == root_parts:
            return True
    return False


class WriteOutsideAllowed(Rule):
    """A file write or delete targets a literal path outside ``allowed_write_paths``.

    Paths are normalised first and compared by component: ``vault_out/../x`` is outside
    ``vault_out/`` and ``vault_outside/x`` is not inside ``vault_out/``. Covers open modes
    w/a/x/+ (also given by keyword), pathlib writes, os and shutil file operations,
    io/codecs/gzip opens, sqlite3.connect, logging file handlers and numpy savers.
    """

    id = "KAV501"
    category = "write-paths"
    MESSAGE = "write outside the allowed paths"
    VALID = [
        "with open('vault_out/note.md', 'w') as f:\n    f.write('x')\n",
        "data = open('/etc/hosts').read()\n",
        "from pathlib import Path\nPath('artifacts_out') / 'r.txt'\n",
        "from pathlib import Path\n(Path('vault_out') / 'a.md').write_text('x')\n",
        "import os\nos.makedirs(os.path.join('vault_out', 'daily'))\n",
        "OUT = 'vault_out/log.txt'\nopen(OUT, 'a').close()\n",
    ]
    INVALID = [
        "open('notes.md', 'w')\n",
        "open('vault_out/../x.md', 'w')\n",
        "open('vault_outside/x.md', 'w')\n",
        "open('/etc/passwd', mode='a')\n",
        "open(file='x.txt', mode='r+')\n",
        "from pathlib import Path\nPath('/tmp/x').write_text('x')\n",
        "import os\nos.remove('config.yaml')\n",
        "import shutil\nshutil.rmtree('vault_out/..')\n",
        "import io\nio.open('x', 'wb')\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        allowed = tuple(self.policy.allowed_write_paths)
        for op in write_operations(facts):
            if (
                op.path is not None
                and op.path not in _SAFE_TARGETS
                and not inside(op.path, allowed)
            ):
                yield Violation(
                    op.node,
                    f"{op.what} writes '{op.path}', outside allowed_write_paths "
                    f"({', '.join(allowed) or 'none'})",
                )


class ComputedWritePath(Rule):
    """A file write or delete targets a path computed at run time, which cannot be proven
    inside ``allowed_write_paths``. Skills that write use the runtime's guarded file API
    (``self.context.files``), which enforces the allowed roots when the skill runs."""

    id = "KAV502"
    category = "write-paths"
    MESSAGE = "write to a computed path"
    VALID = [
        "def read(path):\n    with open(path) as f:\n        return f.read()\n",
        "def save(ctx, text):\n    ctx.files.write('note.md', text)\n",
        "s = 'a-b'.replace('-', '_')\n",
    ]
    INVALID = [
        "def save(name, text):\n    open('vault_out/' + name, 'w').write(text)\n",
        "def save(p, mode):\n    open(p, mode)\n",
        "def save(p):\n    p.write_text('x')\n",
        "import tempfile\nfd, name = tempfile.mkstemp()\n",
        "def save(df, out):\n    df.to_csv(out)\n",
        "def save(name):\n    open(f'vault_out/{name}', 'w')\n",
    ]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for op in write_operations(facts):
            if op.path is None:
                yield Violation(
                    op.node,
                    f"{op.what} writes to a path computed at run time "
                    "(cannot be proven inside allowed_write_paths)",
                )
