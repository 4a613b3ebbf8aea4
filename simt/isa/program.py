"""Instructions, addresses and programs: what a program *is*.

Instruction classes are generated from :data:`simt.isa.table.SPECS`, one frozen
class per row with the row's fields as attributes (``ins.dst``, ``ins.ty``).
``str(ins)`` is the REF Display text.  Equality compares field values, floats
by bit pattern.
"""

from __future__ import annotations

import dataclasses
import struct
import types as _pytypes
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping

from ..errors import ProgramError
from .table import BY_NAME, SPECS, Condition, Kind, Scope, Spec
from .types import DType

__all__ = ["Address", "BufferOffset", "PhiCoordinate", "RegisterIndirect", "check_field",
           "RegisterIndirectComputed", "Shared", "SharedIndirect", "Instruction", "Program",
           "INSTRUCTIONS", "make"]


# --------------------------------------------------------------------------- addresses

@dataclass(frozen=True, slots=True)
class BufferOffset:
    """``[buf<handle> + <offset>]``: an immediate buffer handle and byte offset."""
    handle: int
    offset: int
    serde: ClassVar[str] = "BufferOffset"
    registers: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True, slots=True)
class PhiCoordinate:
    """``[Φ(class, page, byte)]``: boundary-pool offset class*12288 + page*256 + byte."""
    class_: int
    page: int
    byte: int
    serde: ClassVar[str] = "PhiCoordinate"
    registers: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True, slots=True)
class RegisterIndirect:
    """``[rB + N]``: handle in u64 register ``base``, absolute byte offset ``offset`` (i32)."""
    base: int
    offset: int
    serde: ClassVar[str] = "RegisterIndirect"
    registers: ClassVar[tuple[str, ...]] = ("base",)


@dataclass(frozen=True, slots=True)
class RegisterIndirectComputed:
    """``[rH + rO]``: handle and byte offset in u64 registers."""
    handle_reg: int
    offset_reg: int
    serde: ClassVar[str] = "RegisterIndirectComputed"
    registers: ClassVar[tuple[str, ...]] = ("handle_reg", "offset_reg")


@dataclass(frozen=True, slots=True)
class Shared:
    """``[shared + N]`` (extension): byte ``offset`` in the block's shared memory."""
    offset: int
    serde: ClassVar[str] = "Shared"
    registers: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True, slots=True)
class SharedIndirect:
    """``[shared + rO]`` (extension): byte offset in a u32 or u64 register."""
    offset_reg: int
    serde: ClassVar[str] = "SharedIndirect"
    registers: ClassVar[tuple[str, ...]] = ("offset_reg",)


Address = (BufferOffset | PhiCoordinate | RegisterIndirect | RegisterIndirectComputed | Shared
           | SharedIndirect)
ADDRESS_CLASSES = (BufferOffset, PhiCoordinate, RegisterIndirect, RegisterIndirectComputed,
                   Shared, SharedIndirect)
SHARED_FORMS = (Shared, SharedIndirect)


# --------------------------------------------------------------------------- instructions

def _eq_key(value: Any) -> Any:
    if isinstance(value, float):
        return ("f64", struct.unpack("<Q", struct.pack("<d", value))[0])
    return value


class Instruction:
    """Base class of the 60 generated instruction classes.

    Subclasses have ``spec`` (their :class:`~simt.isa.table.Spec`) and one slot
    per field.  Construct with keyword or positional fields in serde order,
    e.g. ``INSTRUCTIONS["ADD"](DType.F32, 0, 1, 2)``.
    """

    __slots__ = ()
    spec: ClassVar[Spec]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.spec.field_names
        if len(args) > len(names):
            raise TypeError(f"{self.spec.name} takes {len(names)} fields, got {len(args)}")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{self.spec.name} has no field {key!r}")
            if key in values:
                raise TypeError(f"{self.spec.name} got {key!r} twice")
            values[key] = value
        for name in names:
            if name not in values:
                if self.spec.kind_of(name) is Kind.OPT_PRED:
                    values[name] = None
                else:
                    raise TypeError(f"{self.spec.name} is missing field {name!r}")
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("instructions are immutable")

    def __reduce__(self):
        # the generated classes are not module attributes: rebuild through the table
        return make, (self.spec.name, *self.values())

    @property
    def name(self) -> str:
        return self.spec.name

    def values(self) -> tuple:
        """Field values in serde order."""
        return tuple(getattr(self, n) for n in self.spec.field_names)

    def replace(self, **changes: Any) -> "Instruction":
        values = dict(zip(self.spec.field_names, self.values()))
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instruction):
            return NotImplemented
        return self.spec is other.spec and tuple(map(_eq_key, self.values())) == tuple(
            map(_eq_key, other.values()))

    def __hash__(self) -> int:
        return hash((self.spec.name, tuple(map(_eq_key, self.values()))))

    def __str__(self) -> str:
        from .text import format_instruction
        return format_instruction(self)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.spec.field_names)
        return f"{self.spec.name}({body})"


def _make_class(spec: Spec) -> type[Instruction]:
    ns = {"__slots__": spec.field_names, "spec": spec, "__doc__": spec.doc}
    return _pytypes.new_class(spec.name, (Instruction,), {}, lambda d: d.update(ns))


INSTRUCTIONS: dict[str, type[Instruction]] = {s.name: _make_class(s) for s in SPECS}


def make(name: str, *args: Any, **kwargs: Any) -> Instruction:
    """Build an instruction by serde name: ``make("ADD", DType.F32, 0, 1, 2)``."""
    try:
        cls = INSTRUCTIONS[name]
    except KeyError:
        raise ProgramError(f"unknown instruction {name!r}") from None
    return cls(*args, **kwargs)


