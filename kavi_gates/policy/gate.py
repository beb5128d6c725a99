"""The policy gate: cache lookups, a process pool for misses, findings per file."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kavi_gates.cache import ResultCache, default_cache_dir
from kavi_gates.config import PolicyConfig, effective_policy
from kavi_gates.errors import UsageError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.models import Finding

if TYPE_CHECKING:
    from kavi_gates.policy.rule import Rule

# Below this many files to analyse, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 24


def _analyse(job: tuple[bytes, str, str, tuple[type[Rule], ...]]) -> list[dict[str, object]]:
    from kavi_gates.policy.check import check_source

    source, rel, policy_json, rules = job
    policy = PolicyConfig.model_validate_json(policy_json)
    return [f.model_dump(mode="json") for f in check_source(source, rel, policy, rules)]


class PolicyGate:
    id = "policy"
    description = "libcst policy scan: imports, calls, process, network, dynamic exec, writes"
    scope: Literal["files", "repo"] = "files"

    def check(self, context: GateContext) -> GateOutcome:
        # The cache key covers the code of every module that contributes rules (not just a
        # version number), so editing a rule invalidates results without importing libcst.
        cache = ResultCache(
            default_cache_dir(context.root, context.config.storage.cache_dir),
            "policy-v1",
            context.rules_fingerprint(),
        )
        self._validate(context)
        findings: list[Finding] = []
        jobs: list[tuple[bytes, str, str, tuple[type[Rule], ...]]] = []
        keys: list[str] = []
        checked: list[str] = []
        for path in context.files:
            rel = context.rel(path)
            checked.append(rel)
            try:
                source = path.read_bytes()
            except OSError as err:
                findings.append(
                    Finding(
                        gate=self.id,
                        rule="KAV002",
                        path=rel,
                        line=1,
                        col=1,
                        message=f"cannot read file: {err.strerror or err}",
                    )
                )
                continue
            policy_json = effective_policy(context.config, rel).model_dump_json()
            key = cache.key(rel.encode() + b"\0" + policy_json.encode() + b"\0" + source)
            cached = cache.get(key) if context.use_cache else None
            if cached is not None:
                findings.extend(Finding.model_validate(f) for f in cached)
                continue
            jobs.append((source, rel, policy_json, ()))
            keys.append(key)
        if jobs:  # only a cache miss pays for libcst and the rule classes
            rules = self._load_rules(context)
            jobs = [(source, rel, policy_json, rules) for source, rel, policy_json, _ in jobs]
        for key, result in zip(keys, self._run(jobs, context.jobs), strict=True):
            cache.put(key, result)
            findings.extend(Finding.model_validate(f) for f in result)
        return GateOutcome(findings=findings, checked=checked)

    @staticmethod
    def _load_rules(context: GateContext) -> tuple[type[Rule], ...]:
        from kavi_gates.policy.rule import Rule

        rules = tuple(
            r for r in context.policy_rules() if isinstance(r, type) and issubclass(r, Rule)
        )
        if not rules:
            raise UsageError("no policy rules are registered (a broken plugin setup)")
        return rules

    def _validate(self, context: GateContext) -> None:
        wanted = set(context.config.policy.unsuppressible)
        for override in context.config.overrides:
            wanted.update(override.policy.get("unsuppressible", ()))
        if not wanted:
            return
        known = {r.id for r in self._load_rules(context)}
        for rule_id in sorted(wanted - known):
            raise UsageError(f"policy.unsuppressible names unknown rule '{rule_id}'")

    @staticmethod
    def _run(
        jobs: list[tuple[bytes, str, str, tuple[type[Rule], ...]]], workers: int | None
    ) -> list[list[dict[str, object]]]:
        workers = workers or os.cpu_count() or 1
        if workers <= 1 or len(jobs) < PARALLEL_THRESHOLD:
            return [_analyse(job) for job in jobs]
        # fork: workers inherit the imported libcst and plugin rule classes.
        context = get_context("fork") if "fork" in _methods() else None
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            return list(pool.map(_analyse, jobs, chunksize=max(1, len(jobs) // (workers * 8))))


def _methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()


def policy_json_for(config_policy: PolicyConfig) -> str:
    return json.dumps(config_policy.model_dump(mode="json"), sort_keys=True)


__all__ = ["Path", "PolicyGate"]
