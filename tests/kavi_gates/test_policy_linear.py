"""The policy analysis costs time proportional to the file, whatever its shape.

Not timed (a busy machine makes timings lie): the work Kavi's own code does is counted as
the lines of ``kavi_gates`` it executes after the parse (``sys.settrace``), for a generated
file of ``SMALL`` units and of four times that. Linear work grows about 4x; the quadratic
shapes these tests keep out grew 5x to 12x at these sizes (the worse, the larger). Costs in
C that line counts do not see (long strings, hashing) have tests of their own below.
``bench/bench_scaling.py`` times the same shapes and more at 500-4,000 units.
"""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import libcst as cst
import pytest

import kavi_gates
from kavi_gates.config import PolicyConfig
from kavi_gates.models import Finding
from kavi_gates.policy.check import check_module
from kavi_gates.policy.resolution import MAX_PARTS
from kavi_gates.policy.rules import BUILTIN_RULES

SMALL = 100
LARGE = 4 * SMALL
MAX_GROWTH = 4.6
"""Work at LARGE over work at SMALL: 4 plus a margin for the constant part; quadratic
shapes measured 5.1-12.4 before their fixes."""

_KAVI = str(Path(kavi_gates.__file__).parent)


def _lines(template: str, n: int) -> str:
    return "".join(template.format(i=i, j=i - 1) for i in range(1, n + 1))


def check(source: str) -> list[Finding]:
    data = source.encode()
    return check_module(
        cst.parse_module(data), data, "skills/generated.py", PolicyConfig(), BUILTIN_RULES
    )


