"""Small readers of libcst syntax: identifiers, dotted names and literal strings."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator

import libcst as cst


def ident(name: str) -> str:
    """Python normalises identifiers with NFKC: fullwidth ``eval`` *is* ``eval``."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


def dotted_name(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(ident(node.attr.value))
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(ident(node.value))
    return ".".join(reversed(parts))


def literal_string(node: cst.CSTNode | None) -> str | None:
    """The value of a string literal without interpolation (also implicit concatenation)."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and all(
        isinstance(p, cst.FormattedStringText) for p in node.parts
    ):
        return "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
    return None


def subscript_key(sub: cst.Subscript) -> str | None:
    """The literal string in ``x["key"]``, else None."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    return literal_string(sub.slice[0].slice.value)


def string_args(call: cst.Call) -> Iterator[str | None]:
    """Each argument's literal string value (None where it is not a literal string)."""
    for arg in call.args:
        yield literal_string(arg.value)


_FOLD_DEPTH = 12
_FOLD_MAX = 1024
_STRING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title"})


def fold_string(
    node: cst.CSTNode | None,
    constant: Callable[[str], cst.BaseExpression | None] | None = None,
    depth: int = 0,
) -> str | None:
    """The value of a string built from literals at no cost to guess: concatenation,
    repetition, ``%``, ``str.format``/``join``/``replace``, case methods, slices, ``bytes``
    decoding, f-strings of such parts and module constants (``constant`` maps a name to the
    expression it is bound to once, or None). None when any part is computed at run time."""
    if node is None or depth > _FOLD_DEPTH:
        return None
    text = literal_string(node)
    if text is not None:
        return text
    folded = _fold(node, constant, depth + 1)
    # Names are short: a longer result is not a name, and the cap keeps nested repetition
    # or formatting from building huge strings.
    return folded if folded is not None and len(folded) <= _FOLD_MAX else None


def _fold(
    node: cst.CSTNode,
    constant: Callable[[str], cst.BaseExpression | None] | None,
    depth: int,
) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value.decode("latin-1") if isinstance(value, bytes) else None
    if isinstance(node, cst.Name):
        bound = constant(node.value) if constant is not None else None
        return fold_string(bound, constant, depth) if bound is not None else None
    if isinstance(node, cst.FormattedString):
        parts: list[str] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            elif (
                isinstance(part, cst.FormattedStringExpression)
                and part.conversion is None
                and part.format_spec is None
            ):
                value = fold_string(part.expression, constant, depth)
                if value is None:
                    return None
                parts.append(value)
            else:
                return None
        return "".join(parts)
    if isinstance(node, cst.BinaryOperation):
        return _fold_binary(node, constant, depth)
    if isinstance(node, cst.Subscript):
        return _fold_slice(node, constant, depth)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return _fold_method(node, node.func, constant, depth)
    return None


def _fold_binary(
    node: cst.BinaryOperation,
    constant: Callable[[str], cst.BaseExpression | None] | None,
    depth: int,
) -> str | None:
    left = fold_string(node.left, constant, depth)
    if isinstance(node.operator, cst.Add):
        right = fold_string(node.right, constant, depth)
        return left + right if left is not None and right is not None else None
    if isinstance(node.operator, cst.Multiply):
        text, count = (left, node.right) if left is not None else (None, node.left)
        if text is None:
            text = fold_string(node.right, constant, depth)
        if text is None or not isinstance(count, cst.Integer):
            return None
        times = int(count.value, 0)
        return text * times if times >= 0 and len(text) * times <= _FOLD_MAX else None
    if isinstance(node.operator, cst.Modulo) and left is not None:
        args = node.right.elements if isinstance(node.right, cst.Tuple) else None
        values = [fold_string(e.value, constant, depth) for e in args] if args else None
        if values is None:
            values = [fold_string(node.right, constant, depth)]
        if any(v is None for v in values):
            return None
        try:
            return left % tuple(values)
        except (TypeError, ValueError):
            return None
    return None


def _fold_slice(
    node: cst.Subscript,
    constant: Callable[[str], cst.BaseExpression | None] | None,
    depth: int,
) -> str | None:
    text = fold_string(node.value, constant, depth)
    if text is None or len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if not isinstance(index, cst.Slice):
        return None
    bounds: list[int | None] = []
    for part in (index.lower, index.upper, index.step):
        if part is None:
            bounds.append(None)
        elif isinstance(part, cst.Integer):
            bounds.append(int(part.value, 0))
        elif (
            isinstance(part, cst.UnaryOperation)
            and isinstance(part.operator, cst.Minus)
            and isinstance(part.expression, cst.Integer)
        ):
            bounds.append(-int(part.expression.value, 0))
        else:
            return None
    if bounds[2] == 0:
        return None
    return text[bounds[0] : bounds[1] : bounds[2]]


def _fold_method(
    node: cst.Call,
    func: cst.Attribute,
    constant: Callable[[str], cst.BaseExpression | None] | None,
    depth: int,
) -> str | None:
    method = func.attr.value
    if any(a.star or a.keyword for a in node.args):
        return None
    if method == "join" and len(node.args) == 1:
        sep = fold_string(func.value, constant, depth)
        items = node.args[0].value
        if sep is None or not isinstance(items, cst.List | cst.Tuple):
            return None
        parts = [fold_string(e.value, constant, depth) for e in items.elements]
        return None if any(p is None for p in parts) else sep.join(parts)  # type: ignore[arg-type]
    receiver = fold_string(func.value, constant, depth)
    if receiver is None:
        return None
    args = [fold_string(a.value, constant, depth) for a in node.args]
    if any(a is None for a in args):
        return None
    if method in _STRING_METHODS and not args:
        return str(getattr(receiver, method)())
    if method == "replace" and len(args) == 2:
        return receiver.replace(args[0], args[1])  # type: ignore[arg-type]
    if method == "format":
        try:
            return receiver.format(*args)
        except (IndexError, KeyError, ValueError):
            return None
    if method == "decode" and not args:
        return receiver
    return None
