"""What happens to the gates' findings before they are reported, in one place for every gate.

``run_gates`` calls ``triage`` on the gates' raw results, in this order:

1. suppression comments (``# kavi: allow[KAV605] reason``) for the codes of every gate but
   the policy gate, which applies its own before it reports (and caches). The comment goes
   on the finding's line or alone on the line above; for a finding about a whole file (no
   line), alone on a line before the file's first line of code. A code declared
   ``suppressible=False`` (a drifted pin) is refused with a KAV004 finding that says so; an
   unused suppression is a KAV004 finding too.
2. selection: ``select``/``ignore`` (codes or prefixes; the longest matching selector
   decides, as in ruff) and ``per_path_ignores``.
3. the baseline: findings whose fingerprint the baseline records are accepted (counted,
   not reported); codes that cannot be suppressed cannot be baselined either.
4. one finding per place (``kavi_gates.merge``): what a gate still reports at one line and
   column becomes one finding carrying every code, the lowest id primary. Every step before
   judged each code on its own, so a code is never accepted because another code at the
   same place was.

Each step counts what it removed on the gate's result, and a gate's status follows from
what is left, so every surface (CLI, pre-commit, pytest, forge) reports the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_gates.config import KaviConfig
from kavi_gates.errors import ConfigError
from kavi_gates.lines import first_code_line
from kavi_gates.merge import merge_results
from kavi_gates.models import Code, Finding, GateResult, Severity, Status
from kavi_gates.paths import is_safe_relative, match_glob
from kavi_gates.source_text import python_text

if TYPE_CHECKING:
    from kavi_gates.baseline import Baseline
    from kavi_gates.policy.suppress import Suppression

POLICY_GATE = "policy"


@dataclass(frozen=True)
class Selection:
    """Which codes are reported: ``select`` (empty: all), ``ignore``, per-path ignores."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path: Mapping[str, tuple[str, ...]] | None = None

    @classmethod
    def from_config(
        cls,
        config: KaviConfig,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] = (),
    ) -> Selection:
        """The config's selection; ``select`` replaces its select, ``ignore`` extends it."""
        return cls(
            select=tuple(config.select if select is None else select),
            ignore=(*config.ignore, *ignore),
            per_path=config.per_path_ignores or None,
        )

    @property
    def active(self) -> bool:
        return bool(self.select or self.ignore or self.per_path)

    def selectors(self) -> tuple[str, ...]:
        per_path = [c for codes in (self.per_path or {}).values() for c in codes]
        return (*self.select, *self.ignore, *per_path)

    def reports(self, rule: str, path: str) -> bool:
        """Is a finding of ``rule`` at ``path`` reported?"""
        ignore = list(self.ignore)
        for glob, codes in (self.per_path or {}).items():
            if match_glob(path, glob):
                ignore.extend(codes)
        best_select = max((len(s) for s in self.select if rule.startswith(s)), default=-1)
        best_ignore = max((len(s) for s in ignore if rule.startswith(s)), default=-1)
        if best_ignore > best_select:
            return False
        return best_select >= 0 or not self.select


def check_selectors(selection: Selection, known: Iterable[str]) -> None:
    """Every selector names at least one declared code (a typo must not select nothing)."""
    ids = tuple(known)
    for selector in selection.selectors():
        if not any(code.startswith(selector) for code in ids):
            raise ConfigError(f"unknown finding code or prefix {selector!r} (see kavi rules)")


@dataclass
class _Counts:
    suppressed: int = 0
    ignored: int = 0
    baselined: int = 0


def _covers(sup: Suppression, finding: Finding, header_end: int) -> bool:
    if finding.line > 0:
        return sup.covers(finding.line)
    return sup.own_line and sup.line < header_end


def _read_text(root: Path, rel: str) -> str | None:
    if not is_safe_relative(rel):
        return None
    path = root / rel
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"kavi:" not in data:  # (the encodings Kavi reads keep ASCII as ASCII)
        return None
    return python_text(data)  # as Python reads it, as the policy gate does


def _suppress(
    results: list[GateResult],
    counts: dict[str, _Counts],
    root: Path,
    scanned: Iterable[str],
    codes: Callable[[], Mapping[str, Code]],
) -> list[GateResult]:
    """Apply suppression comments to the findings of every gate but the policy gate."""
    # Only a gate that judged can tell whether a comment naming its code is used.
    ran = {r.gate for r in results if r.status in (Status.PASS, Status.FAIL)}
    by_path: dict[str, list[Finding]] = {}
    for result in results:
        if result.gate != POLICY_GATE:
            for finding in result.findings:
                by_path.setdefault(finding.path, []).append(finding)
    removed: set[int] = set()
    added: dict[str, list[Finding]] = {}
    for rel in sorted({*by_path, *scanned}):
        text = _read_text(root, rel)
        if text is None:
            continue
        # Loaded here: a run whose files hold no suppression comment needs neither.
        from kavi_gates.codes.builtin import (
            NON_POLICY_CODES,
            SUPPRESSION_NO_REASON,
            SUPPRESSION_UNUSED,
        )
        from kavi_gates.policy.suppress import find_suppressions

        theirs = NON_POLICY_CODES.keys() | _finding_rules(by_path)
        sups = [s for s in find_suppressions(text) if any(r in theirs for r in s.rules)]
        if not sups:
            continue
        header_end = first_code_line(text)
        for finding in by_path.get(rel, []):
            for sup in sups:
                if finding.rule not in sup.rules or not _covers(sup, finding, header_end):
                    continue
                if not sup.reason:
                    continue  # KAV003, reported below
                declared = _declared(finding.rule, codes)
                if declared is not None and not declared.suppressible:
                    continue  # refused below, the finding stays
                sup.used.add(finding.rule)
                if id(finding) not in removed:
                    removed.add(id(finding))
                    counts[finding.gate].suppressed += 1
        for sup in sups:
            mine = [r for r in sup.rules if r in NON_POLICY_CODES or r in _finding_rules(by_path)]
            if not sup.reason and POLICY_GATE not in ran:
                gate = _owner(mine, ran)
                if gate is not None:
                    added.setdefault(gate, []).append(
                        _meta(
                            SUPPRESSION_NO_REASON,
                            gate,
                            rel,
                            sup,
                            "suppression needs a reason: "
                            f"# kavi: allow[{','.join(sup.rules)}] <why this is safe>",
                        )
                    )
                continue
            for rule in mine:
                if rule in sup.used or not sup.reason:
                    continue
                gate = _owner([rule], ran)
                if gate is None:
                    continue  # that gate did not run: nothing to judge the comment against
                declared = _declared(rule, codes)
                if declared is not None and not declared.suppressible:
                    why = f"{rule} cannot be suppressed ({declared.title}); {declared.fix}"
                else:
                    why = f"no {rule} finding here"
                added.setdefault(gate, []).append(
                    _meta(SUPPRESSION_UNUSED, gate, rel, sup, f"unused suppression: {why}")
                )
    out: list[GateResult] = []
    for result in results:
        kept = [f for f in result.findings if id(f) not in removed]
        kept.extend(added.get(result.gate, []))
        out.append(replace(result, findings=tuple(sorted(kept, key=Finding.sort_key))))
    return out


