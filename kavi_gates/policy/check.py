"""Check one file's bytes against one policy: parse, walk, rules, suppressions, positions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import libcst as cst

from kavi_gates.codes.builtin import NON_POLICY_CODES
from kavi_gates.config import PolicyConfig
from kavi_gates.models import Finding
from kavi_gates.policy.analysis import ModuleFacts, analyze
from kavi_gates.policy.positions import node_positions, run_deep
from kavi_gates.policy.rule import Rule, Violation
from kavi_gates.policy.suppress import find_suppressions

GATE = "policy"


# A file in which none of these appear cannot trigger any built-in rule: it only needs a
# syntax check (DESIGN.md: pre-filter cheaply before libcst).
def _catalog_triggers() -> tuple[str, ...]:
    """Every identifier some rule keys on: any finding needs one of them in the source."""
    from kavi_gates.policy import catalog
    from kavi_gates.policy.rules import writes

    words = {
        "import",
        "__",
        "kavi:",
        "open",
        "write",
        "touch",
        "mkdir",
        "unlink",
        "rmdir",
        "rename",
        "replace",
        "symlink",
        "link",
        "chmod",
        "to_",
        "save",
        "tofile",
        "extract",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
    }
    for name in dir(catalog):
        value = getattr(catalog, name)
        if isinstance(value, frozenset):
            for qualname in value:
                words.update(part for part in qualname.split(".") if part != "builtins")
    for table in (writes._OPENERS, writes._WRITERS):
        for qualname in table:
            words.update(part for part in qualname.split(".") if part != "builtins")
    return tuple(sorted(words))


_TRIGGERS = _catalog_triggers()


def _finding(rule: str, path: str, line: int, col: int, message: str, anchor: str) -> Finding:
    return Finding(
        gate=GATE, rule=rule, path=path, line=line, col=col, message=message
    ).with_fingerprint(anchor)


def needs_full_analysis(source: bytes, policy: PolicyConfig, extra: Sequence[str] = ()) -> bool:
    # Non-ASCII text may hide identifiers (NFKC look-alikes, utf-7 or unicode_escape source
    # encodings): only plain ASCII takes the shortcut.
    if not source.isascii() or b"coding" in source:
        return True
    triggers = (*_TRIGGERS, *(n.split(".")[0] for n in policy.forbidden_calls), *extra)
    return any(t.encode() in source for t in triggers)


def _syntax_only(source: bytes, path: str) -> list[Finding] | None:
    """Cheap path for trigger-free files: Python's own parser decides validity."""
    import ast

    try:
        ast.parse(source)
    except SyntaxError as err:
        if any(
            word in str(err.msg) for word in ("codec can't decode", "unicode error", "encoding")
        ):
            return [
                _finding(
                    "KAV002", path, err.lineno or 1, 1, f"cannot decode file: {err.msg}", "decode"
                )
            ]
        return [
            _finding(
                "KAV001",
                path,
                err.lineno or 1,
                (err.offset or 1),
                f"file does not parse: {err.msg}",
                "syntax",
            )
        ]
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None  # let libcst decide, with its own error handling
    return []


def _collect(rule: Rule, facts: ModuleFacts) -> list[Violation]:
    return list(rule.check(facts))


def _decode(source: bytes) -> str:
    """The source as text, in its declared encoding (already known to decode)."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return source.decode("utf-8", errors="replace")


def _undecodable(source: bytes) -> str | None:
    """Decode strictly with the declared encoding (PEP 263); libcst may be lenient."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as err:
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    return None


