"""Register-to-register instructions: moves, conversions, arithmetic, logic,
comparisons, transcendentals and reductions.

Each kernel reads its operands (registering tag faults), checks what the REF
checks, commits, then writes; the value semantics live in :mod:`simt.machine.alu`.

Kernels here are *decoders*: ``decode(ins, program)`` resolves the instruction's
fields, types, checks and ALU variant once and returns ``op(step)``, which the
executor calls at every issue.

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
from .. import affine, alu, debug
from ..alu import INT_MAX, INT_MIN, inside, intervals
from ..state import PRED_TAG, owned
from ..step import Op, Step
from ..values import Affine, Const

__all__ = ["DECODERS", "SPAN_FRAME"]



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


def _lanewise(fn: Callable, fields: tuple[str, ...] = ("src1", "src2"),
              compressed: Callable | None = None, check: Callable | None = None,
              types: tuple[DType | None, ...] = ()):
    """A decoder of ``dst = fn(ty, *operands)``, computed lane by lane: the one skeleton
    of every lane-wise instruction.

    ``fn`` is an in-launch ALU form (:data:`simt.machine.alu.inside`).  ``fields``
    names the operand fields; ``types`` fixes an operand's type (shift amounts are
    u32; None or missing: the instruction's ``ty``).  ``compressed``
    (:func:`simt.machine.affine.bind`) gives, at decode time, the rule that may return
    a compressed result for compressed operands; ``check(step, ins, values)``
    registers extra faults (division by zero) before the commit.

    An issue reads every operand with no check to make when it can (``row.fast``),
    else through the checked reads and a commit; computes on scalars when every
    operand is uniform, on arrays otherwise (after ``compressed`` had its chance);
    and writes the result, adopting it as the row's storage when every lane of the
    piece runs.  Two-operand instructions with nothing extra to check are decoded to
    the same steps written out (:func:`_two`), the hottest path of the machine.
    """
    def decode(ins, program) -> Op:
        ty = ins.ty
        rule = None if compressed is None else compressed(ins)
        unsupported = _unsupported(ins)
        sources = [(getattr(ins, f), (types[k] if k < len(types) else None) or ty)
                   for k, f in enumerate(fields)]
        if len(sources) == 2 and unsupported is None and check is None:
            return _two(fn, ins, sources, rule)
        if len(sources) == 1 and unsupported is None and check is None:
            return _one(fn, ins, sources[0], rule)
        fast = [(reg, t.code, t.storage) for reg, t in sources]
        dst, code, dtype = ins.dst, ty.code, ty.storage
        call = debug.alu(fn)

        def op(step: Step) -> None:
            rows, lanes = step.rows, step.lanes
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
                    result = None if rule is None else rule(values, step.lanes, step.width)
                    if result is None:
                        result = call(ty, *[_array(step, v) for v in values])
                    break
            else:
                result = call(ty, *operands)
            if not (step.full and rows[dst].write_all(code, dtype, result)):
                step.write(dst, ty, result)
        return op
    return decode


def _two(fn: Callable, ins, sources, rule: Callable | None) -> Op:
    """:func:`_lanewise`'s issue for two operands, written out.

    The ALU's two-array and two-scalar kernels (:func:`~simt.machine.alu.array_kernel`,
    :func:`~simt.machine.alu.scalar_kernel`) are bound here, once, when they exist.
    """
    ty = ins.ty
    (ra, ta), (rb, tb) = sources
    code_a, code_b, dtype_a, dtype_b = ta.code, tb.code, ta.storage, tb.storage
    dst, code, dtype = ins.dst, ty.code, ty.storage
    on_arrays = alu.array_kernel(fn, ty)
    on_scalars = alu.scalar_kernel(fn, ty) \
        if ta is tb or fn is inside.shl or fn is inside.shr else None
    # f32/f64 add, sub, mul, min, max: the kernel that takes and gives intervals
    # (simt.machine.alu.intervals); add, sub and mul take a scalar that is a number too
    on_intervals = debug.alu(alu.interval_kernel(fn, ty))
    by_scalar = on_intervals if fn in (inside.add, inside.sub, inside.mul) else None
    # f32/f64 add, sub, mul of one register with itself: no NaN check (see same_kernel)
    on_same = debug.alu(alu.same_kernel(fn, ty)) if ra == rb and ta is tb else None
    of_scalar = intervals.of_scalar
    # an integer array kernel takes one scalar operand too (it broadcasts; shift kernels
    # take a u32 amount beside values of the instruction's type)
    integer_arrays = on_arrays is not None and ty.is_int
    # a uniform operand of an integer ufunc goes in as a 0-d array, which NumPy takes
    # faster than a scalar (the same loop and result); the last one is kept, as one
    # tuple read and replaced at once (launches in threads may share the op)
    zero_d = integer_arrays and fn is not inside.shl and fn is not inside.shr
    held = [(None, None)]
    on_arrays, on_scalars, call = debug.alu(on_arrays), debug.alu(on_scalars), debug.alu(fn)
    scalar, scalar_b = ty.scalar, tb.scalar
    ndarray = np.ndarray

    def op(step: Step) -> None:
        rows, lanes = step.rows, step.lanes
        row_a, row_b = rows[ra], rows[rb]
        if step.full and row_a.tag == code_a and row_b.tag == code_b:
            # Row.fast's converged case: the row's whole value (a call costs ~0.1 us)
            a, b = row_a.whole, row_b.whole
            if a is None:
                a = row_a.fast(code_a, dtype_a, lanes)
            if b is None:
                b = row_b.fast(code_b, dtype_b, lanes)
        else:
            a = row_a.fast(code_a, dtype_a, lanes)
            b = row_b.fast(code_b, dtype_b, lanes)
        if a is None or b is None:      # a check to make: the general read
            a = step.read_lin(ra, ta) if a is None else a
            b = step.read_lin(rb, tb) if b is None else b
            if step.faulted:
                step.commit()
        finish(step, a, b, row_a, row_b)

    def finish(step: Step, a, b, row_a, row_b) -> None:
        """The issue after its reads: compute, then write."""
        rows = step.rows
        ka, kb = type(a), type(b)
        interval = None
        if ka is ndarray and kb is ndarray and on_arrays is not None:
            if on_intervals is None:
                result = on_arrays(a, b)
            elif on_same is not None and row_a.interval is None:
                result = on_same(a, b)
            else:
                result, interval = on_intervals(a, b, row_a.interval, row_b.interval)
        else:
            xa = (a if ka is ndarray else a.value if ka is Const
                  else a.uniform())
            xb = (b if kb is ndarray else b.value if kb is Const
                  else b.uniform())
            if xa is None or xb is None:
                result = None if rule is None else rule((a, b), step.lanes, step.width)
                if result is None:
                    xa = _array(step, a) if xa is None else xa
                    xb = _array(step, b) if xb is None else xb
                    ka, kb = type(xa), type(xb)
                    if on_arrays is not None and ka is ndarray and kb is ndarray:
                        result = on_arrays(xa, xb)
                    elif integer_arrays and (ka is ndarray or ka is scalar) \
                            and (kb is ndarray or kb is scalar_b):   # a scalar broadcasts
                        result = on_arrays(xa, xb)
                    else:
                        result = call(ty, _array(step, a), _array(step, b))
            elif type(xa) is scalar:
                if type(xb) is scalar_b and on_scalars is not None:
                    result = on_scalars(xa, xb)
                elif kb is ndarray and integer_arrays:   # an integer ufunc broadcasts
                    if zero_d:
                        last = held[0]
                        if last[0] is not xa:
                            last = held[0] = xa, np.array(xa)
                        xa = last[1]
                    result = on_arrays(xa, xb)
                elif kb is ndarray and by_scalar is not None and xa == xa:
                    result, interval = by_scalar(xa, xb, of_scalar(xa), row_b.interval)
                else:
                    result = call(ty, xa, xb)
            elif ka is ndarray and type(xb) is scalar_b and integer_arrays:
                if zero_d:
                    last = held[0]
                    if last[0] is not xb:
                        last = held[0] = xb, np.array(xb)
                    xb = last[1]
                result = on_arrays(xa, xb)
            elif ka is ndarray and by_scalar is not None and type(xb) is scalar_b and xb == xb:
                result, interval = by_scalar(xa, xb, row_a.interval, of_scalar(xb))
            else:
                result = call(ty, xa, xb)
        if not (step.full and rows[dst].write_all(code, dtype, result, interval)):
            step.write(dst, ty, result, interval)

    # The converged issue of arrays (the usual case at every size) ahead of ``op``: both
    # rows whole (one tag over every lane, the tag's storage dtype) and arrays, or for an
    # integer kernel the second a uniform integer.  The same kernels and write as ``op``;
    # anything else is ``op`` itself (the prefix only looked at the rows).
    if on_arrays is not None and on_intervals is not None:
        def converged(step: Step) -> None:
            rows = step.rows
            row_a, row_b = rows[ra], rows[rb]
            if step.full and row_a.tag == code_a and row_b.tag == code_b:
                a, b = row_a.whole, row_b.whole
                if type(a) is ndarray and type(b) is ndarray:
                    if on_same is not None and row_a.interval is None:
                        result, interval = on_same(a, b), None
                    else:
                        result, interval = on_intervals(a, b, row_a.interval, row_b.interval)
                    if not rows[dst].write_all(code, dtype, result, interval):
                        step.write(dst, ty, result, interval)
                    return
                if a is not None and b is not None:     # whole values: no read to redo
                    finish(step, a, b, row_a, row_b)
                    return
            op(step)
        return converged
    if integer_arrays:
        def converged(step: Step) -> None:
            rows = step.rows
            row_a, row_b = rows[ra], rows[rb]
            if step.full and row_a.tag == code_a and row_b.tag == code_b:
                a, b = row_a.whole, row_b.whole
                if type(a) is ndarray:
                    kb = type(b)
                    if kb is ndarray:
                        result = on_arrays(a, b)
                    elif kb is Affine and b.stride == 0:     # a uniform integer
                        xb = b.uniform()
                        if zero_d:
                            last = held[0]
                            if last[0] is not xb:
                                last = held[0] = xb, np.array(xb)
                            xb = last[1]
                        result = on_arrays(a, xb)
                    elif b is not None:     # a whole value of another form
                        finish(step, a, b, row_a, row_b)
                        return
                    else:
                        op(step)
                        return
                    if not rows[dst].write_all(code, dtype, result):
                        step.write(dst, ty, result)
                    return
                if a is not None and b is not None:     # whole values: no read to redo
                    finish(step, a, b, row_a, row_b)
                    return
            op(step)
        return converged
    return op


def _one(fn: Callable, ins, source, rule: Callable | None) -> Op:
    """:func:`_lanewise`'s issue for one operand (ABS, NEG, NOT, transcendentals), written
    out: the same reads, computation and write with no list of operands."""
    ty = ins.ty
    reg, t = source
    code_a, dtype_a = t.code, t.storage
    dst, code, dtype = ins.dst, ty.code, ty.storage
    call = debug.alu(fn)
    ndarray = np.ndarray

    def op(step: Step) -> None:
        rows, lanes = step.rows, step.lanes
        a = rows[reg].fast(code_a, dtype_a, lanes)
        if a is None:       # a check to make: the general read
            a = step.read_lin(reg, t)
            step.commit()
        kind = type(a)
        if kind is ndarray:
            result = call(ty, a)
        else:
            x = a.value if kind is Const else a.uniform()
            if x is None:   # a compressed operand that is not uniform
                result = None if rule is None else rule((a,), lanes, step.width)
                if result is None:
                    result = call(ty, _array(step, a))
            else:
                result = call(ty, x)
        if not (step.full and rows[dst].write_all(code, dtype, result)):
            step.write(dst, ty, result)
    return op


def _nonzero_divisor(step: Step, ins, values) -> None:
    if not ins.ty.is_int:
        return
    divisor = _scalar(values[1])
    if divisor is None:
        step.fault(_array(step, values[1]) == 0, DivisionByZeroError, "division by zero")
    elif divisor == 0:
        step.fault(None, DivisionByZeroError, "division by zero")


def mov(ins, program) -> Op:
    ty, src, dst = ins.ty, ins.src, ins.dst

    def op(step: Step) -> None:
        value = step.read_lin(src, ty)
        if step.faulted:
            step.commit()
        if owned(value, ty.storage):
            value = value.copy()    # maybe the source row's own array: rows must not share it
        step.write(dst, ty, value, step.rows[src].interval)     # the same values
    return op


def mov_imm(ins, program) -> Op:
    ty, dst = ins.ty, ins.dst
    value = inside.mov_imm(ty, ins.value)      # the immediate never changes: convert it once

    def op(step: Step) -> None:
        step.write(dst, ty, value)
    return op


def cvt(ins, program) -> Op:
    src, dst, rs, rd = ins.src_ty, ins.dst_ty, ins.src, ins.dst
    supported = alu.cvt_supported(src, dst)
    convert = debug.alu(inside.cvt)
    rule = affine.bind(ins)
    # the result's interval (simt.machine.alu.intervals): an integer converted to f32/f64
    # lies within its type's limits; f32 <-> f64 keeps the source row's interval
    largest = intervals.LARGEST.get(dst.storage)
    fixed = refloat = None
    if largest is not None and supported and src.is_int:
        fixed = intervals.of_int_type(INT_MIN[src], INT_MAX[src], largest)
    elif largest is not None and supported and src.storage in intervals.LARGEST:
        refloat = intervals.converted
    if not supported:
        def op(step: Step) -> None:     # REF: rejected before any register is read
            step.fault(None, UnsupportedOperationError, f"CVT from {src.text} to {dst.text}")
            step.commit()
        return op
    code, dtype, scalar = src.code, src.storage, src.scalar
    dst_code, dst_dtype = dst.code, dst.storage
    on_scalar = alu.scalar_converter(src, dst)
    ndarray = np.ndarray

    def op(step: Step) -> None:
        rows, lanes = step.rows, step.lanes
        value = rows[rs].fast(code, dtype, lanes)
        if value is None:       # a check to make: the general read
            value = step.read_lin(rs, src)
            if step.faulted:
                step.commit()
        kind = type(value)
        if kind is ndarray:
            result = convert(src, dst, value)
        else:
            one = value.value if kind is Const else value.uniform()
            if one is not None:
                result = on_scalar(one) if type(one) is scalar else convert(src, dst, one)
            else:
                result = None if rule is None else rule((value,), lanes, step.width)
                if result is None:
                    result = convert(src, dst, _array(step, value))
        interval = fixed if refloat is None else refloat(rows[rs].interval, largest)
        if not (step.full and rows[rd].write_all(dst_code, dst_dtype, result, interval)):
            step.write(rd, dst, result, interval)
    return op


def setcc(ins, program) -> Op:
    ty, cond, ra, rb, dst = ins.ty, ins.cond, ins.src1, ins.src2, ins.dst
    unsupported = _unsupported(ins)
    supported = alu.cond_supported(ty, cond)
    compare = debug.alu(inside.setcc)
    rule = affine.bind(ins)
    if unsupported is None and supported:
        return _setcc(ins, compare, rule)

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
            result = compare(ty, cond, xa, xb)
        else:
            result = None if rule is None else rule((a, b), step.lanes, step.width)
            if result is None:
                result = compare(ty, cond, _array(step, a), _array(step, b))
        step.write_pred(dst, result)
    return op


def _setcc(ins, compare: Callable, rule: Callable | None) -> Op:
    """:func:`setcc`'s issue for a supported type and condition, written out.

    The same results as :func:`~simt.machine.alu.setcc`: two scalars of the type compare
    by its scalar operator, an array with an array or with a uniform value by its
    ufunc (the uniform value as a 0-d array of the storage dtype, as ``setcc`` passes
    it); anything else goes to ``compare`` itself.  A compressed operand that is not
    uniform gets the compressed rule first, as in :func:`setcc`.
    """
    ty, cond, ra, rb, dst = ins.ty, ins.cond, ins.src1, ins.src2, ins.dst
    code, dtype, scalar = ty.code, ty.storage, ty.scalar
    on_arrays = debug.alu(alu.compare_ufunc(cond))
    on_scalars = alu.compare_operator(cond)
    held = [(None, None)]       # the last uniform operand and its 0-d array (see _two)
    boolean = np.dtype(bool)
    ndarray = np.ndarray

    def zero_d(x):
        last = held[0]
        if last[0] is not x:
            last = held[0] = x, np.array(x, dtype)
        return last[1]

    def op(step: Step) -> None:
        rows, lanes = step.rows, step.lanes
        a = rows[ra].fast(code, dtype, lanes)
        b = rows[rb].fast(code, dtype, lanes)
        if a is None or b is None:      # a check to make: the general read
            a = step.read_lin(ra, ty) if a is None else a
            b = step.read_lin(rb, ty) if b is None else b
            if step.faulted:
                step.commit()
        ka, kb = type(a), type(b)
        xa = a if ka is ndarray else a.value if ka is Const else a.uniform()
        xb = b if kb is ndarray else b.value if kb is Const else b.uniform()
        if xa is None or xb is None:
            result = None if rule is None else rule((a, b), lanes, step.width)
            if result is None:
                result = on_arrays(_array(step, a) if xa is None else
                                   xa if ka is ndarray else zero_d(xa),
                                   _array(step, b) if xb is None else
                                   xb if kb is ndarray else zero_d(xb))
        elif ka is ndarray:
            result = on_arrays(xa, xb if kb is ndarray else zero_d(xb))
        elif kb is ndarray:
            result = on_arrays(zero_d(xa), xb)
        elif type(xa) is scalar and type(xb) is scalar:
            result = on_scalars(xa, xb)
        else:
            result = compare(ty, cond, xa, xb)
        # step.write_pred written out (a call costs ~0.1 us an instruction)
        regs = step.regs
        row = regs.preds[dst]
        if not (step.full and type(result) is ndarray and
                row.write_all(PRED_TAG, boolean, result)):
            row.write(lanes, PRED_TAG, boolean, result, regs.n, regs.live, regs.waiting)
    return op


def sel(ins, program) -> Op:
    ty, pred, rt, rf, dst = ins.ty, ins.pred, ins.src_true, ins.src_false, ins.dst
    unsupported = _unsupported(ins)

    def op(step: Step) -> None:
        if unsupported is not None:
            step.fault(None, UnsupportedOperationError, unsupported)
        p = step.read_pred(pred, compressed=True)
        if type(p) is Const:        # one choice for every lane: only that source is read
            value = step.read_lin(rt if p.value else rf, ty)
            step.commit()
            if owned(value, ty.storage):
                value = value.copy()    # maybe a row's own array: rows must not share it
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
    def decode(ins, program) -> Op:
        ty, dst = ins.ty, ins.dst
        base, count = (getattr(ins, f) for f in ins.spec.register_run)
        regs = range(base, base + count)
        unsupported = _unsupported(ins)
        fold = debug.alu(inside.reduce)

        def op(step: Step) -> None:
            if unsupported is not None:
                step.fault(None, UnsupportedOperationError, unsupported)
            rows = [step.read(reg, ty) for reg in regs]
            step.commit()
            step.write(dst, ty, fold(name, ty, rows, step.n))
        return op
    return decode


DECODERS = {
    "MOV": mov, "MOV_IMM": mov_imm, "CVT": cvt, "SETcc": setcc, "SEL": sel,
    "ADD": _lanewise(inside.add, compressed=affine.bind),
    "SUB": _lanewise(inside.sub, compressed=affine.bind),
    "MUL": _lanewise(inside.mul, compressed=affine.bind),
    "DIV": _lanewise(inside.div, compressed=affine.bind, check=_nonzero_divisor),
    "MIN": _lanewise(inside.minimum), "MAX": _lanewise(inside.maximum),
    "AND": _lanewise(inside.and_, compressed=affine.bind), "OR": _lanewise(inside.or_),
    "XOR": _lanewise(inside.xor, compressed=affine.bind),
    "SHL": _lanewise(inside.shl, ("src", "amount"), affine.bind, types=(None, DType.U32)),
    "SHR": _lanewise(inside.shr, ("src", "amount"), affine.bind, types=(None, DType.U32)),
    "ABS": _lanewise(inside.abs_, ("src",)), "NEG": _lanewise(inside.neg, ("src",)),
    "NOT": _lanewise(inside.not_, ("src",)),
    "MAD": _lanewise(inside.mad, ("a", "b", "c")), "FMA": _lanewise(inside.fma, ("a", "b", "c")),
}
DECODERS |= {s.name: _lanewise(lambda ty, x, name=s.name: transcendental(name, ty, x), ("src",))
             for s in SPECS if s.category is Category.TRANSCENDENTAL}
DECODERS |= {s.name: _reduction(s.mnemonic.split(".")[-1]) for s in SPECS
             if s.category is Category.REDUCTION}
#: Every kernel here is lane-wise: computing inactive lanes of a span is harmless
#: (no instruction raises for any value) and their results are never written.
SPAN_FRAME = frozenset(DECODERS)
