"""The per-issue floor: what one instruction costs when there is almost no lane work.

Three figures, each the best launch time over ``--repeat`` runs (this process's CPU
time by default, ``--clock wall`` for elapsed time) divided by the instructions issued:

* converged issue: the straight-line ALU kernel (1,000 instructions, one block) with
  operands equal in every lane (``uniform``) or different in every lane (``lanes``), at
  32, 1,024 and 4,096 lanes; target <= 2 us an instruction, and <= 1.5 us at 32 lanes
  (the dispatch cost);
* divergent steps of a few lanes: in a block of 1,024 lanes, 5 scattered lanes run the
  same 1,000-instruction body while the others wait further down the program, so every
  instruction is its own step of 5 lanes (scheduled each time); target <= 6 us a step.

Usage::

    python benchmarks/issue_floor.py               # best of 15, ~30 s
    python benchmarks/issue_floor.py --repeat 5

The exit status is 1 when a target is missed or a launch issues the wrong number of
instructions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simt  # noqa: E402

from benchmarks import kernels, workloads  # noqa: E402

LENGTH = 1000
CONVERGED_US = 2.0
DISPATCH_US = 1.5
DIVERGENT_US = 6.0


def divergent_text(length: int = LENGTH) -> str:
    """A kernel in which 5 scattered lanes of 1,024 run ``length`` ALU instructions alone.

    The lanes whose hashed id ``(tid * 0x9e3779b9 mod 2**32) >> 24`` is 0 (lanes 0,
    233, 466, 610 and 843) fall through into the body; the others branch over it to
    the final ``exit`` and wait there (a higher pc), so each body instruction issues
    as one step of the few lanes.
    """
    head = ["cvt.u32.u64 r3, r255", "mov_imm.u32 r4, 0x9e3779b9", "mul.u32 r5, r3, r4",
            "mov_imm.u32 r4, 24", "shr.u32 r5, r5, r4", "mov_imm.u32 r6, 0",
            "setne.u32 p0, r5, r6", "bra.p0 @done",
            "mov_imm.f32 r1, 1.0001", "mov_imm.f32 r2, 0.5", "mov_imm.u32 r4, 7"]
    cycle = kernels._ALU_CYCLE
    body = [cycle[i % len(cycle)] for i in range(length)]
    lines = head + body + ["done:", "exit"]
    return "\n".join(line if line.endswith(":") else "    " + line for line in lines) + "\n"


def best(run, repeat: int, clock=time.process_time) -> float:
    """The best time of ``run()`` over ``repeat`` calls (after one warm-up) by ``clock``."""
    run()
    times = []
    for _ in range(repeat):
        t0 = clock()
        run()
        times.append(clock() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="this process's CPU time (default; steadier on a shared "
                             "machine) or elapsed time")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    dev = simt.Device()
    ok = True
    print(f"{'figure':<34}{'us/instr':>10}{'target':>9}  ok")
    for operands in ("uniform", "lanes"):
        for lanes in (32, 1024, 4096):
            work = workloads.straight_line(dev, lanes, LENGTH, operands)
            if not work.check():
                print(f"straight_line({operands}, {lanes}) issued the wrong count")
                return 1
            us = best(work.run, args.repeat, clock) / LENGTH * 1e6
            target = DISPATCH_US if lanes == 32 else CONVERGED_US
            good = us <= target
            ok &= good
            print(f"{f'converged {operands}, {lanes} lanes':<34}{us:>10.2f}{target:>9.1f}  "
                  f"{'yes' if good else 'NO'}")
    prog = simt.assemble(divergent_text())
    steps = LENGTH + 9

    def run():
        return dev.launch(prog, grid=1, block=1024)

    if run().stats.steps < LENGTH:
        print("the divergent kernel did not issue its body step by step")
        return 1
    us = best(run, args.repeat, clock) / steps * 1e6
    good = us <= DIVERGENT_US
    ok &= good
    print(f"{'divergent, 5 of 1024 lanes':<34}{us:>10.2f}{DIVERGENT_US:>9.1f}  "
          f"{'yes' if good else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
