"""Register-to-register instructions: moves, conversions, arithmetic, logic,
comparisons, transcendentals and reductions.

Each kernel reads its operands (registering tag faults), checks what the REF
checks, commits, then writes; the value semantics live in :mod:`simt.machine.alu`.

Operands are read compressed where the register file holds them so.  When every
operand is uniform (one value for all lanes) the instruction is evaluated once,
on scalars, and the result is uniform too: lane-wise semantics applied to equal
inputs give equal outputs.  Affine operands go through :mod:`simt.machine.affine`
first; anything else is computed on arrays.
"""

from __future__ import annotations

import operator
from typing import Callable

import numpy as np

from ...errors import DivisionByZeroError, UnsupportedOperationError
from ...isa.table import SPECS, Category
from ...isa.transcendental import transcendental
from ...isa.types import DType
from .. import affine, alu
from ..step import Step
from ..values import Affine, Const

__all__ = ["KERNELS", "SPAN_FRAME"]


def _require_type(step: Step, ins) -> None:
    """UnsupportedOperationError for every lane when ``ins.ty`` is outside the spec's types."""
    if ins.ty not in ins.spec.types:
        step.fault(None, UnsupportedOperationError, f"{ins.spec.mnemonic} for type {ins.ty.text}")


def _array(step: Step, value) -> np.ndarray:
    """A compressed value as an array over the step's lanes (arrays pass through)."""
    return value if isinstance(value, np.ndarray) else value.at(step.lanes)


def _scalar(value) -> np.generic | None:
    """The single value of a uniform operand, else None."""
    kind = type(value)
    if kind is Const:
        return value.value
    if kind is Affine and value.stride == 0:
        return value.scalar()
    return None


def _lanewise(fn: Callable, sources: tuple[tuple[str, DType | None], ...],
              compressed: Callable | None = None, check: Callable | None = None):
    """A kernel computing ``dst = fn(ty, *sources)`` lane by lane.

    ``sources`` names the operand fields and their types (None: the
    instruction's ``ty``); ``compressed(ins, values)`` may return a compressed
    result for affine operands; ``check(step, ins, values)`` registers extra
    faults (division by zero) before the commit.
    """
    def kernel(step: Step, ins) -> None:
        if ins.ty not in ins.spec.types:
            _require_type(step, ins)
        values = [step.read_lin(getattr(ins, field), ty or ins.ty) for field, ty in sources]
        if check is not None:
            check(step, ins, values)
        step.commit()
        if all(type(v) is np.ndarray for v in values):
            result = fn(ins.ty, *values)
        else:
            scalars = [_scalar(v) for v in values]
            if None not in scalars:
                result = fn(ins.ty, *scalars)
            else:
                result = None if compressed is None else compressed(ins, values)
                if result is None:
                    result = fn(ins.ty, *[_array(step, v) for v in values])
        step.write(ins.dst, ins.ty, result)
    return kernel


def _binary(fn, compressed=None, check=None, fields=("src1", "src2"), second: DType | None = None):
    """``dst = fn(ty, a, b)``: :func:`_lanewise` with its dense and uniform cases spelled out.

    ``fields`` names the two operands; ``second`` fixes the second one's type
    (shift amounts are u32), else it is the instruction's type.
    """
    general = _lanewise(fn, ((fields[0], None), (fields[1], second)), compressed, check)
    operands = operator.attrgetter(*fields)

    def kernel(step: Step, ins) -> None:
        ty = ins.ty
        if check is None and ty in ins.spec.types:
            ra, rb = operands(ins)
            read = step.read_lin
            a = read(ra, ty)
            b = read(rb, second or ty)
            step.commit()
            if type(a) is np.ndarray and type(b) is np.ndarray:
                step.write(ins.dst, ty, fn(ty, a, b))
                return
            sa = _scalar(a)
            sb = None if sa is None else _scalar(b)
            if sb is not None:      # uniform in, uniform out
                step.write(ins.dst, ty, fn(ty, sa, sb))
                return
            result = None if compressed is None else compressed(ins, (a, b))
            if result is None:
                result = fn(ty, _array(step, a), _array(step, b))
            step.write(ins.dst, ty, result)
            return
        general(step, ins)      # extra checks, or an unsupported type
    return kernel


def _unary(fn):
    return _lanewise(fn, (("src", None),))


def _affine_arith(ins, values):
    return affine.arith(ins.spec.name, ins.ty, *values)


