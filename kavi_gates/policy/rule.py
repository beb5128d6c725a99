"""The rule base class. A rule points at its finding-code declaration (``code``), which holds
its documentation, examples and trigger words (``kavi_gates.codes.policy``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from kavi_gates.config import PolicyConfig
from kavi_gates.models import Code
from kavi_gates.policy.resolution import ModuleFacts

GATE = "policy"


@dataclass(frozen=True)
class Violation:
    node: cst.CSTNode
    message: str


class Rule:
    """Base of every policy rule: subclass, point ``code`` at the rule's declaration and
    implement ``check``.

    Plugin rules may instead set ``id``, ``category``, ``MESSAGE``, ``VALID`` and
    ``INVALID`` and document themselves in their docstring (Fixit's convention); such a
    rule declares no trigger words, so every file gets the full analysis for it.
    """

    code: ClassVar[Code | None] = None
    id: ClassVar[str]
    category: ClassVar[str]
    MESSAGE: ClassVar[str]
    """One-line summary (the rule's title in ``kavi rules`` and SARIF)."""
    VALID: ClassVar[Sequence[str | bytes]]
    """Code the rule must not flag (under the embedded default policy)."""
    INVALID: ClassVar[Sequence[str | bytes]]
    """Code the rule must flag (under the embedded default policy)."""
    UNSUPPRESSIBLE: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if isinstance(code, Code):
            cls.id = code.id
            cls.category = code.category
            cls.MESSAGE = code.title
            cls.VALID = code.valid
            cls.INVALID = code.invalid
            cls.UNSUPPRESSIBLE = not code.suppressible

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
        """The rule's documentation: its code's, else its docstring."""
        if cls.code is not None:
            return cls.code.doc
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def declaration(cls) -> Code:
        """The finding code this rule reports (built from its attributes for a rule that
        points at none: such a rule has no trigger words, so it always runs)."""
        if cls.code is not None:
            return cls.code
        return Code(
            id=cls.id,
            gate=GATE,
            title=cls.MESSAGE,
            doc=cls.doc(),
            fix="",
            suppressible=not cls.UNSUPPRESSIBLE,
            category=cls.category,
            valid=tuple(cls.VALID),
            invalid=tuple(cls.INVALID),
        )


class EngineRule(Rule):
    """Findings the engine itself produces (input it cannot analyse, suppression misuse)."""

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        return iter(())
