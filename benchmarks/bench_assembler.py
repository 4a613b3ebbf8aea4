"""asv suites for the assembler and the program formats (a 1,000-line program)."""

from __future__ import annotations

import simt
from simt.isa.program import Program

from . import kernels


class Assembler:
    """Assemble, print and JSON round-trip the 1,000-instruction straight-line kernel."""

    def setup(self):
        self.text = kernels.straight_line_alu(1000)
        self.program = simt.assemble(self.text)
        self.json = self.program.to_json()

    def time_assemble(self):
        simt.assemble(self.text)

    def time_to_text(self):
        self.program.to_text()

    def time_to_json(self):
        self.program.to_json()

    def time_from_json(self):
        Program.from_json(self.json)
