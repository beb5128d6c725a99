"""Read-only helpers the first-party skills share: note paths, parsing, text bits.

Nothing here writes: skills that write go through ``self.context.files``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

NOTE_SUFFIX = ".md"
_WORD = re.compile(r"[a-z0-9]+")
_BODY_TAG = re.compile(r"(?<![\w/#&])#([A-Za-z0-9_][\w/-]*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Note:
    """One markdown note of the vault."""

    path: str
    """Vault-relative, POSIX separators."""
    title: str
    tags: frozenset[str]
    """Lower-cased, without ``#``: front-matter ``tags`` plus ``#tag`` in the body."""
    body: str
    """The text after the front matter."""


def check_note_path(path: str) -> str:
    """Normalise a vault-relative ``.md`` path, or raise ValueError saying what is wrong."""
    if not path or "\0" in path or "\\" in path:
        raise ValueError(f"note path {path!r} is empty or has NUL or backslashes")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("~"):
        raise ValueError(f"note path {path!r} must be relative to the vault")
    if ".." in pure.parts:
        raise ValueError(f"note path {path!r} must not contain '..'")
    if pure.suffix != NOTE_SUFFIX:
        raise ValueError(f"note path {path!r} must end in {NOTE_SUFFIX}")
    return pure.as_posix()


def resolve_note(vault: Path, path: str) -> Path:
    """The existing note file ``path`` names inside ``vault``; symlinks and escapes refused."""
    rel = check_note_path(path)
    root = vault.resolve()
    candidate = root / rel
    current = root
    for part in PurePosixPath(rel).parts:
        current = current / part
        if current.is_symlink():
            raise ValueError(f"note path {path!r} goes through a symlink")
    if not candidate.resolve().is_relative_to(root):
        raise ValueError(f"note path {path!r} leaves the vault")
    if not candidate.is_file():
        raise FileNotFoundError(f"no note {rel!r} in the vault")
    return candidate


def iter_note_paths(vault: Path) -> list[str]:
    """Vault-relative paths of every ``*.md`` file, sorted; hidden dirs and symlinks skipped."""
    root = vault.resolve()
    found: list[str] = []
    for file in root.rglob(f"*{NOTE_SUFFIX}"):
        rel = file.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if any((root.joinpath(*rel.parts[: i + 1])).is_symlink() for i in range(len(rel.parts))):
            continue
        if file.is_file():
            found.append(rel.as_posix())
    return sorted(found)


def split_front_matter(text: str) -> tuple[dict[str, str | list[str]], str]:
    """A tiny YAML subset: ``key: value``, ``key: [a, b]`` and ``- item`` lists."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return {}, text
    meta: dict[str, str | list[str]] = {}
    key = ""
    for line in lines[1:end]:
        stripped = line.strip()
        if stripped.startswith("- ") and key:
            current = meta.get(key)
            items = current if isinstance(current, list) else []
            meta[key] = [*items, stripped[2:].strip().strip("'\"")]
        elif ":" in line and not line[0].isspace():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if value.startswith("[") and value.endswith("]"):
                meta[key] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
            else:
                meta[key] = value.strip("'\"")
    return meta, "\n".join(lines[end + 1 :])


def parse_note(path: str, text: str) -> Note:
    """Title from front matter, else the first ``# `` heading, else the file name."""
    meta, body = split_front_matter(text)
    raw_tags = meta.get("tags", [])
    listed = raw_tags if isinstance(raw_tags, list) else re.split(r"[,\s]+", raw_tags)
    tags = {t.lstrip("#").lower() for t in listed if t.strip("#")}
    tags |= {t.lower() for t in _BODY_TAG.findall(body)}
    title = meta.get("title")
    if not isinstance(title, str) or not title:
        heading = next((ln[2:].strip() for ln in body.splitlines() if ln.startswith("# ")), "")
        title = heading or PurePosixPath(path).stem
    return Note(path=path, title=title, tags=frozenset(tags), body=body)


def load_notes(vault: Path) -> list[Note]:
    """Every readable UTF-8 note of the vault, parsed, in path order."""
    notes = []
    for rel in iter_note_paths(vault):
        try:
            text = (vault.resolve() / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        notes.append(parse_note(rel, text))
    return notes


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words."""
    return _WORD.findall(text.lower())


def plain_text(body: str) -> str:
    """Body text without headings, so summaries start with prose."""
    kept = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return " ".join(" ".join(kept).split())


def first_sentences(body: str, count: int = 2, max_chars: int = 500) -> str:
    """The first ``count`` sentences of the prose, cut to ``max_chars``."""
    sentences = _SENTENCE_END.split(plain_text(body))
    summary = " ".join(sentences[:count]).strip()
    return summary if len(summary) <= max_chars else summary[: max_chars - 1].rstrip() + "…"
