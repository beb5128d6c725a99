"""The rule base class. A rule's docstring is its documentation (Fixit's convention)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from kavi_gates.config import PolicyConfig
from kavi_gates.policy.resolution import ModuleFacts


@dataclass(frozen=True)
class Violation:
    node: cst.CSTNode
    message: str


class Rule:
    """Base of every policy rule: subclass, set the class attributes, implement ``check``."""

    id: ClassVar[str]
    category: ClassVar[str]
    MESSAGE: ClassVar[str]
    """One-line summary (the rule's title in ``kavi rules`` and SARIF)."""
    VALID: ClassVar[Sequence[str | bytes]]
    """Code the rule must not flag (under the embedded default policy)."""
    INVALID: ClassVar[Sequence[str | bytes]]
    """Code the rule must flag (under the embedded default policy)."""
    UNSUPPRESSIBLE: ClassVar[bool] = False

    def __init__(self, policy: PolicyConfig) -> None:
        self.policy = policy

    def enabled(self) -> bool:
        """Does the policy switch this rule on? (e.g. ``process: deny``)"""
        return True

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        raise NotImplementedError
        yield  # pragma: no cover

    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")


class EngineRule(Rule):
    """Findings the engine itself produces (parse failures, suppression misuse)."""

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        return iter(())
