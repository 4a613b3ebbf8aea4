"""Programs: what a program *is* — instructions plus labels, validated once.

The instruction and address classes live in :mod:`simt.isa.instruction` and are
re-exported here.  A program prints itself with :mod:`simt.isa.display` and reads
and writes JSON with :mod:`simt.isa.codec`; the assembler (:mod:`simt.isa.text`)
and :mod:`simt.isa.serde` build on this module, so imports point one way.
"""

from __future__ import annotations

import types as _pytypes
from typing import Any, Callable, Iterable, Mapping

from ..errors import ProgramError
from .codec import read_program, write_program
from .display import disassemble
from .instruction import (_QUICK_VALID, ADDRESS_CLASSES, BUILDERS, INSTRUCTIONS, SHARED_FORMS,
                          Address, BufferOffset, Instruction, PhiCoordinate, RegisterIndirect,
                          RegisterIndirectComputed, Shared, SharedIndirect, check_field, make, show)
from .table import Kind

__all__ = ["Address", "BufferOffset", "BUILDERS", "PhiCoordinate", "RegisterIndirect", "check_field",
           "RegisterIndirectComputed", "Shared", "SharedIndirect", "Instruction", "Program",
           "INSTRUCTIONS", "make"]

# --------------------------------------------------------------------------- programs

