"""The Atlas instructions: classes, mirror, neighbours, resonance, phase, BoundMap."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidClassError, OutOfBoundsError
from ...isa import atlas
from ...isa.types import DType
from ..step import Op, Step

__all__ = ["DECODERS"]


def _classes(step: Step) -> np.ndarray:
    """The lanes' resonance class: blockIdx.x mod 96 (docs/semantics.md)."""
    return (step.piece.block_x(step.lanes.indices()) % atlas.CLASSES).astype(np.uint8)


def _check_class(step: Step, c: np.ndarray) -> np.ndarray:
    bad = c >= atlas.CLASSES
    if bad.any():
        step.fault(bad, InvalidClassError,
                   f"invalid class {int(c[int(np.argmax(bad))])} (classes are 0..95)")
    return np.where(bad, 0, c)


def cls_get(ins, program) -> Op:
    dst = ins.dst

    def op(step: Step) -> None:
        step.write(dst, DType.U8, _classes(step))
    return op


def _per_class(field: str, table: np.ndarray, ty: DType):
    """A decoder of ``dst = table[class]``, the class read (and checked) from ``field``."""
    def decode(ins, program) -> Op:
        src, dst = getattr(ins, field), ins.dst

        def op(step: Step) -> None:
            c = _check_class(step, step.read(src, DType.U8))
            step.commit()
            step.write(dst, ty, table[c])
        return op
    return decode


mirror = _per_class("src", atlas.MIRROR, DType.U8)
nbr_count = _per_class("class_", atlas.DEGREE, DType.U32)


def unity_test(ins, program) -> Op:
    dst = ins.dst

    def op(step: Step) -> None:
        c = _classes(step)
        step.write_pred(dst, (c == 1) | (c == 4))
    return op


def nbr_get(ins, program) -> Op:
    src, dst, index = ins.class_, ins.dst, ins.index
    past = index >= atlas.NEIGHBOURS.shape[1]

    def op(step: Step) -> None:
        c = _check_class(step, step.read(src, DType.U8))
        step.commit()
        step.write(dst, DType.U8, np.uint8(0) if past else atlas.NEIGHBOURS[c, index])
    return op


def res_accum(ins, program) -> Op:
    cls, value = ins.class_, ins.value

    def op(step: Step) -> None:
        c = step.read(cls, DType.U8)
        v = step.read(value, DType.F64)
        c = _check_class(step, c)
        step.commit()
        step.piece.accumulate(c, v)
    return op


def phase_get(ins, program) -> Op:
    dst = ins.dst

    def op(step: Step) -> None:
        step.write(dst, DType.U32, step.phases()[step.lanes.sel])
    return op


def phase_adv(ins, program) -> Op:
    delta, modulus = np.uint32(ins.delta), np.uint32(atlas.PHASE_MODULUS)

    def op(step: Step) -> None:
        phase = step.phases()
        phase[step.lanes.sel] = (phase[step.lanes.sel] + delta) % modulus
    return op


def bound_map(ins, program) -> Op:
    cls, page, byte, dst = ins.class_, ins.page, ins.byte, ins.dst

    def op(step: Step) -> None:
        c = step.read(cls, DType.U8)
        p = step.read(page, DType.U8)
        b = step.read(byte, DType.U8)
        _check_class(step, c)
        bad = p >= atlas.PAGES
        if bad.any():
            step.fault(bad, OutOfBoundsError,
                       f"BoundMap page {int(p[int(np.argmax(bad))])} >= {atlas.PAGES}")
        step.commit()
        offset = (c.astype(np.uint64) * np.uint64(atlas.CLASS_BYTES)
                  + p.astype(np.uint64) * np.uint64(atlas.BYTES_PER_PAGE) + b.astype(np.uint64))
        step.write(dst, DType.U64, offset)
    return op


DECODERS = {"ClsGet": cls_get, "MIRROR": mirror, "UnityTest": unity_test,
            "NbrCount": nbr_count, "NbrGet": nbr_get, "ResAccum": res_accum,
            "PhaseGet": phase_get, "PhaseAdv": phase_adv, "BoundMap": bound_map}
