"""Whether any installed distribution could declare an entry point of a group, cheaply.

Loading third-party plugins means ``importlib.metadata``, whose import (it parses package
metadata with the ``email`` package) costs more than a warm pre-commit hook's whole run
does otherwise. Most installations have no Kavi plugin at all, so the plugin manager first
asks ``may_declare``: it looks where ``importlib.metadata`` looks (every ``*.dist-info`` and
``*.egg-info`` directory on ``sys.path``) and reads their ``entry_points.txt`` for the
group's section header, the way ``importlib.metadata.Sectioned`` reads it. Only a "no" lets
the caller skip ``importlib.metadata``; anything it cannot read cheaply and exactly (a zip
or egg on the path, another finder that lists distributions, an unreadable file) is a
"maybe", so a plugin is never missed.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder


def _declares(text: str, group: str) -> bool:
    # importlib.metadata.Sectioned.read: stripped lines, "[name]" with brackets stripped.
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and line.strip("[]") == group:
            return True
    return False


def _path_may_declare(root: str, group: str) -> bool:
    try:
        children = os.listdir(root or ".")
    except NotADirectoryError:
        return True  # a zip on sys.path: importlib.metadata reads inside it
    except OSError:
        return False  # nothing there: importlib.metadata finds nothing either
    if os.path.basename(root).lower().endswith(".egg"):
        return True  # an unpacked egg: its EGG-INFO is read differently
    for child in children:
        if not child.lower().endswith((".dist-info", ".egg-info")):
            continue
        try:
            with open(os.path.join(root, child, "entry_points.txt"), encoding="utf-8") as f:
                text = f.read()
        except (FileNotFoundError, NotADirectoryError):
            continue  # no entry points (or a PKG-INFO-only .egg-info file)
        except (OSError, UnicodeDecodeError):
            return True
        if _declares(text, group):
            return True
    return False


def may_declare(group: str) -> bool:
    """False only when no distribution ``importlib.metadata`` would find declares an entry
    point in ``group``."""
    for finder in sys.meta_path:
        if finder is not PathFinder and hasattr(finder, "find_distributions"):
            return True  # another source of distributions: only importlib.metadata knows
    return any(_path_may_declare(root, group) for root in sys.path if isinstance(root, str))
