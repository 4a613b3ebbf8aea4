"""Register-to-register instructions: moves, conversions, arithmetic, logic,
comparisons, transcendentals and reductions.

Each kernel reads its operands (registering tag faults), checks what the REF
checks, commits, then writes; the value semantics live in :mod:`simt.machine.alu`.
"""

from __future__ import annotations

import numpy as np

from ...errors import DivisionByZeroError, UnsupportedOperationError
from ...isa.table import SPECS, Category
from ...isa.transcendental import transcendental
from ...isa.types import DType
from .. import affine, alu
from ..step import Step

__all__ = ["KERNELS"]


def _require_type(step: Step, ins) -> None:
    """UnsupportedOperationError for every lane when ``ins.ty`` is outside the spec's types."""
    if ins.ty not in ins.spec.types:
        step.fault(None, UnsupportedOperationError, f"{ins.spec.mnemonic} for type {ins.ty.text}")


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
    result = affine.convert(src, dst, value, step.regs.n)
    if result is None:
        result = alu.cvt(src, dst, _array(step, value))
    step.write(ins.dst, dst, result)


def _array(step: Step, value) -> np.ndarray:
    """A compressed value as an array over the step's lanes (arrays pass through)."""
    return value if isinstance(value, np.ndarray) else value.at(step.lanes)


def _binary(fn):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        a = step.read(ins.src1, ins.ty)
        b = step.read(ins.src2, ins.ty)
        step.commit()
        step.write(ins.dst, ins.ty, fn(ins.ty, a, b))
    return kernel


def _linear(fn, amount: DType | None = None):
    """ADD/SUB/MUL/SHL: keep affine integer operands compressed (:mod:`simt.machine.affine`)."""
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        a = step.read_lin(ins.src1 if amount is None else ins.src, ins.ty)
        b = step.read_lin(ins.src2 if amount is None else ins.amount, amount or ins.ty)
        step.commit()
        result = affine.arith(ins.spec.name, ins.ty, a, b)
        if result is None:
            result = fn(ins.ty, _array(step, a), _array(step, b))
        step.write(ins.dst, ins.ty, result)
    return kernel


def div(step: Step, ins) -> None:
    _require_type(step, ins)
    a = step.read(ins.src1, ins.ty)
    b = step.read(ins.src2, ins.ty)
    if ins.ty.is_int:
        step.fault(b == 0, DivisionByZeroError, "division by zero")
    step.commit()
    step.write(ins.dst, ins.ty, alu.div(ins.ty, a, b))


def _unary(fn):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        a = step.read(ins.src, ins.ty)
        step.commit()
        step.write(ins.dst, ins.ty, fn(ins.ty, a))
    return kernel


def _ternary(fn):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        a = step.read(ins.a, ins.ty)
        b = step.read(ins.b, ins.ty)
        c = step.read(ins.c, ins.ty)
        step.commit()
        step.write(ins.dst, ins.ty, fn(ins.ty, a, b, c))
    return kernel


def _shift(fn):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        a = step.read(ins.src, ins.ty)
        amount = step.read(ins.amount, DType.U32)
        step.commit()
        step.write(ins.dst, ins.ty, fn(ins.ty, a, amount))
    return kernel


def setcc(step: Step, ins) -> None:
    _require_type(step, ins)
    if not alu.cond_supported(ins.ty, ins.cond):
        step.fault(None, UnsupportedOperationError,
                   f"unsigned condition {ins.cond.text} on {ins.ty.text}")
    a = step.read_lin(ins.src1, ins.ty)
    b = step.read_lin(ins.src2, ins.ty)
    step.commit()
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


def _transcendental(name: str):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        x = step.read(ins.src, ins.ty)
        step.commit()
        step.write(ins.dst, ins.ty, transcendental(name, ins.ty, x))
    return kernel


def _reduction(op: str):
    def kernel(step: Step, ins) -> None:
        _require_type(step, ins)
        rows = [step.read(ins.src_base + i, ins.ty) for i in range(ins.count)]
        step.commit()
        step.write(ins.dst, ins.ty, alu.reduce(op, ins.ty, rows, step.n))
    return kernel


KERNELS = {
    "MOV": mov, "MOV_IMM": mov_imm, "CVT": cvt,
    "ADD": _linear(alu.add), "SUB": _linear(alu.sub), "MUL": _linear(alu.mul), "DIV": div,
    "MIN": _binary(alu.minimum), "MAX": _binary(alu.maximum),
    "AND": _binary(alu.and_), "OR": _binary(alu.or_), "XOR": _binary(alu.xor),
    "ABS": _unary(alu.abs_), "NEG": _unary(alu.neg), "NOT": _unary(alu.not_),
    "MAD": _ternary(alu.mad), "FMA": _ternary(alu.fma),
    "SHL": _linear(alu.shl, amount=DType.U32), "SHR": _shift(alu.shr),
    "SETcc": setcc, "SEL": sel,
}
KERNELS |= {s.name: _transcendental(s.name) for s in SPECS if s.category is Category.TRANSCENDENTAL}
KERNELS |= {s.name: _reduction(s.name[len("Reduce"):].lower()) for s in SPECS
            if s.category is Category.REDUCTION}
