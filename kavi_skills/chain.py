"""Chains: a fixed sequence of trusted skills with explicit dot-path mapping between steps.

Every skill of a chain is trust-checked, and side effects confirmed, before step 0 runs;
each step then runs in its own sandboxed child. A mapping that cannot be resolved, or
mapped input that fails the schema, becomes a FAILURE record without the skill running.
Lineage: step *i* > 0 is a child of step *i* - 1 unless ``parent_index`` says otherwise.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kavi_gates.config import LoadedConfig
from kavi_skills.capabilities import (
    Confirm,
    LazyLLM,
    confirm_side_effects,
    prepare_capabilities,
    project_paths,
    uses_llm,
)
from kavi_skills.executor import (
    Execution,
    execute_in_child,
    execution_log,
    failure,
    start_process,
)
from kavi_skills.isolation import SkillProcess
from kavi_skills.loader import TrustedSkill, load_trusted_skill


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMapping(_Spec):
    """Copy ``from_path`` of an earlier step's output into ``to_field`` of this step's input."""

    to_field: str = Field(min_length=1)
    from_path: str = Field(min_length=1)
    from_step_index: int | None = None
    """Which earlier step's output (default: the previous step)."""


class ChainStep(_Spec):
    """One step: a literal ``input``, or an ``input_template`` completed by ``from_prev``."""

    skill_name: str
    input: dict[str, Any] | None = None
    input_template: dict[str, Any] | None = None
    from_prev: tuple[FieldMapping, ...] = ()
    parent_index: int | None = None

    @model_validator(mode="after")
    def _one_input_source(self) -> ChainStep:
        if self.input is not None and (self.input_template is not None or self.from_prev):
            raise ValueError("give either 'input' or 'input_template'/'from_prev', not both")
        return self


class ChainOptions(_Spec):
    stop_on_failure: bool = True


class ChainSpec(_Spec):
    """A chain: ordered steps and options."""

    steps: tuple[ChainStep, ...] = Field(min_length=1)
    options: ChainOptions = ChainOptions()

    @model_validator(mode="after")
    def _indices_point_back(self) -> ChainSpec:
        for index, step in enumerate(self.steps):
            refs = [m.from_step_index for m in step.from_prev] + [step.parent_index]
            for ref in refs:
                if ref is not None and not 0 <= ref < index:
                    raise ValueError(f"step {index}: index {ref} must name an earlier step")
            if (
                index == 0
                and step.from_prev
                and any(m.from_step_index is None for m in step.from_prev)
            ):
                raise ValueError("step 0 has no previous step to map from")
        return self


class MappingError(Exception):
    """A dot path could not be resolved."""


def extract(data: Any, path: str) -> Any:
    """Follow ``a.b.0.c`` through dicts (keys) and lists (integer indices)."""
    current = data
    walked: list[str] = []
    for part in path.split("."):
        walked.append(part)
        where = ".".join(walked)
        if isinstance(current, dict):
            if part not in current:
                raise MappingError(f"'{where}' not found")
            current = current[part]
        elif isinstance(current, list):
            try:
                current = current[int(part)]
            except ValueError:
                raise MappingError(f"'{where}': '{part}' is not a list index") from None
            except IndexError:
                raise MappingError(
                    f"'{where}': index out of range (length {len(current)})"
                ) from None
        else:
            raise MappingError(f"'{where}': cannot index into {type(current).__name__}")
    return current


