"""Third-party policy rules, registered the ways the project documents (a pluggy plugin with
``kavi_policy_rules``; an installed distribution's ``kavi`` entry point): their trigger
words decide what the pre-filter skips, a rule without any sees every file, and every
contribution is validated like a gate (type, unique id, docstring, examples)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pluggy
import pytest

from kavi_gates import hookimpl
from kavi_gates.config import load_config
from kavi_gates.errors import ConfigError
from kavi_gates.models import RunReport
from kavi_gates.plugins import get_plugin_manager
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation
from kavi_gates.policy.rules.process import ProcessModule
from kavi_gates.runner import finding_codes, policy_rules, run_gates

# -- a plugin rule as a user writes one -----------------------------------------------------


def _asserts(facts: ModuleFacts) -> Iterator[Violation]:
    for stmt in facts.module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assert):
                    yield Violation(small, "assert is stripped under python -O")


class NoAssert(Rule):
    """``assert`` vanishes under ``python -O``: a skill must not rely on it."""

    id = "ACME101"
    category = "robustness"
    MESSAGE = "assert used for a check"
    VALID = ["x = 1\n"]
    INVALID = ["assert x\n"]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        yield from _asserts(facts)


class NoAssertWithWords(NoAssert):
    """The same rule, declaring the one word an assert needs."""

    id = "ACME102"
    TRIGGERS = ("assert",)


class WholeModule(Rule):
    """Flags every module that it sees (so the test sees what the pre-filter let through)."""

    id = "ACME103"
    category = "test"
    MESSAGE = "seen"
    VALID = ["x = 1\n"]
    INVALID = ["zebra = 1\n"]
    TRIGGERS = ("zebra",)

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        yield Violation(facts.module, "seen")


def _pm(*contributions: object, name: str = "acme_rules") -> pluggy.PluginManager:
    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> object:
            return list(contributions)

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name=name)
    return pm


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    (tmp_path / "skills").mkdir()
    return tmp_path


def _run(project: Path, pm: pluggy.PluginManager, **kwargs: object) -> RunReport:
    return run_gates(load_config(start=project), None, ["policy"], pm=pm, **kwargs)  # type: ignore[arg-type]


def _places(report: RunReport) -> set[tuple[str, str, int]]:
    return {(f.rule, f.path, f.line) for f in report.findings}


# -- trigger words --------------------------------------------------------------------------


def test_a_rule_without_trigger_words_sees_a_file_no_builtin_word_is_in(project: Path) -> None:
    # `assert x` holds none of the built-in rules' words: before, the pre-filter skipped it.
    (project / "skills" / "a.py").write_text("assert x\n")
    (project / "skills" / "b.py").write_text("assert x  # print\n")
    report = _run(project, _pm(NoAssert))
    assert _places(report) == {("ACME101", "skills/a.py", 1), ("ACME101", "skills/b.py", 1)}


def test_a_rule_declaring_its_words_finds_them(project: Path) -> None:
    (project / "skills" / "a.py").write_text("assert x\n")
    assert _places(_run(project, _pm(NoAssertWithWords))) == {("ACME102", "skills/a.py", 1)}


def test_declared_trigger_words_decide_which_files_the_rule_sees(project: Path) -> None:
    (project / "skills" / "with_word.py").write_text("zebra = 1\n")
    (project / "skills" / "without.py").write_text("horse = 1\n")
    report = _run(project, _pm(WholeModule), use_cache=False)
    assert _places(report) == {("ACME103", "skills/with_word.py", 1)}


def test_one_rule_without_words_makes_every_file_fully_analysed(project: Path) -> None:
    # The pre-filter decides per file: a file one rule must see is analysed by every rule.
    (project / "skills" / "without.py").write_text("horse = 1\nassert horse\n")
    report = _run(project, _pm(WholeModule, NoAssert), use_cache=False)
    assert _places(report) == {
        ("ACME103", "skills/without.py", 1),
        ("ACME101", "skills/without.py", 2),
    }


def test_plugin_rules_are_documented_and_selectable_like_built_in_codes(project: Path) -> None:
    pm = _pm(NoAssert, NoAssertWithWords)
    codes = finding_codes(pm)
    assert codes["ACME101"].title == "assert used for a check"
    assert codes["ACME101"].category == "robustness" and codes["ACME101"].triggers is None
    assert codes["ACME102"].triggers == ("assert",)
    assert "python -O" in codes["ACME101"].doc
    (project / "skills" / "a.py").write_text("import subprocess\nassert x\n")
    selected = _run(project, pm, select=["ACME1"])
    (finding,) = selected.findings  # one place, two codes (kavi_gates.merge)
    assert finding.rules == ("ACME101", "ACME102")


# -- validation -----------------------------------------------------------------------------


class NoDoc(NoAssert):
    id = "ACME104"
    __doc__ = None


class NoExamples(NoAssert):
    """No INVALID example."""

    id = "ACME105"
    INVALID: list[str] = []


class BadWords(NoAssert):
    """Trigger words that are not identifiers."""

    id = "ACME106"
    TRIGGERS = ("assert x",)


class NoWords(NoAssert):
    """An empty word list: the rule would never see a file."""

    id = "ACME107"
    TRIGGERS = ()


class BadId(NoAssert):
    """An id that is not a code."""

    id = "acme-1"


class NoCheck(Rule):
    """Forgot check()."""

    id = "ACME108"
    category = "test"
    MESSAGE = "x"
    VALID = ["x = 1\n"]
    INVALID = ["y = 1\n"]


class Clone(NoAssert):
    """Another rule reusing ACME101."""


class StealsBuiltinId(NoAssert):
    """Claims a built-in rule's id."""

    id = "KAV101"


