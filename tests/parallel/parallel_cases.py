"""Helpers of the parallel-launch tests: run a case on a device, compare outcomes exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import simt
from simt.isa import DType
from simt.testing.programs import Case

PIECE = 65_536


@dataclass
class Result:
    """Everything a launch leaves that must be bit-identical."""

    buffers: tuple[bytes, ...]
    boundary: bytes
    resonance: bytes | None
    stats: dict | None
    error: simt.SimtError | None

    def key(self) -> tuple:
        error = None
        if self.error is not None:
            e = self.error
            error = (type(e).__name__, str(e), tuple(sorted(
                (k, repr(v)) for k, v in vars(e).items())))
        return (self.buffers, self.boundary, self.resonance, self.stats, error)


def scalar(ty: DType, bits: int):
    return np.array([bits], np.uint64).view(np.uint8)[:ty.size].view(ty.storage)[0]


def run(dev: simt.Device, case: Case) -> Result:
    """Run ``case`` on ``dev`` (fresh buffers); everything it left."""
    buffers = [dev.upload(np.frombuffer(data, np.uint8)) for data in case.buffers]
    for offset, data in case.boundary:
        dev.write(dev.boundary, np.frombuffer(data, np.uint8), offset=offset)
    args = [buffers[a.buffer] if a.buffer is not None else scalar(a.ty, a.bits)
            for a in case.args]
    program = case.program_for([b.handle for b in buffers])
    res = error = None
    try:
        res = dev.launch(program, grid=case.grid, block=case.block, args=args,
                         shared_bytes=case.shared_bytes, max_steps=case.max_steps)
    except simt.SimtError as exc:
        error = exc
    memory = tuple(dev.download(b, np.uint8).tobytes() for b in buffers)
    boundary = dev.download(dev.boundary, np.uint8).tobytes()
    for b in buffers:
        dev.free(b)
    if res is None:
        return Result(memory, boundary, None, None, error)
    return Result(memory, boundary, res.resonance.tobytes(), res.stats.as_dict(), None)


def assert_identical(case: Case, devices: tuple[simt.Device, simt.Device]) -> None:
    """Run ``case`` on a parallel device and its serial twin (same allocation history, so
    the same buffer handles) and compare everything."""
    got, want = run(devices[0], case), run(devices[1], case)
    a, b = got.key(), want.key()
    if a == b:
        return
    names = ("buffers", "boundary", "resonance", "stats", "error")
    differ = [n for n, x, y in zip(names, a, b) if x != y]
    detail = {n: (x, y) for n, x, y in zip(names, a, b) if n in ("error", "stats") and x != y}
    raise AssertionError(f"parallel launch differs from workers=1 in {differ}: {detail}\n"
                         f"{case!r}")
