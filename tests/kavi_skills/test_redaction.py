"""Redaction finds a secret in every form it reaches output in (issue 11 item 6).

Written as a leaky skill would leak: the value as a JSON number, ``repr``/``ascii``/``json``
escaped (a backslash, quotes and non-ASCII characters in the secret), escaped twice, URL-
encoded, base64-encoded inside a longer blob, in keys and nested values, and in an error.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from attest_keys import Key, sign_registry

from kavi_gates.config import load_config
from kavi_gates.hash_pin import compute_pins
from kavi_gates.registry import Registry, RegistryEntry, save_registry
from kavi_skills.executor import run_skill
from kavi_skills.secrets import REDACTED, Redactor

NASTY = "k3y\\path\"q'uo/té-ü+=?&"
NUMERIC = "73519862"


def forms_of(secret: str) -> dict[str, str]:
    """How a secret appears in output written by ordinary code."""
    blob = b"Basic user:" + secret.encode()
    return {
        "plain": secret,
        "repr": repr(secret),
        "repr-in-longer-string": repr(f"it's {secret}"),
        "repr-double-quoted": repr(f'say "{secret}"'),
        "ascii": ascii(secret),
        "json": json.dumps(secret),
        "json-unicode": json.dumps(secret, ensure_ascii=False),
        "json-in-json": json.dumps(json.dumps({"token": secret})),
        "repr-of-json": repr(json.dumps(secret)),
        "url-quote": quote(secret, safe=""),
        "url-quote-plus": quote_plus(secret),
        "url-lower-hex": quote(secret, safe="").lower(),
        "base64-aligned": base64.b64encode(secret.encode()).decode(),
        "base64-offset-1": base64.b64encode(b"x" + secret.encode()).decode(),
        "base64-offset-2": base64.b64encode(b"xy" + secret.encode()).decode(),
        "base64-basic-auth": base64.b64encode(blob).decode(),
        "base64-urlsafe": base64.urlsafe_b64encode(b"z" + secret.encode()).decode(),
    }


def _recoverable(secret: str, text: str) -> bool:
    """Does ``text`` still hold the secret in any of the forms above?"""
    return any(form in text for form in forms_of(secret).values()) or secret in text


@pytest.mark.parametrize("form", sorted(forms_of(NASTY)))
def test_each_escaped_or_encoded_form_is_redacted_in_text(form: str) -> None:
    leaked = f"before {forms_of(NASTY)[form]} after"
    redacted = Redactor([NASTY]).text(leaked)
    assert REDACTED in redacted
    assert not _recoverable(NASTY, redacted), redacted


@pytest.mark.parametrize("form", sorted(forms_of(NASTY)))
def test_each_form_is_redacted_in_keys_and_nested_values(form: str) -> None:
    leaked = forms_of(NASTY)[form]
    data = {"outer": [{"inner": (leaked,)}, {leaked: 1}], "set": [f"x{leaked}y"]}
    text = json.dumps(Redactor([NASTY]).data(data), ensure_ascii=False)
    assert not _recoverable(NASTY, text), text


def test_a_numeric_secret_reaching_output_as_a_number_is_redacted() -> None:
    redact = Redactor([NUMERIC])
    data = {"n": 73519862, "f": 73519862.0, "list": [1, 73519862], 73519862: "key", "ok": 5}
    assert redact.data(data) == {
        "n": REDACTED,
        "f": REDACTED,
        "list": [1, REDACTED],
        REDACTED: "key",
        "ok": 5,
    }
    assert NUMERIC not in json.dumps(redact.data({"deep": [[{"x": 73519862}]]}))


def test_a_number_holding_the_secret_digits_is_redacted_whole() -> None:
    assert Redactor([NUMERIC]).data({"id": 1735198620}) == {"id": REDACTED}


def test_a_zero_padded_numeric_secret_matches_its_number() -> None:
    assert Redactor(["004217"]).data({"pin": 4217, "other": 4218}) == {
        "pin": REDACTED,
        "other": 4218,
    }


def test_booleans_none_and_unrelated_values_are_kept() -> None:
    redact = Redactor([NUMERIC, NASTY])
    data = {"t": True, "n": None, "x": 3.5, "s": "plain text", "l": [0, 1]}
    assert redact.data(data) == data
    assert redact.text("nothing secret here") == "nothing secret here"


def test_a_secret_inside_another_is_removed_whole() -> None:
    assert Redactor(["abc", "abcdef"]).text("xabcdefx abc") == f"x{REDACTED}x {REDACTED}"


LEAKY = """\
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from kavi_skills import BaseSkill


