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
