"""``imports: allow`` — only the curated safe standard library and ``allowed_imports``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import ClassVar

from kavi_gates.codes import policy as codes
from kavi_gates.policy.allowlist import ImportAllowlist
from kavi_gates.policy.queries import dynamic_imports
from kavi_gates.policy.resolution import ImportSite, ModuleFacts
from kavi_gates.policy.rule import Rule, Violation

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
            reached.add(names, accepted=problem is None)
            if problem is not None:
                yield Violation(imp.node, problem)
        for found in dynamic_imports(facts):
            target = found.target
            if target is None:
                continue  # a computed name: KAV102
            accepted = allowlist.allows(target)
            reached.add(_prefixes(target), accepted)
            if not accepted:
                yield Violation(found.node, f"import of '{target}', {_OUTSIDE}")
        if not reached.accepted:
            return
        judged: dict[str, str | None] = {}
        for ref, quals in facts.resolved_refs:
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
        self._depth = 0

    def add(self, names: tuple[str, ...], accepted: bool) -> None:
        (self.accepted if accepted else self.rejected).update(names)
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
