"""Codes the policy engine reports itself: input it cannot read or analyse, and
suppressions misused."""

from __future__ import annotations

from kavi_gates.models import Code

GATE = "policy"

PARSE_FAILURE = Code(
    id="KAV001",
    gate=GATE,
    category="input",
    title="file does not parse",
    doc="""
        The file does not parse, so nothing in it can be proven safe: the gate fails
        (reported at the line the parser stopped), it never passes unparsed code.
        """,
    fix="""
        Fix the syntax error (python -m py_compile FILE shows it). Valid Python that the
        policy parser cannot analyse (extreme nesting) must be written more simply.
        """,
    suppressible=False,
    valid=("x = 1\n",),
    invalid=("def broken(:\n    pass\n", "x = (1,\n"),
    triggers=(),
)
UNREADABLE_INPUT = Code(
    id="KAV002",
    gate=GATE,
    category="input",
    title="file is binary or undecodable",
    doc="""
        The file is binary, not valid text in its declared encoding, or declares an
        encoding that does not read ASCII as ASCII (utf-7, unicode_escape, UTF-16, EBCDIC,
        ISO-2022: what Python runs is not what the bytes show). A finding, never a crash
        and never a pass.
        """,
    fix="""
        Save the file as UTF-8, or declare its real (ASCII-compatible) encoding in a PEP 263
        coding comment; keep binary data out of governed .py files.
        """,
    suppressible=False,
    valid=("# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1"),),
    invalid=(
        b"\x00\x01\x02binary\xff",
        b"s = '\xff\xfe'\n",
        b"# coding: utf-7\nx = '+AGU-'\n",  # Python reads 'e': not what the bytes show
    ),
    triggers=(),
)
SUPPRESSION_WITHOUT_REASON = Code(
    id="KAV003",
    gate=GATE,
    category="suppression",
    title="suppression without a reason",
    doc="""
        A ``# kavi: allow[ID]`` comment gives no reason. The reason is mandatory, and the
        suppression does not apply without it.
        """,
    fix="Say why the finding is safe after the bracket: # kavi: allow[KAV401] <reason>.",
    suppressible=False,
    valid=("x = eval('1')  # kavi: allow[KAV401] fixture for the evaluator tests\n",),
    invalid=("x = eval('1')  # kavi: allow[KAV401]\n",),
    triggers=("kavi",),
)
UNUSED_SUPPRESSION = Code(
    id="KAV004",
    gate=GATE,
    category="suppression",
    title="unused suppression",
    doc="""
        A suppression comment matches no finding on its line (or the line below when it
        stands alone), names an unknown rule, or names a rule that cannot be suppressed.
        """,
    fix="""
        Delete the comment, or correct the rule id or the line it stands on. A finding
        that cannot be suppressed needs the code changed instead.
        """,
    suppressible=False,
    valid=("# kavi: allow[KAV401] the test needs the real builtin\nx = eval('1')\n",),
    invalid=(
        "x = 1  # kavi: allow[KAV401] nothing to suppress here\n",
        "open('x', 'w')  # kavi: allow[KAV001] parse failures cannot be suppressed\n",
    ),
    triggers=("kavi",),
)
ANALYSIS_LIMIT = Code(
    id="KAV005",
    gate=GATE,
    category="input",
    title="file too slow or too complex to analyse",
    doc="""
        Parsing and analysing the file took longer than policy.file_budget seconds, or a
        name in it may denote more things than the analysis follows (more than 128
        qualified names, or more than 64 star-imported modules). What cannot be analysed
        cannot be proven safe, so the file fails; the rest of the run is unaffected.
        """,
    fix="""
        Split the file or simplify what makes it slow: one expression of thousands of
        terms, a name rebound to hundreds of different things, dozens of star imports.
        If the machine is merely slow, raise policy.file_budget.
        """,
    suppressible=False,
    valid=("from os.path import *\nfrom json import *\n",),
    invalid=("".join(f"from m{i} import *\n" for i in range(65)) + "print(1)\n",),
    triggers=(),
)
RULE_ERROR = Code(
    id="KAV006",
    gate=GATE,
    category="input",
    title="a policy rule could not check the file",
    doc="""
        A policy rule raised an exception while checking the file (a bug in the rule, often
        a third-party plugin's), or the file's analysis process died. What that rule would
        have found in this file is unknown, so the run is an internal error (exit 3): the
        finding names the file and the rule, and every other rule's findings are still
        reported.
        """,
    fix="""
        Report the exception to the rule's author (kavi check -v shows the gate's error);
        remove or fix the plugin that provides the rule. The file cannot pass until every
        rule has checked it.
        """,
    suppressible=False,
    valid=("x = 1\n",),
    triggers=(),
)
