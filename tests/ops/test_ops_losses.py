"""Losses against hologram-ops §1.5 in NumPy, no clamping (tolerance: see ``opscheck.py``:
the summation bound of the per-element terms, divided by N, plus a few ulp)."""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt import ops
from opscheck import FLOATS, INTS, SIZES, assert_within, eps, sum_bound


def terms(name, p, t):
    with np.errstate(all="ignore"):
        if name == "mse":
            return (p - t) ** 2
        if name == "cross_entropy":
            return -(t * np.log(p))
        return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def ref_loss(name, p, t):
    with np.errstate(all="ignore"):
        if name == "mse":
            return np.mean((p - t) ** 2)
        if name == "cross_entropy":
            return -np.mean(t * np.log(p))
        return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def data(n, dtype, seed):
    rng = np.random.default_rng(seed + n)
    return (rng.uniform(0.01, 0.99, n).astype(dtype), rng.uniform(0, 1, n).astype(dtype))


def check(name, got, p, t):
    ref = ref_loss(name, p, t)
    assert type(got) is type(ref)
    n = max(p.size, 1)
    bound = sum_bound(terms(name, p, t), p.dtype) / n + 8 * eps(p.dtype) * abs(float(ref))
    assert_within(got, ref, bound)


LOSSES = ["mse", "cross_entropy", "binary_cross_entropy"]


@pytest.mark.parametrize("name, dtype, size", [
    (name, dtype, size) for name in LOSSES for dtype in FLOATS for size in SIZES[1:]
    if size < 100000 or (dtype == np.float32 and name == "mse")])
def test_losses(dev, name, dtype, size):
    p, t = data(size, dtype, 1)
    check(name, getattr(ops, name)(p, t, device=dev), p, t)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_of_nothing_is_nan(dev, name):
    got = getattr(ops, name)(np.zeros(0, np.float32), np.zeros(0, np.float32), device=dev)
    assert got.dtype == np.float32 and np.isnan(got)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_losses_without_clamping(dev, name, dtype):
    p = np.array([0.0, 0.5, 1.0, 0.25], dtype)
    t = np.array([1.0, 0.5, 0.0, 1.0], dtype)
    check(name, getattr(ops, name)(p, t, device=dev), p, t)     # inf / nan like NumPy
    p2 = np.array([0.0, 0.5], dtype)
    t2 = np.array([0.0, 0.5], dtype)                            # 0 * ln 0 = nan
    check(name, getattr(ops, name)(p2, t2, device=dev), p2, t2)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_special_values(dev, name):
    p = np.array([np.nan, 0.5, 0.7], np.float64)
    t = np.array([0.1, np.inf, -0.0], np.float64)
    check(name, getattr(ops, name)(p, t, device=dev), p, t)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_2d_and_chunks(dev, small_chunk, name):
    p, t = data(3 * small_chunk + 7, np.float64, 2)
    check(name, getattr(ops, name)(p.reshape(-1, 1), t.reshape(-1, 1), device=dev), p, t)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", INTS + (np.float16,))
def test_losses_need_float(dev, name, dtype):
    with pytest.raises(simt.UnsupportedOperationError, match=name):
        getattr(ops, name)(np.ones(3, dtype), np.ones(3, dtype), device=dev)


def test_loss_argument_errors(dev):
    with pytest.raises(ValueError):
        ops.mse(np.zeros(3), np.zeros(4), device=dev)
    with pytest.raises(TypeError):
        ops.mse(np.zeros(3), np.zeros(3, np.float32), device=dev)


def test_losses_free_temporaries(counting):
    p, t = data(1000, np.float32, 3)
    for name in LOSSES:
        getattr(ops, name)(p, t, device=counting)
    assert counting.live == set()
