"""Findings per 1,000 lines on popular pure-Python packages (the policy gate's false-positive
rate on real code), before and after a change, and a reproducible sample of findings to
judge by hand.

Packages are fetched by pip at benchmark time (``pip download``: pinned versions, wheels,
no dependencies, into ``--work``), never at test time; their ``.py`` files are checked by
``kavi check --gate policy`` with the embedded default policy (``include: ["**/*.py"]``),
in a fresh process, as users run it. None of these packages is a skill, and none is
meant to start processes, open connections or load code by name: a finding is either a
real capability in library code (a true finding) or a false one, which ``--sample``
helps decide (bench/RESULTS.md records the verdicts).

``--before REV`` also checks the same files with the Kavi of git revision ``REV`` of this
repository (extracted with ``git archive`` into the work directory and put first on
``PYTHONPATH``), so both numbers come from one run on one machine.

Usage::

    python bench/bench_false_positives.py [--work DIR] [--before REV]
        [--sample 20 --seed 13] [--json OUT]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGES = (
    "attrs==26.1.0",
    "packaging==26.4",
    "toolz==1.2.0",
    "more-itertools==11.2.1",
    "idna==3.20",
    "certifi==2026.10.19.post1",
    "six==1.17.0",
    "tomli==2.5.0",
    "pyparsing==3.3.3",
    "click==8.5.1",
    "tabulate==0.10.0",
    "python-dateutil==4.0.0",
)
_KAVI_YAML = 'include: ["**/*.py"]\n'


def fetch(work: Path) -> dict[str, Path]:
    """Each package's extracted wheel under ``work`` (downloaded once)."""
    wheels = work / "wheels"
    if not wheels.is_dir() or len(list(wheels.glob("*.whl"))) < len(PACKAGES):
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels)]
        subprocess.run([*pip, *PACKAGES], check=True)
    out: dict[str, Path] = {}
    for spec in PACKAGES:
        name = spec.split("==")[0]
        prefix = name.replace("-", "_").lower() + "-"
        (wheel,) = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(prefix)]
        target = work / "src" / name
        if not target.is_dir():
            with zipfile.ZipFile(wheel) as archive:
                members = [m for m in archive.namelist() if m.endswith(".py")]
                archive.extractall(target, members)
            (target / "kavi.yaml").write_text(_KAVI_YAML)
        out[name] = target
    return out


def checkout(rev: str, work: Path) -> Path:
    """The Kavi sources of ``rev`` (a commit of this repository), extracted once."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = work / "kavi" / commit[:12]
    if not (target / "kavi_gates").is_dir():
        data = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
        ).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target, filter="data")
    return target


def lines_of(root: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in root.rglob("*.py"))


def check(root: Path, kavi: Path | None) -> dict[str, object]:
    """``kavi check --gate policy`` on ``root`` in a fresh process (JSON report), with the
    Kavi at ``kavi`` first on the path (None: the one installed here)."""
    code = "import sys; from kavi_hooks.cli import main; raise SystemExit(main(sys.argv[1:]))"
    env = {**os.environ, "XDG_CACHE_HOME": str(root.parent / ".cache")}
    if kavi is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(kavi), env.get("PYTHONPATH"))))
    options = ["--format", "json", "--no-cache", "--exit-zero", "-j", "2"]
    done = subprocess.run(
        [sys.executable, "-c", code, "check", "--gate", "policy", *options],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"kavi check failed in {root} (exit {done.returncode}): {done.stderr}")
    report: dict[str, object] = json.loads(done.stdout)
    return report


def codes_of(finding: dict[str, object]) -> list[str]:
    """The codes one finding carries (a finding for one place may carry several)."""
    also = finding.get("also") or []
    return [str(finding["rule"]), *(str(c) for c in also)]  # type: ignore[union-attr]


@dataclass
class Measure:
    """One Kavi's findings on every package."""

    label: str
    rows: list[tuple[str, int, int, int]]
    every: list[tuple[str, dict[str, object]]]
    per_code: Counter[str]

    @property
    def lines(self) -> int:
        return sum(row[2] for row in self.rows)

    @property
    def findings(self) -> int:
        return sum(row[3] for row in self.rows)

    @property
    def rate(self) -> float:
        return 1000 * self.findings / max(self.lines, 1)


