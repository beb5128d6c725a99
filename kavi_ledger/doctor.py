"""Health checks for a Kavi installation; each is data (pass/warn/fail plus a fix hint)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlite_utils import Database

from kavi_gates.config import LoadedConfig
from kavi_gates.errors import KaviError
from kavi_ledger.db import connect, migrate, open_ledger, schema_status
from kavi_ledger.paths import KaviPaths, ensure_directories

CheckStatus = Literal["pass", "warn", "fail"]
TOOLS = ("git", "ruff", "mypy", "pytest")


class Check(BaseModel):
    """One health check's verdict; ``fix_hint`` says what a person (or ``--fix``) can do."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: CheckStatus
    message: str
    fix_hint: str | None = None


class DoctorReport(BaseModel):
    """Every check of one doctor run; healthy means no check failed (warnings are allowed)."""

    model_config = ConfigDict(frozen=True)

    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        """True when no check failed."""
        return all(c.status != "fail" for c in self.checks)

    def to_json(self) -> str:
        """The ``kavi doctor --json`` document."""
        payload = {"healthy": self.healthy, "checks": [c.model_dump() for c in self.checks]}
        return json.dumps(payload, indent=2)


def _writable(directory: Path) -> bool:
    # os.access lies on some mounts (read-only bind mounts, ACLs): really write a file.
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".kavi-probe-"):
            return True
    except OSError:
        return False


def _creatable(directory: Path) -> bool:
    """Could ``directory`` be created: is its nearest existing ancestor a writable dir?"""
    for parent in directory.parents:
        if parent.exists():
            return parent.is_dir() and _writable(parent)
    return False


def check_directories(paths: KaviPaths, fix: bool) -> Check:
    """Every storage directory exists and is writable, or can be created on first use.

    A fresh install has none of them yet, and that is healthy: each command creates what
    it needs. Only a directory that exists unwritable, or cannot be created, fails.
    """
    if fix:
        with contextlib.suppress(OSError):
            ensure_directories(paths)
    missing = [d for d in paths.directories if not d.exists()]
    bad = [str(d) for d in paths.directories if d.exists() and (not d.is_dir() or not _writable(d))]
    bad += [str(d) for d in missing if not _creatable(d)]
    if bad:
        return Check(
            name="directories",
            status="fail",
            message="missing or not writable: " + ", ".join(bad),
            fix_hint="check permissions (kavi doctor --fix creates what it can)",
        )
    if missing:
        return Check(
            name="directories",
            status="warn",
            message="not created yet (created on first use): " + ", ".join(map(str, missing)),
        )
    return Check(
        name="directories",
        status="pass",
        message=f"data, config, cache and vault directories are writable (data: {paths.data_dir})",
    )


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Database]:
    db = connect(path)
    try:
        yield db
    finally:
        db.close()


def check_ledger(paths: KaviPaths, fix: bool) -> list[Check]:
    """The ledger opens, passes ``PRAGMA integrity_check`` and has the current schema."""
    hint_reset = "restore a backup from <data>/backups or run `kavi reset --backup`"
    if not paths.ledger.is_file():
        if not fix:
            # A fresh install: the first command that records something creates it.
            return [
                Check(
                    name="ledger",
                    status="warn",
                    message=f"no ledger yet at {paths.ledger} (created on first use)",
                    fix_hint="`kavi doctor --fix` creates it now",
                )
            ]
        try:
            open_ledger(paths.ledger).close()
        except (KaviError, sqlite3.Error, OSError) as err:
            return [Check(name="ledger", status="fail", message=f"cannot create ledger: {err}")]
    checks: list[Check] = []
    try:
        with _opened(paths.ledger) as db:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            checks.append(Check(name="ledger", status="pass", message=f"{paths.ledger} opens"))
            rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                return [
                    *checks,
                    Check(
                        name="integrity",
                        status="fail",
                        message="integrity_check: "
                        + " | ".join(" ".join(str(r).split()) for r in rows[:3]),
                        fix_hint=hint_reset,
                    ),
                ]
            checks.append(Check(name="integrity", status="pass", message="integrity_check: ok"))
            checks.append(_check_schema(db, paths.ledger, fix))
    except (sqlite3.Error, OSError) as err:
        # A damaged file fails in different places ("file is not a database" at the first
        # read, "malformed" mid-query); wherever it happens it is a failed check.
        name = "ledger" if not checks else "integrity"
        checks.append(
            Check(name=name, status="fail", message=f"{paths.ledger}: {err}", fix_hint=hint_reset)
        )
    return checks


def _check_schema(db: Database, path: Path, fix: bool) -> Check:
    status = schema_status(db)
    if status.unknown:
        return Check(
            name="schema",
            status="fail",
            message=f"ledger has migrations this Kavi does not know: {', '.join(status.unknown)}",
            fix_hint="upgrade Kavi",
        )
    if status.pending and fix:
        status = migrate(db, path)
    if status.pending:
        return Check(
            name="schema",
            status="fail",
            message=f"schema version {status.version}, pending: {', '.join(status.pending)}",
            fix_hint="run `kavi doctor --fix`",
        )
    return Check(name="schema", status="pass", message=f"schema version {status.version} (current)")


