"""What is decided about a file before any libcst: binary or undecodable bytes, and
Python's own verdict on its syntax. Never imports libcst."""

from __future__ import annotations

from kavi_gates.codes import policy as codes
from kavi_gates.models import Code, Finding
from kavi_gates.source_text import decode as decode  # re-exported
from kavi_gates.source_text import refusal
from kavi_gates.source_text import rewrites_ascii as rewrites_ascii
from kavi_gates.source_text import source_encoding as source_encoding


def finding(code: Code, path: str, line: int, col: int, message: str, anchor: str) -> Finding:
    """A finding of ``code`` whose fingerprint follows ``anchor``, not its line."""
    return code.finding(path, message, line=line, col=col).with_fingerprint(anchor)


def unreadable(source: bytes, path: str) -> list[Finding] | None:
    """KAV002 for binary bytes, text that does not decode as declared (PEP 263), and a
    declared encoding that does not read ASCII as ASCII (``source_text.refusal``)."""
    refused = refusal(source)
    if refused is None:
        return None
    message, anchor = refused
    return [finding(codes.UNREADABLE_INPUT, path, 1, 1, message, anchor)]


def syntax_check(source: bytes, path: str) -> list[Finding] | None:
    """Python's own parser decides validity (the whole check of a trigger-free file);
    None when it cannot decide and libcst must."""
    import ast

    try:
        ast.parse(source)
    except SyntaxError as err:
        if any(
            word in str(err.msg) for word in ("codec can't decode", "unicode error", "encoding")
        ):
            message = f"cannot decode file: {err.msg}"
            return [finding(codes.UNREADABLE_INPUT, path, err.lineno or 1, 1, message, "decode")]
        message = f"file does not parse: {err.msg}"
        where = (err.lineno or 1, err.offset or 1)
        return [finding(codes.PARSE_FAILURE, path, *where, message, "syntax")]
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None  # let libcst decide, with its own error handling
    return []
