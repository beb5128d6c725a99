"""Line/column of a few nodes, computed only for files that have findings.

``PositionProvider`` records a position for every node and costs about twice a parse; we
generate the code once and note the token index where each wanted node starts.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import libcst as cst
from libcst._add_slots import add_slots
from libcst._nodes.internal import CodegenState

from kavi_gates.lines import line_breaks, line_start

T = TypeVar("T")


_LINE = cst.SimpleStatementLine


@add_slots
@dataclass(frozen=False)
class _MarkingState(CodegenState):
    wanted: frozenset[int] = frozenset()
    marks: dict[int, int] = field(default_factory=dict)
    line: int = 0
    """The simple statement line whose code is being generated (they never nest), or 0."""
    statement_of: dict[int, int] = field(default_factory=dict)
    """Wanted node → the simple statement line holding it (none: in a compound statement's
    header, a ``with`` or ``if`` line)."""
    unended: set[int] = field(default_factory=set)
    """Statement lines holding a wanted node whose code is not generated to their end."""
    ends: dict[int, int] = field(default_factory=dict)
    """Statement line holding a wanted node → the token index after its code."""

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if type(node) is _LINE:
            self.line = key
        if key in self.wanted and key not in self.marks:
            self.marks[key] = len(self.tokens)
            self._held(key)

    def _held(self, key: int) -> None:
        if self.line and key not in self.statement_of:
            self.statement_of[key] = self.line
            if self.line not in self.ends:
                self.unended.add(self.line)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) is _LINE:
            self.line = 0
            key = id(node)
            if key in self.unended:
                self.unended.discard(key)
                self.ends[key] = len(self.tokens)
        # Every wanted node has started and the lines holding them are done: the rest of
        # the file cannot move them, so stop generating code (findings cluster at the top).
        if len(self.marks) == len(self.wanted) and not self.unended:
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
            self._held(key)
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
    module: cst.Module, nodes: Iterable[cst.CSTNode], text: str
) -> dict[int, tuple[int, int, int]]:
    """``id(node)`` → (line, column, last line), 1-based, lines as Python counts them, for
    each node whose place in ``text`` (the module's source) is certain. The last line is
    that of the simple statement holding the node (a call's arguments written over several
    lines); 0 when there is none (a compound statement's header) or it is not certain.

    The module's code is generated up to the last node. libcst's code is the source except
    for a few things it drops (a space before an ``except`` clause's colon, a form feed
    before code, a line holding only a backslash): a node after the first difference is
    left out, never placed by a count the difference has shifted (a suppression comment
    on the line it would name must not silence it)."""
    wanted = frozenset(id(n) for n in nodes)
    state = run_deep(partial(_generate, module, wanted))
    code = "".join(state.tokens)
    same = _common_prefix(code, text)
    starts = _place(
        text, [(offset, key) for offset, key in _offsets(state.marks, state) if offset < same]
    )
    # A statement line's code ends with its line end (\r\n: two characters): its last line
    # is the one before that.
    ends = _place(
        text,
        [
            (_before_line_end(text, end), key)
            for end, key in _offsets(state.ends, state)
            if end <= same
        ],
    )
    out: dict[int, tuple[int, int, int]] = {}
    for key, (line, col) in starts.items():
        end = ends.get(state.statement_of.get(key, -1))
        out[key] = (line, col, end[0] if end is not None else 0)
    return out


def _before_line_end(text: str, end: int) -> int:
    """The offset of the last character before the line end(s) that ``text[:end]`` ends with."""
    while end > 0 and text[end - 1] in "\r\n":
        end -= 1
    return max(end - 1, 0)


def _generate(module: cst.Module, wanted: frozenset[int]) -> _MarkingState:
    # A fresh state per attempt: a RecursionError leaves a half-filled one behind.
    state = _MarkingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=wanted,
    )
    with suppress(_AllMarked):
        module._codegen(state)
    return state


def _common_prefix(code: str, text: str) -> int:
    """How long a prefix ``code`` and ``text`` share (all of ``code``: its length)."""
    if text.startswith(code):
        return len(code)
    low, high = 0, min(len(code), len(text))  # code[:low] matches; code[:high + 1] does not
    while low < high:
        middle = (low + high + 1) // 2
        if text.startswith(code[low:middle], low):
            low = middle
        else:
            high = middle - 1
    return low


def _offsets(indexes: dict[int, int], state: _MarkingState) -> list[tuple[int, int]]:
    """(offset in the generated code, node id) of each token index in ``indexes``."""
    marks: list[tuple[int, int]] = []
    offset, consumed = 0, 0
    for token_index, key in sorted((i, k) for k, i in indexes.items()):
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