class Program:
    """An immutable Atlas program: instructions plus labels.

    Usually made by :func:`simt.assemble` or :meth:`Program.from_json`.  ``len(p)``
    is the number of instructions, ``p[pc]`` the instruction at ``pc``; iterating
    gives the instructions in order.  Programs compare equal when their instructions
    and labels are equal (floats by bit pattern; source lines do not count), and they
    hash, pickle and copy.

    Parameters
    ----------
    instructions : iterable of Instruction
        The instructions, in order.
    labels : mapping of str to int, optional
        Label name -> instruction index (0 .. len inclusive).
    source_lines : iterable of int or None, optional
        Optional 1-based source line of each instruction (set by the assembler;
        not part of equality).
    source
        Optional source text the program was assembled from (set by the
        assembler; not part of equality).

    Examples
    --------
    >>> import simt
    >>> prog = simt.assemble("top: mov_imm.u32 r1, 7")
    >>> len(prog), dict(prog.labels), str(prog[0])
    (1, {'top': 0}, 'mov_imm.u32 r1, 7')
    """

    __slots__ = ("_instructions", "_labels", "_source_lines", "_validated", "_registers",
                 "_derived", "_source")

    def __init__(self, instructions: Iterable[Instruction] = (), labels: Mapping[str, int] | None
                 = None, source_lines: Iterable[int | None] | None = None,
                 source: str | None = None) -> None:
        self._instructions = tuple(instructions)
        self._labels = _pytypes.MappingProxyType(dict(labels or {}))
        self._source_lines = tuple(source_lines) if source_lines is not None else None
        self._source = source
        self._validated = False
        self._registers: frozenset[int] | None = None
        self._derived: dict[str, Any] = {}
        for i, ins in enumerate(self._instructions):
            if not isinstance(ins, Instruction):
                raise ProgramError(f"instruction {i} is not an Instruction: {show(ins)}", pc=i)

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        """The instructions, in order (a tuple)."""
        return self._instructions

    @property
    def labels(self) -> Mapping[str, int]:
        """Label name -> instruction index (read-only)."""
        return self._labels

    @property
    def source_lines(self) -> tuple[int | None, ...] | None:
        """The 1-based source line of each instruction, or ``None`` (not from text)."""
        return self._source_lines

    @property
    def source(self) -> str | None:
        """The assembly text the program was assembled from, if it was."""
        return self._source

    def source_line(self, pc: int) -> int | None:
        """The 1-based source line of the instruction at ``pc``, or ``None``."""
        if self._source_lines is None or not 0 <= pc < len(self._source_lines):
            return None
        return self._source_lines[pc]

    def __len__(self) -> int:
        return len(self._instructions)

    def __iter__(self):
        return iter(self._instructions)

    def __getitem__(self, pc: int) -> Instruction:
        return self._instructions[pc]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return self._instructions == other._instructions and dict(self._labels) == dict(
            other._labels)

    def __hash__(self) -> int:
        return hash((self._instructions, tuple(sorted(self._labels.items()))))

    def __reduce__(self):
        # instructions, labels and source lines; cached analyses are rebuilt on demand
        return Program, (self._instructions, dict(self._labels), self._source_lines, self._source)

    def __repr__(self) -> str:
        return f"<Program: {len(self)} instructions, {len(self._labels)} labels>"

    def validate(self) -> "Program":
        """Check labels, registers, predicates and immediates; raise ``ProgramError``.

        Returns ``self`` so calls can chain.  The result is cached.
        """
        if self._validated:
            return self
        n = len(self._instructions)
        for name, index in self._labels.items():
            if not isinstance(name, str) or not name:
                raise ProgramError(f"invalid label name {show(name)}")
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= n:
                raise ProgramError(f"label {show(name)} points at {show(index)}, outside 0..{n}")
        labels = self._labels
        quick = _QUICK_VALID
        for pc, ins in enumerate(self._instructions):
            if quick[ins.spec.name](ins, labels):
                continue
            for field in ins.spec.fields:
                problem = check_field(ins, field.name, field.kind, getattr(ins, field.name),
                                       self._labels)
                run = ins.spec.register_run
                if problem is None and run is not None and field.name == run[1]:
                    base, count = getattr(ins, run[0]), getattr(ins, run[1])
                    if base + count > 256:
                        problem = f"reduction reads r{base}..r{base + count - 1}, past r255"
                if problem is not None:
                    raise ProgramError(problem, pc=pc, instruction=_safe_text(ins),
                                       source_line=self.source_line(pc))
        self._validated = True
        return self

    def derived(self, key: str, compute: "Callable[[Program], Any]") -> Any:
        """``compute(self)``, computed once per program and key (programs are immutable).

        Analyses of the program (:mod:`simt.isa.flow`) and executors' decoded
        forms are cached here.
        """
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute(self)
            return value

    def registers(self) -> frozenset[int]:
        """Every general register the program names (operands, address and reduction ranges)."""
        if self._registers is not None:
            return self._registers
        regs = set()
        for ins in self._instructions:
            for field in ins.spec.fields:
                value = getattr(ins, field.name)
                if field.kind is Kind.REG:
                    regs.add(value)
                elif field.kind is Kind.ADDR:
                    regs.update(getattr(value, r) for r in type(value).registers)
            run = ins.spec.register_run
            if run is not None:
                base = getattr(ins, run[0])
                regs.update(range(base, base + getattr(ins, run[1])))
        self._registers = frozenset(regs)
        return self._registers

    def to_text(self) -> str:
        """The program as assembly text that :func:`simt.assemble` reads back to an equal program.

        One instruction per line in canonical form, each label as ``name:`` on its own
        line; comments are not kept.
        """
        return disassemble(self)

    def to_json(self) -> str:
        """The program as serde JSON text (the form docs/isa.md describes).

        :meth:`from_json` reads it back to an equal program.

        Raises
        ------
        ProgramError
            If the program is invalid.
        """
        return write_program(self)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> "Program":
        """Load a program from serde JSON text, bytes or the parsed dict.

        Programs exported by hologram's Rust backends load unchanged; a JSON ``null``
        epsilon reads as NaN.

        Raises
        ------
        ProgramError
            For invalid JSON, an invalid structure, or an invalid program; the message
            says where (``instructions[3].ADD.ty: unknown type ...``).
        """
        instructions, labels, valid = read_program(data)
        program = Program(instructions, labels)
        if valid:   # the reader made every check of validate()
            program._validated = True
            return program
        return program.validate()


def _safe_text(ins: Instruction) -> str:
    try:
        text = str(ins)
    except Exception:  # an invalid instruction may not format; show its fields instead
        text = repr(ins)
    return text if len(text) <= 200 else text[:197] + "..."
