"""Failure classification, escalation triggers and the optional LLM advice."""

from __future__ import annotations

import pytest
from llm_server import StandIn

from kavi_forge.research import FailureKind, Trigger, ask_advice, classify, triggers
from kavi_gates.models import Finding, GateResult, Status
from kavi_ledger.models import Proposal, ProposalStatus
from kavi_skills.llm import LLMClient

PROPOSAL = Proposal(
    id="p",
    name="shout",
    description="d",
    io_schema={},
    side_effect_class="READ_ONLY",
    required_secrets=(),
    status=ProposalStatus.PROPOSED,
    created_at="t",
)


def failed(gate: str, path: str = "skills/shout.py", rule: str = "X") -> GateResult:
    finding = Finding(gate=gate, rule=rule, path=path, message="m")
    return GateResult(gate=gate, status=Status.FAIL, findings=(finding,))


def passed(gate: str) -> GateResult:
    return GateResult(gate=gate, status=Status.PASS)


@pytest.mark.parametrize(
    ("gate", "kind"),
    [
        ("diff-allowlist", FailureKind.GATE_VIOLATION),
        ("policy", FailureKind.VERIFY_POLICY),
        ("invariants", FailureKind.VERIFY_INVARIANT),
        ("spec", FailureKind.VERIFY_INVARIANT),
        ("ruff", FailureKind.VERIFY_LINT),
        ("mypy", FailureKind.VERIFY_LINT),
        ("pytest", FailureKind.VERIFY_TEST),
        ("hash-pin", FailureKind.UNKNOWN),
    ],
)
def test_each_failing_check_has_its_class(gate: str, kind: FailureKind) -> None:
    assert (
        classify([passed("policy") if gate != "policy" else passed("ruff"), failed(gate)]) is kind
    )


def test_a_security_failure_wins_over_a_lint_failure() -> None:
    assert classify([failed("ruff"), failed("policy")]) is FailureKind.VERIFY_POLICY


def test_an_errored_check_is_unknown() -> None:
    assert classify([GateResult(gate="pytest", status=Status.ERROR)]) is FailureKind.UNKNOWN


def raised(
    kind: FailureKind,
    results: list[GateResult],
    *,
    consecutive: int = 1,
    diff_lines: int = 0,
    advice: str = "",
) -> tuple[Trigger, ...]:
    return triggers(
        kind,
        results,
        PROPOSAL,
        consecutive=consecutive,
        limit=3,
        diff_lines=diff_lines,
        max_diff_lines=400,
        advice=advice,
    )


def test_an_ordinary_lint_failure_raises_no_trigger() -> None:
    assert raised(FailureKind.VERIFY_LINT, [failed("ruff")]) == ()


def test_policy_and_invariant_failures_are_security_class() -> None:
    assert raised(FailureKind.VERIFY_POLICY, [failed("policy")]) == (Trigger.SECURITY_CLASS,)


def test_the_third_consecutive_failure_is_repeated() -> None:
    assert raised(FailureKind.VERIFY_TEST, [failed("pytest")], consecutive=3) == (
        Trigger.REPEATED_FAILURE,
    )


def test_touching_the_config_widens_permissions() -> None:
    results = [failed("diff-allowlist", path="kavi.yaml", rule="KAV701")]
    assert Trigger.PERMISSION_WIDENING in raised(FailureKind.GATE_VIOLATION, results)


def test_a_declared_class_the_code_exceeds_widens_permissions() -> None:
    results = [failed("invariants", rule="KAV604")]
    assert Trigger.PERMISSION_WIDENING in raised(FailureKind.VERIFY_INVARIANT, results)


def test_advice_that_reaches_for_the_network_widens_permissions() -> None:
    found = raised(
        FailureKind.VERIFY_TEST,
        [failed("pytest")],
        advice="Make an HTTP request with urllib to fetch the data",
    )
    assert found == (Trigger.PERMISSION_WIDENING,)


def test_a_large_change_is_flagged() -> None:
    assert raised(FailureKind.VERIFY_TEST, [failed("pytest")], diff_lines=401) == (
        Trigger.LARGE_DIFF,
    )


def test_advice_comes_from_the_endpoint(llm_client: LLMClient, llm_server: StandIn) -> None:
    llm_server.chat_reply = {"diagnosis": "unused import", "fixes": ["remove import os"]}
    text, answered = ask_advice(llm_client, FailureKind.VERIFY_LINT, ["ruff F401"], PROPOSAL)
    assert answered and text == "unused import\n- remove import os"


def test_advice_falls_back_when_the_endpoint_is_down(down_client: LLMClient) -> None:
    text, answered = ask_advice(down_client, FailureKind.VERIFY_LINT, ["ruff F401"], PROPOSAL)
    assert not answered and "deterministic analysis only" in text
