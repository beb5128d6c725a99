"""Kavi's gate engine: pure (no SQLite, no network), shared by every surface."""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("kavi")

# Kavi's own packages: the trusted runtime, never "local code" a skill imports (a runtime
# upgrade must not invalidate every pin), and what the forge's type checks must see.
KAVI_PACKAGES = (
    "kavi_gates",
    "kavi_forge",
    "kavi_hooks",
    "kavi_ledger",
    "kavi_plugin",
    "kavi_sandbox",
    "kavi_skills",
)

__all__ = ["KAVI_PACKAGES", "__version__", "hookimpl"]
