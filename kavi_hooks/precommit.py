"""pre-commit entry point for the file gates (``kavi-policy``, ``kavi-invariants``).

pre-commit hands a file hook every staged Python file. ``kavi check FILE`` always checks a
file it is given by name, so the hook first keeps only the files the Kavi config governs
(include/exclude): a test helper outside ``skills/`` is not policed because it was staged.
When none of the staged files is governed, the gate runs on the whole governed set (the
cache makes that cheap), so a repo-level part of a file gate (the invariants gate's import
contracts) is never skipped. Whole-repo gates use ``kavi check --gate ID`` directly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kavi_gates.config import LoadedConfig, load_config
from kavi_gates.errors import EXIT_INTERNAL, KaviError
from kavi_gates.models import RunReport
from kavi_gates.paths import relpath
from kavi_gates.report import FORMATS
from kavi_gates.runner import run_gates
from kavi_gates.targets import is_governed


def governed_files(filenames: Sequence[str], loaded: LoadedConfig) -> list[Path]:
    """The given files that the config governs, in the order given."""
    kept: list[Path] = []
    for name in filenames:
        path = Path(name)
        absolute = path if path.is_absolute() else Path.cwd() / path
        if is_governed(relpath(absolute, loaded.root), loaded.config):
            kept.append(path)
    return kept


def check_staged(
    loaded: LoadedConfig,
    filenames: Sequence[str],
    gates: Sequence[str] | None,
    *,
    base: str | None = None,
    use_cache: bool = True,
) -> RunReport:
    """Run the gates on the governed subset of ``filenames`` (all governed files if none)."""
    paths = governed_files(filenames, loaded)
    return run_gates(loaded, paths or None, gates, base=base, use_cache=use_cache)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kavi-precommit", description=__doc__.splitlines()[0])
    parser.add_argument("filenames", nargs="*", help="files pre-commit passes")
    parser.add_argument("--gate", "-g", action="append", help="gate id (repeatable)")
    parser.add_argument("--config", "-c", help="config file (YAML or TOML)")
    parser.add_argument("--base", help="diff-allowlist base (a git ref or dir:PATH)")
    parser.add_argument("--format", "-f", default="text", choices=sorted(FORMATS))
    parser.add_argument("--no-cache", action="store_true", help="ignore the result cache")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 clean, 1 findings, 2 usage/config error, 3 internal error."""
    args = _parser().parse_args(argv)
    try:
        loaded = load_config(args.config)
        report = check_staged(
            loaded, args.filenames, args.gate, base=args.base, use_cache=not args.no_cache
        )
    except KaviError as err:
        print(f"kavi: error: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # never a traceback, never a pass
        print(f"kavi: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_INTERNAL
    sys.stdout.write(FORMATS[args.format](report))
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
