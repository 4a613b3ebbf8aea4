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


class Unrolled:
    """The 12,288-instruction unrolled vector add of program builders (see isa_speed.py).

    Targets: ``from_json`` (text or parsed dict) <= 50 ms, ``assemble`` <= 5 us an
    instruction (about 61 ms).
    """

    def setup(self):
        import json

        from .isa_speed import unrolled_vector_add
        self.text = unrolled_vector_add()
        self.program = simt.assemble(self.text)
        self.json = self.program.to_json()
        self.parsed = json.loads(self.json)

    def time_from_json_text(self):
        Program.from_json(self.json)

    def time_from_json_dict(self):
        Program.from_json(self.parsed)

    def time_to_json(self):
        self.program.to_json()

    def time_assemble(self):
        simt.assemble(self.text)

    def time_to_text(self):
        self.program.to_text()