def measure(label: str, roots: dict[str, Path], kavi: Path | None) -> Measure:
    rows: list[tuple[str, int, int, int]] = []
    every: list[tuple[str, dict[str, object]]] = []
    per_code: Counter[str] = Counter()
    for name, root in roots.items():
        findings = check(root, kavi)["findings"]
        assert isinstance(findings, list)
        rows.append((name, len(list(root.rglob("*.py"))), lines_of(root), len(findings)))
        for f in findings:
            every.append((name, f))
            per_code.update(codes_of(f))
    return Measure(label, rows, every, per_code)


def table(after: Measure, before: Measure | None) -> str:
    head = "| package | files | lines | findings | per 1,000 lines |"
    rule = "|---|---|---|---|---|"
    if before is not None:
        head = f"| package | files | lines | findings {before.label} | findings {after.label} "
        head += f"| per 1,000 lines {before.label} | per 1,000 lines {after.label} |"
        rule = "|---|---|---|---|---|---|---|"
    out = [head, rule]
    for i, (name, files, lines, found) in enumerate(after.rows):
        if before is None:
            out.append(f"| {name} | {files} | {lines} | {found} | {1000 * found / lines:.2f} |")
        else:
            then = before.rows[i][3]
            out.append(
                f"| {name} | {files} | {lines} | {then} | {found} "
                f"| {1000 * then / lines:.2f} | {1000 * found / lines:.2f} |"
            )
    if before is None:
        out.append(f"| **all** | | {after.lines} | {after.findings} | **{after.rate:.2f}** |")
    else:
        out.append(
            f"| **all** | | {after.lines} | {before.findings} | {after.findings} "
            f"| **{before.rate:.2f}** | **{after.rate:.2f}** |"
        )
    return "\n".join(out)


def sample(found: Measure, roots: dict[str, Path], size: int, seed: int) -> str:
    """``size`` findings drawn at random (reproducibly), each with its source line."""
    chosen = random.Random(seed).sample(found.every, min(size, len(found.every)))
    out = []
    for i, (name, f) in enumerate(chosen, 1):
        source = (roots[name] / str(f["path"])).read_text(errors="replace").splitlines()
        line = int(f["line"])  # type: ignore[call-overload]
        text = source[line - 1].strip() if 0 < line <= len(source) else ""
        out.append(f"{i}. {name}/{f['path']}:{line} {'+'.join(codes_of(f))} {f['message']}")
        out.append(f"       {text}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="download/extract directory")
    parser.add_argument("--before", default=None, help="also measure this git revision")
    parser.add_argument("--sample", type=int, default=0, help="print N random findings")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    import kavi_gates

    work = args.work or Path(tempfile.gettempdir()) / "kavi-bench-fp"
    work.mkdir(parents=True, exist_ok=True)
    roots = fetch(work)
    before = None
    if args.before:
        before = measure(args.before, roots, checkout(args.before, work))
    after = measure("now", roots, None)
    print(f"kavi_gates from {Path(kavi_gates.__file__).parent.parent}; packages: {len(roots)}")
    print()
    print(table(after, before))
    print()
    for found in (before, after):
        if found is not None:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(found.per_code.items()))
            print(f"codes {found.label}: {codes}")
    if args.sample:
        for found in (before, after):
            if found is not None:
                print(f"\nsample of {found.label} (seed {args.seed}):")
                print(sample(found, roots, args.sample, args.seed))
    if args.json:
        result = {
            found.label: {
                "packages": [
                    {"name": n, "files": fi, "lines": li, "findings": fo}
                    for n, fi, li, fo in found.rows
                ],
                "lines": found.lines,
                "findings": found.findings,
                "per_1000_lines": found.rate,
                "per_code": dict(found.per_code),
                "all": [{"package": n, **f} for n, f in found.every],
            }
            for found in (before, after)
            if found is not None
        }
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
