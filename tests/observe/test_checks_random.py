"""Random programs of every kind (simt.testing.programs): a checked launch either raises a
CheckError or computes exactly what the unchecked launch computes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

import simt
from simt.testing.engines import device_scalar
from simt.testing.programs import cases


def _run(case, **kw):
    dev = simt.Device()
    buffers = [dev.upload(np.frombuffer(data, np.uint8)) for data in case.buffers]
    for offset, data in case.boundary:
        dev.write(dev.boundary, np.frombuffer(data, np.uint8), offset=offset)
    args = [buffers[a.buffer] if a.buffer is not None else device_scalar(a.ty, a.bits)
            for a in case.args]
    program = case.program_for([b.handle for b in buffers])
    try:
        res = dev.launch(program, grid=case.grid, block=case.block, args=args,
                         shared_bytes=case.shared_bytes, max_steps=case.max_steps, **kw)
        outcome = (res.resonance.tobytes(), res.stats)
    except simt.SimtError as exc:
        outcome = (type(exc), exc.pc, exc.lane)
    memory = [dev.download(b, np.uint8).tobytes() for b in buffers]
    return outcome, memory, dev.download(dev.boundary, np.uint8).tobytes()


@settings(max_examples=150)
@given(cases(max_lanes=128))
def test_checked_launch_is_the_unchecked_one_or_a_check_error(case):
    plain = _run(case)
    for model in ("gpu", "hologram"):
        checked = _run(case, check="all", race_model=model)
        if isinstance(checked[0][0], type) and issubclass(checked[0][0], simt.CheckError):
            continue
        assert checked == plain
