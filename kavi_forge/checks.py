"""Checking a skill in a sandbox copy: every gate through ``run_gates``, then ruff, mypy, pytest.

The gates are static (they parse, never import) and run first; the tools run only when every
gate passed, since pytest executes the agent's code and mypy may run plugins. The gates use
the *repository's* configuration re-rooted at the copy, never a config read from the copy
(the agent could have edited it). The tools run through a ``ToolRunner`` that tests can
substitute; the real one runs ``python -m ruff/mypy/pytest`` on the skill and its test in the
OS sandbox (:mod:`kavi_forge.isolation`): no network, only the copy writable.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from kavi_forge.isolation import tool_policy
from kavi_gates import KAVI_PACKAGES
from kavi_gates.codes.hash_pin import UNATTESTED
from kavi_gates.config import DiffAllowlistConfig, HashPinConfig, LoadedConfig
from kavi_gates.errors import ConfigError
from kavi_gates.hash_pin import compute_pins
from kavi_gates.models import Finding, GateResult, Severity, Status
from kavi_gates.registry import Registry, RegistryEntry, load_registry, save_registry
from kavi_gates.runner import available_gates, run_gates
from kavi_sandbox import Backend, SandboxError, run, select_backend

TOOLS = ("ruff", "mypy", "pytest")
DIFF_GATE = "diff-allowlist"
HASH_GATE = "hash-pin"
EXCERPT = 64_000
"""Characters of a tool's output kept (its end): the whole output of any real failure."""
NOT_RUN = "not run: a gate failed, and no agent-written code runs before every gate passes"


@dataclass(frozen=True)
class ToolOutcome:
    """One tool's exit code and combined output (``None``: it could not run at all)."""

    returncode: int | None
    output: str


