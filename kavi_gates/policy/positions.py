"""Line/column of a few nodes, computed only for files that have findings.

``PositionProvider`` records a position for every node and costs about twice a parse; we
generate the code once and note the token index where each wanted node starts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import libcst as cst
from libcst._add_slots import add_slots
from libcst._nodes.internal import CodegenState

from kavi_gates.lines import line_breaks, line_start

T = TypeVar("T")


@add_slots
@dataclass(frozen=False)
class _MarkingState(CodegenState):
    wanted: frozenset[int] = frozenset()
    marks: dict[int, int] = field(default_factory=dict)

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.marks:
            self.marks[key] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        # Every wanted node has started and this one is done: the rest of the file cannot
        # move them, so stop generating code (findings cluster at the top: imports).
        if len(self.marks) == len(self.wanted) and id(node) in self.wanted:
            raise _AllMarked

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> AbstractContextManager[None]:
        key = id(node)
        if key in self.wanted:  # the syntactic start excludes parentheses and blank lines
            self.marks[key] = len(self.tokens)
        return _NOTHING  # a shared no-op context: no generator per node


class _AllMarked(Exception):
    """Raised inside code generation once every wanted node has a position."""


_NOTHING: AbstractContextManager[None] = nullcontext()


def run_deep(fn: Callable[[], T]) -> T:
    """Run ``fn``; on RecursionError retry in a thread with a large stack and limit.

    libcst's code generation recurses; deeply nested literals must not crash the gate.
    """
    try:
        return fn()
    except RecursionError:
        pass
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 1_000_000))
        try:
            result.append(fn())
        except BaseException as err:  # re-raised in the caller's thread
            errors.append(err)
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size()
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=target)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_size)
    if errors:
        raise errors[0]
    return result[0]  # type: ignore[no-any-return]


def node_positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    text: str | None = None,
    statement_of: Mapping[int, int] | None = None,
) -> dict[int, tuple[int, int]]:
    """``id(node)`` → (line, column), both 1-based.

    With the module's ``text`` and the top-level statement each node is in
    (``ModuleFacts.statement_of``), only those statements' code is generated: each one's
    code is found in ``text``, where it must start a line and occur nowhere else at a line
    start (a top-level statement's code starts a line, and code generation reproduces the
    source). Otherwise, or when that does not hold, the module's code is generated up to
    the last node."""
    wanted = frozenset(id(n) for n in nodes)
    if text is not None and statement_of:
        found = _by_statement(module, wanted, text, statement_of)
        if found is not None:
            return found
    state = run_deep(partial(_generate, module, module, wanted))
    return _place("".join(state.tokens), _offsets(state, 0))


def _generate(module: cst.Module, node: cst.CSTNode, wanted: frozenset[int]) -> _MarkingState:
    # A fresh state per attempt: a RecursionError leaves a half-filled one behind.
    state = _MarkingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=wanted,
    )
    with suppress(_AllMarked):
        node._codegen(state)
    return state


def _by_statement(
    module: cst.Module, wanted: frozenset[int], text: str, statement_of: Mapping[int, int]
) -> dict[int, tuple[int, int]] | None:
    """The positions from the code of the statements that hold ``wanted`` alone; None when
    a node's statement is unknown or its code cannot be placed in ``text`` for certain."""
    groups: dict[int, set[int]] = {}
    for key in wanted:
        index = statement_of.get(key, -1)
        if index < 0:
            return None
        groups.setdefault(index, set()).add(key)
    body = module.body
    marks: list[tuple[int, int]] = []  # (offset in text, node id)
    for index in sorted(groups):
        if index >= len(body) or (index == len(body) - 1 and not module.has_trailing_newline):
            return None  # (the last statement's code would end with a newline the file lacks)
        keys = frozenset(groups[index])
        state = run_deep(partial(_generate, module, body[index], keys))
        if len(state.marks) != len(keys):
            return None  # a node is not where the walk saw it
        start = _line_start(text, "".join(state.tokens))
        if start is None:
            return None
        marks.extend(_offsets(state, start))
    return _place(text, marks)


def _offsets(state: _MarkingState, start: int) -> list[tuple[int, int]]:
    """(offset, node id) of each marked node, its code generated from ``start`` on."""
    marks: list[tuple[int, int]] = []
    offset, consumed = start, 0
    for token_index, key in sorted((i, k) for k, i in state.marks.items()):
        offset += sum(map(len, state.tokens[consumed:token_index]))
        consumed = token_index
        marks.append((offset, key))
    return marks


def _place(text: str, marks: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Line and column (1-based, lines as Python counts them) of each (offset, node id)."""
    out: dict[int, tuple[int, int]] = {}
    line, start, counted = 1, 0, 0
    for offset, key in sorted(marks):
        breaks = line_breaks(text, counted, offset)
        if breaks:
            line += breaks
            start = line_start(text, counted, offset)
        counted = offset
        out[key] = (line, offset - start + 1)
    return out


_MATCHES = 64
"""Occurrences of a statement's code a search looks at before giving up (the module's code
is generated instead)."""


def _line_start(text: str, code: str) -> int | None:
    """Where ``code`` starts a line of ``text``, if it does at exactly one place."""
    found = None
    at = text.find(code)
    for _ in range(_MATCHES):
        if at < 0:
            return found
        if at == 0 or text[at - 1] in "\r\n":
            if found is not None:
                return None
            found = at
        at = text.find(code, at + 1)
    return None
