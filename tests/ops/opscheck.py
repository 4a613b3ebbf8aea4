"""Shared data and comparisons for the simt.ops tests.

Tolerances (justified once here, used by every ops test module)
----------------------------------------------------------------
``eps`` is the machine epsilon of the dtype (float32: 1.19e-7, float64: 2.22e-16).

* Single IEEE operations (add sub mul div min max abs neg relu clip scalar_* copy fill):
  **exact**.  The kernel performs the same one correctly rounded operation in the same
  type as NumPy, so results agree bit for bit (NaN payloads and the sign of a zero
  returned by min/max aside; ``assert_array_equal`` treats NaN == NaN and 0 == -0).
  Integers are always exact (wrapping like NumPy).
* Transcendentals (sigmoid tanh): ``rtol = 4 eps``.  The ISA computes float32
  transcendentals in float64 and rounds once; NumPy's float32 libm may be 1-2 ulp off.
* gelu: ``|got - ref| <= 8 eps (|ref| + |x|)``.  ``1 + tanh(v)`` cancels for large negative
  ``x``: one ulp of tanh (~eps) becomes an absolute error of ``0.5 |x| eps`` in the result.
* Sums (sum, the losses' means): ``|got - ref| <= 2 (d + 2) eps sum|x_i|`` with the tree
  depth ``d = log2(n) + REDUCE_ITEMS``.  Any summation whose additions form a tree of depth
  ``d`` errs by at most ``d eps sum|x_i|`` (Higham, Accuracy and Stability, §4.2); ours folds
  REDUCE_ITEMS elements per lane then a binary tree, NumPy's pairwise sum is another tree of
  at most that depth; the difference of the two is bounded by the sum of both bounds.
  The losses add a few ulp per term (log), covered by the ``+ 2``.
* Dot products (matvec gemm): ``|got - ref| <= 2 (K + 2) eps (|a| @ |b|)``: the bound
  ``K eps sum|a_k b_k|`` of a sequential dot product (ours) plus that of NumPy's BLAS.
* softmax: ``rtol = (log2(L) + 8) eps`` per element: exp differs by ~1 ulp, the row sum by
  the summation bound above (ours accumulates in float64, NumPy pairwise in the dtype),
  and the division rounds once; plus 4 subnormal ulps where exp underflows.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from simt.ops import _kernels

SIZES = (0, 1, 31, 32, 33, 255, 256, 257, 3071, 3072, 3073, 100003)
SMALL_SIZES = SIZES[:-1]
SINTS = (np.int8, np.int16, np.int32, np.int64)
UINTS = (np.uint8, np.uint16, np.uint32, np.uint64)
INTS = SINTS + UINTS
FLOATS = (np.float32, np.float64)
NUMERIC = INTS + FLOATS
ALL12 = NUMERIC + (np.float16, ml_dtypes.bfloat16)


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def values(n: int, dtype, seed: int = 0, *, special: bool = True, scale: float = 4.0
           ) -> np.ndarray:
    """``n`` values of ``dtype``: random, plus (when ``special``) NaN, +-inf, 0, -0 and
    negatives for floats, the extremes, 0 and -1 for integers, at random positions."""
    rng = np.random.default_rng(seed * 1000 + n)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        out = rng.integers(info.min, info.max, size=n, endpoint=True, dtype=dtype)
        specials = [info.min, info.max, 0, 1] + ([-1] if dtype.kind == "i" else [])
    else:
        out = (rng.standard_normal(n) * scale).astype(dtype)
        specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.5]
    if special and n:
        k = min(n, len(specials))
        out[rng.choice(n, size=k, replace=False)] = np.array(specials[:k], dtype=dtype)
    return out


def assert_exact(got: np.ndarray, ref: np.ndarray) -> None:
    """Same shape, dtype and values (NaN == NaN)."""
    ref = np.asarray(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    if got.dtype.itemsize == 2 and got.dtype.kind not in "iu":   # float16, bfloat16
        got, ref = got.astype(np.float32), ref.astype(np.float32)
    np.testing.assert_array_equal(got, ref)


def assert_within(got, ref, bound) -> None:
    """Same shape and dtype; NaN where ``ref`` is NaN, equal infinities, and
    ``|got - ref| <= bound`` elsewhere (``bound`` broadcasts)."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    g, r = got.astype(np.float64), ref.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg="NaN positions differ")
    inf = np.isinf(r)
    np.testing.assert_array_equal(g[inf], r[inf], err_msg="infinities differ")
    finite = np.isfinite(r)
    with np.errstate(invalid="ignore"):
        err = np.abs(g - r)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), r.shape)
    bad = finite & ~(err <= bound)
    assert not bad.any(), (f"{bad.sum()} elements off: e.g. got {g[bad][:3]}, "
                           f"ref {r[bad][:3]}, bound {bound[bad][:3]}")


def sum_bound(x: np.ndarray, dtype) -> float:
    """Tolerance of a float sum of ``x`` (see the module docstring)."""
    n = max(x.size, 2)
    depth = math.log2(n) + _kernels.REDUCE_ITEMS
    mag = np.nansum(np.abs(x.astype(np.float64)[np.isfinite(x)]))
    return 2 * (depth + 2) * eps(dtype) * mag
