"""The diff-allowlist gate's codes: what a change may touch."""

from __future__ import annotations

from kavi_gates.codes import Code, codes_of

GATE = "diff-allowlist"

OUTSIDE_ALLOWLIST = Code(
    id="KAV701",
    gate=GATE,
    category="paths",
    title="changed path outside the allowlist",
    doc="""
        A changed path matches no diff_allowlist.allow glob. Both sides of a rename count,
        and so do deletions and untracked files: an agent's change may touch only what
        the allowlist names, so a change to anything else (Kavi's config, the registry,
        CI files) is refused.
        """,
    fix="""
        Keep the change inside the allowed paths, or widen diff_allowlist.allow in the
        project's config if the change is one agents should be allowed to make.
        """,
)
REQUIRED_UNTOUCHED = Code(
    id="KAV702",
    gate=GATE,
    category="paths",
    title="a required path was not changed",
    doc="A diff_allowlist.require glob matches no changed path (the change is incomplete).",
    fix="Change a path the glob matches (for instance the skill's test), or drop the glob.",
)
SYMLINK = Code(
    id="KAV703",
    gate=GATE,
    category="file types",
    title="symlink in a change",
    doc="""
        A changed path is a symlink, or lies under a symlinked directory. A symlink can
        point a governed path at anything outside the repository, so changes never carry
        one.
        """,
    fix="Replace the symlink with a regular file.",
    suppressible=False,
)
UNSAFE_PATH = Code(
    id="KAV704",
    gate=GATE,
    category="paths",
    title="absolute path or '..' in a change",
    doc="A changed path is absolute or has a '..' component: it could leave the repository.",
    fix="Use repository-relative paths without '..'.",
    suppressible=False,
)
SUBMODULE = Code(
    id="KAV705",
    gate=GATE,
    category="file types",
    title="submodule or nested repository changed",
    doc="""
        A submodule (git mode 160000) or a nested repository changed: its content is not
        reviewed by this repository's gates.
        """,
    fix="Change the submodule's repository on its own, under its own review.",
    suppressible=False,
)
NEW_EXECUTABLE = Code(
    id="KAV706",
    gate=GATE,
    category="file types",
    title="file turned executable",
    doc="""
        A file became executable (100644 -> 100755) or was added executable. Skills and
        their tests never need the executable bit; a new executable is a way to get code
        run outside Kavi's runtime.
        """,
    fix="chmod -x the file (git update-index --chmod=-x PATH).",
)

INDEX_FLAG = Code(
    id="KAV707",
    gate=GATE,
    category="concealment",
    title="index flag on a protected path",
    doc="""
        A governed path or one of Kavi's own config files (kavi.yaml, pyproject.toml, the
        registry, the allowed-signers file, an attestation, .pre-commit-config.yaml, a
        pinned file) is marked skip-worktree or assume-unchanged in the git index (git
        ls-files -v shows S/s or a lowercase tag). Git then stops reporting edits to it,
        so a loosened config could pass unseen. The gate compares the bytes on disk
        instead, and the flag itself is a finding.
        """,
    fix="""
        Clear the flag: git update-index --no-skip-worktree --no-assume-unchanged PATH
        (sparse checkouts must include Kavi's config and the governed paths).
        """,
    suppressible=False,
)
IGNORED_LOCALLY = Code(
    id="KAV708",
    gate=GATE,
    category="concealment",
    title="protected path ignored by a local rule",
    doc="""
        A governed path or one of Kavi's own config files is untracked and ignored by a
        rule that is not part of the repository's tracked .gitignore files: .git/info/
        exclude, core.excludesFile, the global ignore file, or an untracked .gitignore.
        Such a rule hides the file from git status and from a plain change list. The gate
        counts the file as a change anyway, and the rule itself is a finding.
        """,
    fix="""
        Remove the rule (git check-ignore -v PATH names it), or add the file to the
        repository so it is reviewed.
        """,
    suppressible=False,
)

CODES = codes_of(globals())
