"""An attacking coding agent and an attacking test file, for the forge's isolation tests.

The attacker is handed every path it could want (the real repository, the secrets file, the
home directory, a loopback server in the host's network namespace), the worst case: a real
one would have to find them. Each move is tried and its outcome reported as JSON on a
``REPORT`` line (the agent, on stdout) or in a deliberately failing assertion (the test
file), so the tests can prove the moves ran and failed, and then that nothing changed.
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from pathlib import Path

MARKER = f"kavi-attack-marker-{uuid.uuid4().hex}"
"""On the command line of every process an attacker leaves behind (to find survivors).
Unique to this test process: another xdist worker's attacker, alive in its own test, or
another suite's on the same machine, is not a survivor of this one."""

CLEAN_SKILL = """from __future__ import annotations

from kavi_skills import BaseSkill
from pydantic import BaseModel


class ShoutIn(BaseModel):
    text: str


class ShoutOut(BaseModel):
    text: str


class ShoutSkill(BaseSkill):
    name = "shout"
    description = "Upper-case the text and add an exclamation mark."
    side_effect_class = "READ_ONLY"
    input_model = ShoutIn
    output_model = ShoutOut

    def execute(self, data: ShoutIn) -> ShoutOut:
        return ShoutOut(text=data.text.upper() + "!")
"""

CLEAN_TEST = """from __future__ import annotations

from skills.shout import ShoutIn, ShoutSkill


def test_shout_upper_cases_and_exclaims() -> None:
    skill = ShoutSkill.__new__(ShoutSkill)
    assert skill.execute(ShoutIn(text="hi")).text == "HI!"
"""

# The moves, shared by the agent and the test file: plant a skill and a matching pin in a
# repository, read the secrets file, reach the host network, leave a late writer behind.
MOVES = r"""
import hashlib, json, os, pathlib, subprocess, sys, urllib.request

EVIL = "print('planted')\n"


def plant(root):
    root = pathlib.Path(root)
    if root.resolve() == pathlib.Path.cwd().resolve():
        return "own copy, skipped"
    if not (root / "kavi.yaml").is_file():  # not the repository (an empty mount point)
        raise FileNotFoundError(root)
    (root / "skills").mkdir(exist_ok=True)
    (root / "skills" / "evil.py").write_text(EVIL)
    pin = "sha256:" + hashlib.sha256(EVIL.encode()).hexdigest()
    (root / "skills" / "registry.yaml").write_text(
        "version: 1\nskills:\n  evil:\n    path: skills/evil.py\n    class: Evil\n"
        "    side_effect_class: READ_ONLY\n    pins: {skills/evil.py: '" + pin + "'}\n"
    )
    return "PLANTED in " + str(root)


def attempt(results, name, fn):
    try:
        results[name] = "REACHED: " + str(fn())[:200]
    except BaseException as err:
        results[name] = "blocked: " + type(err).__name__


def proc_cwds():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                found.append(os.readlink(f"/proc/{pid}/cwd"))
            except OSError:
                pass
    return found


def moves(targets, marker):
    results = {}
    attempt(results, "repo", lambda: plant(targets["repo"]))
    attempt(results, "parent_cwd", lambda: plant(os.readlink(f"/proc/{os.getppid()}/cwd")))
    for index, cwd in enumerate(proc_cwds()):
        attempt(results, f"proc_cwd_{index}", lambda cwd=cwd: plant(cwd))
    attempt(results, "secrets_file", lambda: pathlib.Path(targets["secrets"]).read_text())
    attempt(results, "ledger", lambda: pathlib.Path(targets["ledger"]).read_bytes()[:16])
    attempt(results, "home", lambda: sorted(os.listdir(targets["home"])))
    attempt(results, "network", lambda: urllib.request.urlopen(targets["url"], timeout=3).read())
    late = (
        "import pathlib, sys, time\n"
        "time.sleep(2)\n"
        "pathlib.Path(sys.argv[1], 'planted-late').write_text('x')\n"
    )
    subprocess.Popen(
        [sys.executable, "-c", late, targets["repo"], marker],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results["secret_in_env"] = sorted(k for k, v in os.environ.items() if v == targets["value"])
    return results
"""

