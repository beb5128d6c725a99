"""Sessions: the tree of executions linked by ``parent_execution_id``.

From any execution, walk up to the root, then collect every descendant. Both walks keep a
visited set, so a cycle in the log (hand-edited or corrupt) ends the walk instead of hanging.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from kavi_skills.records import ExecutionRecord


class SessionNode(BaseModel):
    """One execution in a session tree."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    skill_name: str
    success: bool
    error: str | None
    started_at: str
    children: tuple[SessionNode, ...] = ()


def find_root(records: dict[str, ExecutionRecord], start: str) -> str:
    """Walk parent links up from ``start``; stop at a missing parent or a repeated id."""
    seen = {start}
    current = start
    while True:
        parent = records[current].parent_execution_id
        if parent is None or parent not in records or parent in seen:
            return current
        seen.add(parent)
        current = parent


def build_session(records: Iterable[ExecutionRecord], start: str) -> SessionNode:
    """The session tree containing ``start`` (records keyed by id; the last duplicate wins)."""
    by_id = {record.execution_id: record for record in records}
    if start not in by_id:
        raise KeyError(start)
    children: dict[str, list[ExecutionRecord]] = {}
    for record in by_id.values():
        if (
            record.parent_execution_id is not None
            and record.parent_execution_id != record.execution_id
        ):
            children.setdefault(record.parent_execution_id, []).append(record)
    root = find_root(by_id, start)
    visited: set[str] = set()

    # Iterative post-order build: deep chains must not hit the recursion limit either.
    order: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node in visited:
            continue
        visited.add(node)
        order.append(node)
        kids = sorted(children.get(node, []), key=lambda r: (r.started_at, r.execution_id))
        stack.extend(k.execution_id for k in reversed(kids) if k.execution_id not in visited)
    tree_children: dict[str, list[str]] = {}
    placed = {root}
    for node in order:
        for kid in sorted(children.get(node, []), key=lambda r: (r.started_at, r.execution_id)):
            if kid.execution_id not in placed:
                placed.add(kid.execution_id)
                tree_children.setdefault(node, []).append(kid.execution_id)
    built: dict[str, SessionNode] = {}
    for node in reversed(order):
        rec = by_id[node]
        built[node] = SessionNode(
            execution_id=rec.execution_id,
            skill_name=rec.skill_name,
            success=rec.success,
            error=rec.error,
            started_at=rec.started_at,
            children=tuple(built[k] for k in tree_children.get(node, []) if k in built),
        )
    return built[root]


def render_tree(root: SessionNode, highlight: str | None = None) -> list[str]:
    """Text lines for a session tree: id, skill, status, time; ``*`` marks ``highlight``."""
    lines: list[str] = []
    stack: list[tuple[SessionNode, str, str]] = [(root, "", "")]
    while stack:
        node, prefix, child_prefix = stack.pop()
        status = "ok" if node.success else f"FAILED: {node.error}"
        mark = " *" if node.execution_id == highlight else ""
        lines.append(
            f"{prefix}{node.execution_id[:12]} {node.skill_name} [{status}] {node.started_at}{mark}"
        )
        kids = list(node.children)
        for i in range(len(kids) - 1, -1, -1):
            last = i == len(kids) - 1
            stack.append(
                (
                    kids[i],
                    child_prefix + ("└─ " if last else "├─ "),
                    child_prefix + ("   " if last else "│  "),
                )
            )
    return lines


def session_json(root: SessionNode) -> dict[str, Any]:
    """The tree as plain JSON data."""
    return root.model_dump(mode="json")
