"""What each instruction does to ONE lane: the :data:`REFERENCE` table.

One small function per instruction, bound to the instruction table by serde
name.  Each takes a :class:`~simt.reference.interp.LaneStep` ``x`` (one lane
executing one instruction) and the instruction ``i``; it reads through ``x``
and records its effects on ``x``.  Nothing is written until the whole step
has passed its checks for every lane, so a function may simply raise at the
first failing check.

The order of reads and checks inside each function IS the "first failing
check in the reference backend's order" of docs/semantics.md (read from the
Rust reference): the type check first (``_accept``), then source registers in
field order, then value checks (division by zero, class range, bounds).
Exceptions to that pattern are spelled out where they occur: SEL reads its
predicate before the type check, SETcc checks an unsigned-only condition
after reading both sources, stores resolve the address before reading the
value, PoolLoad checks its type after the copy.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from ..errors import (CallStackError, DivisionByZeroError, InvalidClassError, OutOfBoundsError,
                      UnsupportedOperationError)
from ..isa.program import Instruction
from ..isa.table import CVT_PAIRS, SPECS
from ..isa.transcendental import NAMES as TRANSCENDENTALS
from ..isa.types import FL, DType
from . import atlas
from . import scalar as num
from .scalar import decode

__all__ = ["REFERENCE", "CALL_DEPTH_LIMIT"]

CALL_DEPTH_LIMIT = 256
Semantics = Callable[[Any, Instruction], None]
REFERENCE: dict[str, Semantics] = {}


def _binds(*names: str):
    """Decorator: register the function for the given serde names."""
    def register(fn: Semantics) -> Semantics:
        for name in names:
            REFERENCE[name] = fn
        return fn
    return register


def _accept(i: Instruction) -> DType:
    """The instruction's type, if its table row accepts it."""
    if i.ty not in i.spec.types:
        raise UnsupportedOperationError(f"{i.spec.name} for type {i.ty.text}")
    return i.ty


# --------------------------------------------------------------------------- data movement

@_binds("LDG", "LDS")
def load(x, i: Instruction) -> None:
    """Resolve the address, check it, write the loaded bits (LDS: shared or as LDG)."""
    where = x.resolve(i.addr)
    x.write(i.dst, i.ty, x.load(where, i.ty.size))


@_binds("STG", "STS")
def store(x, i: Instruction) -> None:
    """Resolve the address, read the value, check the access, store."""
    where = x.resolve(i.addr)
    bits = x.read(i.src, i.ty)
    x.store(where, i.ty.size, bits)


@_binds("MOV")
def mov(x, i: Instruction) -> None:
    x.write(i.dst, i.ty, x.read(i.src, i.ty))


@_binds("MOV_IMM")
def mov_imm(x, i: Instruction) -> None:
    """The low ``bits`` of the u64 immediate (floats: as IEEE bits)."""
    x.write(i.dst, i.ty, i.value & ((1 << i.ty.bits) - 1))


@_binds("CVT")
def cvt(x, i: Instruction) -> None:
    """The pair is checked before the source is read."""
    if (i.src_ty, i.dst_ty) not in CVT_PAIRS:
        raise UnsupportedOperationError(f"CVT from {i.src_ty.text} to {i.dst_ty.text}")
    x.write(i.dst, i.dst_ty, num.convert(x.read(i.src, i.src_ty), i.src_ty, i.dst_ty))


# --------------------------------------------------------------------------- arithmetic

@_binds("ADD")
def add(x, i: Instruction) -> None:
    """Integers wrap; floats round once (NaN operands: see :func:`scalar.binary`)."""
    ty = _accept(i)
    a, b = x.read(i.src1, ty), x.read(i.src2, ty)
    x.write(i.dst, ty, num.binary(ty, operator.add, a, b))


@_binds("SUB")
def sub(x, i: Instruction) -> None:
    ty = _accept(i)
    a, b = x.read(i.src1, ty), x.read(i.src2, ty)
    x.write(i.dst, ty, num.binary(ty, operator.sub, a, b))


@_binds("MUL")
def mul(x, i: Instruction) -> None:
    ty = _accept(i)
    a, b = x.read(i.src1, ty), x.read(i.src2, ty)
    x.write(i.dst, ty, num.binary(ty, operator.mul, a, b))


