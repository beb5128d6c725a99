"""The parent's side of the pipe: serve a skill's capability calls, collect its outcome.

Each call is decided here, from what the skill's *trusted registry entry* grants: the file
API exists only for FILE_WRITE (the parent's ``GuardedFiles``: inside the allowed roots,
no symlinks, no hard links), HTTP only for the classes that get it and only to the hosts
recorded for the entry (the parent's ``GuardedHTTP``: http/https only), the LLM only at the
configured endpoint (the parent's client). Arguments are validated; anything else is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kavi_gates.errors import KaviError
from kavi_skills.capabilities import Grant
from kavi_skills.errors import SideEffectRefused
from kavi_skills.isolation import SkillProcess
from kavi_skills.protocol import (
    CapabilityCall,
    CapabilityReply,
    FrameTimeout,
    PeerClosed,
    ProtocolError,
    RunOutcome,
    RunRequest,
)
from kavi_skills.validation import describe_validation


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _PathArgs(_Args):
    path: str
    root: str | None = None


class _WriteArgs(_PathArgs):
    text: str


class _GetArgs(_Args):
    url: str
    headers: dict[str, str] = Field(default_factory=dict)


class _ChatArgs(_Args):
    prompt: str
    name: str
    schema_: dict[str, Any] = Field(alias="schema")


class _EmbedArgs(_Args):
    texts: list[str]


class _NoArgs(_Args):
    pass


@dataclass(frozen=True)
class ChildResult:
    """The child's outcome, or why there is none (timeout, crash, broken protocol)."""

    outcome: RunOutcome | None
    failure: str | None = None


class CapabilityBroker:
    """Performs, for one skill run, exactly what its grant allows."""

    def __init__(self, skill_name: str, side_effect_class: str, grant: Grant, llm: Any) -> None:
        self._who = f"{skill_name} ({side_effect_class})"
        self._grant = grant
        self._llm = llm
        self._table: dict[str, tuple[type[_Args], Callable[[Any], Any]]] = {
            "files.resolve": (_PathArgs, lambda a: str(self._files().resolve(a.path, a.root))),
            "files.write": (
                _WriteArgs,
                lambda a: str(self._files().write(a.path, a.text, a.root)),
            ),
            "files.append": (
                _WriteArgs,
                lambda a: str(self._files().append(a.path, a.text, a.root)),
            ),
            "files.read": (_PathArgs, lambda a: self._files().read(a.path, a.root)),
            "files.exists": (_PathArgs, lambda a: self._files().exists(a.path, a.root)),
            "files.mkdir": (_PathArgs, lambda a: str(self._files().mkdir(a.path, a.root))),
            "http.get_json": (_GetArgs, lambda a: self._http().get_json(a.url, a.headers)),
            "llm.available": (_NoArgs, lambda a: bool(self._llm.is_available())),
            "llm.chat_json": (
                _ChatArgs,
                lambda a: self._llm.chat_json_raw(a.prompt, a.name, a.schema_),
            ),
            "llm.embed": (_EmbedArgs, lambda a: self._llm.embed(a.texts)),
        }

    def _files(self) -> Any:
        if self._grant.files is None:
            raise SideEffectRefused(
                f"{self._who} has no file API: only FILE_WRITE skills may write files"
            )
        return self._grant.files

    def _http(self) -> Any:
        if self._grant.http is None:
            raise SideEffectRefused(
                f"{self._who} has no HTTP client: only NETWORK, MONEY and MESSAGING skills "
                "reach the network"
            )
        return self._grant.http

    def handle(self, call: CapabilityCall) -> CapabilityReply:
        """Perform one call; every refusal or failure is a reply, never an exception."""
        known = self._table.get(call.cap)
        if known is None:
            return self._error(call, SideEffectRefused(f"unknown capability {call.cap!r}"))
        model, perform = known
        try:
            args = model.model_validate(call.args)
        except ValidationError as err:
            refused = SideEffectRefused(f"malformed {call.cap} call: {describe_validation(err)}")
            return self._error(call, refused)
        try:
            value = perform(args)
        except (KaviError, OSError) as err:
            return self._error(call, err)
        except Exception as err:  # a bug of ours must not take the parent down
            return self._error(call, RuntimeError(f"{call.cap} failed: {type(err).__name__}"))
        return CapabilityReply(id=call.id, ok=True, value=value)

    @staticmethod
    def _error(call: CapabilityCall, err: Exception) -> CapabilityReply:
        kind = "OSError" if isinstance(err, OSError) else type(err).__name__
        return CapabilityReply(id=call.id, ok=False, error_type=kind, message=str(err))


def converse(process: SkillProcess, request: RunRequest, broker: CapabilityBroker) -> ChildResult:
    """Send the request, serve calls until the child's outcome, the wall time or a breach."""
    process.process.restart_clock()  # the skill's time starts with its request
    try:
        process.send(request)
        while True:
            message = process.receive()
            kind = message.get("t") if isinstance(message, dict) else None
            if kind == "call":
                process.send(broker.handle(CapabilityCall.model_validate(message)))
            elif kind == "done":
                return ChildResult(RunOutcome.model_validate(message))
            else:
                return ChildResult(None, f"broke the broker protocol (a {kind!r} message)")
    except FrameTimeout:
        process.process.kill()
        return ChildResult(
            None, "timed out (the sandbox's wall-time limit); its processes were killed"
        )
    except ValidationError as err:
        return ChildResult(None, f"broke the broker protocol: {describe_validation(err)}")
    except (PeerClosed, OSError):
        return ChildResult(None, process.failure_detail())
    except ProtocolError as err:  # too large, not JSON
        return ChildResult(None, f"broke the broker protocol: {err}")
