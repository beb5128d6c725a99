"""The one typed runner. Every surface (CLI, pre-commit, pytest, forge) calls ``run_gates``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from kavi_gates.codes import index_codes
from kavi_gates.config import LoadedConfig
from kavi_gates.errors import ConfigError, KaviError, UsageError
from kavi_gates.gate import Gate, GateContext, GateOutcome
from kavi_gates.models import Code, Finding, GateResult, RunReport, Severity, Status
from kavi_gates.plugins import default_plugin_manager
from kavi_gates.policy.plugin import BUILTIN_RULE_PLUGIN
from kavi_gates.targets import GATE as TARGETS_GATE
from kavi_gates.targets import find_targets
from kavi_gates.triage import Selection, check_selectors, triage

if TYPE_CHECKING:
    from kavi_gates.baseline import Baseline
    from kavi_gates.policy.rule import Rule


def available_gates(pm: pluggy.PluginManager | None = None) -> dict[str, Gate]:
    """Every registered gate by id, in registration order."""
    pm = pm or default_plugin_manager()
    gates: dict[str, Gate] = {}
    # pluggy calls the newest registration first; reverse so built-ins come first.
    for contributed in reversed(pm.hook.kavi_gates()):
        for gate in contributed:
            if not isinstance(gate, Gate):
                raise UsageError(f"plugin contributed a gate that is not a Gate: {gate!r}")
            if gate.id in gates:
                raise UsageError(f"two plugins contribute a gate with id {gate.id!r}")
            gates[gate.id] = gate
    return gates


def policy_rules(pm: pluggy.PluginManager | None = None) -> tuple[type[Rule], ...]:
    """Every policy rule class plugins contribute, in registration order, each validated
    (``kavi_gates.policy.contributed``: a malformed or duplicate rule is a ConfigError).
    Importing the rules loads libcst."""
    from kavi_gates.policy.contributed import validated_rules

    pm = pm or default_plugin_manager()
    contributions: list[tuple[str, object]] = []
    for impl in pm.hook.kavi_policy_rules.get_hookimpls():
        name = impl.plugin_name
        if impl.hookwrapper or impl.wrapper:
            raise ConfigError(f"plugin {name!r}: kavi_policy_rules cannot be a hook wrapper")
        try:
            contributions.append((name, impl.function()))
        except KaviError:
            raise
        except Exception as err:  # a plugin that cannot say what it contributes
            raise ConfigError(
                f"plugin {name!r}: kavi_policy_rules raised {type(err).__name__}: {err}"
            ) from None
    return validated_rules(contributions, _declared_codes(pm))


def _declared_codes(pm: pluggy.PluginManager) -> list[Code]:
    return [code for declared in pm.hook.kavi_finding_codes() for code in declared]


def finding_codes(pm: pluggy.PluginManager | None = None) -> dict[str, Code]:
    """Every finding code the plugins declare, by id, with the codes of third-party policy
    rules (a rule may document itself instead of declaring a code; loading such rules
    imports libcst, so it happens only when a third-party plugin contributes rules). A
    malformed declaration fails closed."""
    pm = pm or default_plugin_manager()
    try:
        declared = _declared_codes(pm)
        if third_party_rule_plugins(pm):
            declared += [rule.declaration() for rule in policy_rules(pm)]
        return index_codes(declared)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"invalid finding code declaration: {err}") from None


def _codes_used(results: Sequence[GateResult], pm: pluggy.PluginManager) -> dict[str, Code]:
    used = {rule for r in results for f in r.findings for rule in f.rules}
    if not used:
        return {}  # a clean run never loads the declarations
    known = finding_codes(pm)
    return {rule: known[rule] for rule in sorted(used) if rule in known}


def rule_sources(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Source files whose code decides policy results: the policy package, the policy
    codes (their trigger words drive the pre-filter) and every module that implements
    ``kavi_policy_rules``, with the rest of its package (a plugin's rules usually live in
    another module than its hook)."""
    import kavi_gates

    # Found by path, not imported: a warm run needs neither.
    engine = Path(str(kavi_gates.__file__)).parent
    files: set[str] = set()
    for package in (engine / "policy", engine / "codes" / "policy"):
        files.update(str(p) for p in package.rglob("*.py"))
    for impl in pm.hook.kavi_policy_rules.get_hookimpls():
        code = getattr(impl.function, "__code__", None)
        if code is None:
            files.add(repr(impl.plugin))
            continue
        files.add(code.co_filename)
        package = Path(code.co_filename).parent
        if package != engine / "policy" and (package / "__init__.py").is_file():
            files.update(str(p) for p in package.rglob("*.py"))
    return tuple(sorted(files))


