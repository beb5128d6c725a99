"""Policy rules contributed by plugins, validated as strictly as gates are.

Every contribution must be a ``Rule`` subclass that implements ``check``, with a
well-formed id that no other rule and no other finding code uses, a docstring (or a
``code`` whose doc it is), a title, a category, at least one VALID and one INVALID example
and, when it declares trigger words, identifiers only. Anything else is a configuration
error (exit 2) naming the plugin and what it returned: a rule that cannot be trusted to
mean what it says is never silently dropped, and never silently run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from kavi_gates.codes import DuplicateCode, index_codes
from kavi_gates.errors import ConfigError
from kavi_gates.models import ID_PATTERN, Code
from kavi_gates.policy.rule import EngineRule, Rule

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def validated_rules(
    contributions: Iterable[tuple[str, object]], declared: Iterable[Code]
) -> tuple[type[Rule], ...]:
    """The rules of ``contributions`` (plugin name, what its ``kavi_policy_rules`` returned),
    in order, once each is proven well-formed; ``declared``: the finding codes the plugins
    declare (a rule's id must not be another code's)."""
    rules: list[type[Rule]] = []
    owners: dict[str, str] = {}
    for plugin, returned in contributions:
        if returned is None:
            continue  # pluggy's convention: an implementation that contributes nothing
        if isinstance(returned, (str, bytes)) or not isinstance(returned, Sequence):
            raise ConfigError(
                f"plugin {plugin!r}: kavi_policy_rules must return a list of Rule classes, "
                f"not {_show(returned)}"
            )
        for item in returned:
            rule = _checked(plugin, item)
            other = owners.get(rule.id)
            if other is not None:
                raise ConfigError(
                    f"policy rule id {rule.id} is contributed twice (plugins {other!r} and "
                    f"{plugin!r}); rule ids must be unique"
                )
            owners[rule.id] = plugin
            rules.append(rule)
    declarations = [rule.declaration() for rule in rules]
    try:
        index_codes([*declared, *declarations])
    except DuplicateCode as err:
        raise ConfigError(f"a policy rule's id is another finding code's: {err}") from None
    return tuple(rules)


def _checked(plugin: str, item: object) -> type[Rule]:
    """``item`` as a rule, or a ConfigError that says what is wrong with it."""
    where = f"plugin {plugin!r}"
    if not (isinstance(item, type) and issubclass(item, Rule)):
        raise ConfigError(
            f"{where} contributed {_show(item)}, which is not a policy rule "
            "(a subclass of kavi_gates.policy.Rule)"
        )
    name = f"{where}: rule {item.__module__}.{item.__qualname__}"
    if item.check is Rule.check and not issubclass(item, EngineRule):
        raise ConfigError(f"{name} does not implement check()")
    rule_id = getattr(item, "id", None)
    if not isinstance(rule_id, str) or not ID_PATTERN.match(rule_id):
        raise ConfigError(
            f"{name} has id {rule_id!r}: an id looks like ACME123 (letters, then 3 digits)"
        )
    name = f"{where}: rule {rule_id}"
    if not item.doc().strip():
        raise ConfigError(f"{name} has no docstring (its documentation in kavi rules)")
    for attribute in ("MESSAGE", "category"):
        value = getattr(item, attribute, None)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{name} needs a non-empty {attribute} string")
    for attribute in ("VALID", "INVALID"):
        examples = getattr(item, attribute, None)
        if (
            isinstance(examples, (str, bytes))
            or not isinstance(examples, Sequence)
            or not examples
            or not all(isinstance(e, (str, bytes)) for e in examples)
        ):
            raise ConfigError(
                f"{name} needs {attribute}: a list of at least one code example "
                f"(what the rule must {'not ' if attribute == 'VALID' else ''}flag)"
            )
    # The engine's own codes (unparsable input, suppression misuse) are reported by the
    # engine, not found by check(): they need no word of their own.
    _check_triggers(name, item.TRIGGERS, allow_empty=issubclass(item, EngineRule))
    try:
        declared = item.declaration()
    except (ValidationError, TypeError, ValueError) as err:
        raise ConfigError(f"{name} is not a valid finding code declaration: {err}") from None
    if declared.id != rule_id:  # e.g. a subclass of a built-in rule that inherits its code
        raise ConfigError(f"{name} points at the declaration of {declared.id} (set its code)")
    return item


def _check_triggers(name: str, triggers: object, allow_empty: bool) -> None:
    if triggers is None:
        return  # no words declared: the rule sees every file
    if (
        isinstance(triggers, (str, bytes))
        or not isinstance(triggers, Sequence)
        or (not triggers and not allow_empty)
        or not all(isinstance(w, str) and _WORD.match(w) for w in triggers)
    ):
        raise ConfigError(
            f"{name} has TRIGGERS {_show(triggers)}: a non-empty list of identifiers one of "
            "which a file must contain for the rule to find anything, or None to see every file"
        )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
