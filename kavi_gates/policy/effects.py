"""What a module's code can be seen to do, for the invariants gate's side-effect check."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from kavi_gates.config_policy import PolicyConfig
from kavi_gates.policy.catalog import (
    DYNAMIC_BUILTINS,
    IMPORT_MACHINERY_MODULES,
    NETWORK_FUNCTIONS,
    NETWORK_MODULES,
    PROCESS_FUNCTIONS,
    PROCESS_MODULES,
    SAFE_SUBMODULES,
)
from kavi_gates.policy.catalog.secrets import CONTEXT_SECRETS
from kavi_gates.policy.positions import run_deep
from kavi_gates.policy.queries import module_hits, name_hits, write_operations
from kavi_gates.policy.queries.secrets import secret_reads
from kavi_gates.policy.resolution import SKILL_CONTEXT, ModuleFacts, ResolutionLimit, analyze
from kavi_gates.policy.source_checks import decode, unreadable
from kavi_gates.policy.workers import Done, Failed, Overrun, run_budgeted

# Effects a skill reaches through the runtime's guarded capabilities (``self.context.X``).
_CAPABILITIES = {"files": "FILE_WRITE", "http": "NETWORK"}
SECRET_READ = "SECRET_READ"
"""Reads the environment, the declared secrets or a secret store. Each read also adds
``SECRET_READ:<NAME>`` (the variable it names) or ``SECRET_READ:*`` (any may be read)."""


class UnparsableSource(ValueError):
    """The source does not parse, so its effects cannot be known."""


def _capability_effects(facts: ModuleFacts) -> set[str]:
    found: set[str] = set()
    for ref in facts.refs:
        attrs = ref.attrs
        for i in range(len(attrs) - 1):
            if attrs[i] == "context" and attrs[i + 1] in _CAPABILITIES:
                found.add(_CAPABILITIES[attrs[i + 1]])
    # Through aliases too (``files = self.context.files; files.write(...)``).
    prefix = SKILL_CONTEXT + "."
    for quals in facts.qualname_universe:
        if quals.startswith(prefix):
            capability = quals[len(prefix) :].split(".", 1)[0]
            if capability in _CAPABILITIES:
                found.add(_CAPABILITIES[capability])
    return found


def _secret_effects(facts: ModuleFacts) -> set[str]:
    found: set[str] = set()
    for read in secret_reads(facts):
        if not read.secret:  # HOME, PATH, ... hold no secret
            continue
        found.add(SECRET_READ)
        # self.context.secrets refuses undeclared names at run time; the environment and
        # secret stores do not, so reading them by a computed name is an effect of its own.
        if read.key is not None or read.source != CONTEXT_SECRETS:
            found.add(f"{SECRET_READ}:{read.key or '*'}")
    return found


def effects_of(facts: ModuleFacts) -> frozenset[str]:
    effects = _capability_effects(facts) | _secret_effects(facts)
    if any(True for _ in write_operations(facts)):
        effects.add("FILE_WRITE")
    if any(True for _ in module_hits(facts, NETWORK_MODULES, SAFE_SUBMODULES)) or any(
        True for _ in name_hits(facts, NETWORK_FUNCTIONS)
    ):
        effects.add("NETWORK")
    if any(True for _ in module_hits(facts, PROCESS_MODULES, SAFE_SUBMODULES)) or any(
        True for _ in name_hits(facts, PROCESS_FUNCTIONS)
    ):
        effects.add("PROCESS")
    if any(True for _ in name_hits(facts, DYNAMIC_BUILTINS)) or any(
        True for _ in module_hits(facts, IMPORT_MACHINERY_MODULES, SAFE_SUBMODULES)
    ):
        effects.add("DYNAMIC_EXEC")
    return frozenset(effects)


def observed_effects(
    source: bytes, rel_path: str, policy: PolicyConfig | None = None
) -> frozenset[str]:
    """Side effects the code can be seen to have: a subset of FILE_WRITE, NETWORK, PROCESS,
    DYNAMIC_EXEC and SECRET_READ (with the names of the variables read). Any write counts
    here, allowed path or not (the policy gate judges paths); so does use of the runtime's
    ``self.context.files`` / ``self.context.http`` / ``self.context.secrets``."""
    del policy  # effects do not depend on what the policy allows
    problem = unreadable(source, rel_path)
    if problem:
        raise UnparsableSource(f"{rel_path}: {problem[0].message}")
    try:
        module = run_deep(lambda: cst.parse_module(decode(source)))
    except (cst.ParserSyntaxError, UnicodeDecodeError, LookupError, SyntaxError) as err:
        raise UnparsableSource(f"{rel_path}: {err}") from None
    facts = run_deep(lambda: analyze(module))
    try:
        return effects_of(facts)
    except ResolutionLimit as err:
        raise UnparsableSource(f"{rel_path}: {err}") from None
    finally:
        facts.release()


@dataclass(frozen=True)
class Undetermined:
    """Why a file's effects cannot be known; ``lasting``: the same bytes always fail (worth
    caching), unlike a budget overrun on a busy machine."""

    reason: str
    lasting: bool


def observe_sources(
    jobs: Sequence[tuple[str, bytes, float]], processes: int
) -> Iterator[tuple[int, frozenset[str] | Undetermined]]:
    """``observed_effects`` for each ``(rel_path, source, budget_seconds)``, in worker
    processes killed past their budget; ``(index, effects or why not)`` as each finishes.
    A failure that is not the file's fault (a crash, a bug) raises ``RuntimeError``."""

    def work(job: tuple[str, bytes, float]) -> tuple[str, ...]:
        rel, source, _budget = job
        try:
            return tuple(sorted(observed_effects(source, rel)))
        except UnparsableSource as err:
            return ("<unparsable>", str(err))

    for index, outcome in run_budgeted(work, [(job, job[2]) for job in jobs], processes):
        if isinstance(outcome, Done):
            value = outcome.value
            if value[:1] == ("<unparsable>",):
                yield index, Undetermined(value[1], lasting=True)
            else:
                yield index, frozenset(value)
        elif isinstance(outcome, Overrun):
            reason = (
                f"parse and analysis took longer than {outcome.budget:g} s (policy.file_budget)"
            )
            yield index, Undetermined(reason, lasting=False)
        elif isinstance(outcome, Failed):
            raise RuntimeError(f"{jobs[index][0]}: {outcome.error}")
        else:
            raise RuntimeError(f"{jobs[index][0]}: the analysis process died ({outcome!r})")
