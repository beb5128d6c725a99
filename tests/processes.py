"""Process helpers shared by tests that fork (the policy workers, the prestarted worker)."""

from __future__ import annotations

import os


def process_gone(pid: int) -> bool:
    """Has ``pid`` been reaped (no such process any more)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
