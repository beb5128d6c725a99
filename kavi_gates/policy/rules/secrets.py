"""Secrets stay out of output: printing or logging a value read from the environment or
from the declared secrets (KAV131)."""

from __future__ import annotations

from collections.abc import Iterator

from kavi_gates.codes import policy as codes
from kavi_gates.policy.queries.secrets import leaks
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation


class SecretLeak(Rule):
    """A secret is printed or logged (KAV131)."""

    code = codes.SECRET_LEAK

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for leak in leaks(facts):
            yield Violation(
                leak.sink,
                "prints or logs a value read from the environment or the declared secrets",
            )
