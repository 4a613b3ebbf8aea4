"""Register-to-register instructions: moves, conversions, arithmetic, logic,
comparisons, transcendentals and reductions.

Each kernel reads its operands (registering tag faults), checks what the REF
checks, commits, then writes; the value semantics live in :mod:`simt.machine.alu`.

Kernels here are *decoders*: ``decode(ins)`` resolves the instruction's fields,
types and checks once and returns ``op(step)``, which the executor calls at
every issue (``KERNELS`` holds the equivalent ``kernel(step, ins)`` forms).

Operands are read compressed where the register file holds them so.  When every
operand is uniform (one value for all lanes) the instruction is evaluated once,
on scalars, and the result is uniform too: lane-wise semantics applied to equal
inputs give equal outputs.  A uniform operand beside arrays is passed as its
scalar, which broadcasts.  Affine operands go through :mod:`simt.machine.affine`
first; anything else is computed on arrays.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...errors import DivisionByZeroError, UnsupportedOperationError
from ...isa.table import SPECS, Category
from ...isa.transcendental import transcendental
from ...isa.types import DType
from .. import affine, alu
from ..step import Step
from ..values import Const

__all__ = ["KERNELS", "DECODERS", "SPAN_FRAME"]

Op = Callable[[Step], None]


def _unsupported(ins) -> str | None:
    """The fault message when ``ins.ty`` is outside the spec's types, else None."""
    if ins.ty in ins.spec.types:
        return None
    return f"{ins.spec.mnemonic} for type {ins.ty.text}"


def _array(step: Step, value) -> np.ndarray:
    """A compressed value as an array over the step's lanes (arrays pass through)."""
    return value if isinstance(value, np.ndarray) else value.at(step.lanes)


def _scalar(value) -> np.generic | None:
    """The single value of a uniform operand, else None."""
    return None if type(value) is np.ndarray else value.uniform()


def _operand(value) -> np.ndarray | np.generic | None:
    """An array operand, or the scalar of a uniform one; None for other compressed values."""
    return value if type(value) is np.ndarray else value.uniform()


def _lanewise(fn: Callable, fields: tuple[str, ...], compressed: Callable | None = None,
              check: Callable | None = None, types: tuple[DType | None, ...] = ()):
    """A decoder of ``dst = fn(ty, *operands)``, computed lane by lane.

    ``fields`` names the operand fields; ``types`` fixes an operand's type
    (shift amounts are u32; None or missing: the instruction's ``ty``).
    ``compressed`` (:func:`simt.machine.affine.bind`) gives, at decode time, the
    rule that may return a compressed result for compressed operands;
    ``check(step, ins, values)`` registers extra faults (division by zero)
    before the commit.
    """
    def decode(ins) -> Op:
        ty = ins.ty
        rule = None if compressed is None else compressed(ins)
        unsupported = _unsupported(ins)
        sources = [(getattr(ins, f), (types[k] if k < len(types) else None) or ty)
                   for k, f in enumerate(fields)]
        fast = [(reg, t.code, t.storage) for reg, t in sources]
        dst, code, dtype = ins.dst, ty.code, ty.storage

        def op(step: Step) -> None:
            rows, lanes = step.regs.regs, step.lanes
            values = [rows[reg].fast(c, d, lanes) for reg, c, d in fast]
            checked = unsupported is None and check is None
            if checked:
                for v in values:
                    if v is None:   # a check to make: the general reads below
                        checked = False
                        break
            if not checked:
                if unsupported is not None:
                    step.fault(None, UnsupportedOperationError, unsupported)
                values = [step.read_lin(reg, t) for reg, t in sources]
                if check is not None:
                    check(step, ins, values)
                step.commit()
            operands = list(map(_operand, values))
            for x in operands:
                if x is None:       # a compressed operand that is not uniform
                    result = None if rule is None else rule(values, step.lanes, step.regs.n)
                    if result is None:
                        result = fn(ty, *[_array(step, v) for v in values])
                    break
            else:
                result = fn(ty, *operands)
            if not (step.full and rows[dst].write_all(code, dtype, result)):
                step.write(dst, ty, result)
        return op
    return decode