class StealsGateCode(NoAssert):
    """Claims the hash-pin gate's code for a drifted pin."""

    id = "KAV801"


class InheritsACode(ProcessModule):
    """A subclass of a built-in rule that changes its id but not its code."""

    id = "ACME109"


@pytest.mark.parametrize(
    ("contributed", "expected"),
    [
        (["not a rule"], "contributed 'not a rule', which is not a policy rule"),
        ([NoAssert, object], "contributed <class 'object'>, which is not a policy rule"),
        ([print], "which is not a policy rule"),
        ([NoDoc], "rule ACME104 has no docstring"),
        ([NoExamples], "rule ACME105 needs INVALID"),
        ([BadWords], "rule ACME106 has TRIGGERS ('assert x',)"),
        ([NoWords], "rule ACME107 has TRIGGERS ()"),
        ([BadId], "has id 'acme-1'"),
        ([NoCheck], "does not implement check()"),
        ([NoAssert, Clone], "policy rule id ACME101 is contributed twice"),
        ([NoAssert, NoAssert], "policy rule id ACME101 is contributed twice"),
        ([StealsBuiltinId], "policy rule id KAV101 is contributed twice"),
        ([StealsGateCode], "finding code KAV801 is declared twice"),
        ([InheritsACode], "rule ACME109 points at the declaration of KAV201"),
    ],
)
def test_a_malformed_contribution_is_a_config_error_naming_the_plugin(
    project: Path, contributed: list[object], expected: str
) -> None:
    (project / "skills" / "a.py").write_text("assert x\n")
    pm = _pm(*contributed)
    for attempt in (lambda: policy_rules(pm), lambda: finding_codes(pm), lambda: _run(project, pm)):
        with pytest.raises(ConfigError) as raised:
            attempt()
        assert expected in str(raised.value)
        assert "acme_rules" in str(raised.value) or "KAV801" in expected


def test_a_plugin_that_returns_a_class_instead_of_a_list_is_refused(project: Path) -> None:
    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> object:
            return NoAssert

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="sloppy")
    with pytest.raises(ConfigError, match="plugin 'sloppy': kavi_policy_rules must return a list"):
        policy_rules(pm)


def test_a_plugin_whose_hook_raises_is_a_config_error(project: Path) -> None:
    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> object:
            raise ImportError("acme needs numpy")

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="needy")
    with pytest.raises(ConfigError, match="plugin 'needy': kavi_policy_rules raised ImportError"):
        policy_rules(pm)


