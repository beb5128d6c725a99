"""The pipe between the trusted parent and a skill's child process: frames and messages.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. The parent sends
one :class:`RunRequest`, then answers each :class:`CapabilityCall` with a
:class:`CapabilityReply`; the child ends with a :class:`RunOutcome`. Or the parent sends one
:class:`DescribeRequest` (the skill is imported, never executed, and gets no capability)
and the child answers with one :class:`Description`. Everything the child
sends is untrusted: the parent validates each message against these models and bounds each
frame, and a child that breaks the protocol is killed and its run recorded as failed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_CHILD_FRAME = 32 << 20
"""The most a child may send in one message (a result, a file to write, texts to embed)."""
_HEADER = struct.Struct(">I")

Stage = Literal["load", "input", "skill", "output"]


class ProtocolError(Exception):
    """A peer sent something that is not a well-formed frame or message, or hung up."""


class FrameTimeout(ProtocolError):
    """The peer made no progress before the deadline."""


class PeerClosed(ProtocolError):
    """The peer closed its end (it exited, crashed or was killed)."""


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LLMInfo(_Message):
    """What a skill may know of the configured endpoint (the parent holds the client)."""

    model: str
    embed_model: str
    where: str


class SkillCode(_Message):
    """Which skill, and the verified bytes to import it from."""

    skill_name: str
    skill_path: str
    class_name: str
    side_effect_class: str
    root: str
    """The project root the module origins are reported under (the child cannot see it)."""
    modules: dict[str, str]
    """Pinned path -> base64 of its verified bytes."""
    served: dict[str, str]
    """Module name -> pinned path, as the parent resolved the verified code's imports."""
    import_roots: dict[str, Any]
    """The project's import roots (``ImportRoots.as_dict``) for the import guard."""

    def verified_bytes(self) -> dict[str, bytes]:
        """The pinned files' bytes, decoded."""
        return {path: base64.b64decode(data) for path, data in self.modules.items()}


class RunRequest(SkillCode):
    """Everything the child needs: verified bytes, input, and the capabilities granted."""

    t: Literal["run"] = "run"
    input: Any
    vault_dir: str
    file_roots: dict[str, str] | None = None
    """The granted file roots by label (FILE_WRITE), or None: no file API."""
    allowed_hosts: tuple[str, ...] | None = None
    """The hosts of the trusted entry (NETWORK...), or None: no HTTP client."""
    llm: LLMInfo
    secrets: dict[str, str] = Field(default_factory=dict)


class DescribeRequest(SkillCode):
    """Import the skill and report what it declares; nothing of it is executed or granted."""

    t: Literal["describe"] = "describe"


class CapabilityCall(_Message):
    """The child asks the parent to act for the skill (``files.write``, ``http.get_json``...)."""

    t: Literal["call"] = "call"
    id: int
    cap: str
    args: dict[str, Any] = Field(default_factory=dict)


class CapabilityReply(_Message):
    """The parent's answer: a value, or the name and message of the error it raised."""

    t: Literal["reply"] = "reply"
    id: int
    ok: bool
    value: Any = None
    error_type: str | None = None
    message: str | None = None


class RunOutcome(_Message):
    """How the run ended, as the child saw it."""

    t: Literal["done"] = "done"
    ok: bool
    stage: Stage | None = None
    error: str | None = None
    input: Any = None
    """The validated input (as JSON) once validation passed."""
    output: dict[str, Any] | None = None


class Description(_Message):
    """The child's answer to a :class:`DescribeRequest`: the class's description and the JSON
    schemas of its input (as validated) and output (as serialised) models, or an error."""

    t: Literal["described"] = "described"
    ok: bool
    error: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


def encode_bytes(data: bytes) -> str:
    """Bytes as the base64 text :class:`RunRequest` carries."""
    return base64.b64encode(data).decode("ascii")


def frame(message: BaseModel) -> bytes:
    """One message as a frame."""
    body = json.dumps(
        message.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def _wait(fd: int, deadline: float | None, *, write: bool) -> None:
    """Block until ``fd`` is ready (or the deadline passes: :class:`FrameTimeout`)."""
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left <= 0:
        raise FrameTimeout("no progress before the deadline")
    ready = select.select([], [fd], [], left) if write else select.select([fd], [], [], left)
    if not (ready[1] if write else ready[0]):
        raise FrameTimeout("no progress before the deadline")


def write_frame(fd: int, message: BaseModel, deadline: float | None = None) -> None:
    """Send one frame on ``fd`` (all of it); with a non-blocking ``fd``, never past
    ``deadline``, so a peer that stops reading cannot hold the writer."""
    view = memoryview(frame(message))
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            _wait(fd, deadline, write=True)
            continue
        view = view[written:]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks = []
    while size:
        try:
            chunk = os.read(fd, min(size, 1 << 20))
        except BlockingIOError:  # a non-blocking descriptor: wait, bounded by the deadline
            _wait(fd, deadline, write=False)
            continue
        if not chunk:
            raise PeerClosed("the other side closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int | None = None, deadline: float | None = None) -> Any:
    """Read one frame from ``fd`` and parse its JSON.

    ``limit`` bounds its size; ``deadline`` (a ``time.monotonic()`` value) bounds the wait,
    so a peer that stalls mid-frame cannot hold the reader.
    """
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if limit is not None and size > limit:
        raise ProtocolError(f"a message of {size} bytes exceeds the limit of {limit}")
    try:
        return json.loads(_read_exactly(fd, size, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"a message that is not JSON: {err}") from None
