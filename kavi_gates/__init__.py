"""Kavi's gate engine: pure (no SQLite, no network), shared by every surface."""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("kavi")

__all__ = ["__version__", "hookimpl"]
