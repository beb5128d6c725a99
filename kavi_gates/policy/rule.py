"""The rule base class. A rule points at its finding-code declaration (``code``), which holds
its documentation, examples and trigger words (``kavi_gates.codes.policy``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from kavi_gates.config_policy import PolicyConfig
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
    ``INVALID`` and document themselves in their docstring (Fixit's convention), and
    declare their trigger words in ``TRIGGERS``. A rule that declares no trigger words
    (``TRIGGERS = None``, the default, or a ``code`` whose ``triggers`` is None) sees every
    file: the pre-filter never skips a file for it.
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
    EXAMPLE_POLICY: ClassVar[Mapping[str, object]] = {}
    """Policy keys the VALID/INVALID examples run under, over the embedded default (a rule
    that only a non-default setting switches on, such as ``imports: allow``)."""
    TRIGGERS: ClassVar[Sequence[str] | None] = None
    """Words (identifiers) one of which a file must contain for this rule to find anything
    in it; the pre-filter skips the full analysis of files that contain none of any rule's
    words. None: the rule always runs (declaring words is an optimisation, and a promise)."""

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
            cls.TRIGGERS = code.triggers

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
        points at none, with its ``TRIGGERS``: None, so it always runs, unless it says)."""
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
            triggers=None if cls.TRIGGERS is None else tuple(cls.TRIGGERS),
        )


class EngineRule(Rule):
    """Findings the engine itself produces (input it cannot analyse, suppression misuse)."""

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        return iter(())
