"""Every file write or delete the code can do, with its target path when it is provable."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from kavi_gates.policy.catalog import reexport_suffixes
from kavi_gates.policy.catalog.writes import (
    CONDITIONAL_WRITERS,
    EXTRACT_METHODS,
    FLAG_STYLE_OPENERS,
    OPENERS,
    OPTIONAL_PLACES,
    PATH_CTORS,
    PATH_METHODS,
    SAVE_METHODS,
    TWO_PATH_METHODS,
    WRITERS,
)
from kavi_gates.policy.queries.named import named_accesses
from kavi_gates.policy.resolution import SKILL_CONTEXT, ModuleFacts, Site, literal_string

WRITE_METHODS = PATH_METHODS | SAVE_METHODS | EXTRACT_METHODS | {"open"}
"""Methods that write when called on the right object (a path, a data frame, an archive)."""

_NOT_PATHS = (cst.Dict, cst.List, cst.Set, cst.Integer, cst.Float, cst.Imaginary, cst.Tuple)


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
        if funcs and (funcs <= PATH_CTORS or funcs == {"os.path.join"}):
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


def write_operations(facts: ModuleFacts) -> list[WriteOp]:
    """Every write or delete the code can do, with its target path when provable."""
    cached = facts.memo.get("write_operations")
    if cached is None:
        cached = facts.memo["write_operations"] = list(_write_operations(facts))
    return cached  # type: ignore[return-value]


def _write_operations(facts: ModuleFacts) -> Iterator[WriteOp]:
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
    writers_of: dict[int, list[str]] = {}  # resolutions are shared: look at each once
    for ref, quals in facts.resolved_refs:
        if not quals or id(ref.node) in facts.called_ids:
            continue
        writer = writers_of.get(id(quals))
        if writer is None:
            writer = writers_of[id(quals)] = sorted(
                q for q in quals if q in OPENERS or q in WRITERS or q == "os.open"
            )
        if writer:
            yield WriteOp(ref.node, f"{writer[0].removeprefix('builtins.')} (as a value)", None)
    yield from _writes_by_name(facts)


def _writes_by_name(facts: ModuleFacts) -> Iterator[WriteOp]:
    """``methodcaller("write_text", "x")(p)`` is ``p.write_text("x")``; ``attrgetter`` and
    ``getattr`` hand on the method. Its path is the receiver's, which is not provable here."""
    for access in named_accesses(facts):
        if not access.name or access.kind in ("set", "del"):
            continue  # computed, or empty (getattr(x, "") is x's attribute "": no method)
        method = access.parts[-1]
        site = access.site
        receiver = (
            facts.resolve(access.receiver, site.scope, site.order)
            if access.receiver is not None
            else frozenset()
        )
        if receiver:
            if access.kind == "get":
                continue  # getattr(os, "remove") resolves to os.remove, checked where used
            named = sorted(q for q in receiver if _known_writer(f"{q}.{access.name}"))
            if named:
                yield WriteOp(access.node, f"{named[0]}.{access.name} (by name)", None)
        elif method in WRITE_METHODS:
            yield WriteOp(access.node, f".{method}() (by name)", None)


def _resolved_writes(
    call: cst.Call, funcs: frozenset[str], facts: ModuleFacts, site: Site
) -> Iterator[WriteOp]:
    expanded = set(funcs)
    for qual in funcs:  # shutil.os.remove is os.remove
        expanded.update(reexport_suffixes(qual))
    for qual in sorted(expanded):
        if qual in OPENERS:
            paths, mode_pos, mode_kw, default = OPENERS[qual]
            mode = _arg(call, mode_pos, mode_kw)
            flag_style = qual in FLAG_STYLE_OPENERS
            if _has_unknown_kwargs(call) or _is_write_mode(mode, default, flag_style):
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
        if qual in WRITERS:
            places = WRITERS[qual]
            if not places:  # writes where it decides (compileall.compile_path: sys.path)
                yield WriteOp(call, qual, None)
            optional = OPTIONAL_PLACES.get(qual, frozenset())
            for pos, kw in places:
                target = _arg(call, pos, kw)
                if target is None and (pos == 99 or (pos, kw) in optional):
                    if qual.startswith("tempfile."):  # default: the system temp directory
                        yield WriteOp(call, qual, None)
                    continue
                yield WriteOp(call, qual, literal_path(target, facts, site))
            return
        if qual in CONDITIONAL_WRITERS:
            yield from _conditional_writes(call, qual, facts, site)
            return
        if qual.startswith("pathlib.") and qual.rsplit(".", 1)[-1] in PATH_METHODS:
            yield WriteOp(call, qual, literal_path(_arg(call, 0, "self"), facts, site))
            return


def _conditional_writes(
    call: cst.Call, qual: str, facts: ModuleFacts, site: Site
) -> Iterator[WriteOp]:
    """Writers that write only when a flag is set (``fileinput.input(f, inplace=True)``
    rewrites ``f``): absent or a literal false, no write; anything else may be true."""
    places, (flag_pos, flag_kw) = CONDITIONAL_WRITERS[qual]
    flag = _arg(call, flag_pos, flag_kw)
    if not _has_unknown_kwargs(call) and (flag is None or _literal_false(flag)):
        return
    for pos, kw in places:
        target = _arg(call, pos, kw)
        targets = (
            [e.value for e in target.elements]
            if isinstance(target, cst.List | cst.Tuple)
            else [target]
        )
        for each in targets:  # no files given: sys.argv's, computed
            yield WriteOp(call, qual, literal_path(each, facts, site))


def _literal_false(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in ("False", "None")
    return isinstance(expr, cst.Integer) and int(expr.value, 0) == 0


def _known_writer(qual: str) -> bool:
    return (
        qual in OPENERS
        or qual in WRITERS
        or qual in CONDITIONAL_WRITERS
        or qual == "os.open"
        or (qual.startswith("pathlib.") and qual.rsplit(".", 1)[-1] in PATH_METHODS)
    )


def _not_a_path_receiver(receiver: cst.BaseExpression, facts: ModuleFacts, site: Site) -> bool:
    """Receivers that are certainly not path objects: the runtime's capabilities
    (``self.context.files``), instances of classes defined in this file, and values
    returned by known library functions other than path constructors."""
    if any(q.startswith(SKILL_CONTEXT) for q in facts.resolve(receiver, site.scope, site.order)):
        return True  # self.context.files is the runtime's guarded API, not a path
    if not isinstance(receiver, cst.Call):
        return False
    func = receiver.func
    if isinstance(func, cst.Name):
        slot = facts.slot_of(func.value, site.scope)
        if slot is not None and all(b.kind == "class" for b in slot.bindings):
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
    if method in EXTRACT_METHODS:
        target = _arg(call, 0 if method == "extractall" else 1, "path")
        yield WriteOp(call, f".{method}()", literal_path(target, facts, site))
        return
    if method in PATH_METHODS and _not_a_path_receiver(func.value, facts, site):
        return
    if method in PATH_METHODS:
        target_kw = _arg(call, 99, "target")
        if (
            method in ("replace", "rename")
            and target_kw is None
            and (len(positional) != 1 or isinstance(positional[0].value, _NOT_PATHS))
        ):
            return  # str.replace(old, new), dict-style rename(mapping): not path operations
        yield WriteOp(call, f".{method}()", literal_path(func.value, facts, site))
        if method in TWO_PATH_METHODS and (positional or target_kw is not None):
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
    elif method in SAVE_METHODS and call.args:
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