def check_registry(loaded: LoadedConfig | None) -> Check:
    """The registry parses and its pins hold (the hash-pin gate, run through the runner)."""
    if loaded is None:
        return Check(name="registry", status="warn", message="no project configuration loaded")
    registry = loaded.root / loaded.config.hash_pin.registry
    if not registry.is_file():
        return Check(
            name="registry",
            status="warn",
            message=f"no registry at {registry} (no trusted skills yet)",
        )
    try:
        from kavi_gates.runner import run_gates

        report = run_gates(loaded, only=["hash-pin"])
    except Exception as err:  # ImportError, KaviError or a crash: a failed check, never a crash
        return Check(
            name="registry",
            status="fail",
            message=f"hash-pin gate could not run: {err}",
            fix_hint="run `kavi check --gate hash-pin` for details",
        )
    failed = [r for r in report.results if r.failed]
    if failed:
        detail = "; ".join(f.message for r in failed for f in r.findings[:3]) or (
            failed[0].error or failed[0].status.value
        )
        return Check(
            name="registry",
            status="fail",
            message=f"pins do not hold: {detail}",
            fix_hint="run `kavi check --gate hash-pin`, then re-verify and promote",
        )
    return Check(name="registry", status="pass", message=f"{registry} parses and its pins hold")


def check_executions_log(paths: KaviPaths) -> Check:
    """Every line of ``<data>/executions.jsonl`` is a JSON object."""
    log = paths.executions_log
    if not log.exists():
        return Check(name="executions-log", status="pass", message="no executions logged yet")
    bad = total = 0
    try:
        with log.open("r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    continue
                total += 1
                try:
                    ok = isinstance(json.loads(line), dict)
                except json.JSONDecodeError:
                    ok = False
                bad += not ok
    except OSError as err:
        return Check(name="executions-log", status="fail", message=f"cannot read {log}: {err}")
    if bad:
        return Check(
            name="executions-log",
            status="warn",
            message=f"{bad} of {total} lines in {log} are not JSON objects",
            fix_hint="inspect the file; replay skips them",
        )
    return Check(name="executions-log", status="pass", message=f"{total} records parse")


def _tool_present(tool: str) -> bool:
    # The venv's bin dir is searched too: `kavi` is often run without activating it.
    search = os.pathsep.join([os.environ.get("PATH", ""), str(Path(sys.executable).parent)])
    if shutil.which(tool, path=search):
        return True
    return tool != "git" and importlib.util.find_spec(tool) is not None


def check_toolchain() -> Check:
    """git, ruff, mypy and pytest are available (verify needs them)."""
    missing = [tool for tool in TOOLS if not _tool_present(tool)]
    if missing:
        return Check(
            name="toolchain",
            status="warn",
            message="missing: " + ", ".join(missing),
            fix_hint="install them (pip install 'kavi[dev]')",
        )
    return Check(name="toolchain", status="pass", message="git, ruff, mypy, pytest found")


def _unsandboxed_runs(paths: KaviPaths) -> int:
    """How many executions ran without the OS sandbox (the recorded opt-out).

    The larger of the ledger's count and the log's: the ledger outlives a truncated log,
    and the log holds runs from before the ledger recorded them.
    """
    from kavi_ledger.records import count_sandbox_opt_outs

    logged = 0
    with contextlib.suppress(OSError), paths.executions_log.open(encoding="utf-8") as log:
        for line in log:
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(line)
                logged += isinstance(record, dict) and record.get("sandbox") == "none"
    recorded = 0
    if paths.ledger.is_file():
        # unusable or not migrated yet: the schema check says so
        with contextlib.suppress(KaviError, sqlite3.Error):
            db = connect(paths.ledger)
            try:
                recorded = count_sandbox_opt_outs(db)
            finally:
                db.close()
    return max(logged, recorded)


def check_sandbox(paths: KaviPaths, loaded: LoadedConfig | None) -> Check:
    """Skills can run sandboxed here; an opt-out (config or logged runs) is a warning."""
    from kavi_sandbox import SandboxError
    from kavi_sandbox.bwrap import probe

    if loaded is not None and not loaded.config.sandbox.enabled:
        return Check(
            name="sandbox",
            status="warn",
            message=f"skills run WITHOUT the OS sandbox: sandbox.enabled is false in "
            f"{loaded.source}",
            fix_hint="remove the opt-out (`sandbox: {enabled: true}`) once the sandbox starts",
        )
    try:
        bwrap = probe()
    except SandboxError as err:
        return Check(
            name="sandbox",
            status="fail",
            message=f"no sandbox can start, so `kavi run` refuses every skill: {err}",
            fix_hint="fix the above, or opt out explicitly (--no-sandbox; recorded)",
        )
    unsandboxed = _unsandboxed_runs(paths)
    if unsandboxed:
        return Check(
            name="sandbox",
            status="warn",
            message=f"{unsandboxed} execution(s) ran without the OS sandbox "
            "(--no-sandbox or sandbox.enabled: false; recorded in the ledger and the log)",
            fix_hint="`kavi log --json` shows them: their records say sandbox: none",
        )
    version = ".".join(map(str, bwrap.version))
    return Check(
        name="sandbox", status="pass", message=f"bubblewrap {version} starts a sandbox here"
    )


def run_doctor(paths: KaviPaths, loaded: LoadedConfig | None, *, fix: bool = False) -> DoctorReport:
    """Run every check (fixing directories and schema first when ``fix``); never raises."""
    steps: list[Callable[[], list[Check]]] = [
        lambda: [check_directories(paths, fix)],
        lambda: check_ledger(paths, fix),
        lambda: [check_registry(loaded)],
        lambda: [check_executions_log(paths)],
        lambda: [check_toolchain()],
        lambda: [check_sandbox(paths, loaded)],
    ]
    checks: list[Check] = []
    for step in steps:
        try:
            checks.extend(step())
        except Exception as err:  # a crashing check is a failed check, never a crash
            checks.append(Check(name="doctor", status="fail", message=f"check crashed: {err!r}"))
    return DoctorReport(checks=tuple(checks))
