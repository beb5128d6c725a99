"""Finding codes: every code of every gate, declared once.

A ``Code`` is the unit users see: its id is what a finding carries, what ``kavi rules ID``
documents, what SARIF describes, what a suppression or ``select``/``ignore`` names. Each
gate declares its codes in one module of this package (``kavi_gates.codes.hash_pin`` lists
every hash-pin code) and contributes them through the ``kavi_finding_codes`` hook; the
gate's implementation builds its findings from the declarations (``code.finding(...)``),
so a code without a declaration cannot be reported. Declarations are plain data: reading
them never imports libcst, so ``kavi rules`` and every reporter stay fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kavi_gates.models import Code


class DuplicateCode(ValueError):
    """Two declarations share one id."""


def index_codes(codes: Iterable[Code]) -> dict[str, Code]:
    """Codes by id, sorted; a duplicate id is an error naming both gates."""
    found: dict[str, Code] = {}
    for code in codes:
        if not isinstance(code, Code):
            raise TypeError(f"not a finding code declaration: {code!r}")
        other = found.get(code.id)
        if other is not None and other != code:
            raise DuplicateCode(
                f"finding code {code.id} is declared twice (gates {other.gate!r} and {code.gate!r})"
            )
        found[code.id] = code
    return dict(sorted(found.items()))


def codes_of(module_globals: Mapping[str, object]) -> tuple[Code, ...]:
    """Every ``Code`` a declarations module defines, in id order."""
    return tuple(sorted((v for v in module_globals.values() if isinstance(v, Code)), key=_id))


def _id(code: Code) -> str:
    return code.id


__all__ = ["Code", "DuplicateCode", "codes_of", "index_codes"]
