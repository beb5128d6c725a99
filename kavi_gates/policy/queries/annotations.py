"""Strings that are evaluated as code: quoted annotations (``x: "Foo"``), which pydantic,
``typing.get_type_hints`` and dataclass machinery ``eval`` in the module's namespace, and
the types ``TypeAdapter("...")`` and ``ForwardRef("...")`` are given.

A quoted annotation that is a type (names, ``a.b``, ``X[...]``, ``A | B``, literals) is
resolved like code: ``x: "ImportString"`` imports by string at validation as much as the
unquoted form. One that calls, builds or assigns anything runs that code when evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from kavi_gates.policy.resolution import (
    ModuleFacts,
    Site,
    children_of,
    dotted_name,
    literal_string,
    subtree,
)

_EVALUATORS = frozenset(
    {
        "pydantic.TypeAdapter",
        "pydantic.type_adapter.TypeAdapter",
        "typing.ForwardRef",
        "typing_extensions.ForwardRef",
    }
)
_TYPE_NODES = (
    cst.Name,
    cst.Attribute,
    cst.Subscript,
    cst.SubscriptElement,
    cst.Index,
    cst.BinaryOperation,
    cst.BitOr,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.Integer,
    cst.Ellipsis,
    cst.List,
    cst.Tuple,
    cst.Element,
    cst.UnaryOperation,
    cst.Minus,
)
_MAX_NESTING = 3


@dataclass(frozen=True, eq=False)
class StringAnnotation:
    node: cst.CSTNode
    """The string in the source (where findings are reported)."""
    site: Site
    expression: cst.BaseExpression
    """What the string parses to."""

    @property
    def runs_code(self) -> bool:
        """Does evaluating it do more than name a type?"""
        return not all(isinstance(node, _TYPE_NODES) for node in subtree(self.expression))

    def names(self) -> Iterator[tuple[cst.Name, tuple[str, ...]]]:
        """Every name the type reads, as a base name and attributes (``typing.Optional``)."""
        stack: list[cst.CSTNode] = [self.expression]
        while stack:
            node = stack.pop()
            attrs: list[str] = []
            base = node
            while isinstance(base, cst.Attribute):
                attrs.append(base.attr.value)
                base = base.value
            if isinstance(base, cst.Name):
                yield base, tuple(reversed(attrs))
                continue
            stack.extend(children_of(node))


def string_annotations(facts: ModuleFacts) -> list[StringAnnotation]:
    """Every evaluated string in the file, nested ones too (computed once per file)."""
    cached = facts.memo.get("string_annotations")
    if cached is None:
        cached = facts.memo["string_annotations"] = list(_string_annotations(facts))
    return cached  # type: ignore[return-value]


def _string_annotations(facts: ModuleFacts) -> Iterator[StringAnnotation]:
    roots: list[tuple[cst.CSTNode, Site]] = [(site.node, site) for site in facts.annotations]
    for site, funcs, _returns in facts.resolved_calls:
        call = site.node
        assert isinstance(call, cst.Call)
        if funcs & _EVALUATORS and call.args:
            roots.append((call.args[0].value, site))
    for root, site in roots:
        pending: list[tuple[cst.CSTNode, cst.CSTNode | None, int]] = [(root, None, 0)]
        while pending:
            node, source, depth = pending.pop()
            for string in _evaluated_strings(node):
                text = literal_string(string)
                if text is None or depth >= _MAX_NESTING:
                    continue
                try:
                    parsed = cst.parse_expression(text.strip())
                except (cst.ParserSyntaxError, ValueError, RecursionError):
                    continue  # not Python: evaluating it fails, it runs nothing
                where = source if source is not None else string
                yield StringAnnotation(where, site, parsed)
                pending.append((parsed, where, depth + 1))


def _evaluated_strings(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Strings in a type expression that are evaluated: all but ``Literal[...]``'s values
    and ``Annotated[T, ...]``'s metadata."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
            yield current
            continue
        if isinstance(current, cst.Subscript):
            head = (dotted_name(current.value) or "").rsplit(".", 1)[-1]
            if head == "Literal":
                continue
            elements = current.slice[:1] if head == "Annotated" else current.slice
            stack.extend(elements)
            stack.append(current.value)
            continue
        stack.extend(children_of(current))
