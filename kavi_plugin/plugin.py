"""``pytest --kavi-verify``: Kavi's gates as test items (the ``pytest11`` entry point).

The gates run once per session through the engine's one runner, ``run_gates`` (the
pytest-mypy pattern): the controlling process (the only process without xdist, the
controller under xdist) runs them before any worker starts and writes the run to a file
in a private temporary directory; xdist workers get that file's path through
``workerinput`` and only read it, so every process builds the same items from the same
run. Unchanged files are not re-analysed across sessions: the engine caches per file by
content hash (bytes + config digest + Kavi version, never mtime).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.errors import EXIT_INTERNAL, EXIT_USAGE, describe_failure
from kavi_gates.models import RunReport
from kavi_gates.paths import atomic_write
from kavi_gates.report.json_report import render_json
from kavi_gates.report.text import render_text
from kavi_gates.runner import available_gates, run_gates
from kavi_plugin.items import build_items

WORKER_INPUT_KEY = "kavi_run_path"
PLUGIN_NAME = "kavi-verify"


class SharedRun(BaseModel):
    """What the controlling process hands to every process: the run and the gate scopes."""

    model_config = ConfigDict(frozen=True)

    report: RunReport
    file_gates: tuple[str, ...]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kavi", "Kavi governance gates")
    group.addoption(
        "--kavi-verify",
        action="store_true",
        default=False,
        help="run Kavi's gates once and report them as test items (-m kavi)",
    )
    group.addoption(
        "--kavi-config",
        metavar="FILE",
        default=None,
        help="Kavi config file (default: kavi.yaml, [tool.kavi], embedded)",
    )
    group.addoption(
        "--kavi-gate",
        metavar="ID",
        action="append",
        default=None,
        dest="kavi_gate",
        help="run only this gate (repeatable)",
    )
    group.addoption(
        "--kavi-base",
        metavar="REF",
        default=None,
        help="diff-allowlist base (a git ref or dir:PATH; default: the index)",
    )
    group.addoption(
        "--kavi-no-cache",
        action="store_true",
        default=False,
        help="re-analyse every file (ignore Kavi's result cache)",
    )
    group.addoption(
        "--kavi-report-json",
        metavar="FILE",
        default=None,
        help="also write the run as `kavi check --format json` does",
    )
    parser.addini("kavi_verify", "run Kavi's gates (as --kavi-verify)", type="bool", default=False)
    parser.addini("kavi_config", "Kavi config file, relative to the rootdir", default=None)
    parser.addini("kavi_gates", "gate ids to run (default: all)", type="linelist", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kavi: a Kavi gate check (pytest --kavi-verify)")
    if config.getoption("kavi_verify") or config.getini("kavi_verify"):
        config.pluginmanager.register(KaviVerify(config), PLUGIN_NAME)


class KaviVerify:
    """Per-session state: where the shared run lives, and the run once loaded."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._shared: SharedRun | None = None
        self._tmpdir: Path | None = None
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        if workerinput is not None:
            self.run_path = Path(workerinput[WORKER_INPUT_KEY])
            self.controlling = False
        else:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="kavi-pytest-"))
            self.run_path = self._tmpdir / "run.json"
            self.controlling = True
            self.loaded = self._load_config()
            if config.pluginmanager.hasplugin("xdist"):
                config.pluginmanager.register(_XdistHooks(self.run_path), "kavi-xdist")

    def _load_config(self) -> LoadedConfig:
        option = self.config.getoption("kavi_config")
        ini = self.config.getini("kavi_config")
        config_file = option or (self.config.rootpath / ini if ini else None)
        try:
            return load_config(config_file, start=self.config.rootpath)
        except Exception as err:
            raise _boundary(err) from None

    def _gates(self) -> list[str] | None:
        chosen = self.config.getoption("kavi_gate") or self.config.getini("kavi_gates")
        return list(chosen) if chosen else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Run the gates once, before any xdist worker starts (xdist starts them trylast)."""
        if not self.controlling:
            return
        try:
            report = run_gates(
                self.loaded,
                None,
                self._gates(),
                base=self.config.getoption("kavi_base"),
                use_cache=not self.config.getoption("kavi_no_cache"),
            )
            gates = available_gates()
        except Exception as err:
            raise _boundary(err) from None
        file_gates = tuple(g for g, gate in gates.items() if gate.scope == "files")
        shared = SharedRun(report=report, file_gates=file_gates)
        atomic_write(self.run_path, shared.model_dump_json().encode("utf-8"), durable=False)
        self._shared = shared
        json_path = self.config.getoption("kavi_report_json")
        if json_path:
            Path(json_path).write_text(render_json(report), encoding="utf-8")

    def shared(self) -> SharedRun:
        if self._shared is None:
            text = self.run_path.read_text(encoding="utf-8")
            self._shared = SharedRun.model_validate_json(text)
        return self._shared

    def report(self) -> RunReport:
        return self.shared().report

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, items: list[pytest.Item]
    ) -> None:
        """Add the Kavi items first (before -m/-k deselection sees the list)."""
        shared = self.shared()
        items[:0] = build_items(session, shared.report, set(shared.file_gates), self.report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.controlling and self._shared is not None:
            summary = render_text(self._shared.report).splitlines()[-1]
            terminalreporter.write_line(summary)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def _boundary(err: Exception) -> BaseException:
    """The plugin's one error boundary: Kavi's mapping (``describe_failure``), in pytest's
    terms: a usage or configuration error is ``pytest.UsageError`` (pytest exits 4), an
    internal error ends the session with exit 3, both as one line without a traceback."""
    failure = describe_failure(err)
    if failure.exit_code == EXIT_USAGE:
        return pytest.UsageError(f"kavi: {failure.message}")
    return pytest.exit.Exception(f"kavi: {failure.message}", returncode=EXIT_INTERNAL)


class _XdistHooks:
    """Registered only when pytest-xdist is present (its hooks are unknown otherwise)."""

    def __init__(self, run_path: Path) -> None:
        self.run_path = run_path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_INPUT_KEY] = str(self.run_path)
