"""The runner's own codes: what the configuration says to govern, and what could be read.

These findings belong to no gate; they are reported under the pseudo-gate ``targets``
(``kavi_gates.targets``) so that a check which looked at nothing never reads as a pass.
"""

from __future__ import annotations

from kavi_gates.codes import Code, codes_of
from kavi_gates.models import Severity

GATE = "targets"

GLOB_MATCHES_NOTHING = Code(
    id="KAV010",
    gate=GATE,
    category="targets",
    title="include glob matches no file",
    severity=Severity.WARNING,
    doc="""
        An ``include`` glob of the configuration matches no file under the project root
        (or under the paths named on the command line), so it governs nothing. A typo in
        a glob (``skill/**`` for ``skills/**``) would otherwise pass every check silently.
        A warning: a fresh repository has no skills yet.
        """,
    fix="Correct the glob, or remove it from include.",
)
NOTHING_GOVERNED = Code(
    id="KAV011",
    gate=GATE,
    category="targets",
    title="no governed file was checked",
    severity=Severity.WARNING,
    doc="""
        The paths given (or the whole project) hold no file the configuration governs, so
        the file gates judged nothing. A warning that says so, rather than ``0 errors``.
        """,
    fix="Check the paths you named and the include/exclude globs (kavi check -v lists them).",
)
UNREADABLE = Code(
    id="KAV012",
    gate=GATE,
    category="targets",
    title="directory or file cannot be read",
    doc="""
        A directory under a governed path cannot be listed (or a file cannot be read), so
        what it holds cannot be checked. Kavi fails closed: what cannot be checked cannot
        pass.
        """,
    fix="Fix the permissions (chmod u+rx DIR), or exclude the path in the configuration.",
    suppressible=False,
)

CODES = codes_of(globals())
