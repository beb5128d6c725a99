"""What is decided about a file before any libcst: binary or undecodable bytes, and
Python's own verdict on its syntax. Never imports libcst."""

from __future__ import annotations

import io
import tokenize

from kavi_gates.codes import policy as codes
from kavi_gates.models import Code, Finding


def finding(code: Code, path: str, line: int, col: int, message: str, anchor: str) -> Finding:
    """A finding of ``code`` whose fingerprint follows ``anchor``, not its line."""
    return code.finding(path, message, line=line, col=col).with_fingerprint(anchor)


def unreadable(source: bytes, path: str) -> list[Finding] | None:
    """KAV002 for binary bytes or text that does not decode as declared (PEP 263)."""
    if b"\x00" in source:
        message = "binary file (contains NUL bytes)"
        return [finding(codes.UNREADABLE_INPUT, path, 1, 1, message, "binary")]
    if not source.isascii():  # libcst may be lenient: decode strictly first
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            source.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError) as err:
            problem = str(err).splitlines()[0] if str(err) else type(err).__name__
            message = f"cannot decode file: {problem}"
            return [finding(codes.UNREADABLE_INPUT, path, 1, 1, message, "decode")]
    return None


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


def decode(source: bytes) -> str:
    """The source as text, in its declared encoding (already known to decode)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return source.decode("utf-8", errors="replace")
