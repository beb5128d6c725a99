"""``allowed_write_paths`` — every file write or delete must target a literal path inside an
allowed directory; a path computed at run time cannot be proven, so it is a finding."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog.writes import SAFE_TARGETS
from kavi_gates.policy.queries import inside, write_operations
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class WriteOutsideAllowed(Rule):
    """A write targets a literal path outside allowed_write_paths (KAV501)."""

    code = codes.WRITE_OUTSIDE_ALLOWED

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        allowed = tuple(self.policy.allowed_write_paths)
        for op in write_operations(facts):
            if op.path is not None and op.path not in SAFE_TARGETS and not inside(op.path, allowed):
                yield Violation(
                    op.node,
                    f"{op.what} writes '{op.path}', outside allowed_write_paths "
                    f"({', '.join(allowed) or 'none'})",
                )


class ComputedWritePath(Rule):
    """A write targets a path computed at run time (KAV502)."""

    code = codes.COMPUTED_WRITE_PATH

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for op in write_operations(facts):
            if op.path is None:
                yield Violation(
                    op.node,
                    f"{op.what} writes to a path computed at run time "
                    "(cannot be proven inside allowed_write_paths)",
                )