def test_a_broken_plugin_is_refused_on_a_warm_run_too(project: Path) -> None:
    (project / "skills" / "a.py").write_text("x = 1\n")
    good = _pm(NoAssert)
    assert _run(project, good).exit_code == 0  # every file is cached now
    with pytest.raises(ConfigError, match="not a policy rule"):
        _run(project, _pm(NoAssert, "oops"))


# -- an installed distribution's entry point, through the real `kavi` command ----------------

PLUGIN_SOURCE = '''
"""ACME's Kavi rules (an installed plugin)."""
from kavi_gates import hookimpl
from kavi_gates.policy import Rule, Violation
import libcst as cst


class NoAssert(Rule):
    """``assert`` vanishes under ``python -O``."""

    id = "ACME201"
    category = "robustness"
    MESSAGE = "assert used for a check"
    VALID = ["x = 1\\n"]
    INVALID = ["assert x\\n"]

    def check(self, facts):
        for node in facts.module.body:
            if isinstance(node, cst.SimpleStatementLine):
                for small in node.body:
                    if isinstance(small, cst.Assert):
                        yield Violation(small, "assert is stripped under python -O")


@hookimpl
def kavi_policy_rules():
    return [NoAssert]
'''


def _install(site: Path, source: str) -> None:
    """Lay out a distribution as pip installs it: the package and its dist-info."""
    package = site / "acme_kavi_rules"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(source))
    info = site / "acme_kavi_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kavi-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[kavi]\nacme = acme_kavi_rules\n")


def _kavi(project: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(project / ".cache")}
    return subprocess.run(
        [sys.executable, "-m", "kavi_hooks.cli", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_an_installed_plugin_rule_without_triggers_finds_assert(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = tmp_path_factory.mktemp("site")
    _install(site, PLUGIN_SOURCE)
    (project / "skills" / "a.py").write_text("assert x\n")
    done = _kavi(project, site, "check", "--gate", "policy", "--format", "json")
    assert done.returncode == 1, done.stderr
    (finding,) = json.loads(done.stdout)["findings"]
    assert (finding["rule"], finding["path"], finding["line"]) == ("ACME201", "skills/a.py", 1)
    rules = _kavi(project, site, "rules", "ACME201")
    assert rules.returncode == 0 and "assert used for a check" in rules.stdout


def test_an_installed_plugin_contributing_a_non_rule_exits_2(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = tmp_path_factory.mktemp("site")
    _install(site, PLUGIN_SOURCE.replace("return [NoAssert]", "return [NoAssert, 'typo']"))
    (project / "skills" / "a.py").write_text("x = 1\n")
    done = _kavi(project, site, "check", "--gate", "policy")
    assert done.returncode == 2
    assert "plugin 'acme' contributed 'typo', which is not a policy rule" in done.stderr
    assert "Traceback" not in done.stderr


GATE_PLUGIN = """
from kavi_gates import hookimpl
from kavi_gates.gate import GateOutcome
from kavi_gates.models import Code, Finding


class Gate:
    id = "acme"
    description = "a third party's gate"
    scope = "repo"

    def check(self, context):
        found = Finding(gate="acme", rule="ACME301", path="skills/a.py", message="bad",
                        severity=SEVERITY)
        return GateOutcome(findings=[found])


@hookimpl
def kavi_gates():
    return [Gate()]


@hookimpl
def kavi_finding_codes():
    return [Code(id="ACME301", gate="acme", title="bad", doc="Bad.", fix="Don't.")]
"""


@pytest.mark.parametrize(("severity", "code"), [("'error'", 1), ("'loud'", 3), ("None", 3)])
def test_a_plugin_gate_cannot_pass_by_giving_its_severity_as_text(
    project: Path, tmp_path_factory: pytest.TempPathFactory, severity: str, code: int
) -> None:
    """Gates compare a finding's severity with the enum: a plugin's "error" must fail its
    gate (it is the enum), and a severity that is neither is an error, never a pass."""
    site = tmp_path_factory.mktemp("site")
    _install(site, GATE_PLUGIN.replace("SEVERITY", severity))
    (project / "skills" / "a.py").write_text("x = 1\n")
    done = _kavi(project, site, "check", "--gate", "acme")
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if code == 1:
        assert "ACME301 bad (acme)" in done.stdout
