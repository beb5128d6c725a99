"""http_get_json fetches JSON through the guarded client, from declared hosts only."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_server import StandIn
from pydantic import ValidationError

from kavi_skills import SkillContext
from kavi_skills.errors import SideEffectRefused
from kavi_skills.guarded_http import GuardedHTTP
from skills.http_get_json import HttpGetInput, HttpGetJsonSkill, HttpGetOutput


def _run(vault: Path, http: GuardedHTTP | None, **data: object) -> HttpGetOutput:
    skill = HttpGetJsonSkill(SkillContext(vault_dir=vault, http=http))
    return skill.execute(HttpGetInput.model_validate(data))


def test_declares_network_one_host_and_no_secrets() -> None:
    assert HttpGetJsonSkill.side_effect_class == "NETWORK"
    assert HttpGetJsonSkill.allowed_hosts == ("api.github.com",)
    assert HttpGetJsonSkill.required_secrets == ()


def test_fetches_json_from_a_granted_host(vault: Path, llm_server: StandIn) -> None:
    # The runtime grants the declared hosts; here the grant is the loopback stand-in.
    port = llm_server.base_url.split(":")[2].split("/")[0]
    http = GuardedHTTP([f"127.0.0.1:{port}"])
    out = _run(vault, http, url=f"{llm_server.base_url}/models")
    assert out.data["object"] == "list"
    assert llm_server.paths() == ["/v1/models"]


def test_a_host_outside_the_declared_allowlist_is_refused(vault: Path) -> None:
    http = GuardedHTTP(HttpGetJsonSkill.allowed_hosts)
    with pytest.raises(SideEffectRefused, match="not declared"):
        _run(vault, http, url="http://127.0.0.1:9/steal")


def test_an_undeclared_secret_is_refused_before_any_request(vault: Path) -> None:
    skill = HttpGetJsonSkill(
        SkillContext(vault_dir=vault, http=GuardedHTTP(()), secrets={"TOKEN": "s3cret"})
    )
    with pytest.raises(PermissionError, match="not declared") as info:
        skill.execute(HttpGetInput(url="https://api.github.com/x", bearer_secret="TOKEN"))
    assert "s3cret" not in str(info.value)


def test_without_the_http_capability_nothing_is_fetched(vault: Path) -> None:
    with pytest.raises(PermissionError):
        _run(vault, None, url="https://api.github.com/")


@pytest.mark.parametrize("url", ["ftp://api.github.com/x", "file:///etc/passwd", "nope"])
def test_non_http_urls_are_refused_by_the_input_model(url: str) -> None:
    with pytest.raises(ValidationError):
        HttpGetInput(url=url)
