"""Walking libcst nodes through their fields, fast: which fields hold code (not whitespace
or punctuation), a cached getter of them per node type, and ``push`` (the walker's hottest
loop). Also ``children_of``/``subtree`` for the small subtrees queries look into, without
libcst's ``children`` (which rebuilds each node)."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import libcst as cst

from kavi_gates.policy.resolution.scopes import Scope

if TYPE_CHECKING:
    from kavi_gates.policy.resolution.walker import Walker

# Fields that never hold code worth walking (whitespace, punctuation, comments).
_SKIP_FIELD_PREFIXES = (
    "whitespace",
    "lpar",
    "rpar",
    "comma",
    "semicolon",
    "leading_lines",
    "lines_after_decorators",
    "header",
    "footer",
    "equal",
    "colon",
    "dot",
    "lbracket",
    "rbracket",
    "lbrace",
    "rbrace",
    "operator",
    "indent",
    "newline",
    "trailing_whitespace",
    "asynchronous",
    "star",
    "default_indent",
)
LEAF_TYPES = (
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Ellipsis,
    cst.FormattedStringText,
    cst.Pass,
    cst.Break,
    cst.Continue,
)
_PUSHABLE: dict[type, bool] = {}
# Per node type: a getter of the fields worth walking, last field first (children go on the
# stack in reverse, so that they come off it in source order), and how many there are.
_CHILD_FIELDS: dict[type, tuple[Callable[[cst.CSTNode], Any], int]] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    return tuple(
        f.name for f in dataclasses.fields(node_type) if not f.name.startswith(_SKIP_FIELD_PREFIXES)
    )


def _child_fields(node_type: type) -> tuple[Callable[[cst.CSTNode], Any], int]:
    names = tuple(reversed(_fields(node_type)))
    getter: Callable[[cst.CSTNode], Any] = (
        operator.attrgetter(*names) if names else (lambda node: ())
    )
    found = _CHILD_FIELDS[node_type] = (getter, len(names))
    return found


def _pushable(value_type: type) -> bool:
    """A node worth a visit (``isinstance`` on libcst's ABCs is slow: cache per type)."""
    known = _PUSHABLE.get(value_type)
    if known is None:
        known = _PUSHABLE[value_type] = issubclass(value_type, cst.CSTNode) and not issubclass(
            value_type, LEAF_TYPES
        )
    return known


def push(
    walker: Walker, node: cst.CSTNode, scope: Scope, cond: bool, skip: str | None = None
) -> None:
    """Push the node's code children, so that they come off the stack in source order
    (the hottest loop of the walk: one getter call per node, no intermediate list)."""
    node_type = type(node)
    spec = _CHILD_FIELDS.get(node_type) or _child_fields(node_type)
    values = spec[0](node)
    if spec[1] == 1:
        values = (values,)
    elif skip is not None:
        names = reversed(_fields(node_type))
        values = tuple(v for name, v in zip(names, values, strict=True) if name != skip)
    stack = walker.stack
    pushable = _PUSHABLE
    for value in values:
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for child in reversed(value):
                known = pushable.get(type(child))
                if known is None:
                    known = _pushable(type(child))
                if known:
                    stack.append((child, scope, cond))
        else:
            known = pushable.get(value_type)
            if known is None:
                known = _pushable(value_type)
            if known:
                stack.append((value, scope, cond))


def children_of(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The code nodes directly under ``node`` (leaves too), without libcst's ``children``
    (which rebuilds each node)."""
    if isinstance(node, LEAF_TYPES):
        return
    spec = _CHILD_FIELDS.get(type(node)) or _child_fields(type(node))
    values = spec[0](node)
    for value in (values,) if spec[1] == 1 else values:
        if type(value) is tuple or type(value) is list:
            yield from (v for v in value if isinstance(v, cst.CSTNode))
        elif isinstance(value, cst.CSTNode):
            yield value


def subtree(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every code node under ``node``, itself included: for small subtrees (annotations)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children_of(current))
