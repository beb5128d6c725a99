"""Lines as Python counts them: ``\\r\\n``, ``\\r`` and ``\\n`` end a line, nothing else.

``str.splitlines`` also breaks at form feeds, ``\\x0b``, ``\\x1c``-``\\x1e``, ``\\x85``,
U+2028 and U+2029, and ``str.count("\\n")`` misses a lone ``\\r``: either would put a
finding, its fingerprint's line or a suppression on another line than the one Python runs
(a file with ``\\r`` line ends had every finding on line 1, under one suppression comment).
"""

from __future__ import annotations

import re

NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """``text``'s lines, without their ends (a final line end gives a last, empty line)."""
    return NEWLINE.split(text)


def line_breaks(text: str, start: int, end: int) -> int:
    """How many lines end in ``text[start:end]``."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def line_start(text: str, start: int, end: int) -> int:
    """Where the last line that starts in ``text[start:end]`` starts (``start`` if none does)."""
    return max(text.rfind("\n", start, end), text.rfind("\r", start, end), start - 1) + 1


def first_code_line(text: str) -> int:
    """1-based number of the first line that is neither blank nor a comment (an own-line
    suppression above it is a header: it covers the file's line-0 findings)."""
    lines = split_lines(text)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return number
    return len(lines) + 1