def check_source(
    source: bytes,
    path: str,
    policy: PolicyConfig,
    rules: Sequence[type[Rule]],
    unsuppressible: Sequence[str] = (),
) -> list[Finding]:
    """All policy findings for one file. Rule exceptions propagate (the gate turns them
    into ``status=error``); input problems are findings."""
    if b"\x00" in source:
        return [_finding("KAV002", path, 1, 1, "binary file (contains NUL bytes)", "binary")]
    rule_ids = {r.id for r in rules}
    if not source.isascii():
        problem = _undecodable(source)
        if problem:
            return [_finding("KAV002", path, 1, 1, f"cannot decode file: {problem}", "decode")]
    if not needs_full_analysis(source, policy):
        quick = _syntax_only(source, path)
        if quick is not None:
            return quick
    try:
        module = run_deep(lambda: cst.parse_module(source))
    except cst.ParserSyntaxError as err:
        # CPython's parser locates errors better than libcst's; prefer its position.
        precise = _syntax_only(source, path)
        if precise:
            return precise
        message = str(err.message).splitlines()[0] if err.message else "invalid syntax"
        if precise == []:  # valid for CPython, beyond libcst (e.g. extreme nesting)
            message = (
                f"valid Python that the policy parser cannot analyse ({message}); "
                "it cannot be checked, so it cannot pass"
            )
        else:
            message = f"file does not parse: {message}"
        return [_finding("KAV001", path, err.raw_line, err.raw_column + 1, message, "syntax")]
    except (UnicodeDecodeError, LookupError) as err:
        return [_finding("KAV002", path, 1, 1, f"cannot decode file: {err}", "decode")]
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        return [
            _finding(
                "KAV001",
                path,
                1,
                1,
                f"file does not parse: {type(err).__name__}: {err}".rstrip(": "),
                "syntax",
            )
        ]
    facts = run_deep(lambda: analyze(module))
    violations: list[tuple[Rule, Violation]] = []
    for rule_class in rules:
        rule = rule_class(policy)
        if rule.enabled():
            found = run_deep(partial(_collect, rule, facts))
            violations.extend((rule, v) for v in found)
    positions = node_positions(module, [v.node for _, v in violations]) if violations else {}
    text = _decode(source)
    lines = text.splitlines()
    findings: dict[tuple[str, int, int], Finding] = {}
    for rule, violation in violations:
        line, col = positions.get(id(violation.node), (1, 1))
        anchor = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        key = (rule.id, line, col)
        if key not in findings:
            findings[key] = _finding(rule.id, path, line, col, violation.message, anchor)
    return _apply_suppressions(
        text,
        path,
        list(findings.values()),
        rules,
        rule_ids,
        {*unsuppressible, *policy.unsuppressible},
    )


_ID = re.compile(r"^[A-Z]+[0-9]+$")


def _apply_suppressions(
    text: str,
    path: str,
    findings: list[Finding],
    rules: Sequence[type[Rule]],
    rule_ids: set[str],
    unsuppressible: set[str],
) -> list[Finding]:
    suppressions = find_suppressions(text)
    if not suppressions:
        return findings
    locked = unsuppressible | {r.id for r in rules if r.UNSUPPRESSIBLE}
    kept: list[Finding] = []
    for finding in findings:
        suppressed = False
        for sup in suppressions:
            if (
                finding.rule in sup.rules
                and sup.covers(finding.line)
                and sup.reason
                and finding.rule not in locked
            ):
                sup.used.add(finding.rule)
                suppressed = True
        if not suppressed:
            kept.append(finding)
    for sup in suppressions:
        where = (sup.line, sup.col)
        if not sup.reason:
            kept.append(
                _finding(
                    "KAV003",
                    path,
                    *where,
                    "suppression needs a reason: "
                    f"# kavi: allow[{','.join(sup.rules)}] <why this is safe>",
                    f"noreason:{sup.rules}",
                )
            )
            continue
        for rule_id in sup.rules:
            if rule_id in sup.used or rule_id in NON_POLICY_CODES:
                continue  # another gate's code: judged after the run (kavi_gates.triage)
            if not _ID.match(rule_id) or rule_id not in rule_ids:
                why = f"unknown rule id '{rule_id}'"
            elif rule_id in locked:
                why = f"{rule_id} cannot be suppressed"
            else:
                why = f"no {rule_id} finding here"
            kept.append(
                _finding("KAV004", path, *where, f"unused suppression: {why}", f"unused:{rule_id}")
            )
    return sorted(kept, key=Finding.sort_key)
