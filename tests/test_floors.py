"""The NumPy floors of ``benchmarks/floors.py`` compute the kernels' results: a floor that
skipped a pass the emulation needs would understate what the targets ask of simt."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import floors


@pytest.fixture
def data() -> np.ndarray:
    rng = np.random.default_rng(3)
    a = rng.standard_normal(floors.PIECE + 1000).astype(np.float32)   # two pieces
    a[::97] = np.float32(-0.0)
    return a


def test_vector_add_floor_adds(data):
    b = data[::-1].copy()
    c = np.empty_like(data)
    floors.vector_add_floor(data, b, c)
    assert np.array_equal(c, data + b)


@pytest.mark.parametrize("random", [True, False])
def test_if_else_floor_selects_each_lanes_path(data, random):
    a = data if random else np.abs(data) + np.float32(1e-3)
    c = np.empty_like(a)
    floors.if_else_floor(a, c, random)
    assert np.array_equal(c.view(np.uint32), np.where(a > 0, a + a, -a).view(np.uint32))


def test_blend_is_a_select_bit_for_bit():
    rng = np.random.default_rng(4)
    mask = rng.random(4096) < 0.5
    x = rng.standard_normal(4096).astype(np.float32)
    y = rng.standard_normal(4096).astype(np.float32)
    x[:8] = np.float32(np.nan)
    expected = np.where(mask, x, y).view(np.uint32)
    out = np.empty_like(y)
    floors._blend(y, x, mask, out=out)
    assert np.array_equal(out.view(np.uint32), expected)
    floors._blend(y, x, mask)
    assert np.array_equal(y.view(np.uint32), expected)
