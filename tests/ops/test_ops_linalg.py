"""matvec and gemm against NumPy's ``@`` (tolerance: see ``opscheck.py``:
``2 (K + 2) eps (|a| @ |b|)`` for floats; integers exact, wrapping like NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt import ops
from opscheck import FLOATS, NUMERIC, SIZES, assert_exact, assert_within, eps, values


def matrix(shape, dtype, seed, special=False):
    size = int(np.prod(shape))
    return values(size, dtype, seed, special=special, scale=1.0).reshape(shape)


def check(got, a, b):
    with np.errstate(all="ignore"):
        ref = a @ b
    if a.dtype.kind in "iu":
        assert_exact(got, ref)
        return
    k = a.shape[1]
    mag = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    with np.errstate(invalid="ignore"):
        assert_within(got, ref, 2 * (k + 2) * eps(a.dtype) * np.nan_to_num(mag))


@pytest.mark.parametrize("m", SIZES)
def test_matvec_rows(dev, m):
    a, x = matrix((m, 7), np.float32, 1), matrix((7,), np.float32, 2)
    check(ops.matvec(a, x, device=dev), a, x)


@pytest.mark.parametrize("k", SIZES[:-1])
def test_matvec_columns(dev, k):
    a, x = matrix((5, k), np.float64, 3), matrix((k,), np.float64, 4)
    check(ops.matvec(a, x, device=dev), a, x)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_matvec_dtypes(dev, dtype):
    a, x = matrix((33, 17), dtype, 5), matrix((17,), dtype, 6)
    check(ops.matvec(a, x, device=dev), a, x)


@pytest.mark.parametrize("shape", [(1, 1, 1), (16, 16, 16), (17, 15, 33), (33, 31, 17),
                                   (1, 300, 2), (40, 1, 40), (3, 0, 4), (0, 3, 4), (3, 4, 0),
                                   (255, 3, 257)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_gemm_shapes(dev, shape, dtype):
    m, k, n = shape
    a, b = matrix((m, k), dtype, 7), matrix((k, n), dtype, 8)
    got = ops.gemm(a, b, device=dev)
    assert got.shape == (m, n)
    check(got, a, b)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_gemm_dtypes(dev, dtype):
    a, b = matrix((19, 21), dtype, 9), matrix((21, 18), dtype, 10)
    check(ops.gemm(a, b, device=dev), a, b)


def test_gemm_128_f32_relative_error(dev):
    rng = np.random.default_rng(11)
    a = rng.standard_normal((128, 128)).astype(np.float32)
    b = rng.standard_normal((128, 128)).astype(np.float32)
    got = ops.gemm(a, b, device=dev)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert np.linalg.norm(got - ref) / np.linalg.norm(ref) < 1e-6
    assert np.max(np.abs(got - ref)) / np.max(np.abs(ref)) < 1e-4
    check(got, a, b)


@pytest.mark.parametrize("dtype", FLOATS)
def test_linalg_special_values(dev, dtype):
    a, b = matrix((9, 20), dtype, 12, special=True), matrix((20, 11), dtype, 13, special=True)
    check(ops.gemm(a, b, device=dev), a, b)
    check(ops.matvec(a, b[:, 0], device=dev), a, b[:, 0])


def test_linalg_across_chunks(dev, small_chunk):
    a, x = matrix((300, 100), np.float32, 14), matrix((100,), np.float32, 15)
    check(ops.matvec(a, x, device=dev), a, x)             # 256 + 44 rows
    b = matrix((100, 20), np.float32, 16)                 # 19 launches of 16 rows
    check(ops.gemm(a, b, device=dev), a, b)


def test_matvec_many_rows(dev):
    a, x = matrix((100003, 3), np.int32, 17), matrix((3,), np.int32, 18)
    check(ops.matvec(a, x, device=dev), a, x)


def test_linalg_argument_errors(dev):
    f = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError):
        ops.gemm(f, np.zeros((3, 4), np.float32), device=dev)
    with pytest.raises(ValueError):
        ops.matvec(f, np.zeros(3, np.float32), device=dev)
    with pytest.raises(ValueError):
        ops.matvec(f, np.zeros((4, 1), np.float32), device=dev)
    with pytest.raises(TypeError):
        ops.gemm(f, np.zeros((4, 2), np.float64), device=dev)
    with pytest.raises(simt.UnsupportedOperationError, match="gemm"):
        ops.gemm(f.astype(np.float16), np.zeros((4, 2), np.float16), device=dev)


def test_linalg_frees_temporaries(counting):
    ops.gemm(np.ones((5, 6)), np.ones((6, 7)), device=counting)
    ops.matvec(np.ones((5, 6)), np.ones(6), device=counting)
    assert counting.live == set()
