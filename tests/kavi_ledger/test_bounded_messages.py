"""Errors about proposal fields echo at most a bounded piece of the input (issue 11 item 6)."""

from __future__ import annotations

import json

import pytest

from kavi_gates.errors import ECHO_LIMIT
from kavi_ledger.errors import ValidationError
from kavi_ledger.validation import (
    parse_io_schema,
    parse_required_secrets,
    validate_side_effect,
    validate_skill_name,
)

BOUND = 2 * ECHO_LIMIT + 200
HUGE = "x-" * 500_000


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_skill_name(HUGE),
        lambda: validate_side_effect(HUGE),
        lambda: parse_required_secrets(json.dumps([HUGE])),
        lambda: parse_required_secrets(json.dumps([[HUGE] * 10])),
        lambda: parse_io_schema(json.dumps({"type": HUGE})),
    ],
    ids=["name", "side-effect", "secret-name", "secret-not-a-string", "schema"],
)
def test_a_huge_field_is_echoed_bounded(call: object) -> None:
    with pytest.raises(ValidationError) as info:
        call()  # type: ignore[operator]
    assert len(str(info.value)) < BOUND
