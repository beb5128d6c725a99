"""pre-commit entry point for the gates that judge files (``kavi-policy``, ``kavi-invariants``,
``kavi-hash-pin``); also the ``kavi-precommit`` console script.

pre-commit hands a hook the staged files. ``kavi check FILE`` always checks a file it is
given by name, so the hook first keeps only the files the Kavi config governs
(include/exclude): a test helper outside ``skills/`` is not policed because it was staged.
Only the files being committed are checked: a commit that stages no governed file checks
none (the repository-wide part of a gate, the invariants gate's import contracts, still
runs), so a person committing ``app/main.py`` is never blocked by other files' findings.
The hash-pin gate checks the registry entries that pin a staged file, and every entry when
the registry itself is staged. ``kavi check`` (CI) still judges the whole repository.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kavi_gates.errors import UsageError
from kavi_gates.paths import relpath
from kavi_gates.policy.prestart import HookRun
from kavi_hooks.boundary import run_entry_point

if TYPE_CHECKING:
    from kavi_gates.config import LoadedConfig
    from kavi_gates.models import RunReport

# The engine loads in ``_run``, around the start of the analysis worker (``HookRun``).

HASH_PIN = "hash-pin"
FORMAT_NAMES = ("github", "json", "sarif", "text")
"""``kavi_gates.report.FORMATS``'s names (a test keeps them equal)."""


def _relative(name: str, loaded: LoadedConfig) -> str:
    path = Path(name)
    return relpath(path if path.is_absolute() else Path.cwd() / path, loaded.root)


def governed_files(filenames: Sequence[str], loaded: LoadedConfig) -> list[Path]:
    """The given files that the config governs, in the order given."""
    from kavi_gates.targets import is_governed

    return [Path(n) for n in filenames if is_governed(_relative(n, loaded), loaded.config)]


def check_staged(
    loaded: LoadedConfig,
    filenames: Sequence[str],
    gates: Sequence[str] | None,
    *,
    base: str | None = None,
    use_cache: bool = True,
) -> RunReport:
    """Run the gates on the governed subset of ``filenames`` (none governed: no file)."""
    from kavi_gates.runner import run_gates

    paths: list[Path] | None = governed_files(filenames, loaded)
    registry = loaded.config.hash_pin.registry
    if gates and HASH_PIN in gates and any(_relative(n, loaded) == registry for n in filenames):
        paths = None  # the registry itself changed: every entry must still hold
    return run_gates(loaded, paths, gates, base=base, use_cache=use_cache)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line through the boundary (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kavi-precommit", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("filenames", nargs="*", help="files pre-commit passes")
    parser.add_argument("--gate", "-g", action="append", help="gate id (repeatable)")
    parser.add_argument("--config", "-c", help="config file (YAML or TOML)")
    parser.add_argument("--base", help="diff-allowlist base (a git ref or dir:PATH)")
    parser.add_argument("--format", "-f", default="text", choices=FORMAT_NAMES)
    parser.add_argument("--no-cache", action="store_true", help="ignore the result cache")
    return parser


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    started_ns = time.time_ns()
    # The analysis worker first (HookRun): it loads libcst while this loads the rest.
    hook = HookRun(args.filenames, args.gate, started_ns)
    completed = False
    try:
        from kavi_gates.config import load_config
        from kavi_gates.report import FORMATS

        loaded = load_config(args.config, remember=True)
        report = check_staged(
            loaded, args.filenames, args.gate, base=args.base, use_cache=not args.no_cache
        )
        sys.stdout.write(FORMATS[args.format](report))
        completed = not any(r.error for r in report.results)
        return report.exit_code
    finally:
        hook.finish(completed)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 clean, 1 findings, 2 usage/config error, 3 internal error."""
    return run_entry_point(lambda: _run(argv))


if __name__ == "__main__":
    raise SystemExit(main())
