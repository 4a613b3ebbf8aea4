"""Property tests: random shapes, dtypes and values against NumPy (tolerances: see
``opscheck.py``).  Example counts are small to keep the suite fast."""

from __future__ import annotations

import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simt import ops
from opscheck import (ALL12, NUMERIC, SINTS, FLOATS, assert_exact, assert_within, eps,
                      sum_bound)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9)


def arrays(dtype, shape, **kw):
    return hnp.arrays(np.dtype(dtype), shape, **kw)


@st.composite
def pairs(draw, dtypes=NUMERIC):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(SHAPES)
    return draw(arrays(dtype, shape)), draw(arrays(dtype, shape))


BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "minimum": np.fmin,
          "maximum": np.fmax}


@SETTINGS
@given(ab=pairs(), name=st.sampled_from(sorted(BINARY)))
def test_binary(dev, ab, name):
    a, b = ab
    with np.errstate(all="ignore"):
        ref = BINARY[name](a, b)
    assert_exact(getattr(ops, name)(a, b, device=dev), np.asarray(ref))


@SETTINGS
@given(ab=pairs())
def test_div(dev, ab):
    a, b = ab
    if a.dtype.kind in "iu":
        b = np.where(b == 0, np.ones((), b.dtype), b)
        a, b = a.astype(object), b.astype(object)
        q = [abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
             for x, y in zip(a.ravel(), b.ravel())]
        dtype = ab[0].dtype
        ref = np.array([v % (1 << (8 * dtype.itemsize)) for v in q],
                       dtype=f"u{dtype.itemsize}").view(dtype).reshape(a.shape)
        got = ops.div(ab[0], b.astype(dtype), device=dev)
    else:
        with np.errstate(all="ignore"):
            ref = a / b
        got = ops.div(a, b, device=dev)
    assert_exact(got, np.asarray(ref))


@SETTINGS
@given(ab=pairs(SINTS + FLOATS), name=st.sampled_from(["abs", "neg", "relu"]))
def test_unary(dev, ab, name):
    a = ab[0]
    with np.errstate(all="ignore"):
        ref = {"abs": np.abs, "neg": np.negative,
               "relu": lambda x: np.where(x > 0, x, np.zeros((), x.dtype))}[name](a)
    assert_exact(getattr(ops, name)(a, device=dev), np.asarray(ref))


@SETTINGS
@given(ab=pairs(), data=st.data())
def test_clip(dev, ab, data):
    a = ab[0]
    lo, hi = (data.draw(hnp.from_dtype(a.dtype, allow_nan=False)) for _ in range(2))
    ref = np.fmin(np.fmax(a, lo), hi)
    assert_exact(ops.clip(a, lo, hi, device=dev), np.asarray(ref))


@SETTINGS
@given(dtype=st.sampled_from(ALL12), shape=SHAPES, data=st.data())
def test_copy_and_fill(dev, dtype, shape, data):
    raw = data.draw(arrays(np.uint8, (int(np.prod(shape)) * np.dtype(dtype).itemsize,)))
    a = raw.view(dtype).reshape(shape)
    got = ops.copy(a, device=dev)
    assert got.shape == a.shape and got.dtype == a.dtype
    assert got.tobytes() == a.tobytes()
    value = a.reshape(-1)[0] if a.size else np.zeros((), dtype)[()]
    filled = ops.fill(a, value, device=dev)
    assert filled.tobytes() == np.full_like(a, value).tobytes()


moderate = {np.dtype(np.float32): st.one_of(st.floats(-1e6, 1e6, width=32),
                                            st.sampled_from([np.nan, np.inf, -np.inf])),
            np.dtype(np.float64): st.one_of(st.floats(-1e12, 1e12),
                                            st.sampled_from([np.nan, np.inf, -np.inf]))}


@SETTINGS
@given(dtype=st.sampled_from(NUMERIC), shape=SHAPES, data=st.data())
def test_reductions(dev, dtype, shape, data):
    dtype = np.dtype(dtype)
    a = data.draw(arrays(dtype, shape, elements=moderate.get(dtype)))
    s = ops.sum(a, device=dev)
    if dtype.kind in "iu":
        assert type(s) is type(a.sum()) and s == a.sum()
    else:
        with np.errstate(all="ignore"):
            assert_within(s, a.sum(), sum_bound(a, dtype))
    if a.size:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN slice
            lo, hi = np.nanmin(a), np.nanmax(a)
        assert_exact(np.asarray(ops.min(a, device=dev)), np.asarray(lo))
        assert_exact(np.asarray(ops.max(a, device=dev)), np.asarray(hi))


@SETTINGS
@given(dtype=st.sampled_from(FLOATS), shape=hnp.array_shapes(min_dims=1, max_dims=3,
                                                             max_side=12), data=st.data())
def test_softmax(dev, dtype, shape, data):
    x = data.draw(arrays(dtype, shape, elements=st.floats(-50, 50, width=32)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    got = ops.softmax(x, axis=axis, device=dev)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)
    rtol = (math.log2(max(x.shape[axis], 2)) + 8) * eps(dtype)
    assert_within(got, ref, rtol * np.abs(ref) + 4 * float(np.finfo(dtype).smallest_subnormal))


def check_product(got, a, b):
    ref = a @ b
    if a.dtype.kind in "iu":
        assert_exact(got, ref)
    else:
        mag = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
        assert_within(got, ref, 2 * (a.shape[1] + 2) * eps(a.dtype) * mag)


@SETTINGS
@given(dtype=st.sampled_from(NUMERIC), m=st.integers(0, 40), k=st.integers(0, 40),
       n=st.integers(0, 40), data=st.data())
def test_gemm_and_matvec(dev, dtype, m, k, n, data):
    elements = st.floats(-10, 10, width=32) if np.dtype(dtype).kind == "f" else None
    a = data.draw(arrays(dtype, (m, k), elements=elements))
    b = data.draw(arrays(dtype, (k, n), elements=elements))
    x = data.draw(arrays(dtype, (k,), elements=elements))
    check_product(ops.gemm(a, b, device=dev), a, b)
    check_product(ops.matvec(a, x, device=dev), a, x)
