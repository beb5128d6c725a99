"""The one YAML reader for everything Kavi reads (config, registry, pre-commit config).

``yaml.safe_load`` builds no objects but will expand aliases without limit: a few hundred
bytes of nested anchors (a "billion laughs") become hundreds of millions of list items once
anything walks the result, and an error message that echoes them is just as large. This
reader composes the document first (aliases are shared nodes there, so composing is cheap),
measures how large it would be with every alias expanded, and refuses it before anything is
constructed when aliases inflate it past ``MAX_EXPANSION`` nodes. Documents without
aliases are never refused for size. Error messages are one bounded line.
"""

from __future__ import annotations

from typing import Any

import yaml

from kavi_gates.errors import shorten

# libyaml's parser when PyYAML ships it (also caps nesting depth); the pure one otherwise.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_EXPANSION = 10_000
"""Extra nodes that aliases (and ``<<`` merge keys) may add to a document when expanded."""
MAX_ALIASES = 1_000
"""Alias uses per document; real configuration needs a handful."""


class YamlError(ValueError):
    """The text is not YAML Kavi accepts; the message is one bounded line."""


def _expanded_size(root: yaml.Node) -> tuple[int, int, int]:
    """``(unique nodes, nodes with every alias expanded, alias uses)``; iterative, and a
    recursive alias (a node inside itself) is refused."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    uses: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        uses[key] = uses.get(key, 0) + 1
        if key in on_path:
            raise YamlError("a recursive alias (a node that contains itself) is refused")
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    alias_uses = sum(count - 1 for count in uses.values())
    return len(sizes), sizes[id(root)], alias_uses


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return shorten(" ".join(line.strip() for line in text[:2]) if text else type(err).__name__)


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely (no tags that build objects, bounded aliases)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        unique, expanded, aliases = _expanded_size(node)
        if aliases > MAX_ALIASES:
            raise YamlError(f"{aliases} alias uses; at most {MAX_ALIASES} are accepted")
        if expanded - unique > MAX_EXPANSION:
            raise YamlError(
                f"aliases would expand the document to {expanded} nodes (from {unique}); "
                f"at most {MAX_EXPANSION} extra nodes are accepted"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as err:
        raise YamlError(_one_line(err)) from None
    except RecursionError:
        raise YamlError("nested too deeply") from None
    finally:
        loader.dispose()
