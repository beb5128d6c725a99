"""Reporters: the same RunReport rendered for people, machines, code scanning and CI logs."""

from __future__ import annotations

from collections.abc import Callable

from kavi_gates.models import RunReport
from kavi_gates.report.github import render_github
from kavi_gates.report.json_report import render_json
from kavi_gates.report.sarif import render_sarif
from kavi_gates.report.text import render_text

Renderer = Callable[[RunReport], str]
FORMATS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}

__all__ = ["FORMATS", "render_github", "render_json", "render_sarif", "render_text"]
