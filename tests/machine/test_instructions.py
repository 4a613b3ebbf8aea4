"""Every data instruction x every accepted type, on edge-value grids, in both engines.

Each case loads operands from a buffer (one combination per lane), runs one
instruction, and stores the result; the vectorized executor and the scalar
reference interpreter must leave identical bytes.  The ALU's own tests check
the values against NumPy, Python ints and ``fractions``; these check that the
executor wires every (instruction, type) to them, with tags, and that the two
independent semantics agree.
"""

from __future__ import annotations

import itertools

import ml_dtypes
import numpy as np
import pytest

import simt
from simt.isa import SPECS
from simt.isa.table import CVT_PAIRS, Category, Condition
from simt.isa.types import DType
from simt.testing.engines import assert_agree, make_case


def edge_values(ty: DType) -> np.ndarray:
    """Edge cases of a type, as its storage dtype."""
    if ty.is_int:
        info = np.iinfo(ty.storage)
        vals = {0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 100, 255, 256, info.max, info.max - 1,
                info.min, info.min + 1, info.max // 2}
        if ty.is_signed_int:
            vals |= {-1, -2, -7, -33, -100}
        return np.array(sorted(v for v in vals if info.min <= v <= info.max), ty.storage)
    ft = ty.numpy
    info = np.finfo(ft)
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-3, info.max, -info.max, info.tiny,
            info.smallest_subnormal, np.inf, -np.inf, np.nan, 7.0, 16777217.0, -1e20]
    return np.array(vals, ft)


def assert_engines_agree(source: str, inputs: list[np.ndarray], out_bytes: int, lanes: int):
    """Run on both engines and assert they agree on everything (memory, resonance, statistics,
    the error and its attributes); return the error as (class, pc, lane), or None."""
    out = assert_agree(make_case(source, [*inputs, bytes(out_bytes)], block=lanes))
    return None if out.error is None else (getattr(simt, out.error[0]), *out.error[1:])


def _load(reg: int, ty: DType, buf: int) -> str:
    return f"ldg.{ty.text} r{reg}, [r{buf} + r20]"


PROLOGUE = """
    mov_imm.u32 r21, {shift}
    shl.u64 r20, r255, r21
"""


