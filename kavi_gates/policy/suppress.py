"""``# kavi: allow[KAV123] reason`` — on the finding's line or alone on the line above."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_PATTERN = re.compile(r"#\s*kavi:\s*allow\[([^\]]*)\]\s*(.*)$")


@dataclass
class Suppression:
    line: int
    col: int
    rules: tuple[str, ...]
    reason: str
    own_line: bool
    used: set[str] = field(default_factory=set)

    def covers(self, line: int) -> bool:
        return line == self.line or (self.own_line and line == self.line + 1)


def find_suppressions(text: str) -> list[Suppression]:
    """Suppression comments (real comments only: strings that look alike do not count)."""
    if "kavi:" not in text:
        return []
    found: list[Suppression] = []
    code_lines: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                match = _PATTERN.search(tok.string)
                if match:
                    rules = tuple(r.strip() for r in match.group(1).split(",") if r.strip())
                    found.append(
                        Suppression(
                            tok.start[0],
                            tok.start[1] + 1,
                            rules,
                            match.group(2).strip(),
                            own_line=False,
                        )
                    )
            elif tok.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
                tokenize.ENCODING,
            ):
                code_lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return found
    for sup in found:
        sup.own_line = sup.line not in code_lines
    return found
