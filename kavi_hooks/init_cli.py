"""``kavi init``: the files a repository needs to be governed by Kavi.

Writes ``kavi.yaml`` (the embedded default policy, commented), Kavi's entry in
``.pre-commit-config.yaml`` (created, or appended to an existing config), the GitHub
Actions workflow ``.github/workflows/kavi.yml``, an empty ``skills/registry.yaml`` and an
allowed-signers file ``.kavi/allowed_signers`` that lists nobody yet (``kavi keygen --add``).
Existing files are never overwritten without ``--force``; refusing is a usage error (exit 2)
that names the file, and nothing is written unless every file can be.

Where the hooks get Kavi from: by default a ``local`` entry that runs the Kavi installed
where you commit (works offline, nothing to download); ``--repo URL --rev REV`` writes a
pinned remote entry that pre-commit installs from that repository. ``--print NAME`` prints
one snippet (``kavi init --print list`` names them) and writes nothing.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer

from kavi_gates import __version__
from kavi_gates.config import find_project_root
from kavi_gates.errors import UsageError
from kavi_gates.safe_yaml import YamlError, load_yaml

HOOK_IDS = ("kavi-policy", "kavi-invariants", "kavi-diff-allowlist", "kavi-hash-pin")
EMPTY_REGISTRY = "version: 1\nskills: {}\n"


def template(name: str) -> str:
    """The text of one of the bundled templates (``kavi_hooks/templates``)."""
    return files("kavi_hooks").joinpath("templates", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Source:
    """Where the hooks and CI get Kavi from."""

    repo: str | None = None
    rev: str | None = None
    install: str | None = None

    def __post_init__(self) -> None:
        if (self.repo is None) != (self.rev is None):
            raise UsageError("--repo and --rev go together: the URL of Kavi and the tag or commit")
        for value, what in ((self.repo, "--repo"), (self.rev, "--rev")):
            if value is not None and (not value.strip() or any(c.isspace() for c in value)):
                raise UsageError(f"{what} {value!r} must be one word without spaces")

    @property
    def local(self) -> bool:
        return self.repo is None

    def pip_requirement(self) -> str:
        """What CI installs: ``--install``, else the pinned git URL, else this version."""
        if self.install:
            return self.install
        if self.repo is not None:
            return f"kavi @ git+{self.repo}@{self.rev}"
        return f"kavi=={__version__}"


def precommit_entry(source: Source = Source()) -> str:
    """Kavi's ``repos:`` list entry for a ``.pre-commit-config.yaml``."""
    if source.local:
        return template("pre-commit-local.yaml")
    return (
        template("pre-commit-remote.yaml")
        .replace("{repo}", source.repo or "")
        .replace("{rev}", source.rev or "")
    )


def workflow(source: Source = Source()) -> str:
    """The GitHub Actions workflow, installing Kavi from ``source``."""
    return template("kavi-workflow.yml").replace("{install}", source.pip_requirement())


IMPORT_MODES = ("allow", "deny")
NEW_PROJECT_IMPORTS = ("pydantic", "kavi_skills", "skills")
"""What a new project's allowlist adds to the curated standard library: the skill API and
the project's own skill package (governed, so checked by the same gates)."""


def kavi_yaml(imports: str = "allow") -> str:
    """The kavi.yaml ``kavi init`` writes: the embedded default policy, with the import
    allowlist (``allow``, for new projects) or the deny categories alone (``deny``)."""
    if imports not in IMPORT_MODES:
        raise UsageError(f"--imports must be allow or deny, not {imports!r}")
    allowed = f"[{', '.join(NEW_PROJECT_IMPORTS)}]" if imports == "allow" else "[]"
    comment = "   # what the project adds (skills: its own)" if imports == "allow" else ""
    return (
        template("kavi.yaml")
        .replace("{imports}", imports)
        .replace("{allowed_imports}", allowed)
        .replace("{allowed_comment}", comment)
    )


def mcp_client_config(source: Source = Source()) -> str:
    """An MCP client's entry for ``kavi serve`` on this project (Claude Desktop's
    ``claude_desktop_config.json``, Cursor's ``mcp.json``...): absolute paths, since such a
    client starts servers from its own directory with its own ``PATH``."""
    installed = Path(sys.executable).parent / "kavi"
    command = str(installed) if installed.is_file() else shutil.which("kavi") or "kavi"
    project = find_project_root(Path.cwd())
    entry = {"command": command, "args": ["serve", "--project", str(project)]}
    return json.dumps({"mcpServers": {"kavi": entry}}, indent=2) + "\n"


# Snippets `kavi init --print NAME` prints.
SNIPPETS: dict[str, Callable[[Source], str]] = {
    "kavi.yaml": lambda source: kavi_yaml(),
    "pre-commit": lambda source: "repos:\n" + precommit_entry(source),
    "workflow": workflow,
    "mcp": mcp_client_config,
}


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


