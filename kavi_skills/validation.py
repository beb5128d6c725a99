"""One-line descriptions of pydantic validation errors, shared by the parent and the child."""

from __future__ import annotations

from pydantic import ValidationError

from kavi_gates.errors import shorten


def describe_validation(err: ValidationError, limit: int = 5) -> str:
    """``field: message`` pairs from a pydantic error, without echoing the input values."""
    parts = []
    for item in err.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "<root>"  # keys come from the input
        parts.append(f"{shorten(where)}: {shorten(item['msg'])}")
    more = err.error_count() - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
