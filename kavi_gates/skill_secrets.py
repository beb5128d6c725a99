"""Which secrets a skill reads, against the secrets it declares (KAV606).

Only declared secrets reach a skill (the runtime builds its environment from nothing plus
them, and ``self.context.secrets`` refuses any other name), so a skill that reads another
variable, or a computed one, relies on something it was not granted: in a sandbox the read
fails, without one it may read the user's shell environment. The declaration is what a
reviewer approves, so it must name what the code reads. Whether the side-effect class may
hold secrets at all is the side-effect check's (KAV604).
"""

from __future__ import annotations

import ast

from kavi_gates.codes import invariants as codes
from kavi_gates.models import Finding

SECRET_READ = "SECRET_READ"
SECRET_CLASSES = frozenset({"NETWORK", "SECRET_READ", "MONEY", "MESSAGING"})
"""Classes the runtime gives secrets to (the others may declare none)."""


def declared_secrets(tree: ast.ClassDef) -> tuple[str, ...]:
    """The skill class's literal ``required_secrets`` (empty when absent or not literal:
    the structure check reports a non-literal one)."""
    for stmt in tree.body:
        value: ast.expr | None = None
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "required_secrets" for t in stmt.targets)
        ) or (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "required_secrets"
        ):
            value = stmt.value
        if isinstance(value, ast.Tuple):
            return tuple(
                e.value
                for e in value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            )
    return ()


def secret_findings(
    rel_path: str, declared_class: str, secrets: tuple[str, ...], observed: frozenset[str]
) -> list[Finding]:
    """KAV606 for each secret read that ``secrets`` does not name."""
    if SECRET_READ not in observed or declared_class not in SECRET_CLASSES:
        return []  # no read, or a class that may hold none (KAV604 says so)
    names = sorted(e.split(":", 1)[1] for e in observed if e.startswith(SECRET_READ + ":"))
    found: list[Finding] = []
    declared = ", ".join(secrets) or "none"
    for name in names:
        if name == "*":
            message = (
                "reads the environment or secrets by a computed name (or all of them): "
                f"read each declared secret by its literal name (declared: {declared})"
            )
        elif name not in secrets:
            message = (
                f"reads secret {name!r}, which required_secrets does not declare "
                f"(declared: {declared})"
            )
        else:
            continue
        found.append(codes.UNDECLARED_SECRET.finding(rel_path, message))
    return found
