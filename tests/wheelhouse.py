"""An offline package index for the real ``pre-commit`` hook environments the tests build.

``pre-commit`` installs Kavi's published hooks (``language: python``) into a fresh virtualenv
with pip, which would fetch Kavi's dependencies and its build backend from PyPI: a test that
touches the network. Instead, every distribution that install needs is repacked as a wheel
from the files already installed in the test environment (its ``RECORD`` lists them), and
pip is pointed at that directory with ``PIP_NO_INDEX``. The hook environment is then built
from exactly the versions the suite runs with, offline, and a missing package fails loudly.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Not worth carrying into a wheel, and absent from the wheels pip installed them from.
_INSTALL_ONLY = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def closure(roots: list[str], extras: tuple[str, ...] = ()) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need (with ``extras`` of the roots), recursively."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [(name, extras) for name in roots]
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        if key in seen:
            continue
        dist = metadata.distribution(name)  # PackageNotFoundError: the suite's env is incomplete
        seen[key] = dist
        for line in dist.requires or ():
            requirement = Requirement(line)
            marker = requirement.marker
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if marker is None or any(marker.evaluate(env) for env in environments):
                todo.append((requirement.name, tuple(requirement.extras)))
    return list(seen.values())


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def repack(dist: metadata.Distribution, dest: Path) -> Path:
    """Write ``dist``'s installed files back into a wheel in ``dest``; return its path."""
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    info_dir = next(
        str(f).split("/")[0]
        for f in dist.files or ()
        if str(f).split("/")[0].endswith(".dist-info")
    )
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = [
        line.split(":", 1)[1].strip().split("-")
        for line in wheel_meta.splitlines()
        if line.startswith("Tag:")
    ]
    if not tags:
        raise RuntimeError(f"{name}: installed without a WHEEL file; cannot repack it")
    # The compressed tag set of the filename (py2.py3-none-any): pip matches on the name.
    compressed = "-".join(".".join(dict.fromkeys(tag[i] for tag in tags)) for i in range(3))
    target = dest / f"{name}-{dist.version}-{compressed}.whl"
    record: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as wheel:
        for file in dist.files or ():
            arcname = str(file)
            parts = arcname.split("/")
            # ../bin scripts are regenerated from entry points; bytecode is compiled again.
            if parts[0] == ".." or "__pycache__" in parts or arcname.endswith(".pyc"):
                continue
            if parts[0] == info_dir and parts[-1] in _INSTALL_ONLY:
                continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            wheel.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(f"{info_dir}/RECORD,,")
        wheel.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return target


def build(dest: Path, roots: list[str], extras: tuple[str, ...] = ()) -> Path:
    """A directory of wheels for ``roots`` and everything they need, for ``PIP_FIND_LINKS``."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in closure(roots, extras):
        repack(dist, dest)
    return dest


def kavi_hook_wheelhouse(dest: Path) -> dict[str, str]:
    """Environment variables that make pip install Kavi's hook environment from ``dest`` only.

    The roots are Kavi's core dependencies (what ``pip install .`` of this repository needs)
    and its build backend, setuptools (pip builds Kavi in an isolated environment).
    """
    kavi = metadata.distribution("kavi")
    roots = [
        Requirement(line).name
        for line in kavi.requires or ()
        if Requirement(line).marker is None  # the extras (runtime, dev, bench) are not needed
    ]
    build(dest, [*roots, "setuptools"])
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(dest)}