def _declared(rule: str, codes: Callable[[], Mapping[str, Code]]) -> Code | None:
    from kavi_gates.codes.builtin import NON_POLICY_CODES

    # The built-in declarations first: loading every code imports the policy rules.
    return NON_POLICY_CODES.get(rule) or codes().get(rule)


def _finding_rules(by_path: Mapping[str, list[Finding]]) -> set[str]:
    return {f.rule for findings in by_path.values() for f in findings}


def _owner(rules: Sequence[str], ran: set[str]) -> str | None:
    from kavi_gates.codes.builtin import NON_POLICY_CODES

    for rule in rules:
        code = NON_POLICY_CODES.get(rule)
        if code is not None and code.gate in ran:
            return code.gate
    return None


def _meta(rule: str, gate: str, path: str, sup: Suppression, message: str) -> Finding:
    return Finding(
        gate=gate, rule=rule, path=path, line=sup.line, col=sup.col, message=message
    ).with_fingerprint(f"{rule}:{','.join(sup.rules)}")


def _select(
    results: list[GateResult], counts: dict[str, _Counts], selection: Selection
) -> list[GateResult]:
    out = []
    for result in results:
        kept = [f for f in result.findings if selection.reports(f.rule, f.path)]
        counts[result.gate].ignored += len(result.findings) - len(kept)
        out.append(replace(result, findings=tuple(kept)))
    return out


def baselinable(finding: Finding, codes: Callable[[], Mapping[str, Code]]) -> bool:
    """May a baseline accept this finding? Not when one of its codes cannot be suppressed."""
    return all(
        declared is None or declared.suppressible
        for declared in (_declared(rule, codes) for rule in finding.rules)
    )


def apply_baseline(
    results: Sequence[GateResult],
    baseline: Baseline,
    codes: Callable[[], Mapping[str, Code]],
) -> tuple[list[GateResult], int]:
    """Drop the findings the baseline accepts; returns the results and how many baseline
    entries matched nothing (findings fixed since: the baseline can be rewritten)."""
    remaining = baseline.counts()
    out = []
    for result in results:
        kept = []
        accepted = 0
        for finding in sorted(result.findings, key=Finding.sort_key):
            if remaining[finding.fingerprint] > 0 and baselinable(finding, codes):
                remaining[finding.fingerprint] -= 1
                accepted += 1
            else:
                kept.append(finding)
        out.append(
            _restatus(replace(result, findings=tuple(kept), baselined=result.baselined + accepted))
        )
    return out, sum(n for n in remaining.values() if n > 0)


def _restatus(result: GateResult) -> GateResult:
    if result.status in (Status.ERROR, Status.SKIP):
        return result
    failed = any(f.severity is Severity.ERROR for f in result.findings)
    return replace(result, status=Status.FAIL if failed else Status.PASS)


def triage(
    results: Sequence[GateResult],
    *,
    root: Path,
    scanned: Iterable[str],
    selection: Selection,
    baseline: Baseline | None,
    codes: Callable[[], Mapping[str, Code]],
    merge: bool = True,
) -> tuple[list[GateResult], int]:
    """Suppressions, selection, the baseline, then merging by place (see the module
    docstring; ``merge=False`` keeps one finding per code, as a new baseline records them).
    Returns the results and the number of baseline entries that matched nothing."""
    counts: dict[str, _Counts] = {r.gate: _Counts() for r in results}
    current = _suppress(list(results), counts, root, scanned, codes)
    if selection.active:
        current = _select(current, counts, selection)
    current = [
        _restatus(
            replace(
                r,
                suppressed=r.suppressed + counts[r.gate].suppressed,
                ignored=r.ignored + counts[r.gate].ignored,
            )
        )
        for r in current
    ]
    stale = 0
    if baseline is not None:
        current, stale = apply_baseline(current, baseline, codes)
    return (merge_results(current, codes) if merge else current), stale


__all__ = [
    "Selection",
    "apply_baseline",
    "baselinable",
    "check_selectors",
    "merge_results",
    "triage",
]
