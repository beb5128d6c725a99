"""A Python file's text as Python reads it: the encoding it declares (PEP 263), and
whether Kavi refuses to read it (binary, undecodable, or an encoding in which its bytes and
its text disagree about ASCII). Every reader of a source file's text (the policy gate, the
suppression listing, triage, reports) goes through here, so that none reads it otherwise
than Python runs it. No findings here (``policy.source_checks`` makes them): the warm
paths that only read text stay free of the policy codes."""

from __future__ import annotations

import codecs
import re
import tokenize
import warnings
from functools import cache

_LINE_END = re.compile(rb"\r\n|\r|\n")


def source_encoding(source: bytes) -> str:
    """The encoding Python reads ``source`` in (PEP 263): its BOM, or a coding comment in
    its first two lines, the lines split as Python splits them (``\r\n``, ``\r`` and
    ``\n``; read at ``\n`` alone, ``\r# coding: utf-7\n`` is one blank first line and
    the comment is missed, while ``# a\r# b\r# coding: utf-7\n`` is one line with a
    comment Python never reads). Raises SyntaxError or LookupError for a declaration
    Python refuses (``tokenize.detect_encoding``)."""
    lines: list[bytes] = []
    start = 0
    for end in _LINE_END.finditer(source):  # however long the lines are
        lines.append(source[start : end.start()] + b"\n")
        start = end.end()
        if len(lines) == 2:
            break
    else:
        lines.append(source[start:])  # the last line, without its end
    feed = iter(lines)
    encoding, _ = tokenize.detect_encoding(lambda: next(feed, b""))
    return encoding


_ASCII = bytes(range(128)) + (
    b" +AGU- \\u0041 \\x41 \\101 \\N{DIGIT ONE} \x1b$B!!\x1b(B ~{!!~} a.xn--ls8h.b"
)
"""Every ASCII byte, and the sequences encodings turn into other text (utf-7, the escape
codecs, ISO-2022, HZ, IDNA)."""


@cache
def rewrites_ascii(encoding: str) -> bool:
    """Can ``encoding`` make text read otherwise than a reader of its bytes as ASCII sees
    it: ASCII bytes read as other text (utf-7's ``+AGU-`` is ``e``, unicode_escape's
    ``\\x41`` is ``A``, ISO-2022 and HZ switch on an escape, UTF-16 and EBCDIC), an ASCII
    byte swallowed into a multi-byte character (shift_jis, gbk, big5: ``\\x81\\\\`` is
    one character, and the backslash no longer escapes a quote), or a non-ASCII byte read
    as ASCII (mac_arabic's ``\\xa3`` is ``#``, EUC-JP's ``\\x8f\\xa2\\xb7`` is ``~``)? UTF-8
    and the single-byte encodings (latin-1, cp1252, koi8-r) cannot; every other
    multi-byte encoding is refused. No agent-written skill needs one."""
    try:
        with warnings.catch_warnings():  # unicode_escape warns of its invalid escapes
            warnings.simplefilter("ignore")
            if _ASCII.decode(encoding) != _ASCII.decode("ascii"):
                return True
        if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
            return False  # its multi-byte characters are made of bytes above 0x7f only
    except (ValueError, LookupError):  # (UnicodeError is a ValueError)
        return True
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode(encoding)
        except ValueError:  # undefined alone: it must not start a character either
            if any(_decodes(bytes([byte, second]), encoding) for second in range(0x100)):
                return True  # a multi-byte encoding other than UTF-8 (EUC-JP reads
            continue  # \\x8f\\xa2\\xb7 as ~)
        if len(char) != 1 or char.isascii():
            return True
    return False


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except ValueError:
        return False
    return True


def refusal(source: bytes) -> tuple[str, str] | None:
    """Why Kavi refuses to read ``source`` (the message, and the fingerprint's anchor), or
    None: binary bytes, text that does not decode as declared, a declared encoding that
    does not read ASCII as ASCII."""
    if b"\x00" in source:
        return "binary file (contains NUL bytes)", "binary"
    try:
        encoding = source_encoding(source)
        if rewrites_ascii(encoding):
            message = (
                f"the file declares the encoding {encoding}, which does not read ASCII as "
                "ASCII: what Python runs is not what its bytes show"
            )
            return message, "encoding"
        if not source.isascii():  # libcst may be lenient: decode strictly first
            source.decode(encoding)
    except (SyntaxError, LookupError, ValueError) as err:  # (UnicodeError is a ValueError)
        problem = str(err).splitlines()[0] if str(err) else type(err).__name__
        return f"cannot decode file: {problem}", "decode"
    return None


def python_text(source: bytes) -> str | None:
    """The text Python runs, or None for a file Kavi refuses (``refusal``): what every
    reader of suppression comments must read, so that a comment the policy gate honours is
    never missed by a listing or a review of them."""
    return None if refusal(source) else decode(source)


def decode(source: bytes) -> str:
    """The source as text, in the encoding Python reads it in (``refusal`` has refused
    what does not decode): what libcst parses, positions count and suppressions come from,
    so that none of them can read the bytes otherwise."""
    try:
        return source.decode(source_encoding(source), errors="replace")
    except (SyntaxError, LookupError):
        return source.decode("utf-8", errors="replace")
