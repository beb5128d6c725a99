"""The one typed runner. Every surface (CLI, pre-commit, pytest, forge) calls ``run_gates``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from kavi_gates.codes import index_codes
from kavi_gates.config import LoadedConfig
from kavi_gates.errors import ConfigError, KaviError, UsageError
from kavi_gates.gate import Gate, GateContext
from kavi_gates.models import Code, Finding, GateResult, RunReport, Severity, Status
from kavi_gates.plugins import default_plugin_manager
from kavi_gates.targets import collect_targets

if TYPE_CHECKING:
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
    """Every policy rule class plugins contribute (importing this loads libcst)."""
    pm = pm or default_plugin_manager()
    rules: list[type[Rule]] = []
    for contributed in reversed(pm.hook.kavi_policy_rules()):
        rules.extend(contributed)
    return tuple(rules)


def finding_codes(pm: pluggy.PluginManager | None = None) -> dict[str, Code]:
    """Every finding code the plugins declare, by id; a malformed declaration fails closed."""
    pm = pm or default_plugin_manager()
    try:
        return index_codes(code for declared in pm.hook.kavi_finding_codes() for code in declared)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"invalid finding code declaration: {err}") from None


def _codes_used(results: Sequence[GateResult], pm: pluggy.PluginManager) -> dict[str, Code]:
    used = {f.rule for r in results for f in r.findings}
    if not used:
        return {}  # a clean run never loads the declarations
    known = finding_codes(pm)
    return {rule: known[rule] for rule in sorted(used) if rule in known}


def rule_sources(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Source files whose code decides policy results: the policy package and every module
    that implements ``kavi_policy_rules``."""
    import inspect

    import kavi_gates.policy as policy_package

    package_dir = Path(policy_package.__file__).parent
    files = {str(p) for p in package_dir.rglob("*.py")}
    for impl in pm.hook.kavi_policy_rules.get_hookimpls():
        try:
            files.add(inspect.getfile(impl.function))
        except (TypeError, OSError):
            files.add(repr(impl.plugin))
    return tuple(sorted(files))


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
        findings = tuple(
            sorted(
                (f if f.fingerprint else f.with_fingerprint() for f in outcome.findings),
                key=Finding.sort_key,
            )
        )
        failed = any(f.severity is Severity.ERROR for f in findings)
        result = GateResult(
            gate=gate.id,
            status=Status.FAIL if failed else Status.PASS,
            findings=findings,
            duration=time.perf_counter() - started,
            checked=tuple(outcome.checked),
            notes=tuple(outcome.notes),
        )
    pm.hook.kavi_gate_finished(result=result, context=context)
    return result


def run_gates(
    loaded: LoadedConfig,
    paths: Sequence[Path] | None = None,
    only: Sequence[str] | None = None,
    *,
    base: str | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    verbose: bool = False,
    pm: pluggy.PluginManager | None = None,
) -> RunReport:
    """Run the selected gates (all of them by default) and return one report."""
    pm = pm or default_plugin_manager()
    gates = available_gates(pm)
    selected = list(dict.fromkeys(only)) if only else list(gates)
    unknown = [g for g in selected if g not in gates]
    if unknown:
        raise UsageError(f"unknown gate {unknown[0]!r} (available: {', '.join(gates)})")
    files = collect_targets(list(paths) if paths else None, loaded.root, loaded.config)
    context = GateContext(
        loaded=loaded,
        files=tuple(files),
        base=base,
        use_cache=use_cache,
        jobs=jobs,
        verbose=verbose,
        explicit_paths=bool(paths),
        rule_loader=lambda: policy_rules(pm),
        rule_sources=rule_sources(pm),
    )
    results = tuple(_run_one(gates[g], context, pm) for g in selected)
    return RunReport(
        root=str(loaded.root),
        results=results,
        config_source=loaded.source,
        codes=_codes_used(results, pm),
    )