# --------------------------------------------------------------------------- validation

def check_field(ins: Instruction, name: str, kind: Kind, value: Any,
                labels: Mapping[str, int]) -> str | None:
    """Return what is wrong with one field value, or None."""
    if kind is Kind.TYPE:
        return None if isinstance(value, DType) else f"{name} must be a DType, got {value!r}"
    if kind is Kind.COND:
        return None if isinstance(value, Condition) else f"{name} must be a Condition"
    if kind is Kind.SCOPE:
        return None if isinstance(value, Scope) else f"{name} must be a Scope"
    if kind is Kind.LABEL:
        if not isinstance(value, str):
            return f"{name} must be a label name"
        return None if value in labels else f"undefined label {value!r}"
    if kind is Kind.ADDR:
        return _check_address(ins, value)
    if kind is Kind.F64:
        return None if isinstance(value, float) else f"{name} must be a float"
    if kind is Kind.OPT_PRED and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{name} must be an int, got {value!r}"
    limit = kind.limit
    if not 0 <= value < limit:
        what = {Kind.REG: "register", Kind.PRED: "predicate", Kind.OPT_PRED: "predicate"}.get(
            kind, f"{kind.value} immediate {name}")
        prefix = {Kind.REG: "r", Kind.PRED: "p", Kind.OPT_PRED: "p"}.get(kind, "")
        return f"{what} {prefix}{value} out of range (max {limit - 1})"
    return None


def _check_address(ins: Instruction, addr: Any) -> str | None:
    if not isinstance(addr, ADDRESS_CLASSES):
        return f"addr must be an Address, got {addr!r}"
    if isinstance(addr, SHARED_FORMS) and ins.spec.name not in ("LDS", "STS"):
        return f"{ins.spec.name} does not accept a shared-memory address"
    limits = {"handle": 1 << 64, "offset": 1 << 64, "class_": 256, "page": 256, "byte": 256}
    for f in (fld.name for fld in dataclasses.fields(addr)):
        value = getattr(addr, f)
        if not isinstance(value, int) or isinstance(value, bool):
            return f"address field {f} must be an int"
        if f in type(addr).registers:
            if not 0 <= value < 256:
                return f"register r{value} out of range (max 255)"
        elif isinstance(addr, RegisterIndirect):
            if not -(1 << 31) <= value < (1 << 31):
                return "RegisterIndirect offset must fit in i32"
        elif not 0 <= value < limits[f]:
            return f"address field {f} out of range"
    return None


# --------------------------------------------------------------------------- programs

class Program:
    """An immutable Atlas program: instructions plus labels.

    Parameters
    ----------
    instructions
        The instructions, in order.
    labels
        Label name -> instruction index (0 .. len inclusive).
    source_lines
        Optional 1-based source line of each instruction (set by the assembler;
        not part of equality).
    """

    __slots__ = ("_instructions", "_labels", "_source_lines", "_validated", "_registers",
                 "_derived")

    def __init__(self, instructions: Iterable[Instruction] = (), labels: Mapping[str, int] | None
                 = None, source_lines: Iterable[int | None] | None = None) -> None:
        self._instructions = tuple(instructions)
        self._labels = _pytypes.MappingProxyType(dict(labels or {}))
        self._source_lines = tuple(source_lines) if source_lines is not None else None
        self._validated = False
        self._registers: frozenset[int] | None = None
        self._derived: dict[str, Any] = {}
        for i, ins in enumerate(self._instructions):
            if not isinstance(ins, Instruction):
                raise ProgramError(f"instruction {i} is not an Instruction: {ins!r}", pc=i)

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        return self._instructions

    @property
    def labels(self) -> Mapping[str, int]:
        return self._labels

    @property
    def source_lines(self) -> tuple[int | None, ...] | None:
        return self._source_lines

    def source_line(self, pc: int) -> int | None:
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
        return Program, (self._instructions, dict(self._labels), self._source_lines)

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
                raise ProgramError(f"invalid label name {name!r}")
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= n:
                raise ProgramError(f"label {name!r} points at {index!r}, outside 0..{n}")
        for pc, ins in enumerate(self._instructions):
            for field in ins.spec.fields:
                problem = check_field(ins, field.name, field.kind, getattr(ins, field.name),
                                       self._labels)
                if problem is None and ins.spec.name.startswith("Reduce") and field.name == "count":
                    if ins.src_base + ins.count > 256:
                        problem = (f"reduction reads r{ins.src_base}..r{ins.src_base + ins.count - 1}"
                                   ", past r255")
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
            if ins.spec.name.startswith("Reduce"):
                regs.update(range(ins.src_base, ins.src_base + ins.count))
        self._registers = frozenset(regs)
        return self._registers

    def to_text(self) -> str:
        """The program in assembly text (REF Display forms plus label lines)."""
        from .text import disassemble
        return disassemble(self)

    def to_json(self) -> str:
        """The program as serde JSON text (atlas-isa.md §11.3)."""
        from .serde import program_to_json
        return program_to_json(self)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> "Program":
        """Load a program from serde JSON text, bytes or the parsed dict."""
        from .serde import program_from_json
        return program_from_json(data)


def _safe_text(ins: Instruction) -> str:
    try:
        return str(ins)
    except Exception:  # an invalid instruction may not format; show its fields instead
        return repr(ins)


assert set(INSTRUCTIONS) == set(BY_NAME)
