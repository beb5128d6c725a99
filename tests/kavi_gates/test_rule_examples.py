"""Every rule's VALID and INVALID examples, run under the embedded default policy (Fixit's
pattern), plus the meta-test that keeps every rule documented and exemplified."""

from __future__ import annotations

import pytest

from kavi_gates.codes.policy import RULE_ERROR
from kavi_gates.config import validate_policy
from kavi_gates.policy.check import check_source
from kavi_gates.policy.rule import Rule
from kavi_gates.policy.rules import BUILTIN_RULES


def _cases(kind: str) -> list[object]:
    return [
        pytest.param(rule, example, id=f"{rule.id}-{kind}-{i}")
        for rule in BUILTIN_RULES
        for i, example in enumerate(getattr(rule, kind))
    ]


def _rules_found(example: str | bytes, rule: type[Rule]) -> set[str]:
    source = example if isinstance(example, bytes) else example.encode()
    # The embedded default policy, with what the rule's examples need (imports: allow).
    policy = validate_policy(dict(rule.EXAMPLE_POLICY))
    found = check_source(source, "skills/example.py", policy, BUILTIN_RULES)
    # A built-in rule that raises is a bug, not a pass of the VALID examples.
    assert [f.message for f in found if f.rule == RULE_ERROR.id] == []
    return {f.rule for f in found}


@pytest.mark.parametrize(("rule", "example"), _cases("VALID"))
def test_valid_example_is_not_flagged_by_its_rule(rule: type[Rule], example: str) -> None:
    assert rule.id not in _rules_found(example, rule)


@pytest.mark.parametrize(("rule", "example"), _cases("INVALID"))
def test_invalid_example_is_flagged_by_its_rule(rule: type[Rule], example: str) -> None:
    assert rule.id in _rules_found(example, rule)


@pytest.mark.parametrize("rule", BUILTIN_RULES, ids=lambda r: r.id)
def test_rule_is_documented_and_exemplified(rule: type[Rule]) -> None:
    assert rule.doc(), "the docstring is the rule's documentation"
    assert rule.MESSAGE
    assert rule.category
    assert len(rule.VALID) >= 1
    assert len(rule.INVALID) >= 1


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [rule.id for rule in BUILTIN_RULES]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("KAV") and i[3:].isdigit() and len(i) == 6 for i in ids)
