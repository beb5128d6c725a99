"""`kavi reset` deletes only what Kavi created, and never under another process (issue 11
item 5). Written as the attack: a cloned repository whose kavi.yaml points storage at the
project, at ~/.ssh, at / or above; a forged marker; a reset while other processes write."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kavi_cli import KaviResult, run_kavi
from ledger_helpers import CLI_SCRIPT, PYTHON

from kavi_gates.config import StorageConfig, load_config
from kavi_gates.storage import MARKER, create_storage_dir, is_kavi_storage
from kavi_ledger.db import open_ledger
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths, ensure_directories, resolve_paths
from kavi_ledger.reset import reset
from kavi_ledger.states import create_proposal, list_proposals


def kavi(cwd: Path, *args: str) -> KaviResult:
    """``kavi ARGS`` through its entry point, in this process (which holds no connection
    to any ledger, so the ledger's locks see exactly the other processes)."""
    return run_kavi(args, cwd=cwd)


def kavi_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ledger commands in a fresh interpreter, as the console script runs them."""
    return subprocess.run(
        [PYTHON, "-c", CLI_SCRIPT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (``.git`` included) with its bytes."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of our own with SSH keys in it, and XDG dirs under it."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY\n")
    (home / ".ssh" / "known_hosts").write_text("host ssh-ed25519 AAAA\n")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / ".xdg" / sub))
    return home


def cloned_repo(tmp_path: Path, storage: str) -> Path:
    """A repository as an attacker would publish it: a kavi.yaml with a storage section."""
    repo = tmp_path / "clone"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "kavi.yaml").write_text(f"storage:\n{storage}")
    (repo / "skills").mkdir()
    (repo / "skills" / "mine.py").write_text("x = 1\n")
    (repo / "README.md").write_text("precious\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "init"],
        cwd=repo,
        check=True,
    )
    return repo


@pytest.mark.parametrize(
    "storage",
    [
        '  cache_dir: "."\n',
        '  data_dir: "."\n',
        '  data_dir: ".."\n',
        '  cache_dir: "/"\n',
        '  data_dir: "~"\n',
        "  data_dir: skills\n",
        "  cache_dir: .git\n",
    ],
    ids=[
        "cache-dot",
        "data-dot",
        "data-parent",
        "cache-root",
        "data-home",
        "data-subdir",
        "cache-git",
    ],
)
def test_a_cloned_repository_storage_config_deletes_nothing(
    tmp_path: Path, home: Path, storage: str
) -> None:
    repo = cloned_repo(tmp_path, storage)
    before, keys = snapshot(repo), snapshot(home / ".ssh")
    done = kavi(repo, "reset", "--force", "--backup")
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("kavi: error: refusing to reset") and done.stderr.count("\n") == 1
    assert snapshot(repo) == before
    assert snapshot(home / ".ssh") == keys


@pytest.mark.parametrize("key", ["data_dir", "cache_dir", "vault_dir"])
def test_storage_pointed_at_ssh_keys_deletes_nothing(tmp_path: Path, home: Path, key: str) -> None:
    repo = cloned_repo(tmp_path, f"  {key}: ~/.ssh\n")
    keys = snapshot(home / ".ssh")
    done = kavi(repo, "reset", "--force")
    assert snapshot(home / ".ssh") == keys
    if key != "vault_dir":  # a vault is never wiped, only Kavi's own unchanged notes
        assert done.exit_code == 2 and "not created by Kavi" in done.stderr


def test_a_forged_marker_copied_into_a_repository_is_not_trusted(
    tmp_path: Path, home: Path
) -> None:
    real = tmp_path / "real-data"
    assert create_storage_dir(real, "data")
    assert is_kavi_storage(real)
    repo = cloned_repo(tmp_path, "  data_dir: kavi_data\n")
    (repo / "kavi_data").mkdir()
    (repo / "kavi_data" / "ledger.db").write_text("attacker's")
    record = json.loads((real / MARKER).read_text())
    record["path"] = str((repo / "kavi_data").resolve())  # the right path; the inode cannot be
    (repo / "kavi_data" / MARKER).write_text(json.dumps(record))
    assert not is_kavi_storage(repo / "kavi_data")
    before = snapshot(repo)
    done = kavi(repo, "reset", "--force")
    assert done.exit_code == 2 and snapshot(repo) == before


def test_a_copied_storage_directory_loses_its_mark(tmp_path: Path) -> None:
    original = tmp_path / "a"
    create_storage_dir(original, "cache")
    shutil.copytree(original, tmp_path / "b")
    assert is_kavi_storage(original) and not is_kavi_storage(tmp_path / "b")


def test_a_configured_directory_kavi_created_is_wiped(tmp_path: Path, home: Path) -> None:
    repo = cloned_repo(tmp_path, "  data_dir: .kavi/data\n  cache_dir: .kavi/cache\n")
    loaded = load_config(repo / "kavi.yaml")
    paths = resolve_paths(loaded.config.storage, loaded.root)
    ensure_directories(paths)  # Kavi creates (and marks) them
    db = open_ledger(paths.ledger)
    create_proposal(db, name="a", description="d", io_schema={}, side_effect_class="READ_ONLY")
    db.close()
    (paths.cache_dir / "entry.json").write_text("{}")
    result = reset(paths, loaded, backup=True)
    assert result.report.healthy
    assert list_proposals(open_ledger(paths.ledger)) == ()
    assert not (paths.cache_dir / "entry.json").exists()
    assert is_kavi_storage(paths.data_dir) and is_kavi_storage(paths.cache_dir)
    assert (repo / "README.md").read_text() == "precious\n"


def test_a_person_edited_note_in_an_outside_vault_survives(tmp_path: Path, home: Path) -> None:
    from kavi_ledger.artifacts import write_note
    from kavi_ledger.models import ArtifactKind

    vault = tmp_path / "obsidian"
    vault.mkdir()
    paths = resolve_paths(StorageConfig(vault_dir=str(vault)), root=tmp_path)
    ensure_directories(paths)
    db = open_ledger(paths.ledger)
    kept = write_note(db, vault, kind=ArtifactKind.NOTE, title="edited", body="b", related_id=None)
    gone = write_note(
        db, vault, kind=ArtifactKind.NOTE, title="as written", body="c", related_id=None
    )
    db.close()
    (vault / kept.path).write_text("the person changed this note")
    reset(paths, None)
    assert (vault / kept.path).exists() and not (vault / gone.path).exists()


HOLDER = """
import sys
from pathlib import Path
from kavi_ledger.db import open_ledger
from kavi_ledger.states import create_proposal
db = open_ledger(Path(sys.argv[1]))
def propose(prefix):
    for i in range(10):
        create_proposal(db, name=f"{prefix}{i}", description="d", io_schema={},
                        side_effect_class="READ_ONLY")
propose("before")
print("open", flush=True)
sys.stdin.readline()  # hold the ledger open until the test says go
propose("after")
db.close()
"""
HELD = {f"{prefix}{i}" for prefix in ("before", "after") for i in range(10)}


def start_holder(ledger: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ledger)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.wait(timeout=120) == 0


def _paths(home: Path) -> KaviPaths:
    return resolve_paths(StorageConfig(), root=home)


def test_reset_refuses_while_another_process_holds_the_ledger(tmp_path: Path, home: Path) -> None:
    paths = _paths(home)
    ensure_directories(paths)
    open_ledger(paths.ledger).close()
    holder = start_holder(paths.ledger)
    done = kavi(tmp_path, "reset", "--force", "--backup")
    assert done.exit_code == 2, done.output
    assert "another process holds the ledger" in done.stderr
    assert done.stderr.count("\n") == 1 and "Nothing was changed" in done.stderr
    release(holder)
    names = {p.name for p in list_proposals(open_ledger(paths.ledger))}
    assert names == HELD  # every commit landed, the later ones too
    assert list(paths.backups_dir.glob("ledger-*.db")) == []


def test_reset_refuses_while_a_plain_sqlite_client_has_the_ledger_open(
    tmp_path: Path, home: Path
) -> None:
    paths = _paths(home)
    ensure_directories(paths)
    open_ledger(paths.ledger).close()
    client = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1]);"
            " c.execute('select count(*) from skill_proposals').fetchall(); print('open', flush=True);"
            " time.sleep(20)",
            str(paths.ledger),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None and client.stdout.readline() == "open\n"
        done = kavi(tmp_path, "reset", "--force")
        assert done.exit_code == 2 and "another process holds the ledger" in done.stderr
        assert paths.ledger.is_file()
    finally:
        client.kill()
        client.wait()


def test_reset_waits_for_a_holder_that_finishes(tmp_path: Path, home: Path) -> None:
    paths = _paths(home)
    ensure_directories(paths)
    open_ledger(paths.ledger).close()
    holder = start_holder(paths.ledger)
    resetting = subprocess.Popen(
        [PYTHON, "-c", CLI_SCRIPT, "reset", "--force", "--backup", "--wait", "120"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    time.sleep(1.0)
    assert resetting.poll() is None  # still waiting for the holder
    release(holder)
    _, err = resetting.communicate(timeout=120)
    assert resetting.returncode == 0, err
    (backup,) = paths.backups_dir.glob("ledger-*.db")
    assert {p.name for p in list_proposals(open_ledger(backup))} == HELD
    assert list_proposals(open_ledger(paths.ledger)) == ()


WRITER = """
import sys
from pathlib import Path
from kavi_ledger.db import open_ledger
from kavi_ledger.states import create_proposal
from kavi_skills.records import ExecutionLog, ExecutionRecord
ledger, committed, log = Path(sys.argv[1]), Path(sys.argv[2]), ExecutionLog(Path(sys.argv[3]))
stop = Path(sys.argv[4])
i = 0
while not stop.exists():  # until the test has seen every reset it wants land mid-stream
    db = open_ledger(ledger)  # reopen each time, as every kavi command does
    try:
        proposal = create_proposal(db, name=f"w{i}", description="d", io_schema={},
                                   side_effect_class="READ_ONLY")
    finally:
        db.close()
    record = ExecutionRecord(skill_name="w", source_hash="sha256:0", side_effect_class="READ_ONLY",
                             input_json={"i": i}, success=True, started_at="t", finished_at="t")
    log.append(record)
    with committed.open("a") as handle:  # only after both are durable
        handle.write(f"{proposal.id} {record.execution_id}\\n")
    i += 1
print(i)
"""
RESETS = 3
WRITES_BETWEEN = 3


def committed_lines(committed: Path) -> int:
    return len(committed.read_text().splitlines()) if committed.exists() else 0


def wait_for_writes(committed: Path, count: int, writer: subprocess.Popen[str]) -> None:
    """Block until the writer has committed ``count`` writes in all (an event, not a delay)."""
    deadline = time.monotonic() + 120
    while committed_lines(committed) < count:
        assert writer.poll() is None, "the writer stopped early"
        assert time.monotonic() < deadline, f"the writer never reached {count} writes"
        time.sleep(0.02)


def test_reset_force_backup_during_concurrent_writes_loses_nothing(
    tmp_path: Path, home: Path
) -> None:
    paths = _paths(home)
    ensure_directories(paths)
    open_ledger(paths.ledger).close()
    committed, stop = tmp_path / "committed.txt", tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(paths.ledger),
            str(committed),
            str(paths.executions_log),
            str(stop),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = []
        for _ in range(RESETS):  # each reset lands while the writer is writing
            wait_for_writes(committed, committed_lines(committed) + WRITES_BETWEEN, writer)
            done = kavi_process(tmp_path, "reset", "--force", "--backup", "--wait", "60")
            assert done.returncode == 0, done.stderr
            seen.append(committed_lines(committed))
        wait_for_writes(committed, seen[-1] + WRITES_BETWEEN, writer)  # and writes after it
    finally:
        stop.touch()
        out, errors = writer.communicate(timeout=120)
    assert writer.returncode == 0, errors
    written = [line.split() for line in committed.read_text().splitlines()]
    assert len(written) == int(out) >= RESETS * WRITES_BETWEEN + WRITES_BETWEEN
    ledgers = [paths.ledger, *sorted(paths.backups_dir.glob("ledger-*.db"))]
    assert len(ledgers) == RESETS + 1  # every reset backed up a ledger
    stored = {p.id for ledger in ledgers for p in list_proposals(open_ledger(ledger))}
    logs = [paths.executions_log, *sorted(paths.backups_dir.glob("executions-*.jsonl"))]
    logged = "".join(log.read_text() for log in logs if log.exists())
    assert [pid for pid, _ in written if pid not in stored] == []
    assert [eid for _, eid in written if eid not in logged] == []
    for backup in paths.backups_dir.iterdir():
        if backup.is_file() and backup.name != MARKER:
            assert backup.stat().st_mode & 0o777 == 0o600, backup


def test_reset_refuses_a_configured_directory_in_process_too(tmp_path: Path, home: Path) -> None:
    paths = resolve_paths(StorageConfig(cache_dir=str(home / ".ssh")), root=tmp_path)
    with pytest.raises(LedgerError, match="not created by Kavi"):
        reset(paths, None)
    assert (home / ".ssh" / "id_ed25519").exists()