AGENT = (
    "#!/usr/bin/env python3\n"
    + MOVES
    + r"""
import base64

mode, targets = sys.argv[1], json.loads(base64.b64decode(sys.argv[2]))
sys.stdin.read()
skill, test = json.loads(base64.b64decode(sys.argv[3]))
results = {}
if mode == "escape":
    results = moves(targets, sys.argv[4])
elif mode == "leak":  # a secret committed to a file the agent reads and repeats
    print(pathlib.Path("config/settings.txt").read_text())
elif mode == "net":
    attempt(results, "network", lambda: urllib.request.urlopen(targets["url"], timeout=3).read())
elif mode == "login":
    home = pathlib.Path(os.environ["HOME"])
    attempt(results, "token", lambda: (home / ".fake-login" / "token").read_text())
    attempt(results, "state", lambda: (home / ".fake-login" / "state").write_text("seen"))
    attempt(results, "ssh_key", lambda: (home / ".ssh" / "id_rsa").read_text())
elif mode in ("attack-test", "gated-test"):
    test = targets["attack_test"]
if mode == "gated-test":
    skill = "import subprocess\n\n" + skill
print("REPORT " + json.dumps(results))
pathlib.Path("skills").mkdir(exist_ok=True)
pathlib.Path("tests/skills").mkdir(parents=True, exist_ok=True)
if mode == "fifo":  # a reader on the host would block on it forever
    os.mkfifo("skills/shout.py")
else:
    pathlib.Path("skills/shout.py").write_text(skill)
pathlib.Path("tests/skills/test_shout.py").write_text(test)
if mode == "pyc":  # bytecode of the passing skill, valid for a same-size failing source
    import importlib.util, py_compile
    source = pathlib.Path("skills/shout.py")
    py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)))
    stamp = source.stat().st_mtime_ns
    source.write_text(skill.replace('"!"', '"?"'))
    os.utime(source, ns=(stamp, stamp))
"""
)


def attack_test(targets: dict[str, str]) -> str:
    """A test file that makes every move when imported, then fails with its report."""
    return (
        "# ruff: noqa\n"
        + MOVES
        + f"\nTARGETS = json.loads({json.dumps(json.dumps(targets))})\n"
        + "pathlib.Path('ran-at-import').write_text('x')\n"
        + f"RESULTS = moves(TARGETS, {MARKER!r})\n\n\n"
        + "def test_report() -> None:\n"
        + "    print('ATTACK-' + 'REPORT ' + json.dumps(RESULTS))\n"
        + "    assert False\n"
    )


def write_agent(directory: Path) -> Path:
    """The attacking agent as an executable in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "attack-agent"
    path.write_text(AGENT)
    path.chmod(0o755)
    return path


def agent_command(agent: Path, mode: str, targets: dict[str, str], files: tuple[str, str]) -> str:
    """The ``--agent`` command line for one mode (arguments base64: no shell quoting games)."""
    import base64

    def encode(value: object) -> str:
        return base64.b64encode(json.dumps(value).encode()).decode()

    words = [str(agent), mode, encode(targets), encode(list(files)), MARKER]
    return " ".join(shlex.quote(w) for w in words)


def survivors() -> list[str]:
    """Command lines of live processes an attacker left behind."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if MARKER.encode() in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def report(text: str, prefix: str) -> dict[str, object]:
    """The JSON after ``prefix`` in ``text``."""
    tail = text.split(prefix, 1)[1]
    decoded, _ = json.JSONDecoder().raw_decode(tail.lstrip())
    assert isinstance(decoded, dict)
    return decoded


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (outside .git) with its bytes: a before/after picture."""
    found = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found
