"""ExecutionRecord and the append-only JSONL log it lives in.

Appends take an exclusive ``fcntl`` lock, write one line and fsync; the file is created 0600
(and tightened back to 0600 if found wider). Reading takes a shared lock and skips malformed
lines, counting them, so one torn or hand-edited line never hides the rest of the history.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kavi_gates.errors import InternalError
from kavi_gates.storage import create_storage_dir

RECORD_VERSION = 1


def utc_now() -> str:
    """The current time as ISO 8601 UTC."""
    return datetime.now(UTC).isoformat()


def new_execution_id() -> str:
    """A fresh execution id (uuid4 hex)."""
    return uuid.uuid4().hex


class RecordOrigin(BaseModel):
    """Who asked for a run other than the CLI: ``kavi serve`` records its MCP connection."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    via: Literal["mcp"] = "mcp"
    session: str
    """The MCP connection: the HTTP session id, or one id per ``kavi serve`` stdio process."""
    client: str | None = None
    """The client's name and version as it introduced itself (untrusted: a label only)."""


class ExecutionRecord(BaseModel):
    """One execution of one skill: what ran (by hash), on what, with what result."""

    # Unknown keys are ignored, so a reader tolerates records a newer writer added fields to.
    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    execution_id: str = Field(default_factory=new_execution_id)
    parent_execution_id: str | None = None
    skill_name: str
    source_hash: str
    side_effect_class: str
    input_json: dict[str, Any]
    output_json: dict[str, Any] | None = None
    success: bool
    error: str | None = None
    started_at: str
    finished_at: str
    sandbox: str | None = None
    """How the skill ran: ``bubblewrap`` (the OS sandbox) or ``none`` (the explicit opt-out);
    absent on records written before skills ran in a child process."""
    origin: RecordOrigin | None = None
    """Who asked: absent for the CLI (``kavi run``, ``chain``, ``replay``)."""

    def to_line(self) -> str:
        """The record as one JSON line (no trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class LogContents:
    """The readable records of a log, in file order, and how many lines were skipped."""

    records: tuple[ExecutionRecord, ...]
    skipped: int


class ExecutionLog:
    """The JSONL execution log at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: ExecutionRecord) -> None:
        """Append ``record`` durably (lock, write, fsync)."""
        self.append_many([record])

    def append_many(self, records: list[ExecutionRecord]) -> None:
        """Append several records under one lock."""
        payload = "".join(record.to_line() + "\n" for record in records).encode("utf-8")
        fd = self._open_locked()
        try:
            try:
                # A torn last line (a crash mid-write) must not swallow this record.
                size = os.fstat(fd).st_size  # after the lock: another writer may have appended
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    payload = b"\n" + payload
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as err:
            raise InternalError(f"cannot write execution log {self.path}: {err.strerror}") from None
        finally:
            os.close(fd)

    def _open_locked(self) -> int:
        """The log, opened for appending and locked; the file at ``path`` at that moment.

        A reset may delete the log between our open and our lock: then the descriptor names
        a deleted file, and what we wrote would be lost. Reopen until they agree.
        """
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        while True:
            try:
                create_storage_dir(self.path.parent, "data")
                fd = os.open(self.path, flags, 0o600)
            except OSError as err:
                raise InternalError(
                    f"cannot open execution log {self.path}: {err.strerror}"
                ) from None
            try:
                info = os.fstat(fd)
                if stat.S_IMODE(info.st_mode) != 0o600:
                    os.fchmod(fd, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                current = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                continue
            except OSError as err:
                os.close(fd)
                raise InternalError(
                    f"cannot write execution log {self.path}: {err.strerror}"
                ) from None
            if (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino):
                return fd
            os.close(fd)

    def read(self) -> LogContents:
        """Every well-formed record; malformed lines are skipped and counted."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return LogContents((), 0)
        except OSError as err:
            raise InternalError(f"cannot read execution log {self.path}: {err.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            data = handle.read()
        records: list[ExecutionRecord] = []
        skipped = 0
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                records.append(ExecutionRecord.model_validate_json(raw))
            except ValidationError:
                skipped += 1
        return LogContents(tuple(records), skipped)

    def find(self, execution_id: str) -> ExecutionRecord | None:
        """The record with this id, or with this unique id prefix (at least 6 characters)."""
        records = self.read().records
        for record in records:
            if record.execution_id == execution_id:
                return record
        if len(execution_id) >= 6:
            matches = {
                r.execution_id: r for r in records if r.execution_id.startswith(execution_id)
            }
            if len(matches) == 1:
                return next(iter(matches.values()))
        return None
