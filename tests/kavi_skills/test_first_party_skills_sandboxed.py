"""The six first-party skills, run by the real runtime in the sandbox (the honest paths).

The skills and registry are copied byte for byte from this repository into a project in
``tmp_path`` (the pins still match); the vault and Kavi's data live in ``tmp_path`` too.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from attest_keys import Key, sign_registry
from llm_server import StandIn

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.hash_pin import sha256_bytes
from kavi_skills.executor import run_skill
from kavi_skills.records import ExecutionLog

if TYPE_CHECKING:
    from attackers import Listener

pytest_plugins = ["attackers"]

REPO = Path(__file__).resolve().parents[2]
NOTES = {
    "gates.md": "---\ntags: [kavi]\n---\n# Gates\n\nKavi has four gates. They fail closed.\n",
    "ledger.md": "# Ledger\n\nThe ledger is SQLite. #kavi #storage\n",
    "other.md": "# Other\n\nNothing about it.\n",
}


@dataclass
class FirstParty:
    root: Path
    vault: Path
    log: Path

    def config(self) -> LoadedConfig:
        return load_config(self.root / "kavi.yaml")


@pytest.fixture
def first_party(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm_server: StandIn
) -> Iterator[FirstParty]:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "skills", root / "skills", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / ".kavi", root / ".kavi")  # the maintainers' allowed signers
    (root / "kavi.yaml").write_text("hash_pin:\n  registry: skills/registry.yaml\n")
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / sub))
    monkeypatch.setenv("KAVI_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("KAVI_LLM_MODEL", "stand-in-chat")
    monkeypatch.setenv("KAVI_EMBED_MODEL", "stand-in-embed")
    monkeypatch.chdir(root)
    data = tmp_path / "xdg" / "data" / "kavi"
    vault = data / "vault"
    vault.mkdir(parents=True)
    for name, text in NOTES.items():
        (vault / name).write_text(text)
    yield FirstParty(root, vault, data / "executions.jsonl")


def _run(project: FirstParty, name: str, data: dict[str, object]) -> dict[str, object]:
    result = run_skill(name, data, project.config(), yes=True)
    record = result.record
    assert record.success, record.error
    assert record.sandbox == "bubblewrap"
    assert record.output_json is not None
    return record.output_json


def test_read_notes_by_tag(first_party: FirstParty) -> None:
    out = _run(first_party, "read_notes_by_tag", {"tag": "#kavi"})
    assert out == {
        "tag": "kavi",
        "notes": [{"path": "gates.md", "title": "Gates"}, {"path": "ledger.md", "title": "Ledger"}],
    }


def test_search_notes_ranks_through_the_brokered_embeddings(
    first_party: FirstParty, llm_server: StandIn
) -> None:
    out = _run(first_party, "search_notes", {"query": "gates fail closed", "top_k": 2})
    assert out["method"] == "embedding" and out["model"] == "stand-in-embed"
    assert out["backend"] in ("sqlite-vec", "numpy")
    results = out["results"]
    assert isinstance(results, list) and results[0]["path"] == "gates.md"
    assert [path for path, _ in llm_server.requests] == ["/v1/embeddings"]


def test_summarize_note_asks_the_endpoint_through_the_parent(
    first_party: FirstParty, llm_server: StandIn
) -> None:
    llm_server.chat_reply = {"summary": "Four gates.", "key_points": ["fail closed"]}
    out = _run(first_party, "summarize_note", {"path": "gates.md", "style": "bullets"})
    assert (out["method"], out["summary"], out["model"]) == ("llm", "Four gates.", "stand-in-chat")
    ((path, body),) = llm_server.requests
    assert path == "/v1/chat/completions" and "Kavi has four gates." in str(body)


def test_summarize_note_falls_back_when_the_answer_has_the_wrong_shape(
    first_party: FirstParty, llm_server: StandIn
) -> None:
    llm_server.mode = "wrong_shape"
    out = _run(first_party, "summarize_note", {"path": "gates.md"})
    assert out["method"] == "fallback"
    assert "does not match NoteSummary" in str(out["error"])


def test_write_note_writes_through_the_parent(first_party: FirstParty) -> None:
    out = _run(first_party, "write_note", {"path": "ideas/new.md", "title": "New", "body": "b"})
    assert out["written_path"] == "ideas/new.md"
    assert (first_party.vault / "ideas" / "new.md").read_text() == "# New\n\nb\n"
    again = run_skill(
        "write_note", {"path": "ideas/new.md", "title": "New"}, first_party.config(), yes=True
    )
    assert again.record.error is not None and "exists; pass overwrite=true" in again.record.error


def test_create_daily_note_appends_for_the_local_day(first_party: FirstParty) -> None:
    first = _run(first_party, "create_daily_note", {"body": "one"})
    second = _run(first_party, "create_daily_note", {"body": "two"})
    today = dt.date.today().isoformat()
    assert first["path"] == second["path"] == f"daily/{today}.md"
    assert (first["created"], second["created"]) == (True, False)
    assert (first_party.vault / "daily" / f"{today}.md").read_text() == (
        f"# {today}\n\none\n\ntwo\n"
    )


def test_http_get_json_reaches_only_the_host_its_entry_records(
    first_party: FirstParty, listener: Listener, maintainer_key: Key
) -> None:
    refused = run_skill(
        "http_get_json", {"url": listener.url(path="/a")}, first_party.config(), yes=True
    )
    assert refused.record.error == (
        f"SideEffectRefused: refused '{listener.url(path='/a')}': host '127.0.0.1' is not "
        "declared (allowed: api.github.com)"
    )
    # Promote it again, for the loopback host (source and class literal change, re-signed).
    source = first_party.root / "skills" / "http_get_json.py"
    source.write_text(source.read_text().replace('("api.github.com",)', '("127.0.0.1",)'))
    registry_file = first_party.root / "skills" / "registry.yaml"
    registry = yaml.safe_load(registry_file.read_text())
    entry = registry["skills"]["http_get_json"]
    entry["allowed_hosts"] = ["127.0.0.1"]
    entry["pins"] = {"skills/http_get_json.py": sha256_bytes(source.read_bytes())}
    registry_file.write_text(yaml.safe_dump(registry, sort_keys=False))
    sign_registry(first_party.root, maintainer_key, only=("http_get_json",), list_key=False)
    with (first_party.root / ".kavi" / "allowed_signers").open("a") as signers:
        signers.write(maintainer_key.allowed_line() + "\n")
    out = _run(first_party, "http_get_json", {"url": listener.url(path="/b")})
    assert out == {"url": listener.url(path="/b"), "data": {"reached": True}}
    assert listener.hits == [f"127.0.0.1:{listener.port}/b"]


def test_every_run_is_logged_with_its_sandbox(first_party: FirstParty) -> None:
    _run(first_party, "read_notes_by_tag", {"tag": "storage"})
    (record,) = ExecutionLog(first_party.log).read().records
    assert record.sandbox == "bubblewrap" and record.output_json is not None
