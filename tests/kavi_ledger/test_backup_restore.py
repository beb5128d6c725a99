"""`kavi backup` and `kavi restore FILE`: private backups, a validated restore that keeps the
replaced ledger, and a round trip (issue 11 item 5)."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from kavi_cli import run_kavi

from kavi_ledger.backup import inspect_ledger_file, restore_ledger
from kavi_ledger.db import open_ledger
from kavi_ledger.errors import LedgerError
from kavi_ledger.paths import KaviPaths
from kavi_ledger.states import create_proposal


def invoke(*args: str) -> tuple[int, str, str]:
    """``kavi ARGS`` in this process, through the real entry point and its error boundary."""
    result = run_kavi(args)
    return result.exit_code, result.stdout, result.stderr


def propose(paths: KaviPaths, *names: str) -> None:
    db = open_ledger(paths.ledger)
    try:
        for name in names:
            create_proposal(
                db, name=name, description="d", io_schema={}, side_effect_class="READ_ONLY"
            )
    finally:
        db.close()


def names_in(ledger: Path) -> set[str]:
    """The proposals in a ledger file, read-only (no lock or journal files beside it)."""
    conn = sqlite3.connect(f"{ledger.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM skill_proposals")}
    finally:
        conn.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_kavi_backup_writes_a_private_consistent_copy(paths: KaviPaths) -> None:
    propose(paths, "a", "b")
    code, out, err = invoke("backup")
    assert code == 0, err
    backup = Path(out.strip())
    assert backup.parent == paths.backups_dir and backup.is_file()
    assert mode(backup) == 0o600 and mode(paths.backups_dir) == 0o700
    assert inspect_ledger_file(backup).pending == ()
    assert names_in(backup) == {"a", "b"}
    assert sorted(p.name for p in backup.parent.iterdir()) == sorted([".kavi-storage", backup.name])


def test_a_backup_without_a_ledger_is_a_one_line_error(paths: KaviPaths) -> None:
    code, _, err = invoke("backup")
    assert code == 2 and err.startswith("kavi: error: no ledger")


def test_restore_round_trip_keeps_the_replaced_ledger(paths: KaviPaths) -> None:
    propose(paths, "kept")
    _, out, _ = invoke("backup")
    backup = Path(out.strip())
    propose(paths, "later")
    code, out, err = invoke("restore", str(backup))
    assert code == 0, err
    assert names_in(paths.ledger) == {"kept"}
    previous = Path(out.split("backup of the replaced ledger: ")[1].splitlines()[0])
    assert names_in(previous) == {"kept", "later"} and mode(previous) == 0o600
    assert mode(paths.ledger) == 0o600
    code, out, _ = invoke("doctor", "--fix")  # creates the dirs this test never needed
    assert code == 0, out
    code, _, err = invoke("restore", str(previous))  # and back again
    assert code == 0, err
    assert names_in(paths.ledger) == {"kept", "later"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text, not a database\n" * 10, "not an SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "cannot be read"),
    ],
    ids=["text-file", "garbage-after-header"],
)
def test_restore_refuses_a_file_that_is_not_a_ledger(
    paths: KaviPaths, tmp_path: Path, content: bytes, message: str
) -> None:
    propose(paths, "current")
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(content)
    code, _, err = invoke("restore", str(bogus))
    assert code == 2 and message in err and err.count("\n") == 1
    assert names_in(paths.ledger) == {"current"}
    assert list(paths.backups_dir.glob("ledger-*.db")) == []


def test_restore_refuses_an_sqlite_file_of_another_program(
    paths: KaviPaths, tmp_path: Path
) -> None:
    propose(paths, "current")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE skill_proposals (id TEXT)")
    conn.commit()
    conn.close()
    code, _, err = invoke("restore", str(other))
    assert code == 2 and "not a Kavi ledger" in err
    assert names_in(paths.ledger) == {"current"}


def test_restore_refuses_a_ledger_of_a_newer_schema(paths: KaviPaths) -> None:
    propose(paths, "current")
    _, out, _ = invoke("backup")
    conn = sqlite3.connect(Path(out.strip()))
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('kavi_ledger', 'm999_from_the_future', 'now')"
    )
    conn.commit()
    conn.close()
    code, _, err = invoke("restore", out.strip())
    assert code == 2 and "newer Kavi" in err
    assert names_in(paths.ledger) == {"current"}


def test_restoring_an_older_schema_migrates_it(paths: KaviPaths) -> None:
    propose(paths, "old")
    _, out, _ = invoke("backup")
    conn = sqlite3.connect(Path(out.strip()))
    conn.execute("DROP TABLE artifacts")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_artifacts'")
    conn.commit()
    conn.close()
    assert inspect_ledger_file(Path(out.strip())).pending == ("m005_artifacts",)
    assert invoke("restore", out.strip())[0] == 0
    db = open_ledger(paths.ledger)
    try:
        assert "artifacts" in db.table_names()
    finally:
        db.close()


def test_restore_refuses_the_live_ledger_itself(paths: KaviPaths) -> None:
    propose(paths, "current")
    with pytest.raises(LedgerError, match="is the live ledger"):
        restore_ledger(paths, paths.ledger)


HOLDER = """
import sys
from pathlib import Path
from kavi_ledger.db import open_ledger
db = open_ledger(Path(sys.argv[1]))
print("open", flush=True)
sys.stdin.readline()
db.close()
"""


def test_restore_refuses_while_another_process_holds_the_ledger(paths: KaviPaths) -> None:
    propose(paths, "current")
    _, out, _ = invoke("backup")
    propose(paths, "newer")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(paths.ledger)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        code, _, err = invoke("restore", out.strip())
        assert code == 2 and "another process holds the ledger" in err
    finally:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert names_in(paths.ledger) == {"current", "newer"}
