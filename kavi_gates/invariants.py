"""The invariants gate: skill structure, declared vs observed side effects, boundary contracts.

A skill module is a governed ``.py`` file whose name does not start with ``_``: files such as
``skills/_vault.py`` or ``skills/__init__.py`` are helpers the skills import, not skills.
Each skill module must define exactly one subclass of ``invariants.base_class`` (recognised
statically by qualified name, however it was imported) whose ``name``, ``description`` and
``side_effect_class`` are string literals and whose ``input_model`` and ``output_model`` are
plain class references, all assigned in the class body; ``required_secrets`` and
``allowed_hosts``, when assigned, are literal tuples of string literals (each host a bare
``host`` or ``host:port``). Its declared class must allow every
effect the policy analysis observes (``kavi_gates.policy.observed_effects``):

=============  ==================================================
declared       effects it may show (of FILE_WRITE, NETWORK, PROCESS, SECRET_READ)
=============  ==================================================
READ_ONLY      none
SECRET_READ    SECRET_READ
FILE_WRITE     FILE_WRITE
NETWORK        NETWORK, SECRET_READ (an API key)
MONEY          NETWORK (payments go through an API), SECRET_READ
MESSAGING      NETWORK (messages go through an API), SECRET_READ
=============  ==================================================

PROCESS is allowed by no class (the policy gate decides whether processes may run at all),
DYNAMIC_EXEC is left to the policy gate. A secret read must also name a secret the skill
declares in ``required_secrets`` (``kavi_gates.skill_secrets``, KAV606). Boundary
contracts: ``kavi_gates.contracts``.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_gates.cache import ResultCache, code_fingerprint, default_cache_dir
from kavi_gates.codes import Code
from kavi_gates.codes import invariants as codes
from kavi_gates.config import SIDE_EFFECT_CLASSES, effective_policy
from kavi_gates.contracts import check_contracts
from kavi_gates.errors import InternalError
from kavi_gates.gate import GateContext, GateOutcome
from kavi_gates.models import Finding

if TYPE_CHECKING:
    from kavi_gates.policy.effects import Undetermined

GATE = "invariants"
REQUIRED_LITERALS = ("name", "description", "side_effect_class")
REQUIRED_CLASSES = ("input_model", "output_model")
LITERAL_TUPLES = ("required_secrets", "allowed_hosts")
"""Optional; when assigned, a literal tuple of string literals (they are recorded, signed
and shown at promotion, so they must be readable without running the module)."""
CHECKED_EFFECTS = frozenset({"FILE_WRITE", "NETWORK", "PROCESS", "SECRET_READ"})
ALLOWED_EFFECTS: dict[str, frozenset[str]] = {
    "READ_ONLY": frozenset(),
    "SECRET_READ": frozenset({"SECRET_READ"}),
    "FILE_WRITE": frozenset({"FILE_WRITE"}),
    "NETWORK": frozenset({"NETWORK", "SECRET_READ"}),
    "MONEY": frozenset({"NETWORK", "SECRET_READ"}),
    "MESSAGING": frozenset({"NETWORK", "SECRET_READ"}),
}


def is_skill_module(rel_path: str) -> bool:
    """Governed ``.py`` files are skills unless their name starts with ``_`` (helpers)."""
    name = rel_path.rsplit("/", 1)[-1]
    return name.endswith(".py") and not name.startswith("_")


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → qualified name, for every import in the module."""
    table: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    table[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                table[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return table


def _qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        head = _qualified(node.value, aliases)
        return f"{head}.{node.attr}" if head else None
    return None


def _is_base(qualified: str | None, base_class: str) -> bool:
    """The base class itself, or the same name re-exported from a submodule of its package."""
    if qualified is None:
        return False
    if qualified == base_class:
        return True
    package, _, name = base_class.rpartition(".")
    head, _, last = qualified.rpartition(".")
    return last == name and bool(package) and (head == package or head.startswith(package + "."))


def skill_classes(tree: ast.Module, base_class: str) -> list[ast.ClassDef]:
    """Classes subclassing ``base_class``, directly or through another class of the module."""
    aliases = _aliases(tree)
    found: list[ast.ClassDef] = []
    local: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            _is_base(_qualified(b, aliases), base_class)
            or (isinstance(b, ast.Name) and b.id in local)
            for b in node.bases
        ):
            found.append(node)
            local.add(node.name)
    return found


def _assignments(cls: ast.ClassDef) -> dict[str, list[ast.expr]]:
    values: dict[str, list[ast.expr]] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            values.setdefault(stmt.target.id, []).append(stmt.value)
    return values


def _host_problem(host: str) -> str | None:
    if not host or host != host.strip() or any(c.isspace() for c in host):
        return "is empty or contains whitespace"
    if "/" in host or "@" in host or "?" in host or "#" in host:
        return "must be a bare host or host:port (no scheme, path, user or query)"
    return None


def literal_strings(node: ast.expr) -> tuple[str, ...] | None:
    """The strings of a literal tuple of string literals, else ``None``."""
    if not isinstance(node, ast.Tuple):
        return None
    strings = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if len(strings) != len(node.elts) or not all(isinstance(v, str) for v in strings):
        return None
    return tuple(str(v) for v in strings)


def _tuple_findings(
    values: dict[str, list[ast.expr]], class_name: str, finding: Callable[..., Finding]
) -> list[Finding]:
    literal = codes.METADATA_NOT_LITERAL
    found: list[Finding] = []
    for attr in LITERAL_TUPLES:
        assigned = values.get(attr, [])
        where = f"{class_name}.{attr}"
        if len(assigned) > 1:
            found.append(finding(literal, f"{where} is assigned more than once", assigned[1]))
            continue
        if not assigned:
            continue
        strings = literal_strings(assigned[0])
        if strings is None:
            found.append(
                finding(
                    literal,
                    f"{where} must be a literal tuple of string literals "
                    "(it is recorded and signed at promotion)",
                    assigned[0],
                )
            )
        elif attr == "allowed_hosts":
            for host in strings:
                problem = _host_problem(host)
                if problem:
                    found.append(finding(literal, f"{where}: {host!r} {problem}", assigned[0]))
    return found


def check_skill_source(
    source: bytes, rel_path: str, base_class: str
) -> tuple[list[Finding], str | None]:
    """Structure findings (KAV601-KAV603) for one skill module, and its declared class."""

    def finding(code: Code, message: str, node: ast.AST | None = None) -> Finding:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", -1) + 1
        return code.finding(rel_path, message, line=line, col=col)

    try:
        tree = ast.parse(source, filename=rel_path)
    except (SyntaxError, ValueError) as err:
        return [finding(codes.NO_SKILL_CLASS, f"skill module does not parse: {err}")], None
    except (RecursionError, MemoryError) as err:  # valid, but too deep for Python's parser
        message = f"skill module cannot be analysed: {type(err).__name__}: {err}"
        return [finding(codes.NO_SKILL_CLASS, message)], None
    classes = skill_classes(tree, base_class)
    if not classes:
        return [
            finding(codes.NO_SKILL_CLASS, f"skill module defines no subclass of {base_class}")
        ], None
    if len(classes) > 1:
        names = ", ".join(c.name for c in classes)
        message = (
            f"skill module defines {len(classes)} subclasses of {base_class} ({names}); "
            "exactly one is allowed"
        )
        return [finding(codes.NO_SKILL_CLASS, message, classes[1])], None
    cls = classes[0]
    literal = codes.METADATA_NOT_LITERAL
    values = _assignments(cls)
    findings: list[Finding] = []
    for attr in (*REQUIRED_LITERALS, *REQUIRED_CLASSES):
        assigned = values.get(attr, [])
        where = f"{cls.name}.{attr}"
        if not assigned:
            findings.append(
                finding(
                    codes.METADATA_NOT_LITERAL, f"{where} is not assigned in the class body", cls
                )
            )
        elif len(assigned) > 1:
            findings.append(
                finding(
                    codes.METADATA_NOT_LITERAL, f"{where} is assigned more than once", assigned[1]
                )
            )
        elif attr in REQUIRED_LITERALS and not (
            isinstance(assigned[0], ast.Constant) and isinstance(assigned[0].value, str)
        ):
            findings.append(
                finding(
                    codes.METADATA_NOT_LITERAL, f"{where} must be a string literal", assigned[0]
                )
            )
        elif attr in REQUIRED_CLASSES and not isinstance(assigned[0], ast.Name | ast.Attribute):
            findings.append(finding(literal, f"{where} must name a class", assigned[0]))
    findings.extend(_tuple_findings(values, cls.name, finding))
    for node in ast.walk(tree):  # ``Skill.attr = ...`` after the class would bypass the literals
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == cls.name
                    and target.attr in (*REQUIRED_LITERALS, *REQUIRED_CLASSES, *LITERAL_TUPLES)
                ):
                    findings.append(
                        finding(
                            codes.METADATA_NOT_LITERAL,
                            f"{cls.name}.{target.attr} is reassigned outside the class body",
                            node,
                        )
                    )
    declared: str | None = None
    side = values.get("side_effect_class", [])
    if len(side) == 1 and isinstance(side[0], ast.Constant) and isinstance(side[0].value, str):
        if side[0].value in SIDE_EFFECT_CLASSES:
            declared = side[0].value
        else:
            findings.append(
                finding(
                    codes.UNKNOWN_SIDE_EFFECT_CLASS,
                    f"unknown side_effect_class {side[0].value!r} "
                    f"(expected one of {', '.join(SIDE_EFFECT_CLASSES)})",
                    side[0],
                )
            )
    return findings, declared


