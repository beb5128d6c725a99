"""Is the policy analysis linear in the size of a file, whatever its shape?

Generated inputs (the shapes that blew up, and others an agent could write by accident or on
purpose) at growing sizes. For each, the time libcst's parser takes and the time Kavi takes
after it (walk, resolution, rules, positions, suppressions) are measured apart, in this
process, and printed per unit (a line, or a term of one expression). Kavi's column must stay
flat as the size grows: "growth" is the per-unit cost at the largest size over the per-unit
cost at the smallest (1.0 is linear; the issue's blow-ups were 10x-100x). The parser's own
column is what the per-file budget (policy.file_budget) exists for.

Usage: ``python bench/bench_scaling.py [--sizes 500,1000,2000,4000] [--markdown]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libcst as cst

from kavi_gates.config import PolicyConfig
from kavi_gates.policy.check import check_module
from kavi_gates.policy.rules import BUILTIN_RULES


def _lines(template: str, n: int) -> str:
    return "".join(template.format(i=i, j=i - 1) for i in range(1, n + 1))


# name -> (what one unit is, generator)
SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "rebind in a function": (
        "line",
        lambda n: "import os\n\ndef f(x):\n" + "    x = x.strip()\n" * n + "    return x\n",
    ),
    "rebind at module level": (
        "line",
        lambda n: "import os\nx = ' a '\n" + "x = x.strip()\n" * n,
    ),
    "rebind to an attribute": (
        "line",
        lambda n: "import os\nx = os\n" + _lines("x = x.a{i}\n", n) + "x.system('id')\n",
    ),
    "alias chain": (
        "line",
        lambda n: "import os\na0 = os\n" + _lines("a{i} = a{j}\n", n) + f"a{n}.system('id')\n",
    ),
    "alias cycle in a loop": (
        "line",
        lambda n: (
            "import os\na0 = os\nwhile True:\n"
            + _lines("    a{i} = a{j}\n", n)
            + f"    a0 = a{n}\na{n}.system('id')\n"
        ),
    ),
    "os.path.join terms in one expression": (
        "term",
        lambda n: "import os\nx = " + " + ".join(f"os.path.join(a{i}, b)" for i in range(n)) + "\n",
    ),
    "deep attribute chain": (
        "attribute",
        lambda n: "import os\nx = os" + ".a" * n + ".system\n",
    ),
    "star imports": (
        "line",
        lambda n: _lines("from m{i} import *\n", n) + _lines("f{i}()\n", n),
    ),
    "many scopes": (
        "function",
        lambda n: (
            "import os\n\n"
            + _lines(
                "def f{i}(a):\n    def g():\n        return os.path.join(a, 'x')\n    return g\n", n
            )
        ),
    ),
    "nested scopes (50 deep, repeated)": (
        "line",
        lambda n: (
            "import os\n"
            + "".join(
                "".join("    " * d + f"def f{k}_{d}():\n" for d in range(50))
                + "    " * 50
                + "return os.getcwd()\n"
                for k in range(max(1, n // 51))
            )
        ),
    ),
    "long if/elif chain": (
        "branch",
        lambda n: (
            "import os\n\ndef f(x):\n    if x == 0:\n        y = os.sep\n"
            + _lines("    elif x == {i}:\n        y = os.path.join('a', '{i}')\n", n)
            + "    return y\n"
        ),
    ),
    "suppressed findings": (
        "line",
        lambda n: _lines("x{i} = eval('{i}')  # kavi: allow[KAV401] fixture {i}\n", n),
    ),
    "huge literal list": (
        "element",
        lambda n: "import os\nX = [\n" + _lines("    ('a{i}', {i}, os.sep),\n", n) + "]\n",
    ),
    "many findings": (
        "line",
        lambda n: "import os\n" + _lines("os.system('echo {i}')\n", n),
    ),
    "attribute alias chain (KAV005 past 64 parts)": (
        "line",
        lambda n: "import os\na0 = os\n" + _lines("a{i} = a{j}.b\n", n) + f"a{n}.system()\n",
    ),
    "namespace views (globals().get)": (
        "line",
        lambda n: "import os\n" + _lines("v{i} = globals().get('x{i}')\n", n),
    ),
    "TYPE_CHECKING blocks": (
        "block",
        lambda n: (
            "from typing import TYPE_CHECKING\n"
            + _lines("if TYPE_CHECKING:\n    import m{i}\n", n)
            + _lines("def f{i}(a: m{i}.T) -> None:\n    pass\n", n)
        ),
    ),
    "TYPE_CHECKING bound many times": (
        "block",
        lambda n: "TYPE_CHECKING = False\n" * n + _lines("if TYPE_CHECKING:\n    import m{i}\n", n),
    ),
    "secret chain printed from its end": (
        "line",
        lambda n: (
            "import os\nv0 = os.environ['T']\n"
            + _lines("v{i} = v{j} + 'x'\n", n)
            + "".join(f"print(v{i})\n" for i in range(n, 0, -1))
        ),
    ),
    "findings on one line": (
        "finding",
        lambda n: "import os\n" + "; ".join(f"os.system('{i}')" for i in range(n)) + "\n",
    ),
    "calls on a call (one expression)": (
        "call",
        lambda n: "import os\nx = a" + "()" * n + "\n",
    ),
    "calls on calls (builders)": (
        "line",
        lambda n: (
            "import os\nq = os.scandir('.')\n" + _lines("q = q.filter(a{i}).order(b{i})\n", n)
        ),
    ),
}


def measure(source: str, repeat: int) -> tuple[float, float]:
    """(parse seconds, Kavi seconds after the parse) in CPU time, the fastest of ``repeat``
    runs: CPU time and the minimum are what other work on a shared machine disturbs least."""
    data = source.encode()
    parses, kavi = [], []
    policy = PolicyConfig()
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        module = cst.parse_module(data)
        parsed = time.process_time()
        check_module(module, data, "skills/generated.py", policy, BUILTIN_RULES)
        parses.append(parsed - start)
        kavi.append(time.process_time() - parsed)
        if parses[-1] > 5:  # the parser's superlinear inputs: once is enough
            break
    return min(parses), min(kavi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,4000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="run the shapes whose name contains this")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    sys.setrecursionlimit(100_000)  # the parser-side of deep inputs, not Kavi's walk
    # The garbage collector as Kavi's workers set it (kavi_gates.policy.workers): with
    # Python's default, each collection walks the whole growing tree, and that cost,
    # which grows with the file, is not the analysis's.
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    rows = []
    for name, (unit, generate) in SHAPES.items():
        if args.only and args.only not in name:
            continue
        per_unit_kavi, per_unit_parse = [], []
        for n in sizes:
            parse, kavi = measure(generate(n), args.repeat)
            per_unit_kavi.append(kavi / n * 1e6)
            per_unit_parse.append(parse / n * 1e6)
        rows.append((name, unit, per_unit_kavi, per_unit_parse))
        if not args.markdown:
            print(f"{name:40s} done", file=sys.stderr)
    header = ["shape", "unit", *[f"kavi µs/unit @{n}" for n in sizes], "kavi growth"]
    header += [f"parser µs/unit @{sizes[0]}", f"parser µs/unit @{sizes[-1]}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, unit, kavi, parse in rows:
        growth = kavi[-1] / kavi[0] if kavi[0] else float("nan")
        cells = [name, unit, *(f"{v:.1f}" for v in kavi), f"{growth:.2f}x"]
        cells += [f"{parse[0]:.1f}", f"{parse[-1]:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
