"""Inside the child: build the skill class from the verified bytes the parent sent.

The bytes are compiled and served by :class:`~kavi_skills.verified_import.VerifiedFinder`
(no disk read, no ``.pyc``), which stays first on ``sys.meta_path`` for the life of this
one-skill process, so a lazy ``import skills._helper`` gets the verified helper too.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from pydantic import BaseModel

from kavi_gates.import_roots import ImportRoots
from kavi_skills.base import BaseSkill
from kavi_skills.protocol import SkillCode
from kavi_skills.verified_import import finder_for, module_name_for


class LoadFailure(Exception):
    """The verified module failed at import, or does not define the class the entry names."""


def check_class(request: SkillCode, candidate: object) -> type[BaseSkill]:
    """The class the entry names, checked against what the registry trusted."""
    name = request.skill_name
    where = f"{name}: {request.skill_path}:{request.class_name}"
    if not (isinstance(candidate, type) and issubclass(candidate, BaseSkill)):
        raise LoadFailure(f"{where} is not a BaseSkill subclass")
    if candidate is BaseSkill:
        raise LoadFailure(f"{where} is BaseSkill itself, not a skill")
    if getattr(candidate, "name", None) != name:
        raise LoadFailure(f"{where} declares name {getattr(candidate, 'name', None)!r}")
    declared = getattr(candidate, "side_effect_class", None)
    if declared != request.side_effect_class:
        raise LoadFailure(
            f"{where} declares side_effect_class {declared!r}, "
            f"the registry trusted {request.side_effect_class!r}"
        )
    for attr in ("input_model", "output_model"):
        model = getattr(candidate, attr, None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise LoadFailure(f"{where}.{attr} is not a pydantic model")
    return candidate


def load_skill_class(request: SkillCode) -> type[BaseSkill]:
    """Compile the verified bytes, import the skill module from them, return its class."""
    try:
        roots = ImportRoots.from_dict(request.import_roots)
        finder = finder_for(Path(request.root), request.verified_bytes(), request.served, roots)
        module_name, _ = module_name_for(request.skill_path)
    except Exception as err:  # TrustError: a pinned file that does not compile
        raise LoadFailure(str(err)) from None
    for name in [n for n in sys.modules if finder.owns(n)]:
        del sys.modules[name]  # nothing of an owned package may come from anywhere else
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as err:  # the verified module itself failed at import
        raise LoadFailure(
            f"{request.skill_name}: importing {request.skill_path} failed: "
            f"{type(err).__name__}: {err}"
        ) from None
    return check_class(request, getattr(module, request.class_name, None))
