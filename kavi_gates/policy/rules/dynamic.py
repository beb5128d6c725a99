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
    IMPORT_MACHINERY_MODULES,
    IMPORT_MACHINERY_NAMES,
    NATIVE_MODULES,
    SAFE_SUBMODULES,
    YAML_LOADERS,
    YAML_SAFE_LOADERS,
    matches,
)
from kavi_gates.policy.queries import module_hits, name_hits
from kavi_gates.policy.queries.annotations import string_annotations
from kavi_gates.policy.queries.escapes import KEY_READERS
from kavi_gates.policy.resolution import ModuleFacts, Site
from kavi_gates.policy.rule import Rule, Violation

# Loaders that unpickle only when asked to (numpy.load's allow_pickle) or unless told not
# to (torch.load without weights_only=True): their calls are judged by their arguments.
_SAFE_WITH_ARGUMENTS = frozenset({"numpy.load", "torch.load"})


def _names_only(facts: ModuleFacts, node: cst.CSTNode) -> bool:
    """Is the module table used only for the names in it (``name in sys.modules``,
    ``for name in sys.modules``, ``sorted(sys.modules)``, ``sys.modules.keys()``)?"""
    if isinstance(node, cst.Attribute) and node.attr.value == "keys":
        return True
    if id(node) in facts.key_views:
        return True
    call = facts.call_of_arg.get(id(node))
    if call is None:
        return False
    assert isinstance(call.node, cst.Call)
    funcs = facts.resolve(call.node.func, call.scope, call.order)
    return bool(funcs) and funcs <= KEY_READERS and len(call.node.args) == 1


_GET_ANNOTATIONS = "inspect.get_annotations"


def _may_eval_strings(call: cst.Call) -> bool:
    """``inspect.get_annotations`` evaluates string annotations only with ``eval_str``."""
    if any(a.star for a in call.args):
        return True
    value = next((a.value for a in call.args if a.keyword and a.keyword.value == "eval_str"), None)
    if value is None:
        positional = [a for a in call.args if a.keyword is None]
        return len(positional) >= 4  # get_annotations(obj, globals, locals, eval_str)
    return not (isinstance(value, cst.Name) and value.value in ("False", "None"))


_ENTRY_POINT_HOSTS = ("importlib.metadata", "importlib_metadata", "pkg_resources")


def _machinery_role(hit: str) -> str:
    if hit.startswith("sys."):
        return "is the module table"
    return "imports what run-time data names"


class _DynamicRule(Rule):
    def enabled(self) -> bool:
        return self.policy.forbid_dynamic_exec


class DynamicExecBuiltin(_DynamicRule):
    """A builtin that runs code is referenced (KAV401)."""

    code = codes.DYNAMIC_EXEC_BUILTIN

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in name_hits(facts, DYNAMIC_BUILTINS - {_GET_ANNOTATIONS}):
            name = hit.removeprefix("builtins.")
            yield Violation(
                node, f"'{name}' runs dynamically built code (policy.forbid_dynamic_exec)"
            )
        called = facts.called_ids
        for ref, quals in facts.resolved_refs:
            if _GET_ANNOTATIONS in quals and id(ref.node) not in called:
                yield Violation(
                    ref.node,
                    f"'{_GET_ANNOTATIONS}' passed as a value: whether it evaluates strings "
                    "cannot be checked (policy.forbid_dynamic_exec)",
                )
        for site, funcs, _returns in facts.resolved_calls:
            call = site.node
            assert isinstance(call, cst.Call)
            if _GET_ANNOTATIONS in funcs and _may_eval_strings(call):
                yield Violation(
                    call,
                    f"'{_GET_ANNOTATIONS}' with eval_str evaluates annotations as code "
                    "(policy.forbid_dynamic_exec)",
                )
        for annotation in string_annotations(facts):
            if annotation.runs_code:
                yield Violation(
                    annotation.node,
                    "a quoted annotation is evaluated as code (pydantic, get_type_hints): "
                    "what it calls runs (policy.forbid_dynamic_exec)",
                )


class ImportMachinery(_DynamicRule):
    """The import machinery is used (KAV402)."""

    code = codes.IMPORT_MACHINERY

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, IMPORT_MACHINERY_MODULES, SAFE_SUBMODULES):
            yield Violation(
                node, f"'{hit}' loads code chosen at run time (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, IMPORT_MACHINERY_NAMES):
            if id(node) in facts.compared or (hit == "sys.modules" and _names_only(facts, node)):
                continue  # ``if sys.meta_path:``, ``name in sys.modules``
            yield Violation(node, f"'{hit}' {_machinery_role(hit)} (policy.forbid_dynamic_exec)")
        resolve = facts.resolver.resolve_chain
        for annotation in string_annotations(facts):
            site = annotation.site
            for base, attrs in annotation.names():
                for qual in resolve(base, attrs, site.scope, site.order):
                    found = matches(qual, IMPORT_MACHINERY_NAMES)
                    if found:
                        yield Violation(
                            annotation.node,
                            f"'{found}' {_machinery_role(found)} (policy.forbid_dynamic_exec)",
                        )
        if any(t.startswith(_ENTRY_POINT_HOSTS) for imp in facts.imports for t in imp.targets):
            for ref in facts.refs:
                if "entry_points" in ref.attrs:
                    yield Violation(
                        ref.node,
                        "entry points load the module:attr their metadata names "
                        "(policy.forbid_dynamic_exec)",
                    )


class Deserializer(_DynamicRule):
    """A code-running deserialiser is used (KAV404)."""

    code = codes.DESERIALIZER

    def check(self, facts: ModuleFacts) -> Iterator[Violation]:
        for node, hit in module_hits(facts, DESERIALIZER_MODULES):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        for node, hit in name_hits(facts, DESERIALIZER_FUNCTIONS - _SAFE_WITH_ARGUMENTS):
            yield Violation(
                node, f"'{hit}' can run code while loading (policy.forbid_dynamic_exec)"
            )
        called = facts.called_ids
        for ref, quals in facts.resolved_refs:
            passed = quals & _SAFE_WITH_ARGUMENTS
            if passed and id(ref.node) not in called:
                yield Violation(
                    ref.node,
                    f"'{min(passed)}' passed as a value: whether it may unpickle cannot be "
                    "checked (policy.forbid_dynamic_exec)",
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
            if "torch.load" in funcs and not self._weights_only(call):
                yield Violation(
                    call,
                    "torch.load without weights_only=True unpickles, which can run code "
                    "(policy.forbid_dynamic_exec)",
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
    def _weights_only(call: cst.Call) -> bool:
        """torch.load(..., weights_only=True) loads tensors only (no pickled objects)."""
        if any(a.star for a in call.args):
            return False
        value = next(
            (a.value for a in call.args if a.keyword and a.keyword.value == "weights_only"), None
        )
        return isinstance(value, cst.Name) and value.value == "True"

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


__all__ = ["Deserializer", "DynamicExecBuiltin", "ImportMachinery", "NativeCode"]
