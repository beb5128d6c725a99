"""``imports: allow`` — only the curated safe standard library and ``allowed_imports``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import ClassVar

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.policy.allowlist import ImportAllowlist
from kavi_gates.policy.queries import dynamic_imports
from kavi_gates.policy.resolution import ImportSite, ModuleFacts, Ref
from kavi_gates.policy.rule import Rule, Violation
from kavi_gates.policy.string_types import code_in_string_types

_OUTSIDE = "outside the import allowlist (policy.imports: allow)"


@lru_cache(maxsize=32)
def _allowlist(added: tuple[str, ...]) -> ImportAllowlist:
    return ImportAllowlist(added)


class ImportOutsideAllowlist(Rule):
    """An import, or a use of an imported module, outside the allowlist (KAV103)."""

    code = codes.IMPORT_NOT_ALLOWED
    EXAMPLE_POLICY: ClassVar[Mapping[str, object]] = {
        "imports": "allow",
        "allowed_imports": ("pydantic",),
    }

    def enabled(self) -> bool:
        return self.policy.imports == "allow"

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        allowlist = _allowlist(self.policy.allowed_imports)
        reached = _Reached()
        for imp in facts.imports:
            problem, names = _judge_import(allowlist, imp)
            # import a.b.c binds modules only; from a import b may bind anything
            modules = imp.star or len(imp.targets) == 1
            reached.add(names, accepted=problem is None, modules=modules)
            if problem is not None:
                yield Violation(imp.node, problem)
        for found in dynamic_imports(facts):
            target = found.target
            if target is None:
                continue  # a computed name: KAV102
            accepted = allowlist.allows(target)
            reached.add(_prefixes(target), accepted, modules=True)
            if not accepted:
                yield Violation(found.node, f"import of '{target}', {_OUTSIDE}")
        yield from _hidden_reaches(facts)
        if not reached.accepted:
            return
        judged: dict[str, str | None] = {}
        for ref, quals in facts.resolved_refs:
            value = _module_as_value(facts, reached, ref, quals)
            if value is not None:
                yield Violation(ref.node, value)
                continue
            for qual in quals:
                if qual in judged:
                    problem = judged[qual]
                else:
                    problem = judged[qual] = _judge_use(allowlist, reached, qual)
                if problem:
                    yield Violation(ref.node, problem)
                    break


def _judge_import(
    allowlist: ImportAllowlist, imp: ImportSite
) -> tuple[str | None, tuple[str, ...]]:
    """(the problem or None, the names the import makes reachable)."""
    if imp.star:
        module = imp.targets[0]
        if allowlist.allows(module):
            return None, (module,)
        if allowlist.covers(module):
            problem = f"star import of '{module}', of which only some names are allowed"
            return f"{problem}: import those by name ({_OUTSIDE})", (module,)
        return f"star import of '{module}', {_OUTSIDE}", (module,)
    if len(imp.targets) == 1:  # import a.b.c [as x]: modules only
        name = imp.targets[0]
        if allowlist.allows(name) or allowlist.covers(name):
            return None, _prefixes(name)
        return f"import of '{name}', {_OUTSIDE}", _prefixes(name)
    module, name = imp.targets[0], imp.targets[-1]  # from a import b: judged as a.b
    if allowlist.covers(name):
        return None, (name,)
    if not allowlist.allows(name):
        return f"import of '{name}', {_OUTSIDE}", (name,)
    reach = allowlist.reach_problem(name, module)
    if reach is not None:
        return f"import of '{name}' reaches {reach}, {_OUTSIDE}", (name,)
    return None, (name,)


def _hidden_reaches(facts: ModuleFacts) -> Iterator[Violation]:
    """Ways to reach any module that no import statement or name shows: code in a string
    that typing and pydantic evaluate, help()'s import by name, and pickle through
    pydantic's opt-in."""
    for node, text in code_in_string_types(facts):
        shown = text if len(text) <= 60 else text[:57] + "..."
        yield Violation(
            node,
            f"the string type {shown!r} is code that typing/pydantic evaluate "
            f"(a forward reference names a type), {_OUTSIDE}",
        )
    for ref, quals in facts.resolved_refs:
        if "builtins.help" in quals:
            yield Violation(ref.node, f"help() imports any module it is given by name, {_OUTSIDE}")
    for site in facts.calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if _opts_into_pickle(call):
            yield Violation(
                call, f"allow_pickle reaches pickle through pydantic's deprecated API, {_OUTSIDE}"
            )


def _opts_into_pickle(call: cst.Call) -> bool:
    """pydantic's parse_raw/parse_file/load_* unpickle only with allow_pickle: that
    keyword (unless literally False), or a mapping of keywords that may hold it."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "allow_pickle":
            value = arg.value
            if not (isinstance(value, cst.Name) and value.value == "False"):
                return True
        func = call.func
        if (
            arg.star == "**"
            and isinstance(func, cst.Attribute)
            and func.attr.value in _PICKLING_METHODS
        ):
            return True
    return False


_PICKLING_METHODS = frozenset({"parse_raw", "parse_file", "load_str_bytes", "load_file"})


def _module_as_value(
    facts: ModuleFacts, reached: _Reached, ref: Ref, quals: frozenset[str]
) -> str | None:
    """A module object used as a value (``f(logging)``, ``[json]``, ``mod=json``): every
    name in it, and every module it imported, would then be reached unseen
    (``def f(m): m.os.system(...)``). ``m = logging`` is followed, so it is not one."""
    if id(ref.node) in facts.tracked_values or id(ref.node) in facts.called_ids:
        return None
    modules = quals & reached.modules
    if not modules:
        return None
    return (
        f"the module '{min(modules)}' used as a value: the names in it (and the modules "
        f"it imported) could be reached unseen; use its names directly, {_OUTSIDE}"
    )


def _judge_use(allowlist: ImportAllowlist, reached: _Reached, qual: str) -> str | None:
    """The problem with a reference that may denote ``qual``, or None."""
    if qual.startswith("builtins."):
        return None  # not an import (the dynamic-exec rules judge builtins)
    module = reached.through(qual)
    if module is None or module not in reached.accepted:
        return None  # not from an import, or its import is already the finding
    if not allowlist.allows(qual):
        return f"use of '{qual}', {_OUTSIDE}"
    reach = allowlist.reach_problem(qual, module)
    if reach is not None:
        return f"'{qual}' reaches {reach}, {_OUTSIDE}"
    return None


class _Reached:
    """The module names this file's imports make reachable, and whether their import was
    accepted (a name reached only by imports that are findings is not judged again)."""

    def __init__(self) -> None:
        self.accepted: set[str] = set()
        self.rejected: set[str] = set()
        self.modules: set[str] = set()
        """Names known to be modules (bound by ``import a.b``, a star import's module,
        ``__import__("a")``)."""
        self._depth = 0

    def add(self, names: tuple[str, ...], accepted: bool, modules: bool = False) -> None:
        (self.accepted if accepted else self.rejected).update(names)
        if modules and accepted:
            self.modules.update(names)
        self._depth = max([self._depth, *(n.count(".") + 1 for n in names)])

    def through(self, qual: str) -> str | None:
        """The longest reachable module name that ``qual`` is or starts with."""
        found = None
        prefix = ""
        for part in qual.split(".", self._depth)[: self._depth]:
            prefix = f"{prefix}.{part}" if prefix else part
            if prefix in self.accepted or prefix in self.rejected:
                found = prefix
        return found


def _prefixes(name: str) -> tuple[str, ...]:
    """``a.b.c`` → (a, a.b, a.b.c): ``import a.b.c`` binds ``a``."""
    parts = name.split(".")
    return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))
