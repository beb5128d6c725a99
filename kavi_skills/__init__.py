"""Kavi's skill runtime: BaseSkill, the trusted loader, the executor and its records."""

from __future__ import annotations

from kavi_skills.base import BaseSkill, SkillContext

__all__ = ["BaseSkill", "SkillContext"]
