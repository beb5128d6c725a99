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
from typing import Any, TypeVar

import libcst as cst
from libcst._add_slots import add_slots
from libcst._nodes.internal import CodegenState

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


def node_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """``id(node)`` → (line, column), both 1-based."""
    wanted = frozenset(id(n) for n in nodes)

    def generate() -> _MarkingState:
        # A fresh state per attempt: a RecursionError leaves a half-filled one behind.
        state = _MarkingState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            wanted=wanted,
        )
        with suppress(_AllMarked):
            module._codegen(state)
        return state

    state = run_deep(generate)
    by_token = sorted((index, key) for key, index in state.marks.items())
    out: dict[int, tuple[int, int]] = {}
    line, col, consumed = 1, 0, 0
    tokens = state.tokens
    for index, key in by_token:
        while consumed < index:
            token = tokens[consumed]
            newlines = token.count("\n")
            if newlines:
                line += newlines
                col = len(token) - token.rfind("\n") - 1
            else:
                col += len(token)
            consumed += 1
        out[key] = (line, col + 1)
    return out
