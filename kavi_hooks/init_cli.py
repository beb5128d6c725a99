"""``kavi init``: the files a repository needs to be governed by Kavi.

Writes ``kavi.yaml`` (the embedded default policy, commented), Kavi's entry in
``.pre-commit-config.yaml`` (created, or appended to an existing config), the GitHub
Actions workflow ``.github/workflows/kavi.yml``, an empty ``skills/registry.yaml`` and an
allowed-signers file ``.kavi/allowed_signers`` that lists nobody yet (``kavi keygen --add``).
Existing files are never overwritten without ``--force``; refusing is a usage error (exit 2)
that names the file, and nothing is written unless every file can be.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from kavi_gates import __version__
from kavi_gates.errors import UsageError

KAVI_REPO = "https://github.com/OWNER/kavi"  # a placeholder: Kavi has no published home yet
HOOK_IDS = ("kavi-policy", "kavi-invariants", "kavi-diff-allowlist", "kavi-hash-pin")
EMPTY_REGISTRY = "version: 1\nskills: {}\n"


def template(name: str) -> str:
    """The text of one of the bundled templates (``kavi_hooks/templates``)."""
    return files("kavi_hooks").joinpath("templates", name).read_text(encoding="utf-8")


def precommit_entry(repo: str = KAVI_REPO, rev: str = f"v{__version__}") -> str:
    """Kavi's ``repos:`` list entry for a ``.pre-commit-config.yaml``."""
    return template("pre-commit-entry.yaml").replace("{repo}", repo).replace("{rev}", rev)


@dataclass(frozen=True)
class Planned:
    """One file ``kavi init`` will write."""

    path: Path
    text: str


def _has_kavi_hooks(config: Any) -> bool:
    repos = config.get("repos") if isinstance(config, dict) else None
    return any(
        hook.get("id") in HOOK_IDS
        for repo in repos or []
        if isinstance(repo, dict)
        for hook in repo.get("hooks") or []
        if isinstance(hook, dict)
    )


def _precommit_config(path: Path, force: bool) -> Planned | None:
    """Create the config, or append Kavi's entry to ``repos:`` (None: already there)."""
    entry = precommit_entry()
    if not path.exists():
        return Planned(path, "repos:\n" + entry)
    text = path.read_text(encoding="utf-8")
    try:
        current = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UsageError(
            f"{path} is not valid YAML ({err.__class__.__name__}); "
            "fix it or add Kavi's hooks by hand"
        ) from None
    if _has_kavi_hooks(current):
        if force:
            return None
        raise UsageError(f"{path} already has Kavi's hooks (use --force to keep going)")
    combined = text if text.endswith("\n") else text + "\n"
    combined += _reindent(entry, _item_indent(text))
    try:
        merged = yaml.safe_load(combined)
    except yaml.YAMLError:
        merged = None
    # Appending is only safe when `repos:` is the last top-level key; prove it by re-parsing.
    if not (
        isinstance(merged, dict)
        and _has_kavi_hooks(merged)
        and len(merged.get("repos") or []) == len((current or {}).get("repos") or []) + 1
    ):
        raise UsageError(
            f"cannot append Kavi's hooks to {path} safely (is `repos:` the last "
            f"key?); add this entry by hand:\n{entry}"
        )
    return Planned(path, combined)


def _item_indent(text: str) -> str:
    """The indentation of the existing ``repos:`` items (pre-commit's own sample uses none)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("repos:"):
            for item in lines[i + 1 :]:
                stripped = item.lstrip(" ")
                if stripped.startswith("-"):
                    return item[: len(item) - len(stripped)]
    return "  "


def _reindent(entry: str, indent: str) -> str:
    """Move the template's two-space-indented entry to ``indent``."""
    return "".join(
        indent + line[2:] if line.startswith("  ") else line
        for line in entry.splitlines(keepends=True)
    )


def plan(root: Path, force: bool) -> list[Planned]:
    """Every file to write, after checking that none would be overwritten by accident."""
    planned = [
        Planned(root / "kavi.yaml", template("kavi.yaml")),
        Planned(root / ".github" / "workflows" / "kavi.yml", template("kavi-workflow.yml")),
    ]
    for item in planned:
        if item.path.exists() and not force:
            raise UsageError(f"{item.path} already exists (use --force to overwrite it)")
    precommit = _precommit_config(root / ".pre-commit-config.yaml", force)
    if precommit is not None:
        planned.append(precommit)
    registry = root / "skills" / "registry.yaml"
    if not registry.exists():
        planned.append(Planned(registry, EMPTY_REGISTRY))
    signers = root / ".kavi" / "allowed_signers"
    if not signers.exists():
        planned.append(Planned(signers, template("allowed_signers")))
    return planned


def init_repo(root: Path, force: bool = False) -> list[Path]:
    """Write Kavi's files into ``root``; returns the paths written."""
    if not root.is_dir():
        raise UsageError(f"not a directory: {root}")
    planned = plan(root, force)
    for item in planned:
        item.path.parent.mkdir(parents=True, exist_ok=True)
        item.path.write_text(item.text, encoding="utf-8")
    return [item.path for item in planned]


def register(app: typer.Typer) -> None:
    """Add ``kavi init`` to the ``kavi`` command."""

    @app.command()
    def init(
        path: Annotated[Path, typer.Argument(help="Repository root (default: here).")] = Path(),
        force: Annotated[
            bool,
            typer.Option("--force", help="Overwrite kavi.yaml and the workflow if they exist."),
        ] = False,
    ) -> None:
        """Write kavi.yaml, Kavi's pre-commit hooks and a CI workflow into a repository."""
        root = path.resolve()
        for written in init_repo(root, force):
            typer.echo(f"wrote {written.relative_to(root).as_posix()}")
        typer.echo(
            "next: set `repo:` (OWNER) and `rev:` for Kavi in .pre-commit-config.yaml "
            "and .github/workflows/kavi.yml, then `pre-commit install`; list who may "
            "promote in .kavi/allowed_signers (`kavi keygen --add`) and commit it"
        )
