"""Helpers shared by the ledger tests (not fixtures)."""

from __future__ import annotations

import sys
from pathlib import Path

# Runs the ledger commands in a fresh interpreter, as the `kavi` console script would.
CLI_SCRIPT = "from kavi_hooks.cli import main\nraise SystemExit(main())\n"
PYTHON = sys.executable


def corrupt_middle(path: Path, size: int = 8192) -> None:
    """Overwrite ``size`` bytes in the middle of a file with garbage."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    size = min(size, len(data) - middle)
    data[middle : middle + size] = bytes((i * 37 + 11) % 256 for i in range(size))
    path.write_bytes(bytes(data))