def _assign(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        node = target.setdefault(part, {})
        if not isinstance(node, dict):
            raise MappingError(f"to_field '{path}': '{part}' is not an object")
        target = node
    target[last] = value


def build_input(
    step: ChainStep, index: int, outputs: list[dict[str, Any] | None]
) -> dict[str, Any]:
    """The input of step ``index`` from its template and the outputs so far."""
    if step.input is not None:
        return copy.deepcopy(step.input)
    data = copy.deepcopy(step.input_template or {})
    for mapping in step.from_prev:
        source = index - 1 if mapping.from_step_index is None else mapping.from_step_index
        output = outputs[source]
        if output is None:
            raise MappingError(
                f"step {source} has no output to map from (it failed or did not run)"
            )
        try:
            value = extract(output, mapping.from_path)
        except MappingError as err:
            raise MappingError(f"from step {source}: {err}") from None
        _assign(data, mapping.to_field, copy.deepcopy(value))
    return data


class _WarmChild:
    """Keeps one child started ahead of the step that will use it (each step gets its own)."""

    def __init__(self, loaded: LoadedConfig, sandbox: bool | None) -> None:
        self._loaded = loaded
        self._sandbox = sandbox
        self._vault = project_paths(loaded).vault_dir
        self._next: SkillProcess | None = start_process(loaded, sandbox)

    def take(self, more_to_come: bool) -> SkillProcess:
        """The started child; start the next one now if another step may need it."""
        process = self._next
        if process is not None and not process.sees_vault and self._vault.is_dir():
            process.close()  # an earlier step made the vault after this child started
            process = None
        process = process or start_process(self._loaded, self._sandbox)
        self._next = start_process(self._loaded, self._sandbox) if more_to_come else None
        return process

    def close(self) -> None:
        if self._next is not None:
            self._next.close()
            self._next = None


def run_chain(
    spec: ChainSpec,
    loaded: LoadedConfig,
    *,
    yes: bool = False,
    confirm: Confirm | None = None,
    log: bool = True,
    sandbox: bool | None = None,
) -> list[Execution]:
    """Run the chain; every step that was reached yields a record (logged as it finishes).

    Each step runs in its own child process (sandboxed unless ``sandbox`` or the config
    opts out), so no step can reach another's capabilities, secrets or the parent's redactor.
    """
    warm = _WarmChild(loaded, sandbox)  # first: its start-up overlaps the trust checks
    try:
        return _run_steps(spec, loaded, warm, yes=yes, confirm=confirm, log=log)
    finally:
        warm.close()


def _run_steps(
    spec: ChainSpec,
    loaded: LoadedConfig,
    warm: _WarmChild,
    *,
    yes: bool,
    confirm: Confirm | None,
    log: bool,
) -> list[Execution]:
    skills: dict[str, TrustedSkill] = {}
    for step in spec.steps:
        if step.skill_name not in skills:
            skills[step.skill_name] = load_trusted_skill(step.skill_name, loaded)
    confirm_side_effects(
        [(s.name, s.entry.side_effect_class) for s in skills.values()], yes, confirm
    )
    paths = project_paths(loaded)
    grants = {name: prepare_capabilities(skill, loaded, paths) for name, skill in skills.items()}
    llm = LazyLLM()
    if any(uses_llm(skill) for skill in skills.values()):
        llm.warm_up()
    log_file = execution_log(loaded) if log else None
    results: list[Execution] = []
    outputs: list[dict[str, Any] | None] = []
    for index, step in enumerate(spec.steps):
        skill = skills[step.skill_name]
        parent_index = index - 1 if step.parent_index is None else step.parent_index
        parent = results[parent_index].record.execution_id if parent_index >= 0 else None
        try:
            data = build_input(step, index, outputs)
        except MappingError as err:
            result = failure(
                skill,
                step.input_template or {},
                f"mapping failed: {err}",
                "mapping",
                grants[step.skill_name].redactor,
                parent,
            )
        else:
            with warm.take(more_to_come=index + 1 < len(spec.steps)) as process:
                result = execute_in_child(
                    skill,
                    data,
                    grants[step.skill_name],
                    process,
                    str(paths.vault_dir),
                    llm,
                    parent,
                )
        results.append(result)
        outputs.append(result.record.output_json)
        if log_file is not None:
            log_file.append(result.record)
        if not result.record.success and spec.options.stop_on_failure:
            break
    return results