class ToolRunner(Protocol):
    """Runs one of ruff, mypy, pytest on ``files`` in ``cwd``."""

    def run(
        self, tool: str, files: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> ToolOutcome:
        """Run ``tool`` and report its outcome; never raise for a failing tool."""
        ...


def kavi_type_path(directory: Path) -> Path:
    """A directory of symlinks to Kavi's packages, for ``MYPYPATH``.

    An editable install is found through an import hook that mypy does not run; skills
    import ``kavi_skills``, so mypy must see it (and only it, not the rest of a checkout).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in KAVI_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        link = directory / name
        target = Path(spec.origin).parent
        if link.is_symlink() and link.resolve() == target.resolve():
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(target, target_is_directory=True)
    return directory


class SubprocessToolRunner:
    """The real tools, each ``sys.executable -m TOOL`` (the interpreter Kavi runs in), each
    run in its own sandbox of ``backend`` (default: the bubblewrap sandbox, refusing where it
    cannot start)."""

    def __init__(self, mypy_cache: Path | None = None, backend: Backend | None = None) -> None:
        self.mypy_cache = mypy_cache
        self.backend = backend

    def commands(self, tool: str, files: Sequence[str], cwd: Path) -> list[list[str]]:
        """The command lines for one tool (mypy checks the test file separately)."""
        skills = [f for f in files if not Path(f).name.startswith("test_")]
        tests = [f for f in files if Path(f).name.startswith("test_")]
        if tool == "ruff":
            return [[sys.executable, "-B", "-m", "ruff", "check", "--no-cache", *files]]
        if tool == "mypy":
            cache = self._cache(cwd)
            mypy = [
                sys.executable,
                "-B",
                "-m",
                "mypy",
                "--explicit-package-bases",
                "--follow-imports",
                "silent",
            ]
            # Test helpers (fixture servers on a conftest's sys.path) are invisible to mypy;
            # pytest proves those imports resolve. Other options, other cache: mypy drops a
            # cache written under different options, and a cold run costs seconds.
            test_run = [
                *mypy,
                "--cache-dir",
                f"{cache}-tests",
                "--disable-error-code",
                "import-not-found",
                *tests,
            ]
            return [[*mypy, "--cache-dir", str(cache), *skills], *([test_run] if tests else [])]
        if tool == "pytest":
            return [
                [
                    sys.executable,
                    "-B",
                    "-m",
                    "pytest",
                    "-q",
                    "-o",
                    "addopts=",
                    "-p",
                    "no:cacheprovider",
                    "--no-header",
                    "-p",
                    "no:randomly",
                    *tests,
                ]
            ]
        raise ConfigError(f"forge.checks: unknown check {tool!r} (choose from {', '.join(TOOLS)})")

    def _cache(self, cwd: Path) -> Path:
        return self.mypy_cache or cwd / ".mypy_cache"

    def run(
        self, tool: str, files: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> ToolOutcome:
        commands = self.commands(tool, files, cwd)
        writable: tuple[Path, ...] = ()
        read_only: tuple[Path, ...] = ()
        if tool == "mypy":
            # mypy never imports the code it checks; its cache is the one path outside the
            # copy it may write (a cold mypy run costs seconds per check).
            cache = self._cache(cwd)
            writable = tuple(p for p in (cache, Path(f"{cache}-tests")) if cwd not in p.parents)
            for directory in writable:
                directory.mkdir(parents=True, exist_ok=True)
            type_path = kavi_type_path(cache.parent / "kavi-type-path")
            read_only = (type_path,)
            env = {**env, "MYPYPATH": str(type_path)}
        try:
            backend = self.backend or select_backend()
        except SandboxError as err:
            return ToolOutcome(None, f"{tool} could not start: {err}")
        policy = tool_policy(cwd, dict(env), timeout, writable=writable, read_only=read_only)
        outputs: list[str] = []
        code = 0
        for argv in commands:
            try:
                done = run(argv, policy, backend=backend)
            except (SandboxError, OSError) as err:
                return ToolOutcome(None, f"{tool} could not start: {err}")
            if done.timed_out:
                return ToolOutcome(None, f"{tool} timed out after {timeout:g} s")
            if done.output_exceeded:
                return ToolOutcome(None, f"{tool} wrote more output than allowed and was stopped")
            text = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
            outputs.append(text)
            code = code or done.returncode
        return ToolOutcome(code, "\n".join(o for o in outputs if o))


def tool_result(tool: str, outcome: ToolOutcome, skill_path: str, duration: float) -> GateResult:
    """A tool's outcome as a ``GateResult`` (exit 0 pass, other codes fail, no run = error)."""
    if outcome.returncode == 0:
        return GateResult(gate=tool, status=Status.PASS, duration=duration, checked=(skill_path,))
    if outcome.returncode is not None and f"No module named {tool}" in outcome.output:
        # Not a verdict on the skill: the tool is missing. Say so plainly.
        outcome = ToolOutcome(
            None, f"{tool} is not installed for {sys.executable}: pip install {tool}"
        )
    text = outcome.output[-EXCERPT:] or f"{tool} exited {outcome.returncode}"
    finding = Finding(gate=tool, rule=tool, path=skill_path, message=text).with_fingerprint()
    status = Status.ERROR if outcome.returncode is None else Status.FAIL
    return GateResult(
        gate=tool,
        status=status,
        findings=(finding,),
        duration=duration,
        error=text if outcome.returncode is None else None,
        checked=(skill_path,),
    )


def prospective_registry(
    loaded: LoadedConfig, sandbox_root: Path, name: str, entry: RegistryEntry, target: Path
) -> Path:
    """Write the registry as promotion would leave it (this skill's entry replaced)."""
    current = sandbox_root / loaded.config.hash_pin.registry
    registry = load_registry(current) if current.exists() else Registry()
    skills = {k: v for k, v in registry.skills.items() if v.path != entry.path and k != name}
    save_registry(target, Registry(skills={**skills, name: entry}))
    return target


def sandbox_config(
    loaded: LoadedConfig,
    sandbox_root: Path,
    *,
    allow: Sequence[str] = (),
    require: Sequence[str] = (),
    registry: Path | None = None,
) -> LoadedConfig:
    """The repository's config re-rooted at the sandbox, with the forge's allow set."""
    config = replace(
        loaded.config,
        diff_allowlist=DiffAllowlistConfig(allow=tuple(allow), require=tuple(require)),
    )
    if registry is not None:
        config = replace(config, hash_pin=HashPinConfig(registry=str(registry)))
    return LoadedConfig(config=config, root=sandbox_root, source=f"{loaded.source} (sandbox)")


def run_diff_gate(loaded: LoadedConfig, baseline: Path) -> GateResult:
    """The diff-allowlist gate of the sandbox against its baseline copy."""
    report = run_gates(loaded, only=[DIFF_GATE], base=f"dir:{baseline}", use_cache=False)
    return report.results[0]


def pending_attestation(result: GateResult) -> GateResult:
    """hash-pin without "no attestation" findings (KAV810): the entry under verification has
    none until promotion signs it, and entries of a registry written before signed
    promotions get theirs as they are promoted again (``kavi check`` still reports them).
    Every other finding stays: a tampered attestation or entry fails verification."""
    if result.gate != HASH_GATE or result.status is Status.ERROR:
        return result
    # A finding that also carries another code at its place stays (kavi_gates.merge).
    kept = tuple(f for f in result.findings if f.rules != (UNATTESTED.id,))
    if len(kept) == len(result.findings):
        return result
    failed = any(f.severity is Severity.ERROR for f in kept)
    return replace(result, findings=kept, status=Status.FAIL if failed else Status.PASS)


def run_static_gates(
    loaded: LoadedConfig, *, skill_path: str, entry: RegistryEntry, name: str
) -> list[GateResult]:
    """Every gate but diff-allowlist on the pinned files (static: nothing is imported).

    ``loaded`` is rooted at the sandbox. hash-pin checks the registry as promotion would
    write it, so a skill that cannot be pinned cleanly fails here, not after promotion.
    """
    root = loaded.root
    pins = compute_pins(root / skill_path, root)
    with tempfile.TemporaryDirectory(prefix="kavi-registry-") as scratch:
        prospective = entry.model_copy(
            update={"pins": pins, "policy_digest": loaded.policy_digest()}
        )
        registry = prospective_registry(loaded, root, name, prospective, Path(scratch) / "r.yaml")
        gated = sandbox_config(
            loaded, root, allow=loaded.config.diff_allowlist.allow, registry=registry
        )
        gates = [g for g in available_gates() if g != DIFF_GATE]
        report = run_gates(gated, [root / p for p in pins], gates, use_cache=False)
    return [pending_attestation(r) for r in report.results]


def skipped_tools(loaded: LoadedConfig, skill_path: str) -> list[GateResult]:
    """A SKIP row per configured tool: a gate failed, so no agent-written code ran."""
    return [
        GateResult(
            gate=tool,
            status=Status.SKIP,
            checked=(skill_path,),
            notes=(NOT_RUN,),
        )
        for tool in loaded.config.forge.checks
    ]


def run_tools(
    loaded: LoadedConfig,
    *,
    skill_path: str,
    test_path: str,
    tools: ToolRunner,
    env: Mapping[str, str],
) -> list[GateResult]:
    """Each configured tool on the skill and its test (call only after every gate passed)."""
    results = []
    files = [skill_path, test_path]
    for tool in loaded.config.forge.checks:
        started = time.perf_counter()
        outcome = tools.run(tool, files, loaded.root, env, loaded.config.forge.check_timeout)
        results.append(tool_result(tool, outcome, skill_path, time.perf_counter() - started))
    return results
