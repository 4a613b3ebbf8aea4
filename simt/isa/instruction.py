"""Instructions and addresses: the instruction classes made from the table, and field checks.

Instruction classes are generated from :data:`simt.isa.table.SPECS`, one frozen
class per row with the row's fields as attributes (``ins.dst``, ``ins.ty``).
``str(ins)`` is the REF Display text (:mod:`simt.isa.display`).  Equality
compares field values, floats by bit pattern.  :mod:`simt.isa.program` re-exports
every name here.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
import struct
import types as _pytypes
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

from ..errors import ProgramError
from .display import format_instruction
from .table import BY_NAME, SPECS, Condition, Kind, Scope, Spec
from .types import DType

__all__ = ["Address", "BufferOffset", "BUILDERS", "PhiCoordinate", "RegisterIndirect",
           "check_field", "RegisterIndirectComputed", "Shared", "SharedIndirect", "Instruction",
           "INSTRUCTIONS", "ADDRESS_CLASSES", "SHARED_FORMS", "make", "show"]


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

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 40, 40


def show(value: Any) -> str:
    """A short ``repr`` for messages: bounded in length and nesting, whatever the value."""
    try:
        return _SHORT.repr(value)
    except Exception:   # a value whose repr fails or recurses without end
        return f"<{type(value).__name__}>"


def _field_repr(value: Any) -> str:
    """``repr`` of a field value; :func:`show` for one too deep or too long to print."""
    try:
        text = repr(value)
    except RecursionError:
        return show(value)
    return text if len(text) <= 200 else show(value)


def _eq_key(value: Any) -> Any:
    if isinstance(value, float):
        return ("f64", struct.unpack("<Q", struct.pack("<d", value))[0])
    return value


class Instruction:
    """Base class of the generated instruction classes (one per table row).

    Subclasses have ``spec`` (their :class:`~simt.isa.table.Spec`) and one slot
    per field, named as in the JSON form (``ins.ty``, ``ins.dst``, ``ins.src1``).
    Construct with keyword or positional fields in serde order, e.g.
    ``INSTRUCTIONS["ADD"](DType.F32, 0, 1, 2)``.  ``str(ins)`` is its assembly text.
    Instructions are immutable and compare by field values (floats by bit pattern).

    Examples
    --------
    >>> import simt
    >>> ins = simt.assemble("add.f32 r0, r1, r2")[0]
    >>> ins.name, ins.ty, ins.dst, str(ins)
    ('ADD', DType.F32, 0, 'add.f32 r0, r1, r2')
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
        """The instruction's serde name, e.g. ``"ADD"``."""
        return self.spec.name

    def values(self) -> tuple:
        """Field values in serde order."""
        return tuple(getattr(self, n) for n in self.spec.field_names)

    def replace(self, **changes: Any) -> "Instruction":
        """A copy with the given fields changed, e.g. ``ins.replace(dst=5)``."""
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
        return format_instruction(self)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={_field_repr(getattr(self, n))}" for n in self.spec.field_names)
        return f"{self.spec.name}({body})"


def _make_class(spec: Spec) -> type[Instruction]:
    ns = {"__slots__": spec.field_names, "spec": spec, "__doc__": spec.doc}
    return _pytypes.new_class(spec.name, (Instruction,), {}, lambda d: d.update(ns))


INSTRUCTIONS: dict[str, type[Instruction]] = {s.name: _make_class(s) for s in SPECS}


def _builder(cls: type[Instruction]) -> Callable[..., Instruction]:
    """A constructor from field values in serde order that skips the argument checks.

    For decoders that have already produced exactly the values ``cls(*values)``
    would store.
    """
    setters = tuple(getattr(cls, name).__set__ for name in cls.spec.field_names)
    new = object.__new__

    def build(*values: Any) -> Instruction:
        ins = new(cls)
        for store, value in zip(setters, values):
            store(ins, value)
        return ins
    return build


BUILDERS: dict[str, Callable[..., Instruction]] = {name: _builder(cls)
                                                   for name, cls in INSTRUCTIONS.items()}
