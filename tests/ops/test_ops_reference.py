"""The op kernels give bit-identical results on the scalar reference interpreter
(``simt.reference.ReferenceDevice``), which shares no code with ``simt.machine``: the
kernels rely on the ISA contract only (barriers, shared memory, guards), not on how the
vectorized machine happens to schedule them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import simt
from simt import ops
from simt.isa.types import DType
from simt.ops._kernels import isa_type
from simt.reference import ReferenceDevice
from opscheck import values


@dataclass(frozen=True)
class _Buffer:
    handle: int
    nbytes: int


class OnReference:
    """The part of the :class:`simt.Device` API that simt.ops uses, on a ReferenceDevice."""

    def __init__(self) -> None:
        self.ref = ReferenceDevice()

    def alloc(self, nbytes: int) -> _Buffer:
        return _Buffer(self.ref.alloc(nbytes), nbytes)

    def free(self, buf: _Buffer) -> None:
        self.ref.free(buf.handle)

    def write(self, buf: _Buffer, array, offset: int = 0) -> None:
        self.ref.write(buf.handle, np.ascontiguousarray(array).tobytes(), offset)

    def download(self, buf: _Buffer, dtype, count=None, offset=0) -> np.ndarray:
        dt = np.dtype(dtype)
        nbytes = None if count is None else count * dt.itemsize
        return np.frombuffer(self.ref.read(buf.handle, offset, nbytes), dt).copy()

    def launch(self, program, grid=1, block=1, args=(), shared_bytes=0, max_steps=None):
        pairs = []
        for a in args:
            if isinstance(a, _Buffer):
                pairs.append((DType.U64, a.handle))
            else:
                v = np.asarray(a)
                pairs.append((isa_type(v.dtype), int(v.view(f"u{v.dtype.itemsize}"))))
        return self.ref.launch(program, grid=grid, block=block, args=pairs,
                               shared_bytes=shared_bytes, max_steps=max_steps)


def same(x, y) -> None:
    x, y = np.asarray(x), np.asarray(y)
    assert x.dtype == y.dtype and x.shape == y.shape
    assert x.tobytes() == y.tobytes()


CASES = {
    "add": lambda: (values(300, np.int16, 1), values(300, np.int16, 2)),
    "div": lambda: (values(70, np.float32, 3), values(70, np.float32, 4)),
    "clip": lambda: (values(70, np.float64, 5), -1.0, 2.0),
    "gelu": lambda: (values(70, np.float32, 6),),
    "fill": lambda: (np.zeros(40, np.float16), 1.5),
    "sum": lambda: (values(2100, np.int8, 7),),
    "max": lambda: (values(300, np.float32, 8),),
    "softmax": lambda: (values(3 * 37, np.float32, 9, special=False).reshape(3, 37),),
    "matvec": lambda: (values(60, np.float64, 10, special=False).reshape(6, 10),
                       values(10, np.float64, 11, special=False)),
    "gemm": lambda: (values(18 * 5, np.float32, 12, special=False).reshape(18, 5),
                     values(5 * 17, np.float32, 13, special=False).reshape(5, 17)),
    "binary_cross_entropy": lambda: (np.linspace(0.01, 0.99, 50), np.linspace(1, 0, 50)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reference_interpreter_agrees(dev, name):
    args = CASES[name]()
    same(getattr(ops, name)(*args, device=OnReference()), getattr(ops, name)(*args, device=dev))


def test_reference_interpreter_division_by_zero():
    with pytest.raises(simt.DivisionByZeroError):
        ops.div(np.array([1, 2], np.int32), np.array([1, 0], np.int32), device=OnReference())
