"""How fast programs load, assemble and print: the unrolled single-lane programs of builders.

Program builders of the kind hologram ships emit straight-line, single-lane programs:
a vector add over 3,071 elements is a 12,288-instruction program of ``ldg.f32`` /
``add.f32`` / ``stg.f32`` with immediate ``[bufH + N]`` addresses, after ``mov_imm.u64``
of the buffer handles.  This script builds such a program, checks that every form reads
back to an equal program, and prints the time of each conversion: milliseconds for the
whole program and microseconds per instruction, the best of ``--repeat`` runs.

Targets: ``Program.from_json`` (text or parsed dict) <= 50 ms for 12,288 instructions,
``simt.assemble`` <= 5 us an instruction.  ``first decode`` is the executor's one-time
binding of a fresh program's instructions to their kernels at its first launch.

Run: ``python benchmarks/isa_speed.py [--elements N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):   # run as a script: import the checkout's simt
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simt
from simt.isa.program import Program

__all__ = ["unrolled_vector_add", "measure", "main"]

ELEMENTS = 3071     # 3 handle moves + 4 * 3071 + exit = 12,288 instructions


def unrolled_vector_add(elements: int = ELEMENTS, handles: tuple[int, int, int] = (1, 2, 3)
                        ) -> str:
    """Assembly text of ``c[i] = a[i] + b[i]`` unrolled over ``elements`` f32 elements."""
    a, b, c = handles
    lines = [f"mov_imm.u64 r{k}, {h}" for k, h in enumerate(handles)]
    for i in range(elements):
        x, y, z = 4 + 3 * (i % 80), 5 + 3 * (i % 80), 6 + 3 * (i % 80)
        lines += [f"ldg.f32 r{x}, [buf{a} + {4 * i}]",
                  f"ldg.f32 r{y}, [buf{b} + {4 * i}]",
                  f"add.f32 r{z}, r{x}, r{y}",
                  f"stg.f32 [buf{c} + {4 * i}], r{z}"]
    lines.append("exit")
    return "\n".join(lines) + "\n"


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _first_decode(text: str) -> float:
    """Seconds to decode a freshly assembled program for the executor (once per program)."""
    from simt.machine.kernels import decoded
    program = simt.assemble(text)
    start = time.perf_counter()
    decoded(program)
    return time.perf_counter() - start


def measure(elements: int = ELEMENTS, repeat: int = 15) -> dict[str, float]:
    """Seconds (best of ``repeat``) of each conversion of the unrolled program."""
    text = unrolled_vector_add(elements)
    program = simt.assemble(text)
    js = program.to_json()
    parsed = json.loads(js)
    assert Program.from_json(js) == program and Program.from_json(parsed) == program
    assert simt.assemble(program.to_text()) == program
    return {
        "instructions": len(program),
        "from_json(str)": _best(lambda: Program.from_json(js), repeat),
        "from_json(dict)": _best(lambda: Program.from_json(parsed), repeat),
        "to_json": _best(program.to_json, repeat),
        "assemble": _best(lambda: simt.assemble(text), repeat),
        "to_text": _best(program.to_text, repeat),
        "first decode": min(_first_decode(text) for _ in range(repeat)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=ELEMENTS)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    result = measure(args.elements, args.repeat)
    n = result.pop("instructions")
    print(f"{n:,} instructions (an unrolled f32 vector add of {args.elements:,} elements)")
    print(f"{'':18}{'ms':>10}{'us/instr':>11}")
    for name, seconds in result.items():
        print(f"{name:18}{seconds * 1e3:10.1f}{seconds * 1e6 / n:11.2f}")
    print("targets: from_json <= 50 ms, assemble <= 5 us/instruction")


if __name__ == "__main__":
    main()