"""Serde name -> unchecked constructor from field values in serde order (for decoders)."""


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
        return None if isinstance(value, DType) else f"{name} must be a DType, got {show(value)}"
    if kind is Kind.COND:
        return None if isinstance(value, Condition) else f"{name} must be a Condition"
    if kind is Kind.SCOPE:
        return None if isinstance(value, Scope) else f"{name} must be a Scope"
    if kind is Kind.LABEL:
        if not isinstance(value, str):
            return f"{name} must be a label name"
        return None if value in labels else f"undefined label {show(value)}"
    if kind is Kind.ADDR:
        return _check_address(ins, value)
    if kind is Kind.F64:
        return None if isinstance(value, float) else f"{name} must be a float"
    if kind is Kind.OPT_PRED and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{name} must be an int, got {show(value)}"
    limit = kind.limit
    if not 0 <= value < limit:
        what = {Kind.REG: "register", Kind.PRED: "predicate", Kind.OPT_PRED: "predicate"}.get(
            kind, f"{kind.value} immediate {name}")
        prefix = {Kind.REG: "r", Kind.PRED: "p", Kind.OPT_PRED: "p"}.get(kind, "")
        return f"{what} {prefix}{value} out of range (max {limit - 1})"
    return None


_U64_LIMIT = 1 << 64


def _valid_address(addr: Any, shared_ok: bool) -> bool:
    """True when :func:`_check_address` has nothing to say (a quick test of the usual forms)."""
    cls = addr.__class__
    if cls is BufferOffset:
        h, o = addr.handle, addr.offset
        return (h.__class__ is int and o.__class__ is int and 0 <= h < _U64_LIMIT
                and 0 <= o < _U64_LIMIT)
    if cls is RegisterIndirect:
        b, o = addr.base, addr.offset
        return (b.__class__ is int and o.__class__ is int and 0 <= b < 256
                and -(1 << 31) <= o < (1 << 31))
    if cls is RegisterIndirectComputed:
        h, o = addr.handle_reg, addr.offset_reg
        return h.__class__ is int and o.__class__ is int and 0 <= h < 256 and 0 <= o < 256
    if shared_ok and cls is Shared:
        return addr.offset.__class__ is int and 0 <= addr.offset < _U64_LIMIT
    if shared_ok and cls is SharedIndirect:
        return addr.offset_reg.__class__ is int and 0 <= addr.offset_reg < 256
    return False


def _quick_check(kind: Kind) -> Callable[[Any, Mapping[str, int], bool], bool]:
    """A test that implies :func:`check_field` finds nothing wrong (False: ask it)."""
    if kind is Kind.TYPE:
        return lambda v, labels, shared_ok: v.__class__ is DType
    if kind is Kind.COND:
        return lambda v, labels, shared_ok: v.__class__ is Condition
    if kind is Kind.SCOPE:
        return lambda v, labels, shared_ok: v.__class__ is Scope
    if kind is Kind.LABEL:
        return lambda v, labels, shared_ok: v.__class__ is str and v in labels
    if kind is Kind.ADDR:
        return lambda v, labels, shared_ok: _valid_address(v, shared_ok)
    if kind is Kind.F64:
        return lambda v, labels, shared_ok: v.__class__ is float
    limit = kind.limit
    if kind is Kind.OPT_PRED:
        return lambda v, labels, shared_ok: v is None or (v.__class__ is int and 0 <= v < limit)
    return lambda v, labels, shared_ok: v.__class__ is int and 0 <= v < limit


def _quick_validator(spec: Spec) -> Callable[[Instruction, Mapping[str, int]], bool]:
    """True when every field of an instruction of ``spec`` passes (False: check in full)."""
    if spec.register_run is not None:   # a rule across fields: always checked in full
        return lambda ins, labels: False
    names = spec.field_names
    if not names:
        return lambda ins, labels: True
    checks = tuple(_quick_check(f.kind) for f in spec.fields)
    shared_ok = spec.admits_shared
    get = operator.attrgetter(*names) if len(names) > 1 else (
        lambda ins, _n=names[0]: (getattr(ins, _n),))

    def valid(ins: Instruction, labels: Mapping[str, int]) -> bool:
        for check, value in zip(checks, get(ins)):
            if not check(value, labels, shared_ok):
                return False
        return True
    return valid


_QUICK_VALID = {spec.name: _quick_validator(spec) for spec in SPECS}


def _check_address(ins: Instruction, addr: Any) -> str | None:
    if not isinstance(addr, ADDRESS_CLASSES):
        return f"addr must be an Address, got {show(addr)}"
    if isinstance(addr, SHARED_FORMS) and not ins.spec.admits_shared:
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

assert set(INSTRUCTIONS) == set(BY_NAME)