def _precommit_config(path: Path, force: bool, source: Source) -> Planned | None:
    """Create the config, or append Kavi's entry to ``repos:`` (None: already there)."""
    entry = precommit_entry(source)
    if not path.exists():
        return Planned(path, "repos:\n" + entry)
    text = path.read_text(encoding="utf-8")
    try:
        current = load_yaml(text)
    except YamlError as err:
        raise UsageError(
            f"{path} is not valid YAML ({err}); fix it or add Kavi's hooks by hand"
        ) from None
    if _has_kavi_hooks(current):
        if force:
            return None
        raise UsageError(f"{path} already has Kavi's hooks (use --force to keep going)")
    combined = text if text.endswith("\n") else text + "\n"
    combined += _reindent(entry, _item_indent(text))
    try:
        merged = load_yaml(combined)
    except YamlError:
        merged = None
    # Appending is only safe when `repos:` is the last top-level key; prove it by re-parsing.
    if not (
        isinstance(merged, dict)
        and _has_kavi_hooks(merged)
        and len(merged.get("repos") or []) == len((current or {}).get("repos") or []) + 1
    ):
        raise UsageError(
            f"cannot append Kavi's hooks to {path} safely (is `repos:` the last "
            "key?); add the entry by hand: kavi init --print pre-commit"
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


def plan(
    root: Path, force: bool, source: Source = Source(), imports: str = "allow"
) -> list[Planned]:
    """Every file to write, after checking that none would be overwritten by accident."""
    planned = [
        Planned(root / "kavi.yaml", kavi_yaml(imports)),
        Planned(root / ".github" / "workflows" / "kavi.yml", workflow(source)),
    ]
    for item in planned:
        if item.path.exists() and not force:
            raise UsageError(f"{item.path} already exists (use --force to overwrite it)")
    precommit = _precommit_config(root / ".pre-commit-config.yaml", force, source)
    if precommit is not None:
        planned.append(precommit)
    registry = root / "skills" / "registry.yaml"
    if not registry.exists():
        planned.append(Planned(registry, EMPTY_REGISTRY))
    signers = root / ".kavi" / "allowed_signers"
    if not signers.exists():
        planned.append(Planned(signers, template("allowed_signers")))
    return planned


def init_repo(
    root: Path, force: bool = False, source: Source = Source(), imports: str = "allow"
) -> list[Path]:
    """Write Kavi's files into ``root``; returns the paths written."""
    if not root.is_dir():
        raise UsageError(f"not a directory: {root}")
    planned = plan(root, force, source, imports)
    for item in planned:
        item.path.parent.mkdir(parents=True, exist_ok=True)
        item.path.write_text(item.text, encoding="utf-8")
    return [item.path for item in planned]


def _on_path(command: str) -> bool:
    return shutil.which(command) is not None


def register(app: typer.Typer) -> None:
    """Add ``kavi init`` to the ``kavi`` command."""

    @app.command()
    def init(
        path: Annotated[Path, typer.Argument(help="Repository root (default: here).")] = Path(),
        force: Annotated[
            bool,
            typer.Option("--force", help="Overwrite kavi.yaml and the workflow if they exist."),
        ] = False,
        repo: Annotated[
            str | None,
            typer.Option(
                "--repo",
                help="Git URL the pre-commit hooks install Kavi from (with --rev). "
                "Default: a local hook running the Kavi installed here (offline).",
            ),
        ] = None,
        rev: Annotated[
            str | None, typer.Option("--rev", help="Tag or commit of --repo to pin.")
        ] = None,
        install: Annotated[
            str | None,
            typer.Option(
                "--install",
                help="pip requirement the CI workflow installs Kavi with "
                "(default: the --repo/--rev git URL, else kavi==VERSION).",
            ),
        ] = None,
        imports: Annotated[
            str,
            typer.Option(
                "--imports",
                help="allow (default): kavi.yaml allows only the curated safe standard "
                "library plus pydantic, kavi_skills and skills (add more in "
                "policy.allowed_imports); "
                "deny: only the forbidden imports and categories, as configs without the key.",
            ),
        ] = "allow",
        print_snippet: Annotated[
            str | None,
            typer.Option(
                "--print",
                help="Print one snippet instead of writing files: "
                + ", ".join(SNIPPETS)
                + " (list: names them).",
            ),
        ] = None,
    ) -> None:
        """Write kavi.yaml, Kavi's pre-commit hooks and a CI workflow into a repository."""
        source = Source(repo=repo, rev=rev, install=install)
        kavi_yaml(imports)  # a bad --imports is a usage error before anything else
        if print_snippet is not None:
            if print_snippet == "list":
                typer.echo("\n".join(SNIPPETS))
                return
            render = SNIPPETS.get(print_snippet)
            if render is None:
                raise UsageError(
                    f"unknown snippet {print_snippet!r} (choose: {', '.join(SNIPPETS)})"
                )
            sys.stdout.write(kavi_yaml(imports) if print_snippet == "kavi.yaml" else render(source))
            return
        root = path.resolve()
        written_files = init_repo(root, force, source, imports)
        for written in written_files:
            typer.echo(f"wrote {written.relative_to(root).as_posix()}")
        if root / "kavi.yaml" in written_files:
            typer.echo(
                "kavi.yaml: imports: allow (only the curated standard library, pydantic, "
                "kavi_skills and skills; add what the project trusts to policy.allowed_imports)"
                if imports == "allow"
                else "kavi.yaml: imports: deny (forbidden imports and categories only)"
            )
        if source.local and not _on_path("kavi-precommit"):
            typer.echo(
                "kavi: warning: kavi-precommit is not on PATH; the local hooks need the "
                "environment where Kavi is installed (activate it before git commit), "
                "or use --repo URL --rev REV",
                err=True,
            )
        typer.echo(
            "next: pre-commit install; list who may promote in .kavi/allowed_signers "
            "(`kavi keygen --add`) and commit it; then kavi check (CI runs the workflow)"
        )
