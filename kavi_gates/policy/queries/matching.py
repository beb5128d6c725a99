"""Matching what references resolve to against a catalogue, once per distinct name."""

from __future__ import annotations

from collections.abc import Iterable

from kavi_gates.policy.catalog import REEXPORTED_MODULES, matches, table_depth
from kavi_gates.policy.resolution import ModuleFacts, Ref, Site


def match_any(qualname: str, names: frozenset[str]) -> str | None:
    """Match a qualified name, or one of its re-export suffixes (``shutil.os.system``)."""
    hit = matches(qualname, names)
    if hit or "." not in qualname:
        return hit
    parts = qualname.split(".")
    depth = table_depth(names)
    for i in range(1, len(parts)):
        if parts[i] in REEXPORTED_MODULES:
            hit = matches(".".join(parts[i : i + depth]), names)
            if hit:
                return hit
    return None


# Candidates are built this many parts deep; a table with longer entries (a configured
# name) is matched the slow way.
_CANDIDATE_PARTS = 10


def _candidates(qual: str) -> list[tuple[str, ...]]:
    """What ``match_any`` looks up for ``qual``, in its order: the name's prefixes, then
    each re-export suffix's prefixes (shortest first in each group)."""
    parts = qual.split(".")
    # Only the first parts of each group are looked up: slice no more (a chain of a
    # thousand ``os.os.os…`` is a thousand short slices, not a million parts copied).
    groups = [parts[:_CANDIDATE_PARTS]]
    groups += [
        parts[i : i + _CANDIDATE_PARTS]
        for i in range(1, len(parts))
        if parts[i] in REEXPORTED_MODULES
    ]
    out = []
    for group in groups:
        prefixes: list[str] = []
        for part in group:
            prefixes.append(f"{prefixes[-1]}.{part}" if prefixes else part)
        out.append(tuple(prefixes))
    return out


def matching(facts: ModuleFacts, names: Iterable[str]) -> dict[str, str]:
    """Qualified names in this file that match ``names`` → the entry they match.

    Each distinct name is matched once per table and file, not once per reference, and
    its candidate prefixes are built once per file for every table."""
    table = names if isinstance(names, frozenset) else frozenset(names)
    cache: dict[frozenset[str], dict[str, str]] = facts.memo.setdefault("matching", {})  # type: ignore[assignment]
    found = cache.get(table)
    if found is not None:
        return found
    found = cache[table] = {}
    if table_depth(table) > _CANDIDATE_PARTS:
        for qual in facts.qualname_universe:
            hit = match_any(qual, table)
            if hit:
                found[qual] = hit
        return found
    candidates: dict[str, list[tuple[str, ...]]] | None = facts.memo.get("candidates")  # type: ignore[assignment]
    if candidates is None:
        candidates = facts.memo["candidates"] = {q: _candidates(q) for q in facts.qualname_universe}
    for qual, groups in candidates.items():
        for group in groups:
            if table.isdisjoint(group):
                continue
            found[qual] = next(prefix for prefix in group if prefix in table)
            break
    return found


def _groups(
    pairs: Iterable[tuple[object, frozenset[str]]],
) -> list[tuple[frozenset[str], list[int]]]:
    """Positions of the items grouped by their (shared) resolution."""
    groups: dict[int, tuple[frozenset[str], list[int]]] = {}
    for index, (_item, quals) in enumerate(pairs):
        if quals:
            group = groups.get(id(quals))
            if group is None:
                groups[id(quals)] = (quals, [index])
            else:
                group[1].append(index)
    return list(groups.values())


def ref_hits(facts: ModuleFacts, matched: dict[str, str]) -> list[tuple[Ref, frozenset[str]]]:
    """References that may denote a matched name, in file order, with the names they hit."""
    groups = facts.memo.get("ref_groups")
    if groups is None:
        groups = facts.memo["ref_groups"] = _groups(facts.resolved_refs)
    refs = facts.resolved_refs
    return [(refs[i][0], found) for i, found in _select(groups, matched)]  # type: ignore[arg-type]


def return_hits(facts: ModuleFacts, matched: dict[str, str]) -> list[tuple[Site, frozenset[str]]]:
    """Calls whose result may be a matched name, in file order."""
    groups = facts.memo.get("return_groups")
    if groups is None:
        groups = facts.memo["return_groups"] = _groups(
            (site, returns) for site, _funcs, returns in facts.resolved_calls
        )
    calls = facts.resolved_calls
    return [(calls[i][0], found) for i, found in _select(groups, matched)]  # type: ignore[arg-type]


def _select(
    groups: list[tuple[frozenset[str], list[int]]], matched: dict[str, str]
) -> list[tuple[int, frozenset[str]]]:
    keys = matched.keys()
    hits: list[tuple[int, frozenset[str]]] = []
    for quals, indexes in groups:
        found = quals & keys
        if found:
            frozen = frozenset(found)
            hits.extend((i, frozen) for i in indexes)
    hits.sort(key=lambda hit: hit[0])
    return hits
