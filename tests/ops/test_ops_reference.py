"""The op kernels give bit-identical results on the scalar reference interpreter
(``simt.testing.engines.Reference``: the reference behind the ``simt.Device`` API), which
shares no code with ``simt.machine``: the kernels rely on the ISA contract only (barriers,
shared memory, guards), not on how the vectorized machine happens to schedule them."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt import ops
from simt.testing.engines import Reference
from opscheck import values


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
    same(getattr(ops, name)(*args, device=Reference()), getattr(ops, name)(*args, device=dev))


def test_reference_interpreter_division_by_zero():
    with pytest.raises(simt.DivisionByZeroError):
        ops.div(np.array([1, 2], np.int32), np.array([1, 0], np.int32), device=Reference())
