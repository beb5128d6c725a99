"""``kavi check`` and ``kavi rules``: the engine's one runner, and every code's documentation.

Adoption on a legacy repository works as ruff and bandit users expect: ``--select`` and
``--ignore`` take codes or prefixes (``KAV4``), ``--exit-zero`` reports without failing,
``--statistics`` counts per code, ``-q`` prints findings only, and a baseline
(``--write-baseline FILE`` once, then ``--baseline FILE`` or ``baseline:`` in the config)
accepts today's findings so that only new ones fail.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kavi_gates.config import EMBEDDED_DEFAULT, LoadedConfig, load_config
from kavi_gates.errors import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from kavi_gates.models import Code, Finding, RunReport
from kavi_gates.paths import atomic_write
from kavi_gates.plugins import default_plugin_manager
from kavi_gates.report import FORMATS
from kavi_gates.report.text import render_text
from kavi_gates.runner import available_gates, finding_codes, run_gates
from kavi_gates.triage import apply_baseline, baselinable, merge_results
from kavi_hooks.progress import progress, wants_progress

EXAMPLE_DIR = Path(__file__).resolve().parent / "example"


def write_output(text: str, output: Path | None) -> None:
    """The report to stdout, or atomically to ``output`` (mode 0644; a directory is refused)."""
    if output is None:
        sys.stdout.write(text)
        return
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; name a file")
    try:
        atomic_write(output, text.encode("utf-8"), mode=0o644)
    except OSError as err:
        raise UsageError(f"cannot write --output {output}: {err.strerror or err}") from None


def _codes(values: list[str] | None) -> list[str]:
    """``--select KAV4,KAV801 --select KAV7`` → ``[KAV4, KAV801, KAV7]`` (upper-cased)."""
    return [part.strip().upper() for v in values or [] for part in v.split(",") if part.strip()]


def statistics(report: RunReport) -> str:
    """One line per code: how many findings, the code, its title (most frequent first); a
    finding that carries several codes (one place, several categories) counts for each."""
    counts = Counter(rule for f in report.findings for rule in f.rules)
    lines = []
    for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        code = report.codes.get(rule)
        title = code.title if code is not None else ""
        lines.append(f"{count:>6}  {rule:<8} {title}".rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def quiet_text(report: RunReport) -> str:
    """``-q``: one line per finding and per crashed gate, nothing else."""
    full = render_text(report).splitlines()
    kept = [line for line in full[:-1] if not line.startswith("    ")]
    return "\n".join(kept) + ("\n" if kept else "")


def accepted_summary(report: RunReport) -> str:
    """What the triage step removed, for the text report's last line (empty if nothing)."""
    parts = []
    for attr, word in (
        ("baselined", "baselined"),
        ("suppressed", "suppressed"),
        ("ignored", "ignored"),
    ):
        total = sum(getattr(r, attr) for r in report.results)
        if total:
            parts.append(f"{total} {word}")
    return f"kavi: not reported: {', '.join(parts)}\n" if parts else ""


def _baseline_written(report: RunReport, path: Path) -> RunReport:
    """Write every baselinable finding of ``report`` to ``path``; the report that remains."""
    from kavi_gates.baseline import write_baseline  # its models: only when writing one

    pm = default_plugin_manager()
    loaded_codes: list[dict[str, Code]] = []

    def codes() -> dict[str, Code]:
        if not loaded_codes:
            loaded_codes.append(finding_codes(pm))
        return loaded_codes[0]

    # ``report`` holds one finding per code (run with merge=False): each code at a place is
    # recorded on its own, so a code that appears there later is not accepted with them.
    accepted: list[Finding] = [f for f in report.findings if baselinable(f, codes)]
    baseline = write_baseline(path, accepted)
    results, _ = apply_baseline(report.results, baseline, codes)
    results = merge_results(results, codes)
    refused = len(report.findings) - len(accepted)
    sys.stderr.write(
        f"kavi: wrote {path}: {len(accepted)} finding(s) accepted"
        + (f"; {refused} cannot be baselined (their codes cannot be suppressed)" if refused else "")
        + "\n"
    )
    return replace(report, results=tuple(results))


