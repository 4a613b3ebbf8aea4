"""asv suite of the per-issue floor (``issue_floor.py`` prints the same figures against
their targets): one instruction's cost when there is almost no lane work.

``IssueFloor.time_launch`` runs the straight-line ALU kernel (1,000 instructions, one
block) with operands equal in every lane or different per lane, at 32, 1,024 and 4,096
lanes; ``DivergentFloor.time_launch`` runs the same body on 5 scattered lanes of 1,024
while the others wait.  Time per instruction is the launch time / 1,000.
"""

from __future__ import annotations

import simt

from . import workloads as w
from .issue_floor import LENGTH, divergent_text


class IssueFloor:
    """Converged issue: the straight-line ALU kernel on one block."""

    params = (["uniform", "lanes"], [32, 1024, 4096])
    param_names = ["operands", "lanes"]

    def setup(self, operands, lanes):
        self.work = w.prepared(w.straight_line(simt.Device(), lanes=lanes, length=LENGTH,
                                               operands=operands))

    def time_launch(self, operands, lanes):
        self.work.run()


class DivergentFloor:
    """Few-lane issue: 5 scattered lanes of a 1,024-lane block run the body alone."""

    def setup(self):
        self.dev = simt.Device()
        self.prog = simt.assemble(divergent_text())
        self.dev.launch(self.prog, grid=1, block=1024)

    def time_launch(self):
        self.dev.launch(self.prog, grid=1, block=1024)
