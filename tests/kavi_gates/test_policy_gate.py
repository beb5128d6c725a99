"""The policy gate through the runner: suppressions, overrides, cache, failing closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pluggy
import pytest

from kavi_gates import hookimpl, hookspecs
from kavi_gates.config import load_config
from kavi_gates.errors import UsageError
from kavi_gates.models import Status
from kavi_gates.policy.resolution import ModuleFacts
from kavi_gates.policy.rule import Rule, Violation
from kavi_gates.runner import run_gates


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _run(root: Path, *paths: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return run_gates(load_config(start=root), list(paths) or None, ["policy"], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "kavi.yaml").write_text("include: ['skills/**/*.py']\n")
    return tmp_path


def test_clean_project_passes(project: Path) -> None:
    write(project, "skills/ok.py", "import json\nprint(json.dumps({}))\n")
    report = _run(project)
    assert report.exit_code == 0
    assert report.results[0].status is Status.PASS
    assert report.results[0].checked == ("skills/ok.py",)


def test_finding_has_path_line_col_and_fingerprint(project: Path) -> None:
    write(project, "skills/bad.py", "import json\nx = eval('1')\n")
    report = _run(project)
    assert report.exit_code == 1
    (finding,) = report.findings
    assert (finding.path, finding.line, finding.col, finding.rule) == (
        "skills/bad.py",
        2,
        5,
        "KAV401",
    )
    assert len(finding.fingerprint) == 32


def test_fingerprint_survives_moving_the_line(project: Path) -> None:
    path = write(project, "skills/bad.py", "x = eval('1')\n")
    first = _run(project).findings[0].fingerprint
    path.write_text("import json\n\n\nx = eval('1')\n")
    assert _run(project).findings[0].fingerprint == first


def test_files_outside_include_are_not_governed(project: Path) -> None:
    write(project, "tools/script.py", "eval('1')\n")
    assert _run(project).exit_code == 0


def test_explicitly_named_file_is_always_checked(project: Path) -> None:
    script = write(project, "tools/script.py", "eval('1')\n")
    assert _run(project, script).exit_code == 1


def test_missing_path_is_a_usage_error(project: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        _run(project, project / "nope.py")


def test_syntax_error_is_a_finding_at_its_line(project: Path) -> None:
    write(project, "skills/broken.py", "import os\n\ndef f(:\n    pass\n")
    report = _run(project)
    assert report.exit_code == 1
    assert [(f.rule, f.line) for f in report.findings] == [("KAV001", 3)]


def test_binary_file_is_a_finding_not_a_crash(project: Path) -> None:
    (project / "skills").mkdir()
    (project / "skills" / "blob.py").write_bytes(b"\x00\x01\xff\xfe")
    report = _run(project)
    assert [f.rule for f in report.findings] == ["KAV002"]


def test_suppression_with_reason_silences_the_finding(project: Path) -> None:
    write(project, "skills/s.py", "x = eval('1')  # kavi: allow[KAV401] evaluator fixture\n")
    assert _run(project).exit_code == 0


def test_suppression_on_the_line_above(project: Path) -> None:
    write(project, "skills/s.py", "# kavi: allow[KAV401] evaluator fixture\nx = eval('1')\n")
    assert _run(project).exit_code == 0


def test_suppression_two_lines_above_does_not_apply(project: Path) -> None:
    write(project, "skills/s.py", "# kavi: allow[KAV401] evaluator fixture\n\nx = eval('1')\n")
    assert {f.rule for f in _run(project).findings} == {"KAV401", "KAV004"}


def test_suppression_without_reason_is_a_finding_and_does_not_apply(project: Path) -> None:
    write(project, "skills/s.py", "x = eval('1')  # kavi: allow[KAV401]\n")
    assert {f.rule for f in _run(project).findings} == {"KAV401", "KAV003"}


def test_unused_suppression_is_a_finding(project: Path) -> None:
    write(project, "skills/s.py", "x = 1  # kavi: allow[KAV401] stale\n")
    (finding,) = _run(project).findings
    assert finding.rule == "KAV004" and "no KAV401 finding" in finding.message


def test_suppression_inside_a_string_is_not_a_suppression(project: Path) -> None:
    write(project, "skills/s.py", "x = eval('# kavi: allow[KAV401] nope')\n")
    assert [f.rule for f in _run(project).findings] == ["KAV401"]


def test_unsuppressible_rules_ignore_suppressions(project: Path) -> None:
    (project / "kavi.yaml").write_text("policy:\n  unsuppressible: [KAV401]\n")
    write(project, "skills/s.py", "x = eval('1')  # kavi: allow[KAV401] please\n")
    findings = _run(project).findings
    assert {f.rule for f in findings} == {"KAV401", "KAV004"}
    assert "cannot be suppressed" in next(f.message for f in findings if f.rule == "KAV004")


def test_unknown_unsuppressible_rule_id_is_a_config_error(project: Path) -> None:
    (project / "kavi.yaml").write_text("policy:\n  unsuppressible: [KAV999]\n")
    write(project, "skills/s.py", "x = 1\n")
    with pytest.raises(UsageError, match="KAV999"):
        _run(project)


def test_overrides_change_the_policy_for_matching_paths(project: Path) -> None:
    (project / "kavi.yaml").write_text(
        "include: ['**/*.py']\noverrides:\n  - paths: ['tests/**']\n"
        "    policy: {allowed_write_paths: [tmp/]}\n"
    )
    write(project, "tests/t.py", "open('tmp/x', 'w')\n")
    write(project, "skills/s.py", "open('tmp/x', 'w')\n")
    assert [f.path for f in _run(project).findings] == ["skills/s.py"]


def test_second_run_is_served_from_the_cache(project: Path) -> None:
    path = write(project, "skills/bad.py", "x = eval('1')\n")
    first = _run(project)
    cache_files = list(Path(__import__("os").environ["XDG_CACHE_HOME"]).rglob("*.json"))
    assert len(cache_files) == 1
    # Poison the cache entry: a warm run must return what the cache says (proves a hit).
    cache_files[0].write_text("[]")
    assert _run(project).exit_code == 0
    assert _run(project, use_cache=False).findings == first.findings
    path.write_text("x = eval('2')\n")  # new bytes → new key → re-analysed
    assert _run(project).exit_code == 1


def test_policy_change_invalidates_the_cache(project: Path) -> None:
    write(project, "skills/w.py", "open('out/x', 'w')\n")
    assert _run(project).exit_code == 1
    (project / "kavi.yaml").write_text("policy:\n  allowed_write_paths: [out/]\n")
    assert _run(project).exit_code == 0


def test_corrupt_cache_entry_is_a_miss(project: Path) -> None:
    write(project, "skills/bad.py", "x = eval('1')\n")
    _run(project)
    for entry in Path(__import__("os").environ["XDG_CACHE_HOME"]).rglob("*.json"):
        entry.write_text("{not json")
    assert _run(project).exit_code == 1


class _Crashing(Rule):
    """Always raises."""

    id = "KAV990"
    category = "test"
    MESSAGE = "crash"
    VALID = ["x = 1\n"]
    INVALID = ["x = 1\n"]

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        raise RuntimeError("rule bug")


class _CrashPlugin:
    @hookimpl
    def kavi_policy_rules(self) -> list[type[Rule]]:
        return [_Crashing]


def test_a_rule_that_raises_makes_the_gate_error_not_pass(project: Path) -> None:
    from kavi_gates.plugins import get_plugin_manager

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(_CrashPlugin())
    write(project, "skills/ok.py", "import json\n")
    report = run_gates(load_config(start=project), None, ["policy"], pm=pm)
    assert report.results[0].status is Status.ERROR
    assert "rule bug" in (report.results[0].error or "")
    assert report.exit_code == 3


def test_plugin_rules_run_alongside_builtins(project: Path) -> None:
    class NoPrint(Rule):
        """print is banned in this test."""

        id = "KAV991"
        category = "test"
        MESSAGE = "print"
        VALID = ["x = 1\n"]
        INVALID = ["print(1)\n"]

        def check(self, facts: ModuleFacts) -> Iterator[Violation]:
            for ref, quals in facts.resolved_refs:
                if "builtins.print" in quals:
                    yield Violation(ref.node, "print is banned")

    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> list[type[Rule]]:
            return [NoPrint]

    pm = pluggy.PluginManager("kavi")
    pm.add_hookspecs(hookspecs)
    from kavi_gates.policy import plugin as policy_plugin

    pm.register(policy_plugin)
    pm.register(Plugin())
    write(project, "skills/p.py", "import os\nprint(os.getcwd())\n")
    report = run_gates(load_config(start=project), None, ["policy"], pm=pm, use_cache=False)
    assert [(f.rule, f.line) for f in report.findings] == [("KAV991", 2)]


def test_many_files_are_analysed_in_parallel_with_the_same_result(project: Path) -> None:
    for i in range(40):
        write(project, f"skills/m{i}.py", f"import json\nx{i} = eval('{i}')\n")
    serial = _run(project, use_cache=False, jobs=1)
    parallel = _run(project, use_cache=False, jobs=2)
    assert serial.findings == parallel.findings
    assert len(parallel.findings) == 40


def test_deeply_nested_expression_is_analysed_not_crashed(project: Path) -> None:
    nested = "x = " + "[" * 150 + "eval('1')" + "]" * 150 + "\n"
    write(project, "skills/deep.py", "import json\n" + nested)
    report = _run(project)
    assert report.results[0].status is Status.FAIL
    assert [f.rule for f in report.findings] == ["KAV401"]


def test_positions_stay_exact_when_code_generation_needs_the_deep_stack(project: Path) -> None:
    # 3000 implicitly concatenated strings overflow the default recursion limit in libcst's
    # code generation; the retry must not reuse the half-filled first attempt.
    body = "import os\nx = (\n" + "    'a'\n" * 3000 + ")\nos.system('id')\n"
    write(project, "skills/deep_strings.py", body)
    lines = {(f.rule, f.line, f.col) for f in _run(project).findings}
    assert ("KAV111", 3004, 1) in lines


def test_valid_python_beyond_the_parser_is_a_finding_not_a_pass(project: Path) -> None:
    body = "import os\nx = (\n" + "    'a'\n" * 20000 + ")\n"
    write(project, "skills/too_deep.py", body)
    (finding,) = _run(project).findings
    assert finding.rule == "KAV001"
    assert "cannot be checked" in finding.message


def test_a_plugin_rule_without_trigger_words_sees_every_file(project: Path) -> None:
    class NoAssert(Rule):
        """assert is banned in this test (the rule declares no trigger words)."""

        id = "KAV992"
        category = "test"
        MESSAGE = "assert"
        VALID = ["x = 1\n"]
        INVALID = ["assert x\n"]

        def check(self, facts: ModuleFacts) -> Iterator[Violation]:
            for stmt in facts.module.body:
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.Assert):
                            yield Violation(small, "assert is banned")

    class Plugin:
        @hookimpl
        def kavi_policy_rules(self) -> list[type[Rule]]:
            return [NoAssert]

    from kavi_gates.plugins import get_plugin_manager

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Plugin())
    write(project, "skills/a.py", "def f(x):\n    return x\n\n\nassert f(1)\n")
    report = run_gates(load_config(start=project), None, ["policy"], pm=pm, use_cache=False)
    assert [(f.rule, f.line) for f in report.findings] == [("KAV992", 5)]