def _binary(fn, compressed=None, check=None, fields=("src1", "src2"), second: DType | None = None):
    """:func:`_lanewise` for two operands, with the common case spelled out.

    ``second`` fixes the second operand's type (shift amounts are u32).
    """
    general = _lanewise(fn, fields, compressed, check, (None, second))

    def decode(ins) -> Op:
        ty = ins.ty
        if check is not None or _unsupported(ins) is not None:
            return general(ins)     # extra checks, or an unsupported type
        ra, rb = getattr(ins, fields[0]), getattr(ins, fields[1])
        tb = second or ty
        code_a, code_b, dtype_a, dtype_b = ty.code, tb.code, ty.storage, tb.storage
        dst, code, dtype = ins.dst, ty.code, ty.storage
        on_arrays = alu.array_kernel(fn, ty)
        rule = None if compressed is None else compressed(ins)

        def op(step: Step) -> None:
            rows = step.regs.regs
            a = rows[ra].fast(code_a, dtype_a, step.lanes)
            b = rows[rb].fast(code_b, dtype_b, step.lanes)
            if a is None or b is None:      # a check to make: the general read
                a = step.read_lin(ra, ty) if a is None else a
                b = step.read_lin(rb, tb) if b is None else b
                if step.faulted:
                    step.commit()
            ka, kb = type(a), type(b)
            if ka is np.ndarray and kb is np.ndarray and on_arrays is not None:
                result = on_arrays(a, b)
                if not (step.full and rows[dst].write_all(code, dtype, result)):
                    step.write(dst, ty, result)
                return
            xa = a if ka is np.ndarray else a.value if ka is Const else _scalar(a)
            xb = b if kb is np.ndarray else b.value if kb is Const else _scalar(b)
            if xa is not None and xb is not None:
                result = fn(ty, xa, xb)
            else:
                result = None if rule is None else rule((a, b), step.lanes, step.regs.n)
                if result is None:
                    result = fn(ty, _array(step, a), _array(step, b))
            if not (step.full and rows[dst].write_all(code, dtype, result)):
                step.write(dst, ty, result)
        return op
    return decode


def _nonzero_divisor(step: Step, ins, values) -> None:
    if not ins.ty.is_int:
        return
    divisor = _scalar(values[1])
    if divisor is None:
        step.fault(_array(step, values[1]) == 0, DivisionByZeroError, "division by zero")
    elif divisor == 0:
        step.fault(None, DivisionByZeroError, "division by zero")


def mov(ins) -> Op:
    ty, src, dst = ins.ty, ins.src, ins.dst

    def op(step: Step) -> None:
        value = step.read_lin(src, ty)
        if step.faulted:
            step.commit()
        if type(value) is np.ndarray and value.base is None:
            value = value.copy()    # the source row's own array: the rows must not share it
        step.write(dst, ty, value)
    return op


def mov_imm(ins) -> Op:
    ty, dst = ins.ty, ins.dst
    value = alu.mov_imm(ty, ins.value)      # the immediate never changes: convert it once

    def op(step: Step) -> None:
        step.write(dst, ty, value)
    return op


def cvt(ins) -> Op:
    src, dst, rs, rd = ins.src_ty, ins.dst_ty, ins.src, ins.dst
    supported = alu.cvt_supported(src, dst)
    rule = affine.bind(ins)

    def op(step: Step) -> None:
        if not supported:       # REF: rejected before any register is read
            step.fault(None, UnsupportedOperationError, f"CVT from {src.text} to {dst.text}")
            step.commit()
        value = step.read_lin(rs, src)
        if step.faulted:
            step.commit()
        one = _scalar(value)
        if one is not None:
            result = alu.cvt(src, dst, one)
        else:
            result = None if rule is None else rule((value,), step.lanes, step.regs.n)
            if result is None:
                result = alu.cvt(src, dst, _array(step, value))
        step.write(rd, dst, result)
    return op


