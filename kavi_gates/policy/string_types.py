"""Strings that typing and pydantic evaluate as code: forward references.

A string where a type goes (``x: "Foo"``, ``list["Foo"]``, ``TypeAdapter("Foo")``,
``TypeVar("T", bound="Foo")``, ``create_model("M", x=("Foo", ...))``) becomes a
``typing.ForwardRef`` that pydantic, ``functools.singledispatch`` and friends pass to
``eval`` with the module's globals, and so with its builtins. A forward reference names a
type; one that calls, assigns or comprehends is code hidden in a string, and whatever it
imports (``"__import__('socket')"``) is unseen by every other check.

Only literal strings are judged: a string computed at run time and used as a type is data
flow the scan does not follow (the ``imports: allow`` documentation says so).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from kavi_gates.policy.resolution import ModuleFacts, literal_string

# Functions that turn a string argument into a type (a ForwardRef evaluated later).
TYPE_EVALUATORS = frozenset(
    {
        "pydantic.TypeAdapter",
        "pydantic.type_adapter.TypeAdapter",
        "pydantic.create_model",
        "pydantic.main.create_model",
        "typing.TypeVar",
        "typing.NewType",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing.ForwardRef",
        "dataclasses.make_dataclass",
    }
)

# Expression nodes that run code when a forward reference is evaluated. Attribute reads,
# subscripts and ``|`` are what type expressions are made of.
_CODE_NODES = (
    ast.Call,
    ast.NamedExpr,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
)
# How far into an evaluator's arguments strings are looked for: ``make_dataclass("X",
# [("a", "T")])`` is a string in a tuple in a list. Bounded, so nesting costs no more.
_CONTAINER_DEPTH = 3


def code_in_string_types(facts: ModuleFacts) -> Iterator[tuple[cst.CSTNode, str]]:
    """(node, the string) for every literal string in a type position that is code."""
    seen: set[int] = set()
    for annotation in _annotations(facts.module):
        yield from _judge_tree(annotation.annotation, seen)
    for site in facts.subscripts:
        sub = site.node
        assert isinstance(sub, cst.Subscript)
        for element in sub.slice:
            if isinstance(element.slice, cst.Index):
                yield from _judge_shallow(element.slice.value, seen, 2)
    for site, funcs, _returns in facts.resolved_calls:
        if funcs & TYPE_EVALUATORS:
            call = site.node
            assert isinstance(call, cst.Call)
            for arg in call.args:
                yield from _judge_shallow(arg.value, seen, _CONTAINER_DEPTH)


def is_code(text: str) -> bool:
    """Would evaluating ``text`` as a forward reference run code (call, assign, ...)?

    Parsed exactly as ``eval`` parses it; nested strings are forward references too
    (``"list['x']"``). A string that is not an expression cannot be evaluated at all."""
    pending = [text]
    while pending:
        try:
            tree = ast.parse(pending.pop(), mode="eval")
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, _CODE_NODES):
                return True
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                pending.append(node.value)
    return False


def _judge(node: cst.CSTNode, seen: set[int]) -> Iterator[tuple[cst.CSTNode, str]]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, cst.FormattedString) and literal_string(node) is None:
        yield node, "<a formatted string>"  # computed where a type goes
        return
    text = literal_string(node)
    if text is not None and is_code(text):
        yield node, text


def _judge_tree(root: cst.CSTNode, seen: set[int]) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every string anywhere under ``root`` (an annotation: small, and never nested in
    another annotation, so the walks add up to the file's size)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
            yield from _judge(node, seen)
            continue
        stack.extend(node.children)


def _judge_shallow(
    node: cst.CSTNode, seen: set[int], depth: int
) -> Iterator[tuple[cst.CSTNode, str]]:
    """A string, or strings in tuples, lists and dicts up to ``depth`` levels down."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString):
        yield from _judge(node, seen)
    elif depth > 0 and isinstance(node, cst.Tuple | cst.List | cst.Set):
        for element in node.elements:
            yield from _judge_shallow(element.value, seen, depth - 1)
    elif depth > 0 and isinstance(node, cst.Dict):
        for item in node.elements:
            if isinstance(item, cst.DictElement):
                yield from _judge_shallow(item.value, seen, depth - 1)


def _annotations(module: cst.Module) -> Iterator[cst.Annotation]:
    """Every annotation: ``def`` parameters and returns, ``x: T``. Walks statement bodies
    only, through the fields that hold statements (never ``children``, which would build
    every expression's list of nodes: as slow as parsing)."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.AnnAssign):
            yield node.annotation
            continue
        if isinstance(node, cst.FunctionDef):
            params = node.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if param.annotation is not None:
                    yield param.annotation
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param) and star.annotation is not None:
                    yield star.annotation
            if node.returns is not None:
                yield node.returns
        for field in _STATEMENT_FIELDS.get(type(node), ()):
            held = getattr(node, field)
            if isinstance(held, cst.CSTNode):
                stack.append(held)
            elif held:
                stack.extend(held)


# The fields that hold further statements, by node type (any other statement, and every
# expression, holds no annotation and is not entered).
_STATEMENT_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {
    **dict.fromkeys(
        (
            cst.Module,
            cst.IndentedBlock,
            cst.SimpleStatementSuite,
            cst.SimpleStatementLine,
            cst.FunctionDef,
            cst.ClassDef,
            cst.With,
            cst.Else,
            cst.Finally,
            cst.ExceptHandler,
            cst.ExceptStarHandler,
            cst.MatchCase,
        ),
        ("body",),
    ),
    cst.If: ("body", "orelse"),
    cst.For: ("body", "orelse"),
    cst.While: ("body", "orelse"),
    cst.Try: ("body", "handlers", "orelse", "finalbody"),
    cst.TryStar: ("body", "handlers", "orelse", "finalbody"),
    cst.Match: ("cases",),
}