def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories (default: the project root). Named files are always "
            "checked; directories are walked with include/exclude.",
            show_default=False,
        ),
    ] = None,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            "--gate",
            "-g",
            help="Run only this gate (repeatable): policy, invariants, diff-allowlist, hash-pin.",
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            help="diff-allowlist base: a git ref (CI), default the staged changes; "
            "'dir:PATH' compares against a directory baseline."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (YAML or TOML). Default: kavi.yaml, then "
            "[tool.kavi] in pyproject.toml, then the embedded default.",
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, sarif or github.")
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Report only these codes or prefixes (KAV4,KAV801; repeatable). "
            "Replaces the config's select.",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Never report these codes or prefixes (repeatable). Adds to the config's ignore.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Accept the findings this baseline records (default: the config's baseline).",
        ),
    ] = None,
    write_baseline_to: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            help="Record every current finding in this baseline file, then report what "
            "remains (codes that cannot be suppressed cannot be baselined).",
        ),
    ] = None,
    exit_zero: Annotated[
        bool,
        typer.Option("--exit-zero", help="Exit 0 even with findings (errors still exit 2 or 3)."),
    ] = False,
    show_statistics: Annotated[
        bool, typer.Option("--statistics", help="Count findings per code instead of listing them.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print findings only: no source, no summary.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-analyse every file (ignore the result cache).")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show gate notes.")] = False,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Check Kavi's bundled example skills with the embedded default "
            "policy (a demo of what the gates catch).",
        ),
    ] = False,
) -> None:
    """Run the gates and report findings (exit 0 clean, 1 findings, 2 usage, 3 internal)."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown --format {output_format!r} (choose: {', '.join(FORMATS)})")
    if show_statistics and output_format != "text":
        raise UsageError("--statistics prints text; it cannot be combined with --format")
    if quiet and verbose:
        raise UsageError("--quiet and --verbose cannot be used together")
    if baseline is not None and write_baseline_to is not None:
        raise UsageError("--baseline and --write-baseline cannot be used together")
    if example:
        loaded = LoadedConfig(
            config=load_config(start=EXAMPLE_DIR).config,
            root=EXAMPLE_DIR,
            source=EMBEDDED_DEFAULT,
        )
        paths = [EXAMPLE_DIR / "skills"]
        gate = gate or ["policy"]
    else:
        loaded = load_config(config, remember=True)
    pm = default_plugin_manager()
    total = len(gate) if gate else len(available_gates(pm))
    show_progress = not quiet and wants_progress()
    with progress(pm, total, show_progress):
        report = run_gates(
            loaded,
            paths or None,
            gate,
            base=base,
            use_cache=not no_cache,
            jobs=jobs,
            verbose=verbose,
            select=_codes(select) if select else None,
            ignore=_codes(ignore),
            baseline=baseline,
            use_baseline=write_baseline_to is None,
            pm=pm,
            merge=write_baseline_to is None,
        )
    if write_baseline_to is not None:
        report = _baseline_written(report, write_baseline_to)
    if show_statistics:
        text = statistics(report) + render_text(report).splitlines()[-1] + "\n"
    elif output_format == "text":
        text = quiet_text(report) if quiet else render_text(report, verbose=verbose)
        if not quiet:
            text += accepted_summary(report)
    else:
        text = FORMATS[output_format](report)
    write_output(text, output)
    code = report.exit_code
    raise typer.Exit(EXIT_CLEAN if exit_zero and code == EXIT_FINDINGS else code)


def _code_dict(code: Code) -> dict[str, object]:
    return {
        "id": code.id,
        "gate": code.gate,
        "category": code.category,
        "severity": code.severity.value,
        "title": code.title,
        "suppressible": code.suppressible,
        "doc": code.doc,
        "fix": code.fix,
    }


def rules(
    code_id: Annotated[
        str | None,
        typer.Argument(
            help="A finding code (e.g. KAV801), or several as a report shows them "
            "(KAV101,KAV201): show their whole documentation."
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Document every finding code of every gate: what it finds, why, and how to fix it."""
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown --format {output_format!r} (choose: text, json)")
    known = finding_codes()
    if code_id is not None:
        wanted = [part.strip().upper() for part in code_id.split(",")]
        chosen = []
        for part in dict.fromkeys(wanted):
            code = known.get(part)
            if code is None:
                raise UsageError(f"unknown finding code {part!r} (kavi rules lists them all)")
            chosen.append(code)
        if output_format == "json":
            dicts = [_code_dict(c) for c in chosen]
            payload: object = dicts if len(dicts) > 1 else dicts[0]
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
            return
        sys.stdout.write("\n".join(_code_text(code) for code in chosen))
        return
    if output_format == "json":
        sys.stdout.write(json.dumps([_code_dict(c) for c in known.values()], indent=2) + "\n")
        return
    width = max(len(c.gate) for c in known.values())
    lines = [f"{c.id:<8} {c.gate:<{width}}  {c.title}" for c in known.values()]
    lines.append(
        f"gates: {', '.join(available_gates())}; kavi rules ID shows one code in full "
        "(a finding at a place that violates several codes lists them all: KAV101,KAV201)"
    )
    sys.stdout.write("\n".join(lines) + "\n")


def _code_text(code: Code) -> str:
    suppress = "" if code.suppressible else "\nThis finding cannot be suppressed.\n"
    return (
        f"{code.id} ({code.gate}, {code.severity.value}): {code.title}\n\n"
        f"{code.help_text()}\n{suppress}"
    )