class LeakIn(BaseModel):
    fail: bool = False


class LeakOut(BaseModel):
    leaks: dict[str, Any]


class LeakSkill(BaseSkill):
    name = "leak"
    description = "Leak its secrets in every encoding ordinary code produces."
    side_effect_class = "SECRET_READ"
    input_model = LeakIn
    output_model = LeakOut
    required_secrets = ("LEAKY", "PIN")

    def execute(self, data: LeakIn) -> LeakOut:
        secret = self.context.secrets["LEAKY"]
        pin = self.context.secrets["PIN"]
        if data.fail:
            raise ValueError(f"bad token {secret!r} / {json.dumps(secret)}")
        return LeakOut(
            leaks={
                "number": int(pin),
                "repr": repr(secret),
                "ascii": ascii(secret),
                "json": json.dumps({"t": secret}),
                "url": "https://h/?t=" + quote(secret, safe=""),
                "b64": base64.b64encode(b"Basic u:" + secret.encode()).decode(),
                repr(secret): "as a key",
                "nested": [[{"pin": int(pin)}]],
            }
        )
"""


@pytest.fixture
def leaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, maintainer_key: Key) -> Path:
    root = tmp_path / "proj"
    (root / "skills").mkdir(parents=True)
    (root / "kavi.yaml").write_text("hash_pin:\n  registry: skills/registry.yaml\n")
    (root / "skills" / "leak.py").write_text(LEAKY)
    entry = RegistryEntry.model_validate(
        {
            "path": "skills/leak.py",
            "class": "LeakSkill",
            "side_effect_class": "SECRET_READ",
            "required_secrets": ["LEAKY", "PIN"],
            "pins": compute_pins(root / "skills/leak.py", root),
        }
    )
    save_registry(root / "skills" / "registry.yaml", Registry(skills={"leak": entry}))
    sign_registry(root, maintainer_key, config=load_config(root / "kavi.yaml").config)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / var.lower()))
    monkeypatch.setenv("LEAKY", NASTY)
    monkeypatch.setenv("PIN", NUMERIC)
    monkeypatch.chdir(root)
    return root


def _log_text(tmp_path: Path) -> str:
    return (tmp_path / "xdg" / "xdg_data_home" / "kavi" / "executions.jsonl").read_text()


def test_a_leaky_skill_leaves_no_form_of_its_secrets_in_the_record(
    leaky: Path, tmp_path: Path
) -> None:
    result = run_skill("leak", {}, load_config(leaky / "kavi.yaml"), yes=True)
    assert result.record.success, result.record.error
    output: Any = result.record.output_json
    assert output["leaks"]["number"] == REDACTED
    assert output["leaks"]["nested"] == [[{"pin": REDACTED}]]
    for text in (json.dumps(output), json.dumps(output, ensure_ascii=False), _log_text(tmp_path)):
        assert not _recoverable(NASTY, text) and NUMERIC not in text


def test_a_leaky_error_message_is_redacted_in_every_escaping(leaky: Path, tmp_path: Path) -> None:
    result = run_skill("leak", {"fail": True}, load_config(leaky / "kavi.yaml"), yes=True)
    assert not result.record.success
    error = result.record.error or ""
    assert error.count(REDACTED) == 2 and not _recoverable(NASTY, error)
    assert not _recoverable(NASTY, _log_text(tmp_path))
