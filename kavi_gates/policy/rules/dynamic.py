"""``forbid_dynamic_exec`` — code that runs code: eval/exec, import machinery,
namespace escapes, code-running deserialisers and native code."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from kavi_gates.codes import policy as codes
from kavi_gates.policy.catalog import (
    DESERIALIZER_FUNCTIONS,
    DESERIALIZER_MODULES,
    DYNAMIC_BUILTINS,
    ESCAPE_ATTRIBUTES,
    IMPORT_MACHINERY_MODULES,
    IMPORT_MACHINERY_NAMES,
    INTROSPECTION_NAMES,
    MODULE_HOSTS,
    NATIVE_MODULES,
    NETWORK_FUNCTIONS,
    PROCESS_FUNCTIONS,
    YAML_LOADERS,
    YAML_SAFE_LOADERS,
    matches,
)
from kavi_gates.policy.queries import module_hits, name_hits
from kavi_gates.policy.resolution import ModuleFacts, Site, literal_string
from kavi_gates.policy.rule import Rule, Violation

# Attribute names whose literal use in attrgetter/methodcaller is a way to reach a banned
# function without naming it in an attribute chain.
_DANGEROUS_ATTRS = frozenset(
    q.rsplit(".", 1)[-1] for q in (*PROCESS_FUNCTIONS, *NETWORK_FUNCTIONS, *DYNAMIC_BUILTINS)
) | {"system", "popen", "modules", "__dict__"}


class _DynamicRule(Rule):
    def enabled(self) -> bool:
        return self.policy.forbid_dynamic_exec


class DynamicExecBuiltin(_DynamicRule):
    """A builtin that runs code is referenced (KAV401)."""

    code = codes.DYNAMIC_EXEC_BUILTIN

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, DYNAMIC_BUILTINS):
            name = hit.removeprefix("builtins.")
            yield Violation(
                node, f"'{name}' runs dynamically built code (policy.forbid_dynamic_exec)"
            )


class ImportMachinery(_DynamicRule):
    """The import machinery is used (KAV402)."""

    code = codes.IMPORT_MACHINERY

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, IMPORT_MACHINERY_MODULES):
            yield Violation(
                node, f"'{hit}' loads code chosen at run time (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, IMPORT_MACHINERY_NAMES):
            yield Violation(node, f"'{hit}' is the module table (policy.forbid_dynamic_exec)")


class IntrospectionEscape(_DynamicRule):
    """A namespace or frame is reached by value (KAV403)."""

    code = codes.INTROSPECTION_ESCAPE

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        names = INTROSPECTION_NAMES - {"builtins"}
        for node, hit in name_hits(facts, names - {"builtins.vars"}):
            yield Violation(
                node,
                f"'{hit.removeprefix('builtins.')}' exposes a namespace "
                "(policy.forbid_dynamic_exec)",
            )
        for ref, quals in facts.resolved_refs:
            if "builtins" in quals and not ref.attrs:
                yield Violation(
                    ref.node,
                    "the builtins namespace is used as a value (policy.forbid_dynamic_exec)",
                )
            elif "__dict__" in ref.attrs and facts.resolve(ref.base, ref.scope, ref.order):
                yield Violation(
                    ref.node, "a module's __dict__ is read (policy.forbid_dynamic_exec)"
                )
        for imp in facts.imports:
            if imp.star and imp.targets == ("builtins",):
                yield Violation(
                    imp.node,
                    "star import of builtins rebinds every builtin (policy.forbid_dynamic_exec)",
                )
        for site in facts.assigned_attributes:
            target = site.node
            assert isinstance(target, cst.Attribute)
            owners = facts.resolve(target.value, site.scope, site.order)
            if owners and any("." not in q or q in MODULE_HOSTS for q in owners):
                yield Violation(
                    target,
                    f"assignment to an attribute of module "
                    f"'{min(owners)}' (policy.forbid_dynamic_exec)",
                )
        for node, attr in facts.attributes:
            if attr in ESCAPE_ATTRIBUTES:
                yield Violation(
                    node, f"'{attr}' reaches code or frames (policy.forbid_dynamic_exec)"
                )
        yield from self._calls(facts)

    def _calls(self, facts: ModuleFacts) -> Iterator[Violation]:
        for site, funcs, _returns in facts.resolved_calls:
            call = site.node
            assert isinstance(call, cst.Call)
            args = call.args
            if funcs & {"builtins.getattr", "builtins.setattr", "builtins.delattr"}:
                if any(a.star for a in args):
                    yield Violation(
                        call, "getattr with unpacked arguments (policy.forbid_dynamic_exec)"
                    )
                elif len(args) >= 2 and literal_string(args[1].value) is None:
                    target = facts.resolve(args[0].value, site.scope, site.order)
                    if target:
                        yield Violation(
                            call,
                            "getattr with a computed name on "
                            f"'{min(target)}' (policy.forbid_dynamic_exec)",
                        )
            if "builtins.vars" in funcs:
                target = (
                    facts.resolve(args[0].value, site.scope, site.order)
                    if args
                    else frozenset({"<scope>"})
                )
                if target:
                    yield Violation(
                        call, "vars() of a module or scope (policy.forbid_dynamic_exec)"
                    )
            if funcs & {"operator.attrgetter", "operator.methodcaller"}:
                literals = [
                    literal_string(a.value)
                    for a in args[: 1 if "operator.methodcaller" in funcs else None]
                ]
                if any(v is None or v.split(".")[-1] in _DANGEROUS_ATTRS for v in literals):
                    yield Violation(
                        call,
                        "attrgetter/methodcaller on a computed or dangerous "
                        "name (policy.forbid_dynamic_exec)",
                    )
        called = facts.called_ids
        attribute_getters = {
            "builtins.vars",
            "builtins.getattr",
            "builtins.setattr",
            "builtins.delattr",
        }
        for ref, quals in facts.resolved_refs:
            if id(ref.node) in called:
                continue
            passed = quals & attribute_getters
            if passed:
                yield Violation(
                    ref.node,
                    f"'{min(passed).removeprefix('builtins.')}' passed "
                    "as a value (policy.forbid_dynamic_exec)",
                )
            elif (
                not ref.attrs and quals & MODULE_HOSTS and id(ref.node) not in facts.tracked_values
            ):
                yield Violation(
                    ref.node,
                    f"module '{min(quals & MODULE_HOSTS)}' used as a value "
                    "cannot be followed (policy.forbid_dynamic_exec)",
                )


class Deserializer(_DynamicRule):
    """A code-running deserialiser is used (KAV404)."""

    code = codes.DESERIALIZER

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, DESERIALIZER_MODULES):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, DESERIALIZER_FUNCTIONS - {"numpy.load"}):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        for site, funcs, _returns in facts.resolved_calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if funcs & YAML_LOADERS and not self._safe_yaml(call, facts, site):
                yield Violation(
                    call,
                    "yaml.load without a safe Loader can run code (policy.forbid_dynamic_exec)",
                )
            if "numpy.load" in funcs and self._allows_pickle(call):
                yield Violation(
                    call, "numpy.load with allow_pickle can run code (policy.forbid_dynamic_exec)"
                )

    @staticmethod
    def _safe_yaml(call: cst.Call, facts: ModuleFacts, site: Site) -> bool:
        loader = next(
            (a.value for a in call.args if a.keyword and a.keyword.value == "Loader"),
            call.args[1].value if len(call.args) > 1 and not call.args[1].keyword else None,
        )
        if loader is None:
            return False
        quals = facts.resolve(loader, site.scope, site.order)
        return bool(quals) and all(q.rsplit(".", 1)[-1] in YAML_SAFE_LOADERS for q in quals)

    @staticmethod
    def _allows_pickle(call: cst.Call) -> bool:
        value: cst.BaseExpression | None = None
        for arg in call.args:
            if arg.keyword and arg.keyword.value == "allow_pickle":
                value = arg.value
        positional = [a for a in call.args if a.keyword is None]
        if value is None and len(positional) >= 3:  # load(file, mmap_mode, allow_pickle)
            value = positional[2].value
        if value is None:
            return any(a.star for a in call.args)
        return not (isinstance(value, cst.Name) and value.value == "False")


class NativeCode(_DynamicRule):
    """Native code is loaded (KAV405)."""

    code = codes.NATIVE_CODE

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, NATIVE_MODULES):
            yield Violation(node, f"'{hit}' loads native code (policy.forbid_dynamic_exec)")


__all__ = [
    "Deserializer",
    "DynamicExecBuiltin",
    "ImportMachinery",
    "IntrospectionEscape",
    "NativeCode",
    "matches",
]