def analysis_work(source: str) -> int:
    """Lines of Kavi's code executed to check ``source`` once it is parsed."""
    data = source.encode()
    module = cst.parse_module(data)
    count = 0

    def lines(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal count
        if event == "line":
            count += 1
        return lines

    def calls(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        return lines if frame.f_code.co_filename.startswith(_KAVI) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        check_module(module, data, "skills/generated.py", PolicyConfig(), BUILTIN_RULES)
    finally:
        sys.settrace(previous)
    return count


def analysis_memory(source: str) -> int:
    """Peak bytes allocated while checking ``source`` once it is parsed: what strings
    built in C cost, which line counts do not see (and results are memoised, so strings
    built once per reference stay allocated)."""
    data = source.encode()
    module = cst.parse_module(data)
    tracemalloc.start()
    try:
        check_module(module, data, "skills/generated.py", PolicyConfig(), BUILTIN_RULES)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# name -> generator of a file with n units
SHAPES: dict[str, Callable[[int], str]] = {
    # The shapes.
    "rebind in a function": lambda n: "import os\ndef f(x):\n" + "    x = x.strip()\n" * n,
    "rebind at module level": lambda n: "import os\nx = ' a '\n" + "x = x.strip()\n" * n,
    "alias chain": lambda n: (
        "import os\na0 = os\n" + _lines("a{i} = a{j}\n", n) + f"a{n}.system('id')\n"
    ),
    "os.path.join terms": lambda n: (
        "import os\nx = " + " + ".join(f"os.path.join(a{i}, b)" for i in range(n)) + "\n"
    ),
    # Namespaces: each view's subscript and method call found in one pass per file.
    "globals() subscripts assigned": lambda n: (
        "import os\n" + _lines("globals()['x{i}'] = globals()['x{j}']\n", n)
    ),
    "globals().get": lambda n: "import os\n" + _lines("v{i} = globals().get('x{i}')\n", n),
    # ``if TYPE_CHECKING:`` blocks: the flag's bindings judged once, regions searched by
    # bisection, a slot's bindings rebuilt once.
    "TYPE_CHECKING blocks and annotations": lambda n: (
        "from typing import TYPE_CHECKING\n"
        + _lines("if TYPE_CHECKING:\n    import m{i}\n", n)
        + _lines("def f{i}(a: m{i}.T) -> None:\n    pass\n", n)
    ),
    "TYPE_CHECKING bound many times": lambda n: (
        "TYPE_CHECKING = False\n" * n + _lines("if TYPE_CHECKING:\n    import m{i}\n", n)
    ),
    "typing imported many times": lambda n: (
        "import typing\n" * n + _lines("if typing.TYPE_CHECKING:\n    import m{i}\n", n)
    ),
    "references after many TYPE_CHECKING blocks": lambda n: (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import m\n"
        + _lines("if TYPE_CHECKING:\n    x{i} = 1\n", n)
        + _lines("m.f{i}()\n", n)
    ),
    "one name imported in many TYPE_CHECKING blocks": lambda n: (
        "from typing import TYPE_CHECKING\n"
        + "if TYPE_CHECKING:\n    import m\n" * n
        + "def f(a: m.T) -> None:\n    pass\n"
    ),
    # Secrets reaching printers: each name's values are looked at once per file, in
    # whatever order the printers ask (printing the end of a chain first searched the
    # whole chain again for each printer: 4 ms a line at 500 lines, 31 ms at 4,000).
    "a secret chain printed from its end": lambda n: (
        "import os\nv0 = os.environ['T']\n"
        + _lines("v{i} = v{j} + 'x'\n", n)
        + "".join(f"print(v{i})\n" for i in range(n, 0, -1))
    ),
    "a clean chain printed from its end": lambda n: (
        "import os\nt = os.environ['T']\nv0 = 'a'\n"
        + _lines("v{i} = v{j} + 'x'\n", n)
        + "".join(f"print(v{i})\n" for i in range(n, 0, -1))
    ),
    "a secret read after the chain it taints": lambda n: (
        "import os\nv0 = 'a'\n"
        + _lines("v{i} = v{j} + w\n", n)
        + "w = os.environ['T']\n"
        + "".join(f"print(v{i})\n" for i in range(n, 0, -1))
    ),
    # Calls and subscripts on calls and subscripts, in one expression: each evaluated once
    # (every call in the chain used to evaluate the whole chain below it again).
    "calls on a call": lambda n: "import os\nx = a" + "()" * n + "\n",
    "a builder chain in one expression": lambda n: (
        "import os\nx = q" + "".join(f".f{i}(a)" for i in range(n)) + "\n"
    ),
    "subscripts on a subscript": lambda n: "import sys\nx = sys.modules" + "['os']" * n + "\n",
    # Chains of names, each an attribute of the last: past MAX_PARTS they are KAV005.
    "attribute alias chain": lambda n: (
        "import os\na0 = os\n" + _lines("a{i} = a{j}.b\n", n) + f"a{n}.system()\n"
    ),
    "getattr chain": lambda n: (
        "import os\nx0 = os\n" + _lines("x{i} = getattr(x{j}, 'path')\n", n) + f"x{n}.system()\n"
    ),
    "a long name used many times": lambda n: (
        "import os\nx = os" + ".a" * n + "\n" + _lines("y{i} = x.b{i}\n", n)
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_analysis_work_grows_linearly(shape: str) -> None:
    generate = SHAPES[shape]
    small, large = analysis_work(generate(SMALL)), analysis_work(generate(LARGE))
    assert large / small <= MAX_GROWTH, f"{shape}: {small} -> {large} lines of work"


def test_the_work_count_is_the_same_run_after_run() -> None:
    """The measure is deterministic (no timing in it), so the bound above cannot flake."""
    source = SHAPES["alias chain"](SMALL)
    assert analysis_work(source) == analysis_work(source) > SMALL


MEMORY_SMALL = 200
MAX_MEMORY_GROWTH = 5.0
"""Peak memory at 4x the size over peak memory at MEMORY_SMALL: linear measured 2.4-3.6
(allocation sizes step), the quadratic shapes 8.9-9.9 before their fixes."""

# One long attribute chain (the parser is slow on those: sizes stay small).
MEMORY_SHAPES: dict[str, Callable[[int], str]] = {
    # A module used as a value, so every capability name read on an unknown object counts:
    # each ``.system`` used to resolve the chain up to it again.
    "capability names along one chain": lambda n: (
        "import os\nx = [os]\ny = os" + ".system" * n + "\n"
    ),
    # Re-exported modules: each suffix used to be copied whole before being cut short.
    "re-exported module repeated in one chain": lambda n: (
        "import os\nx = os" + ".os" * n + ".system\n"
    ),
}


@pytest.mark.parametrize("shape", MEMORY_SHAPES)
def test_the_analysis_memory_grows_linearly(shape: str) -> None:
    generate = MEMORY_SHAPES[shape]
    small = analysis_memory(generate(MEMORY_SMALL))
    large = analysis_memory(generate(4 * MEMORY_SMALL))
    assert large / small <= MAX_MEMORY_GROWTH, f"{shape}: {small} -> {large} bytes at peak"


def test_findings_on_one_long_line_hash_the_line_once_per_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fingerprint hashes the line's text: a thousand findings on one line must not hash
    it a thousand times."""
    hashed: list[int] = []
    real = Finding.with_fingerprint

    def counting(self: Finding, anchor: str = "") -> Finding:
        hashed.append(len(anchor))
        return real(self, anchor)

    monkeypatch.setattr(Finding, "with_fingerprint", counting)
    line = "; ".join(f"os.system('{i}')" for i in range(LARGE))
    findings = check("import os\n" + line + "\n")
    assert sorted({f.rule for f in findings}) == ["KAV111", "KAV202"]
    assert len(findings) == 2 * LARGE  # each call, under two rules
    assert sum(hashed) <= 2 * len(line)  # was 2 * LARGE * len(line)
    on_line = [f for f in findings if f.line == 2]
    by_rule = {
        rule: {f.fingerprint for f in on_line if f.rule == rule} for rule in ("KAV111", "KAV202")
    }
    assert all(len(prints) == 1 for prints in by_rule.values())  # as before: rule, path, line
    assert by_rule["KAV111"] != by_rule["KAV202"]


def test_a_chain_of_attributes_within_the_bound_is_followed() -> None:
    """``shutil.os`` is os: sixty links of it are still followed to os.system."""
    links = MAX_PARTS - 4
    source = "import shutil\na0 = shutil\n" + _lines("a{i} = a{j}.os\n", links)
    rules = {f.rule for f in check(source + f"a{links}.system('id')\n")}
    assert {"KAV111", "KAV202"} <= rules and "KAV005" not in rules


def test_a_chain_of_attributes_past_the_bound_cannot_pass() -> None:
    links = MAX_PARTS + 4
    source = "import shutil\na0 = shutil\n" + _lines("a{i} = a{j}.os\n", links)
    findings = check(source + f"a{links}.system('id')\n")
    assert [f.rule for f in findings if f.rule == "KAV005"] == ["KAV005"]
    (limit,) = (f for f in findings if f.rule == "KAV005")
    assert f"more than {MAX_PARTS} parts long" in limit.message
    assert "cannot pass" in limit.message
    assert limit.line == MAX_PARTS + 2  # a{MAX_PARTS}: the first name past the bound


def test_secrets_through_a_cycle_of_names_are_found_from_every_printer() -> None:
    """The components of the taint search: names that read each other in a loop share
    one answer, and a chain hanging off the loop gets it too."""
    source = (
        "import os\n"
        "a = 'x'\n"
        "while True:\n"
        "    a = b + 'x'\n"
        "    b = c\n"
        "    c = a if d else os.environ['T']\n"
        "e = a\n"
        "f = 'clean'\n"
        "print(e)\nprint(c)\nprint(b)\nprint(f)\nprint(a)\n"
    )
    leaks = sorted(f.line for f in check(source) if f.rule == "KAV131")
    assert leaks == [9, 10, 11, 13]  # every print but the clean one
