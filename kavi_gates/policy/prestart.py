"""Whether a pre-commit run will analyse a file, guessed before the run reads its cache.

A file the cache cannot answer needs libcst and the rules, which take longer to import
than the rest of the hook's start-up. So as soon as the hook has read its command line,
it decides from the file system alone whether to start the analysis worker at once
(``workers.prestart``), having loaded only what both need (``file_job``'s imports): the
worker imports libcst and the rules while the hook loads the configuration, the engine
and its cache, and a miss waits for the parser only. Nothing only the hook needs is on
the worker's way to its first file, and nothing is loaded twice.
A small run never forks a worker from a process that has libcst loaded.

The guess: a staged Python file changed (its mtime or ctime) since the last run of the
policy hook in this directory, which leaves a hint file behind, stamped with the time that
run started. A wrong guess costs time, never a result: the gate decides from its cache
as always, and a worker no run took is killed when the hook ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from kavi_gates.digests import sha256
from kavi_gates.paths import APP_DIR, xdg_base

GATE = "policy"


def hint_path(directory: Path) -> Path:
    """The hint file of runs started in ``directory`` (under the XDG cache, not the
    project's configured cache: the configuration is not read yet)."""
    digest = sha256(os.fsencode(directory)).hexdigest()[:32]
    return xdg_base("XDG_CACHE_HOME") / APP_DIR / "hints" / f"policy-{digest}"


def expects_analysis(filenames: Sequence[str], gates: Sequence[str] | None, cwd: Path) -> bool:
    """Will the policy gate run, and did a given Python file change since the last run?"""
    if gates and GATE not in gates:
        return False
    changed = [name for name in filenames if name.endswith(".py")]
    if not changed:
        return False
    try:
        last_run = os.stat(hint_path(cwd)).st_mtime_ns
    except OSError:
        return True  # no run recorded here yet
    for name in changed:
        try:
            info = os.stat(cwd / name)
        except OSError:
            continue
        if max(info.st_mtime_ns, info.st_ctime_ns) >= last_run:
            return True
    return False


def _preload() -> None:
    """What the early worker loads: libcst, the analysis and the built-in rules."""
    from kavi_gates.policy import check, file_job, rules  # noqa: F401


class HookRun:
    """One hook run: starts the worker if the guess says so, then records the run."""

    def __init__(
        self, filenames: Sequence[str], gates: Sequence[str] | None, started_ns: int | None = None
    ) -> None:
        self.cwd = Path.cwd()
        self.started_ns = time.time_ns() if started_ns is None else started_ns
        self.policy = not gates or GATE in gates
        self.started = expects_analysis(filenames, gates, self.cwd)
        if self.started:  # (a warm run never loads the worker pool)
            # What both processes need (the result models, the policy codes and settings,
            # the result cache: ``file_job``'s imports) is loaded once, before the fork;
            # what only one needs is loaded after it, by that one, in parallel.
            from kavi_gates.policy import file_job, workers  # noqa: F401

            workers.prestart(_preload)

    def finish(self, completed: bool) -> None:
        """Stop a worker no file needed; when the run ``completed`` (its files judged),
        stamp the hint with the time it started."""
        if self.started:
            from kavi_gates.policy import workers

            workers.discard_prestarted()
        if completed and self.policy:
            self._record()

    def _record(self) -> None:
        from kavi_gates.storage import create_storage_dir

        hint = hint_path(self.cwd)
        try:
            # The cache directory is Kavi's: mark it when this creates it (kavi reset).
            create_storage_dir(hint.parent.parent, "cache")
            hint.parent.mkdir(exist_ok=True)
            hint.touch()
            os.utime(hint, ns=(self.started_ns, self.started_ns))
        except OSError:
            pass  # an unwritable cache only costs the next run its head start
