"""The plugin manager: specs, built-in gates, third-party entry points (group ``kavi``)."""

from __future__ import annotations

import importlib
from functools import lru_cache

import pluggy

from kavi_gates import hookspecs
from kavi_gates.entry_points import may_declare
from kavi_gates.errors import ConfigError, InternalError

# Built-in plugins, registered in this order (the order gates run in).
BUILTIN_PLUGINS = (
    "kavi_gates.policy.plugin",
    "kavi_gates.builtin",  # invariants, diff-allowlist, hash-pin: loaded when they run
    "kavi_gates.targets",  # the runner's own codes (no gate)
)


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """Specs, then built-ins, then entry points, then ``check_pending`` (pluggy's pattern)."""
    pm = pluggy.PluginManager("kavi")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        try:
            module = importlib.import_module(name)
        except ImportError as err:
            raise InternalError(f"built-in gate plugin {name} cannot be imported: {err}") from err
        pm.register(module, name=name)
    # Most installations have no Kavi plugin: then importlib.metadata need not load at all.
    if load_entrypoints and may_declare("kavi"):
        try:
            pm.load_setuptools_entrypoints("kavi")
        except Exception as err:
            # An unloadable third-party plugin is a configuration problem: fail closed.
            raise ConfigError(f"cannot load a plugin from entry-point group 'kavi': {err}") from err
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise ConfigError(f"invalid kavi plugin: {err}") from err
    return pm


@lru_cache(maxsize=1)
def default_plugin_manager() -> pluggy.PluginManager:
    return get_plugin_manager()