def effect_findings(
    rel_path: str, declared: str, observed: frozenset[str] | Undetermined
) -> list[Finding]:
    """KAV604 when the policy analysis sees an effect the declared class does not allow, or
    cannot tell what the code does."""
    if not isinstance(observed, frozenset):
        message = f"side effects cannot be determined: {observed.reason}"
        return [codes.UNDECLARED_SIDE_EFFECT.finding(rel_path, message)]
    extra = sorted((observed & CHECKED_EFFECTS) - ALLOWED_EFFECTS[declared])
    if not extra:
        return []
    return [
        codes.UNDECLARED_SIDE_EFFECT.finding(
            rel_path, f"declared side_effect_class {declared} but the code shows {', '.join(extra)}"
        )
    ]


def check_test_file(rel_path: str, root: Path, tests_dir: str) -> list[Finding]:
    """KAV605 unless ``{tests_dir}/test_{stem}.py`` exists."""
    stem = rel_path.rsplit("/", 1)[-1].removesuffix(".py")
    expected = f"{tests_dir.rstrip('/')}/test_{stem}.py"
    if (root / expected).is_file():
        return []
    return [codes.MISSING_TEST.finding(rel_path, f"skill has no test file (expected {expected})")]


@dataclass(frozen=True)
class _Pending:
    """A skill whose effects are still to be observed (its structure is known)."""

    rel: str
    source: bytes
    key: str
    structure: list[Finding]
    declared: str
    secrets: tuple[str, ...]


