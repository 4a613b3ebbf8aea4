"""The Atlas instructions: classes, mirror, neighbours, resonance, phase, BoundMap."""

from __future__ import annotations

import numpy as np

from ...errors import InvalidClassError, OutOfBoundsError
from ...isa import atlas
from ...isa.types import DType
from ..step import Step

__all__ = ["KERNELS"]


def _classes(step: Step) -> np.ndarray:
    """The lanes' resonance class: blockIdx.x mod 96 (docs/semantics.md)."""
    return (step.launch.block_x(step.lanes.indices()) % atlas.CLASSES).astype(np.uint8)


def _check_class(step: Step, c: np.ndarray) -> np.ndarray:
    bad = c >= atlas.CLASSES
    if bad.any():
        step.fault(bad, InvalidClassError,
                   f"invalid class {int(c[int(np.argmax(bad))])} (classes are 0..95)")
    return np.where(bad, 0, c)


def cls_get(step: Step, ins) -> None:
    step.write(ins.dst, DType.U8, _classes(step))


def mirror(step: Step, ins) -> None:
    c = _check_class(step, step.read(ins.src, DType.U8))
    step.commit()
    step.write(ins.dst, DType.U8, atlas.MIRROR[c])


def unity_test(step: Step, ins) -> None:
    c = _classes(step)
    step.write_pred(ins.dst, (c == 1) | (c == 4))


def nbr_count(step: Step, ins) -> None:
    c = _check_class(step, step.read(ins.class_, DType.U8))
    step.commit()
    step.write(ins.dst, DType.U32, atlas.DEGREE[c])


def nbr_get(step: Step, ins) -> None:
    c = _check_class(step, step.read(ins.class_, DType.U8))
    step.commit()
    if ins.index >= atlas.NEIGHBOURS.shape[1]:
        step.write(ins.dst, DType.U8, np.uint8(0))
    else:
        step.write(ins.dst, DType.U8, atlas.NEIGHBOURS[c, ins.index])


def res_accum(step: Step, ins) -> None:
    c = step.read(ins.class_, DType.U8)
    v = step.read(ins.value, DType.F64)
    c = _check_class(step, c)
    step.commit()
    step.launch.accumulate(c, v)


def phase_get(step: Step, ins) -> None:
    step.write(ins.dst, DType.U32, step.regs.phases()[step.lanes.sel])


def phase_adv(step: Step, ins) -> None:
    phase = step.regs.phases()
    phase[step.lanes.sel] = (phase[step.lanes.sel] + np.uint32(ins.delta)) % np.uint32(
        atlas.PHASE_MODULUS)


def bound_map(step: Step, ins) -> None:
    c = step.read(ins.class_, DType.U8)
    p = step.read(ins.page, DType.U8)
    b = step.read(ins.byte, DType.U8)
    _check_class(step, c)
    bad = p >= atlas.PAGES
    if bad.any():
        step.fault(bad, OutOfBoundsError,
                   f"BoundMap page {int(p[int(np.argmax(bad))])} >= {atlas.PAGES}")
    step.commit()
    offset = (c.astype(np.uint64) * np.uint64(atlas.CLASS_BYTES)
              + p.astype(np.uint64) * np.uint64(atlas.BYTES_PER_PAGE) + b.astype(np.uint64))
    step.write(ins.dst, DType.U64, offset)


KERNELS = {"ClsGet": cls_get, "MIRROR": mirror, "UnityTest": unity_test, "NbrCount": nbr_count,
           "NbrGet": nbr_get, "ResAccum": res_accum, "PhaseGet": phase_get,
           "PhaseAdv": phase_adv, "BoundMap": bound_map}
