"""The floor: ``libcst.parse_module`` on every file listed, in N processes (fork, largest
file first, one file at a time: the same scheduling as Kavi's workers).

Usage: ``python bench/parse_only.py FILE_LIST N``.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import get_context

import libcst


def parse(path: str) -> None:
    try:
        with open(path, "rb") as handle:
            libcst.parse_module(handle.read())
    except Exception:  # a file libcst cannot parse costs what it costs, like any other
        pass


def main() -> None:
    with open(sys.argv[1]) as listing:
        files = [line for line in listing.read().split("\n") if line]
    files.sort(key=os.path.getsize, reverse=True)
    processes = int(sys.argv[2])
    if processes == 1:
        for path in files:
            parse(path)
        return
    with get_context("fork").Pool(processes) as pool:
        for _ in pool.imap_unordered(parse, files, chunksize=1):
            pass


if __name__ == "__main__":
    main()