class InvariantsGate:
    """Skill structure, side-effect consistency, tests present, package boundary contracts.

    Structure and effects depend only on a skill's bytes, the base class and the analysis
    code, so they are cached like policy results (a warm run never loads libcst); whether
    the test file exists is looked up every run.
    """

    id = GATE

    def check(self, context: GateContext) -> GateOutcome:
        settings = context.config.invariants
        directory = default_cache_dir(context.root, context.config.storage.cache_dir)
        secrets_check = str(Path(__file__).with_name("skill_secrets.py"))
        sources = (*context.rule_sources, __file__, codes.__file__, secrets_check)
        cache = ResultCache(directory, "invariants-v1", code_fingerprint(sources, directory))
        findings: list[Finding] = []
        checked: list[str] = []
        pending: list[_Pending] = []
        for path in context.files:
            rel = context.rel(path)
            if not is_skill_module(rel):
                continue
            checked.append(rel)
            source = path.read_bytes()
            key = cache.key(f"{rel}\0{settings.base_class}\0".encode() + source)
            cached = cache.get_findings(key, GATE, rel) if context.use_cache else None
            if cached is not None:
                findings.extend(cached)
            else:
                structure, declared = check_skill_source(source, rel, settings.base_class)
                if declared is None:
                    cache.put_findings(key, structure)
                    findings.extend(structure)
                else:
                    secrets = _declared_secrets(source, settings.base_class)
                    pending.append(_Pending(rel, source, key, structure, declared, secrets))
            findings.extend(check_test_file(rel, context.root, settings.tests_dir))
        if pending:
            findings.extend(_observe(pending, context, cache))
        notes: list[str] = []
        if settings.contracts:
            findings.extend(check_contracts(settings.contracts, context.root))
            notes.append(f"checked {len(settings.contracts)} boundary contract(s)")
        return GateOutcome(findings=findings, checked=checked, notes=notes)


def _declared_secrets(source: bytes, base_class: str) -> tuple[str, ...]:
    from kavi_gates.skill_secrets import declared_secrets

    classes = skill_classes(ast.parse(source), base_class)
    return declared_secrets(classes[0]) if len(classes) == 1 else ()


def _observe(pending: list[_Pending], context: GateContext, cache: ResultCache) -> list[Finding]:
    """Structure and effect findings of the skills not in the cache; the policy analysis
    runs in workers bounded by policy.file_budget, like the policy gate's."""
    from kavi_gates.skill_secrets import secret_findings

    try:  # imported here: libcst loads only when a skill's effects are actually checked
        from kavi_gates.policy.effects import observe_sources
    except ImportError as err:  # fail closed: without the analysis nothing can be confirmed
        raise InternalError(f"invariants needs kavi_gates.policy.effects: {err}") from err
    config = context.config
    jobs = [(p.rel, p.source, effective_policy(config, p.rel).file_budget) for p in pending]
    findings: list[Finding] = []
    for index, observed in observe_sources(jobs, context.jobs or os.cpu_count() or 1):
        item = pending[index]
        found = [*item.structure, *effect_findings(item.rel, item.declared, observed)]
        if isinstance(observed, frozenset):
            found += secret_findings(item.rel, item.declared, item.secrets, observed)
        if isinstance(observed, frozenset) or observed.lasting:
            cache.put_findings(item.key, found)
        findings.extend(found)
    return findings
