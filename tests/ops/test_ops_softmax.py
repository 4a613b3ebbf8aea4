"""softmax against NumPy's max-subtracted formula (tolerance: see ``opscheck.py``:
``rtol = (log2(L) + 8) eps`` per element), and the acceptance check: rows sum to 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simt
from simt import ops
from opscheck import FLOATS, INTS, SIZES, assert_within, eps, values


def ref_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)


def check(got, x, axis=-1):
    if x.size == 0:                     # NumPy's max has no identity; we give an empty result
        assert got.shape == x.shape and got.dtype == x.dtype
        return
    ref = ref_softmax(x, axis)
    length = x.shape[axis] if x.ndim else 1
    rtol = (math.log2(max(length, 2)) + 8) * eps(x.dtype)
    tiny = 4 * float(np.finfo(x.dtype).smallest_subnormal)     # exp underflowing to subnormals
    assert_within(got, ref, rtol * np.abs(ref.astype(np.float64)) + tiny)


@pytest.mark.parametrize("dtype, size", [(dtype, size) for dtype in FLOATS for size in SIZES
                                          if size < 100000 or dtype == np.float32])
def test_softmax_1d(dev, size, dtype):
    x = values(size, dtype, 1, special=False)
    check(ops.softmax(x, device=dev), x)


@pytest.mark.parametrize("shape, axis", [((7, 33), -1), ((7, 33), 0), ((3, 4, 5), 1),
                                         ((3073, 3), -1), ((5, 1), -1), ((2, 257), 1),
                                         ((4, 0), 0), ((0, 4), -1), ((2, 3, 4, 5), -2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_axes(dev, shape, axis, dtype):
    x = values(int(np.prod(shape)), dtype, 2, special=False).reshape(shape)
    got = ops.softmax(x, axis=axis, device=dev)
    assert got.shape == x.shape and got.flags.c_contiguous
    check(got, x, axis)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_special_values(dev, dtype):
    x = np.array([[1.0, np.nan, 2.0],          # NaN -> NaN row
                  [1.0, -np.inf, 2.0],         # -inf -> 0
                  [-np.inf, -np.inf, -np.inf],  # all -inf -> NaN (max subtraction)
                  [np.inf, 0.0, 1.0],          # +inf -> NaN (inf - inf)
                  [0.0, -0.0, 0.0],
                  [-1e4, 0.0, 1e4]], dtype)
    check(ops.softmax(x, device=dev), x)


@pytest.mark.parametrize("length", [1, 2, 10, 255, 256, 257, 1000, 3073])
def test_softmax_rows_sum_to_one(dev, length):
    x = values(16 * length, np.float32, 3, special=False, scale=10).reshape(16, length)
    y = ops.softmax(x, device=dev)
    np.testing.assert_allclose(y.astype(np.float64).sum(axis=-1), 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("length", [1000, 5000])
def test_softmax_across_chunks(dev, small_chunk, length):
    x = values(5 * length, np.float32, 4).reshape(5, length)
    check(ops.softmax(x, device=dev), x)


@pytest.mark.parametrize("dtype", INTS + (np.float16,))
def test_softmax_needs_float(dev, dtype):
    with pytest.raises(simt.UnsupportedOperationError, match="softmax"):
        ops.softmax(np.zeros(3, dtype), device=dev)


def test_softmax_bad_shapes(dev):
    with pytest.raises(ValueError):
        ops.softmax(np.float32(1.0), device=dev)
    with pytest.raises(ValueError):
        ops.softmax(np.zeros((2, 3), np.float32), axis=2, device=dev)


def test_softmax_frees_temporaries(counting):
    ops.softmax(np.ones((3, 4), np.float64), device=counting)
    assert counting.live == set()