def setcc(ins) -> Op:
    ty, cond, ra, rb, dst = ins.ty, ins.cond, ins.src1, ins.src2, ins.dst
    unsupported = _unsupported(ins)
    supported = alu.cond_supported(ty, cond)
    rule = affine.bind(ins)

    def op(step: Step) -> None:
        if unsupported is not None:
            step.fault(None, UnsupportedOperationError, unsupported)
        a = step.read_lin(ra, ty)
        b = step.read_lin(rb, ty)
        if not supported:       # the REF fails when comparing, after reading both sources
            step.fault(None, UnsupportedOperationError,
                       f"unsigned condition {cond.text} on {ty.text}")
        if step.faulted:
            step.commit()
        xa, xb = _operand(a), _operand(b)
        if xa is not None and xb is not None:
            result = alu.setcc(ty, cond, xa, xb)
        else:
            result = None if rule is None else rule((a, b), step.lanes, step.regs.n)
            if result is None:
                result = alu.setcc(ty, cond, _array(step, a), _array(step, b))
        step.write_pred(dst, result)
    return op


def sel(ins) -> Op:
    ty, pred, rt, rf, dst = ins.ty, ins.pred, ins.src_true, ins.src_false, ins.dst
    unsupported = _unsupported(ins)

    def op(step: Step) -> None:
        if unsupported is not None:
            step.fault(None, UnsupportedOperationError, unsupported)
        p = step.read_pred(pred, compressed=True)
        if type(p) is Const:        # one choice for every lane: only that source is read
            value = step.read_lin(rt if p.value else rf, ty)
            step.commit()
            if type(value) is np.ndarray and value.base is None:
                value = value.copy()    # a row's own array: rows must not share it
            step.write(dst, ty, value)
            return
        if not isinstance(p, np.ndarray):
            p = p.at(step.lanes)
        a = step.read(rt, ty, where=p)
        b = step.read(rf, ty, where=~p)
        step.commit()
        step.write(dst, ty, np.where(p, a, b))
    return op


def _reduction(name: str):
    def decode(ins) -> Op:
        ty, dst = ins.ty, ins.dst
        regs = range(ins.src_base, ins.src_base + ins.count)
        unsupported = _unsupported(ins)

        def op(step: Step) -> None:
            if unsupported is not None:
                step.fault(None, UnsupportedOperationError, unsupported)
            rows = [step.read(reg, ty) for reg in regs]
            step.commit()
            step.write(dst, ty, alu.reduce(name, ty, rows, step.n))
        return op
    return decode


def _kernel(decode) -> Callable:
    """The ``kernel(step, ins)`` form of a decoder (for callers that do not decode)."""
    def kernel(step: Step, ins) -> None:
        return decode(ins)(step)
    return kernel


DECODERS = {
    "MOV": mov, "MOV_IMM": mov_imm, "CVT": cvt, "SETcc": setcc, "SEL": sel,
    "ADD": _binary(alu.add, affine.bind), "SUB": _binary(alu.sub, affine.bind),
    "MUL": _binary(alu.mul, affine.bind),
    "DIV": _binary(alu.div, affine.bind, check=_nonzero_divisor),
    "MIN": _binary(alu.minimum), "MAX": _binary(alu.maximum),
    "AND": _binary(alu.and_, affine.bind), "OR": _binary(alu.or_), "XOR": _binary(alu.xor),
    "SHL": _binary(alu.shl, affine.bind, fields=("src", "amount"), second=DType.U32),
    "SHR": _binary(alu.shr, affine.bind, fields=("src", "amount"), second=DType.U32),
    "ABS": _lanewise(alu.abs_, ("src",)), "NEG": _lanewise(alu.neg, ("src",)),
    "NOT": _lanewise(alu.not_, ("src",)),
    "MAD": _lanewise(alu.mad, ("a", "b", "c")), "FMA": _lanewise(alu.fma, ("a", "b", "c")),
}
DECODERS |= {s.name: _lanewise(lambda ty, x, name=s.name: transcendental(name, ty, x), ("src",))
             for s in SPECS if s.category is Category.TRANSCENDENTAL}
DECODERS |= {s.name: _reduction(s.name[len("Reduce"):].lower()) for s in SPECS
             if s.category is Category.REDUCTION}
KERNELS = {name: _kernel(decode) for name, decode in DECODERS.items()}
#: Every kernel here is lane-wise: computing inactive lanes of a span is harmless
#: (no instruction raises for any value) and their results are never written.
SPAN_FRAME = frozenset(KERNELS)