def rule_plugins(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Names of the plugins that contribute policy rules (the built-in one among them)."""
    return tuple(impl.plugin_name for impl in pm.hook.kavi_policy_rules.get_hookimpls())


def third_party_rule_plugins(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Plugins other than Kavi's own that contribute policy rules."""
    return tuple(name for name in rule_plugins(pm) if name != BUILTIN_RULE_PLUGIN)


def _run_one(gate: Gate, context: GateContext, pm: pluggy.PluginManager) -> GateResult:
    pm.hook.kavi_gate_started(gate=gate.id, context=context)
    started = time.perf_counter()
    try:
        outcome = gate.check(context)
    except KaviError:
        raise  # configuration and usage problems end the run with their own exit code
    except RecursionError:
        result = GateResult(
            gate=gate.id,
            status=Status.ERROR,
            error="RecursionError",
            duration=time.perf_counter() - started,
        )
    except Exception as err:  # a crashing gate is an error, never a pass
        result = GateResult(
            gate=gate.id,
            status=Status.ERROR,
            error=f"{type(err).__name__}: {err}",
            duration=time.perf_counter() - started,
        )
    else:
        result = _result(gate.id, outcome, time.perf_counter() - started)
    pm.hook.kavi_gate_finished(result=result, context=context)
    return result


def _result(gate: str, outcome: GateOutcome, duration: float) -> GateResult:
    findings = tuple(
        sorted(
            (f if f.fingerprint else f.with_fingerprint() for f in outcome.findings),
            key=Finding.sort_key,
        )
    )
    failed = any(f.severity is Severity.ERROR for f in findings)
    status = Status.FAIL if failed else Status.PASS
    notes = tuple(outcome.notes)
    if outcome.skipped is not None and not findings:
        status, notes = Status.SKIP, (outcome.skipped, *notes)
    error = None
    if outcome.errors:  # the findings stand, but the gate cannot vouch for the run
        status, error = Status.ERROR, "; ".join(outcome.errors)
    return GateResult(
        gate=gate,
        status=status,
        findings=findings,
        duration=duration,
        error=error,
        checked=tuple(outcome.checked),
        notes=notes,
    )


def run_gates(
    loaded: LoadedConfig,
    paths: Sequence[Path] | None = None,
    only: Sequence[str] | None = None,
    *,
    base: str | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    verbose: bool = False,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    baseline: Path | None = None,
    use_baseline: bool = True,
    pm: pluggy.PluginManager | None = None,
    merge: bool = True,
) -> RunReport:
    """Run the selected gates (all of them by default) and return one report.

    ``paths``: ``None`` walks the project with include/exclude; an empty sequence checks
    no file (the whole-repo parts of gates still run). Findings then go through
    ``kavi_gates.triage``: suppression comments, ``select`` (replaces the config's),
    ``ignore`` (extends it), and the baseline (``baseline``, else the config's; none when
    ``use_baseline`` is false, as when a new baseline is being written). Last, the findings
    one gate reports at one place merge into one finding that carries every code
    (``kavi_gates.merge``); ``merge=False`` keeps one finding per code, each with its own
    fingerprint (what a new baseline records).
    """
    pm = pm or default_plugin_manager()
    gates = available_gates(pm)
    selected = list(dict.fromkeys(only)) if only else list(gates)
    unknown = [g for g in selected if g not in gates]
    if unknown:
        raise UsageError(f"unknown gate {unknown[0]!r} (available: {', '.join(gates)})")
    if jobs is not None and jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    config = loaded.config
    selection = Selection.from_config(config, select, ignore)
    known = _lazy_codes(pm)
    if selection.active:
        check_selectors(selection, known())
    accepted = _load_baseline(loaded, baseline) if use_baseline else None
    targets = find_targets(None if paths is None else list(paths), loaded.root, config)
    context = GateContext(
        loaded=loaded,
        files=tuple(targets.files),
        base=base,
        use_cache=use_cache,
        jobs=jobs,
        verbose=verbose,
        explicit_paths=paths is not None,
        rule_loader=functools.cache(lambda: policy_rules(pm)),
        rule_sources=rule_sources(pm),
        rule_plugins=rule_plugins(pm),
        code_loader=known,
    )
    results = [_run_one(gates[g], context, pm) for g in selected]
    if targets.findings and any(gates[g].scope == "files" for g in selected):
        results.insert(0, _result(TARGETS_GATE, GateOutcome(findings=targets.findings), 0.0))
    triaged, stale = triage(
        results,
        root=loaded.root,
        scanned=[context.rel(f) for f in context.files],
        selection=selection,
        baseline=accepted,
        codes=known,
        merge=merge,
    )
    notes = (
        (
            f"{stale} baseline entr{'y' if stale == 1 else 'ies'} matched no finding (fixed "
            "since; kavi check --write-baseline rewrites it)",
        )
        if stale
        else ()
    )
    return RunReport(
        root=str(loaded.root),
        results=tuple(triaged),
        config_source=loaded.source,
        codes=_codes_used(triaged, pm),
        notes=notes,
    )


def _lazy_codes(pm: pluggy.PluginManager) -> Callable[[], dict[str, Code]]:
    """``finding_codes(pm)``, loaded on first call only (it imports the policy rules)."""
    loaded: list[dict[str, Code]] = []

    def get() -> dict[str, Code]:
        if not loaded:
            loaded.append(finding_codes(pm))
        return loaded[0]

    return get


def _load_baseline(loaded: LoadedConfig, override: Path | None) -> Baseline | None:
    if override is None and loaded.config.baseline is None:
        return None
    from kavi_gates.baseline import read_baseline  # only a run with a baseline reads one

    if override is not None:
        return read_baseline(override)
    return read_baseline(loaded.root / Path(str(loaded.config.baseline)).expanduser())
