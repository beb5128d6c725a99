"""The sandbox layer's errors: one root, and two kinds a caller must tell apart.

This package imports no other Kavi package, so these are plain exceptions; callers map them
to their own error types (and exit codes) without changing the message.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error this package raises."""


class SandboxUnavailable(SandboxError):
    """No sandbox can start here; the message names the fix. Never fall back silently."""


class PolicyError(SandboxError):
    """A policy asks for something this layer refuses (a relative path, a path both visible
    and hidden, an unknown network mode, ...)."""
