"""Errors the ledger reports; all are KaviErrors, so every surface maps them to exit codes."""

from __future__ import annotations

from kavi_gates.errors import EXIT_USAGE, KaviError


class LedgerError(KaviError):
    """The ledger cannot do what was asked (bad input, unusable database file)."""

    exit_code = EXIT_USAGE


class SchemaTooNewError(LedgerError):
    """The database was migrated by a newer Kavi; writing to it could corrupt its data."""


class TransitionError(LedgerError):
    """A status change that the proposal lifecycle forbids (see ``kavi_ledger.states``)."""


class ValidationError(LedgerError):
    """A proposal field is malformed (name, side-effect class, schema, secrets)."""