def _operand_grid(ty: DType, arity: int, limit: int = 400) -> list[np.ndarray]:
    vals = edge_values(ty)
    combos = list(itertools.product(range(len(vals)), repeat=arity))
    step = max(1, len(combos) // limit)
    combos = combos[::step][:limit]
    return [vals[[c[i] for c in combos]] for i in range(arity)]


def _shift(ty: DType) -> int:
    return {1: 0, 2: 1, 4: 2, 8: 3}[ty.size]


def _cases():
    """(spec, type) for every per-type data instruction; MOV, CVT, reductions as one case each."""
    for spec in SPECS:
        if spec.name in ("SETcc", "SEL"):       # test_setcc_and_sel_match_reference
            continue
        if spec.category in (Category.ARITHMETIC, Category.LOGIC, Category.TRANSCENDENTAL):
            for ty in sorted(spec.types, key=lambda t: t.value):
                yield pytest.param(spec, ty, id=f"{spec.name}.{ty.text}")
        elif spec.name in ("MOV", "CVT") or spec.category is Category.REDUCTION:
            yield pytest.param(spec, None, id=spec.name)


BINARY = {"ADD", "SUB", "MUL", "DIV", "MIN", "MAX", "AND", "OR", "XOR"}
UNARY = {"ABS", "NEG", "NOT"} | {s.name for s in SPECS if s.category is Category.TRANSCENDENTAL}


@pytest.mark.parametrize("spec,ty", list(_cases()))
def test_instruction_matches_reference(spec, ty):
    name = spec.name
    if name in BINARY or name in UNARY or name in ("MAD", "FMA"):
        arity = 1 if name in UNARY else 3 if name in ("MAD", "FMA") else 2
        ops = _operand_grid(ty, arity)
        if name == "DIV" and ty.is_int:
            keep = ops[1] != 0
            ops = [o[keep] for o in ops]
        n = ops[0].size
        loads = "\n".join(_load(10 + i, ty, i) for i in range(arity))
        regs = ", ".join(f"r{10 + i}" for i in range(arity))
        body = f"{spec.head.format(ty=ty.text)} r30, {regs}\nstg.{ty.text} [r{arity} + r20], r30"
        src = PROLOGUE.format(shift=_shift(ty)) + loads + "\n" + body
        assert assert_engines_agree(src, ops, n * ty.size, n) is None
    elif name in ("SHL", "SHR"):
        vals = edge_values(ty)
        amounts = np.array([0, 1, 3, ty.bits - 1, ty.bits, ty.bits + 1, 2 * ty.bits + 1, 255,
                            256, 2**31, 2**32 - 1], np.uint32)
        a = np.repeat(vals, amounts.size)
        s = np.tile(amounts, vals.size)
        n = a.size
        src = (PROLOGUE.format(shift=_shift(ty)) + _load(10, ty, 0) + "\n"
               + "mov_imm.u32 r22, 2\nshl.u64 r23, r255, r22\nldg.u32 r11, [r1 + r23]\n"
               + f"{name.lower()}.{ty.text} r30, r10, r11\nstg.{ty.text} [r2 + r20], r30")
        assert assert_engines_agree(src, [a, s], n * ty.size, n) is None
    elif name in ("MOV",):
        for t in DType:
            vals = np.arange(256, dtype=np.uint64).astype(t.storage) if t.is_int else \
                np.arange(256, dtype=np.uint16).view(t.storage) if t.size == 2 else \
                edge_values(t)
            n = vals.size
            src = (PROLOGUE.format(shift=_shift(t)) + _load(10, t, 0)
                   + f"\nmov.{t.text} r11, r10\nstg.{t.text} [r1 + r20], r11")
            assert assert_engines_agree(src, [vals], n * t.size, n) is None
    elif name == "CVT":
        for src_ty, dst_ty in sorted(CVT_PAIRS, key=lambda p: (p[0].value, p[1].value)):
            vals = edge_values(src_ty) if src_ty.size != 2 or src_ty.is_int else \
                np.arange(0, 65536, 97, dtype=np.uint16)
            n = vals.size
            src = (PROLOGUE.format(shift=_shift(src_ty)) + _load(10, src_ty, 0)
                   + f"\ncvt.{dst_ty.text}.{src_ty.text} r11, r10\n"
                   + f"mov_imm.u32 r21, {_shift(dst_ty)}\nshl.u64 r20, r255, r21\n"
                   + f"stg.{dst_ty.text} [r1 + r20], r11")
            assert assert_engines_agree(src, [vals], n * dst_ty.size, n) is None
    else:   # reductions: fold 0..4 consecutive registers
        op = name[len("Reduce"):].lower()
        for t in sorted(spec.types, key=lambda t: t.value):
            ops = _operand_grid(t, 4, limit=300)
            n = ops[0].size
            loads = "\n".join(_load(10 + i, t, i) for i in range(4))
            for count in range(5):
                src = (PROLOGUE.format(shift=_shift(t)) + loads
                       + f"\nreduce.{op}.{t.text} r30, r10, {count}\n"
                       + f"stg.{t.text} [r4 + r20], r30")
                assert assert_engines_agree(src, ops, n * t.size, n) is None


@pytest.mark.parametrize("ty", sorted(SPECS[23].types, key=lambda t: t.value),
                         ids=lambda t: t.text)
def test_setcc_and_sel_match_reference(ty):
    ops = _operand_grid(ty, 2)
    n = ops[0].size
    for cond in Condition:
        src = (PROLOGUE.format(shift=_shift(ty)) + _load(10, ty, 0) + "\n" + _load(11, ty, 1)
               + f"\nset{cond.text}.{ty.text} p3, r10, r11\n"
               + f"sel.{ty.text} r12, p3, r10, r11\nstg.{ty.text} [r2 + r20], r12")
        err = assert_engines_agree(src, ops, n * ty.size, n)
        unsigned_only = cond.value >= 6 and not ty.is_unsigned
        assert (err is not None and err[0] is simt.UnsupportedOperationError) == unsigned_only


def test_integer_division_by_zero_in_both_engines():
    a = np.array([5, 6, 7, 8], np.int32)
    b = np.array([1, 2, 0, 0], np.int32)
    src = (PROLOGUE.format(shift=2) + _load(10, DType.I32, 0) + "\n" + _load(11, DType.I32, 1)
           + "\ndiv.i32 r12, r10, r11\nstg.i32 [r2 + r20], r12")
    err = assert_engines_agree(src, [a, b], 16, 4)
    assert err == (simt.DivisionByZeroError, 4, 2)


def test_literal_edge_cases_through_the_executor():
    """A few contract edge cases spelled out as literal expectations."""
    dev = simt.Device()
    out = dev.alloc(64)
    cases = [
        ("mov_imm.i32 r1, -2147483648\nmov_imm.i32 r2, -1\ndiv.i32 r3, r1, r2", "i32",
         -2**31),
        ("mov_imm.u8 r1, 200\nmov_imm.u8 r2, 100\nadd.u8 r3, r1, r2", "u8", 44),
        ("mov_imm.u8 r1, 3\nmov_imm.u32 r2, 9\nshl.u8 r3, r1, r2", "u8", 6),
        ("mov_imm.i16 r1, -16\nmov_imm.u32 r2, 18\nshr.i16 r3, r1, r2", "i16", -4),
        ("mov_imm.f32 r1, nan\nmov_imm.f32 r2, 2.5\nmin.f32 r3, r1, r2", "f32", 2.5),
        ("mov_imm.f32 r1, 1e30\ncvt.i32.f32 r3, r1", "i32", 2**31 - 1),
        ("mov_imm.f64 r1, nan\ncvt.u64.f64 r3, r1", "u64", 0),
        ("mov_imm.f32 r1, -1.5\ncvt.u32.f32 r3, r1", "u32", 0),
        ("mov_imm.i32 r1, 16777217\ncvt.f32.i32 r3, r1", "f32", 16777216.0),
        ("mov_imm.u64 r1, 9007199254740993\ncvt.f64.u64 r3, r1", "f64", 9007199254740992.0),
        ("mov_imm.f32 r1, 1.0\ncvt.bf16.f32 r3, r1", "bf16", 1.0),
    ]
    for body, ty, expected in cases:
        dev.launch(simt.assemble(body + f"\nstg.{ty} [r0 + 0], r3"), args=(out,))
        got = dev.download(out, ty, count=1)[0]
        assert got == np.array(expected, dtype=dev.download(out, ty, count=1).dtype), body
    assert ml_dtypes.bfloat16(1.0) == dev.download(out, "bf16", count=1)[0]
