"""Small readers of libcst syntax: identifiers, dotted names and literal strings."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

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