def _nonzero_divisor(step: Step, ins, values) -> None:
    if not ins.ty.is_int:
        return
    divisor = _scalar(values[1])
    if divisor is None:
        step.fault(_array(step, values[1]) == 0, DivisionByZeroError, "division by zero")
    elif divisor == 0:
        step.fault(None, DivisionByZeroError, "division by zero")


def mov(step: Step, ins) -> None:
    value = step.read_lin(ins.src, ins.ty)
    step.commit()
    step.write(ins.dst, ins.ty, value)


def mov_imm(step: Step, ins) -> None:
    step.write(ins.dst, ins.ty, alu.mov_imm(ins.ty, ins.value))


def cvt(step: Step, ins) -> None:
    src, dst = ins.src_ty, ins.dst_ty
    if not alu.cvt_supported(src, dst):     # REF: rejected before any register is read
        step.fault(None, UnsupportedOperationError, f"CVT from {src.text} to {dst.text}")
        step.commit()
    value = step.read_lin(ins.src, src)
    step.commit()
    one = _scalar(value)
    if one is not None:
        result = alu.cvt(src, dst, one)
    else:
        result = affine.convert(src, dst, value, step.regs.n)
        if result is None:
            result = alu.cvt(src, dst, _array(step, value))
    step.write(ins.dst, dst, result)


def setcc(step: Step, ins) -> None:
    _require_type(step, ins)
    a = step.read_lin(ins.src1, ins.ty)
    b = step.read_lin(ins.src2, ins.ty)
    if not alu.cond_supported(ins.ty, ins.cond):    # the REF fails when comparing, after reads
        step.fault(None, UnsupportedOperationError,
                   f"unsigned condition {ins.cond.text} on {ins.ty.text}")
    step.commit()
    sa, sb = _scalar(a), _scalar(b)
    if sa is not None and sb is not None:
        result = alu.setcc(ins.ty, ins.cond, sa, sb)
    else:
        result = affine.compare(ins.ty, ins.cond, a, b, step.lanes)
        if result is None:
            result = alu.setcc(ins.ty, ins.cond, _array(step, a), _array(step, b))
    step.write_pred(ins.dst, result)


def sel(step: Step, ins) -> None:
    _require_type(step, ins)
    p = step.read_pred(ins.pred)
    a = step.read(ins.src_true, ins.ty, where=p)
    b = step.read(ins.src_false, ins.ty, where=~p)
    step.commit()
    step.write(ins.dst, ins.ty, np.where(p, a, b))


def _reduction(op: str):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        rows = [step.read(ins.src_base + i, ins.ty) for i in range(ins.count)]
        step.commit()
        step.write(ins.dst, ins.ty, alu.reduce(op, ins.ty, rows, step.n))
    return kernel


KERNELS = {
    "MOV": mov, "MOV_IMM": mov_imm, "CVT": cvt, "SETcc": setcc, "SEL": sel,
    "ADD": _binary(alu.add, _affine_arith), "SUB": _binary(alu.sub, _affine_arith),
    "MUL": _binary(alu.mul, _affine_arith), "DIV": _binary(alu.div, check=_nonzero_divisor),
    "MIN": _binary(alu.minimum), "MAX": _binary(alu.maximum),
    "AND": _binary(alu.and_), "OR": _binary(alu.or_), "XOR": _binary(alu.xor),
    "ABS": _unary(alu.abs_), "NEG": _unary(alu.neg), "NOT": _unary(alu.not_),
    "MAD": _lanewise(alu.mad, (("a", None), ("b", None), ("c", None))),
    "FMA": _lanewise(alu.fma, (("a", None), ("b", None), ("c", None))),
    "SHL": _binary(alu.shl, _affine_arith, fields=("src", "amount"), second=DType.U32),
    "SHR": _binary(alu.shr, fields=("src", "amount"), second=DType.U32),
}
KERNELS |= {s.name: _lanewise(lambda ty, x, name=s.name: transcendental(name, ty, x),
                              (("src", None),))
            for s in SPECS if s.category is Category.TRANSCENDENTAL}
KERNELS |= {s.name: _reduction(s.name[len("Reduce"):].lower()) for s in SPECS
            if s.category is Category.REDUCTION}
#: Every kernel here is lane-wise: computing inactive lanes of a span is harmless
#: (no instruction raises for any value) and their results are never written.
SPAN_FRAME = frozenset(KERNELS)