@_binds("DIV")
def div(x, i: Instruction) -> None:
    """Integers truncate toward zero (``MIN / -1`` wraps to MIN); zero divisor faults.
    Floats are IEEE (``x / 0`` is an infinity or NaN, no fault)."""
    ty = _accept(i)
    a, b = x.read(i.src1, ty), x.read(i.src2, ty)
    if ty in FL:
        x.write(i.dst, ty, num.binary(ty, num.float_div, a, b))
        return
    if b == 0:
        raise DivisionByZeroError("integer division by zero")
    x.write(i.dst, ty, num.binary(ty, _truncating_div, a, b))


def _truncating_div(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


@_binds("MAD")
def mad(x, i: Instruction) -> None:
    """``a*b + c`` with the product rounded to the type first (two roundings)."""
    ty = _accept(i)
    a, b, c = x.read(i.a, ty), x.read(i.b, ty), x.read(i.c, ty)
    product = num.binary(ty, operator.mul, a, b)
    x.write(i.dst, ty, num.binary(ty, operator.add, product, c))


@_binds("FMA")
def fma(x, i: Instruction) -> None:
    """Fused ``a*b + c``, one rounding (exact via Fraction)."""
    ty = _accept(i)
    a, b, c = x.read(i.a, ty), x.read(i.b, ty), x.read(i.c, ty)
    x.write(i.dst, ty, num.fma(a, b, c, ty))


@_binds("MIN", "MAX")
def min_max(x, i: Instruction) -> None:
    """Integers ordinarily; floats ignore a single NaN (see :func:`scalar.fmin_bits`)."""
    ty = _accept(i)
    a, b = x.read(i.src1, ty), x.read(i.src2, ty)
    want_min = i.spec.name == "MIN"
    if ty in FL:
        x.write(i.dst, ty, num.fmin_bits(a, b, ty) if want_min else num.fmax_bits(a, b, ty))
        return
    pick = min if want_min else max
    x.set_value(i.dst, ty, pick(decode(a, ty), decode(b, ty)))


@_binds("ABS")
def abs_(x, i: Instruction) -> None:
    """Signed integers wrap (``abs(MIN) = MIN``); floats clear the sign bit."""
    ty = _accept(i)
    bits = x.read(i.src, ty)
    if ty in FL:
        x.write(i.dst, ty, bits & ~(1 << (ty.bits - 1)))
    else:
        x.set_value(i.dst, ty, abs(decode(bits, ty)))


@_binds("NEG")
def neg(x, i: Instruction) -> None:
    """Signed integers wrap (``-MIN = MIN``); floats flip the sign bit."""
    ty = _accept(i)
    bits = x.read(i.src, ty)
    if ty in FL:
        x.write(i.dst, ty, bits ^ (1 << (ty.bits - 1)))
    else:
        x.set_value(i.dst, ty, -decode(bits, ty))


# --------------------------------------------------------------------------- logic

@_binds("AND")
def and_(x, i: Instruction) -> None:
    ty = _accept(i)
    x.write(i.dst, ty, x.read(i.src1, ty) & x.read(i.src2, ty))


@_binds("OR")
def or_(x, i: Instruction) -> None:
    ty = _accept(i)
    x.write(i.dst, ty, x.read(i.src1, ty) | x.read(i.src2, ty))


@_binds("XOR")
def xor(x, i: Instruction) -> None:
    ty = _accept(i)
    x.write(i.dst, ty, x.read(i.src1, ty) ^ x.read(i.src2, ty))


@_binds("NOT")
def not_(x, i: Instruction) -> None:
    ty = _accept(i)
    x.write(i.dst, ty, x.read(i.src, ty) ^ ((1 << ty.bits) - 1))


@_binds("SHL")
def shl(x, i: Instruction) -> None:
    """The amount register is u32 for every type; it counts modulo the width."""
    ty = _accept(i)
    value = x.value(i.src, ty)
    amount = x.read(i.amount, DType.U32) % ty.bits
    x.set_value(i.dst, ty, value << amount)


@_binds("SHR")
def shr(x, i: Instruction) -> None:
    """Arithmetic for signed types (Python's >> on a signed value), logical for unsigned."""
    ty = _accept(i)
    value = x.value(i.src, ty)
    amount = x.read(i.amount, DType.U32) % ty.bits
    x.set_value(i.dst, ty, value >> amount)


_COMPARE = {
    "EQ": lambda a, b: a == b, "NE": lambda a, b: a != b,
    "LT": lambda a, b: a < b, "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b, "GE": lambda a, b: a >= b,
    "LTU": lambda a, b: a < b, "LEU": lambda a, b: a <= b,
    "GTU": lambda a, b: a > b, "GEU": lambda a, b: a >= b,
}


@_binds("SETcc")
def setcc(x, i: Instruction) -> None:
    """Python comparisons are IEEE ordered (NaN: false, except NE).  The unsigned-only
    conditions are rejected for signed and float types after both reads (the REF
    panics in its compare helper)."""
    ty = _accept(i)
    a, b = x.value(i.src1, ty), x.value(i.src2, ty)
    if i.cond.unsigned_only and not ty.is_unsigned:
        raise UnsupportedOperationError(
            f"unsigned condition {i.cond.text} on {ty.text} (unsigned types only)")
    x.set_pred(i.dst, _COMPARE[i.cond.name](a, b))


@_binds("SEL")
def sel(x, i: Instruction) -> None:
    """Reads the predicate first, then only the selected source."""
    chosen = i.src_true if x.pred(i.pred) else i.src_false
    ty = _accept(i)
    x.write(i.dst, ty, x.read(chosen, ty))


# --------------------------------------------------------------------------- control flow

@_binds("BRA")
def bra(x, i: Instruction) -> None:
    if i.pred is None or x.pred(i.pred):
        x.jump(x.label(i.target))


@_binds("CALL")
def call(x, i: Instruction) -> None:
    """Push the return PC (depth limit 256) and jump."""
    if x.call_depth() >= CALL_DEPTH_LIMIT:
        raise CallStackError(f"call depth would exceed {CALL_DEPTH_LIMIT}")
    x.push_return(x.pc + 1)
    x.jump(x.label(i.target))


@_binds("RET")
def ret(x, i: Instruction) -> None:
    if x.call_depth() == 0:
        raise CallStackError("RET on an empty call stack")
    x.jump(x.pop_return())


@_binds("LOOP")
def loop(x, i: Instruction) -> None:
    """Test, then decrement, then jump."""
    count = x.read(i.count, DType.U32)
    if count > 0:
        x.write(i.count, DType.U32, count - 1)
        x.jump(x.label(i.body))


@_binds("EXIT")
def exit_(x, i: Instruction) -> None:
    x.exit()


@_binds("BarSync")
def bar_sync(x, i: Instruction) -> None:
    """Park the lane at this barrier id; the scheduler releases it."""
    x.park(i.id)


@_binds("MemFence")
def mem_fence(x, i: Instruction) -> None:
    """No effect: lanes of a step are applied in order, nothing is reordered."""


# --------------------------------------------------------------------------- Atlas

def _class(x, reg: int) -> int:
    c = x.read(reg, DType.U8)
    if c >= atlas.CLASSES:
        raise InvalidClassError(f"invalid class {c} (classes are 0..95)")
    return c


@_binds("ClsGet")
def cls_get(x, i: Instruction) -> None:
    """``blockIdx.x mod 96``."""
    x.write(i.dst, DType.U8, x.block_x() % atlas.CLASSES)


@_binds("MIRROR")
def mirror(x, i: Instruction) -> None:
    x.write(i.dst, DType.U8, atlas.mirror(_class(x, i.src)))


@_binds("UnityTest")
def unity_test(x, i: Instruction) -> None:
    """Whether the lane's class (ClsGet) is 1 or 4; epsilon is reserved."""
    x.set_pred(i.dst, atlas.is_unity(x.block_x() % atlas.CLASSES))


@_binds("NbrCount")
def nbr_count(x, i: Instruction) -> None:
    x.write(i.dst, DType.U32, atlas.degree(_class(x, i.class_)))


@_binds("NbrGet")
def nbr_get(x, i: Instruction) -> None:
    """Ascending neighbours; 0 past the degree."""
    found = atlas.neighbours(_class(x, i.class_))
    x.write(i.dst, DType.U8, found[i.index] if i.index < len(found) else 0)


@_binds("ResAccum")
def res_accum(x, i: Instruction) -> None:
    """Both reads, then the class check; the add happens at commit, in lane order."""
    c = x.read(i.class_, DType.U8)
    value = x.value(i.value, DType.F64)
    if c >= atlas.CLASSES:
        raise InvalidClassError(f"invalid class {c} for res.accum (classes are 0..95)")
    x.accumulate(c, value)


@_binds("PhaseGet")
def phase_get(x, i: Instruction) -> None:
    x.write(i.dst, DType.U32, x.phase())


@_binds("PhaseAdv")
def phase_adv(x, i: Instruction) -> None:
    x.set_phase((x.phase() + i.delta) % atlas.PHASE_MODULUS)


@_binds("BoundMap")
def bound_map(x, i: Instruction) -> None:
    """Three u8 reads, then class < 96, then page < 48."""
    c, page, byte = (x.read(r, DType.U8) for r in (i.class_, i.page, i.byte))
    if c >= atlas.CLASSES:
        raise InvalidClassError(f"invalid class {c} for bound.map (classes are 0..95)")
    if page >= atlas.PAGES:
        raise OutOfBoundsError(f"invalid page {page} for bound.map (pages are 0..47)")
    x.write(i.dst, DType.U64, c * atlas.CLASS_BYTES + page * atlas.BYTES_PER_PAGE + byte)


# --------------------------------------------------------------------------- reductions

def _fold(x, i: Instruction, start, step) -> None:
    """Sequential left fold over ``count`` consecutive registers, in register order."""
    ty = _accept(i)
    acc = start(ty)
    for reg in range(i.src_base, i.src_base + i.count):
        acc = step(ty, acc, x.read(reg, ty))
    x.write(i.dst, ty, acc)


def _int_range(ty: DType) -> tuple[int, int]:
    return -(1 << (ty.bits - 1)), (1 << (ty.bits - 1)) - 1


def _zero(ty: DType) -> int:
    return 0


def _one(ty: DType) -> int:
    return num.encode(1.0 if ty in FL else 1, ty)


def _plus_inf_or_max(ty: DType) -> int:
    return num.encode(float("inf") if ty in FL else _int_range(ty)[1], ty)


def _minus_inf_or_min(ty: DType) -> int:
    return num.encode(float("-inf") if ty in FL else _int_range(ty)[0], ty)


def _add_bits(ty, acc, bits):
    return num.binary(ty, operator.add, acc, bits)


def _mul_bits(ty, acc, bits):
    return num.binary(ty, operator.mul, acc, bits)


def _min_bits(ty, acc, bits):
    if ty in FL:
        return num.fmin_bits(acc, bits, ty)
    return num.encode(min(decode(acc, ty), decode(bits, ty)), ty)


def _max_bits(ty, acc, bits):
    if ty in FL:
        return num.fmax_bits(acc, bits, ty)
    return num.encode(max(decode(acc, ty), decode(bits, ty)), ty)


@_binds("ReduceAdd")
def reduce_add(x, i: Instruction) -> None:
    _fold(x, i, _zero, _add_bits)


@_binds("ReduceMul")
def reduce_mul(x, i: Instruction) -> None:
    _fold(x, i, _one, _mul_bits)


@_binds("ReduceMin")
def reduce_min(x, i: Instruction) -> None:
    """Identity MAX / +inf; floats NaN-ignoring."""
    _fold(x, i, _plus_inf_or_max, _min_bits)


@_binds("ReduceMax")
def reduce_max(x, i: Instruction) -> None:
    """Identity MIN / -inf; floats NaN-ignoring."""
    _fold(x, i, _minus_inf_or_min, _max_bits)


# --------------------------------------------------------------------------- transcendentals

def transcendental(x, i: Instruction) -> None:
    """Through the one shared math routine, :func:`simt.isa.transcendental.transcendental`."""
    ty = _accept(i)
    x.write(i.dst, ty, x.shared_math(i.spec.name, ty, x.read(i.src, ty)))


for _name in TRANSCENDENTALS:
    REFERENCE[_name] = transcendental


# --------------------------------------------------------------------------- pools

@_binds("PoolAlloc")
def pool_alloc(x, i: Instruction) -> None:
    """A new zero-filled pool per lane; handles in ascending lane order."""
    x.write(i.dst, DType.U64, x.pool_alloc(i.size))


@_binds("PoolFree")
def pool_free(x, i: Instruction) -> None:
    x.pool_free(x.read(i.handle, DType.U64))


@_binds("PoolLoad")
def pool_load(x, i: Instruction) -> None:
    """Handle and offset, the copy's checks, then the type (f16/bf16 rejected last)."""
    handle = x.read(i.pool, DType.U64)
    offset = x.read(i.offset, DType.U64)
    bits = x.pool_load(handle, offset, i.ty.size)
    ty = _accept(i)
    x.write(i.dst, ty, bits)


@_binds("PoolStore")
def pool_store(x, i: Instruction) -> None:
    """Handle and offset, the type, the value, then the copy's checks."""
    handle = x.read(i.pool, DType.U64)
    offset = x.read(i.offset, DType.U64)
    ty = _accept(i)
    bits = x.read(i.src, ty)
    x.pool_store(handle, offset, ty.size, bits)


assert set(REFERENCE) == {s.name for s in SPECS}, set(s.name for s in SPECS) ^ set(REFERENCE)
