"""Element-wise ops against NumPy (tolerances: see ``opscheck.py``; all exact but the
transcendentals)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import simt
from simt import ops
from opscheck import (ALL12, FLOATS, INTS, NUMERIC, SINTS, SIZES, SMALL_SIZES, UINTS,
                      assert_exact, assert_within, eps, values)

BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "minimum": np.fmin,
          "maximum": np.fmax}


def ref_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Floats: IEEE ``a / b``; integers: truncate toward zero, wrap (``MIN / -1 = MIN``)."""
    if a.dtype.kind == "f":
        with np.errstate(all="ignore"):
            return a / b
    bits = 8 * a.dtype.itemsize
    out = []
    for x, y in zip(a.tolist(), b.tolist()):
        q = abs(x) // abs(y)
        q = q if (x < 0) == (y < 0) else -q
        out.append(q % (1 << bits))
    return np.array(out, dtype=f"u{a.dtype.itemsize}").view(a.dtype)


def nonzero(b: np.ndarray) -> np.ndarray:
    b = b.copy()
    b[b == 0] = 1
    return b


# ----------------------------------------------------------------------------- binary

@pytest.mark.parametrize("name, size", [(name, size) for name in BINARY for size in SIZES
                                         if size < 100000 or name in ("add", "maximum")])
def test_binary_sizes_float32(dev, name, size):
    a, b = values(size, np.float32, 1), values(size, np.float32, 2)
    with np.errstate(all="ignore"):
        ref = BINARY[name](a, b)
    assert_exact(getattr(ops, name)(a, b, device=dev), ref)


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_dtypes(dev, name, dtype):
    a, b = values(257, dtype, 3), values(257, dtype, 4)
    with np.errstate(all="ignore"):
        ref = BINARY[name](a, b)
    assert_exact(getattr(ops, name)(a, b, device=dev), ref)


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_div_sizes(dev, size):
    a, b = values(size, np.float64, 5), values(size, np.float64, 6)
    assert_exact(ops.div(a, b, device=dev), ref_div(a, b))


@pytest.mark.parametrize("dtype", NUMERIC)
def test_div_dtypes(dev, dtype):
    a, b = values(300, dtype, 7), values(300, dtype, 8)
    if np.dtype(dtype).kind in "iu":
        b = nonzero(b)
    if np.dtype(dtype).kind == "i":      # include MIN / -1, which wraps to MIN
        info = np.iinfo(dtype)
        a[:3], b[:3] = [info.min, info.min, -7], [-1, 1, 2]
    assert_exact(ops.div(a, b, device=dev), ref_div(a, b))


def test_div_float_by_zero_is_ieee(dev):
    a = np.array([1.0, -1.0, 0.0, np.nan], np.float32)
    got = ops.div(a, np.zeros(4, np.float32), device=dev)
    assert_exact(got, np.array([np.inf, -np.inf, np.nan, np.nan], np.float32))


@pytest.mark.parametrize("dtype", INTS)
def test_div_integer_by_zero_raises(counting, dtype):
    a = np.arange(40).astype(dtype)
    b = np.ones(40, dtype)
    b[33] = 0
    with pytest.raises(simt.DivisionByZeroError):
        ops.div(a, b, device=counting)
    assert counting.live == set(), "temporaries leaked after a faulting kernel"
    assert_exact(ops.div(a, nonzero(b), device=counting), ref_div(a, nonzero(b)))


# ----------------------------------------------------------------------------- unary

@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("name, ref", [("abs", np.abs), ("neg", np.negative)])
def test_abs_neg_sizes(dev, name, ref, size):
    a = values(size, np.float32, 9)
    assert_exact(getattr(ops, name)(a, device=dev), ref(a))


@pytest.mark.parametrize("dtype", SINTS + FLOATS)
@pytest.mark.parametrize("name, ref", [("abs", np.abs), ("neg", np.negative)])
def test_abs_neg_dtypes(dev, name, ref, dtype):
    a = values(257, dtype, 10)            # includes MIN: abs(MIN) = -MIN = MIN (wraps)
    with np.errstate(all="ignore"):
        assert_exact(getattr(ops, name)(a, device=dev), ref(a))


@pytest.mark.parametrize("dtype", UINTS)
@pytest.mark.parametrize("name", ["abs", "neg"])
def test_abs_neg_unsigned_unsupported(dev, name, dtype):
    with pytest.raises(simt.UnsupportedOperationError, match=name):
        getattr(ops, name)(np.arange(5, dtype=dtype), device=dev)


def ref_relu(a: np.ndarray) -> np.ndarray:
    return np.where(a > 0, a, np.zeros((), a.dtype))


@pytest.mark.parametrize("size", SIZES)
def test_relu_sizes(dev, size):
    a = values(size, np.float32, 11)
    assert_exact(ops.relu(a, device=dev), ref_relu(a))


@pytest.mark.parametrize("dtype", NUMERIC)
def test_relu_dtypes(dev, dtype):
    a = values(257, dtype, 12)
    assert_exact(ops.relu(a, device=dev), ref_relu(a))


def test_relu_nan_is_zero(dev):
    got = ops.relu(np.array([np.nan, -np.nan, -np.inf, np.inf, -0.0], np.float64), device=dev)
    assert_exact(got, np.array([0.0, 0.0, 0.0, np.inf, 0.0]))


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_clip_sizes(dev, size):
    a = values(size, np.float32, 13)
    ref = np.fmin(np.fmax(a, np.float32(-1.25)), np.float32(2.5))
    assert_exact(ops.clip(a, -1.25, 2.5, device=dev), ref)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_clip_dtypes(dev, dtype):
    a = values(257, dtype, 14)
    lo, hi = (3, 100) if np.dtype(dtype).kind in "iu" else (-0.5, 0.75)
    ref = np.fmin(np.fmax(a, np.asarray(lo).astype(dtype)), np.asarray(hi).astype(dtype))
    assert_exact(ops.clip(a, lo, hi, device=dev), ref)


def test_clip_nan_is_lo_and_lo_above_hi_gives_hi(dev):
    a = np.array([np.nan, 0.0, 5.0], np.float32)
    assert_exact(ops.clip(a, -1, 1, device=dev), np.array([-1, 0, 1], np.float32))
    assert_exact(ops.clip(a, 2, 1, device=dev), np.array([1, 1, 1], np.float32))


@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("name, ref", [("scalar_add", np.add), ("scalar_mul", np.multiply)])
def test_scalar_sizes(dev, name, ref, size):
    a = values(size, np.float64, 15)
    assert_exact(getattr(ops, name)(a, -2.75, device=dev), ref(a, np.float64(-2.75)))


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("name, ref", [("scalar_add", np.add), ("scalar_mul", np.multiply)])
def test_scalar_dtypes(dev, name, ref, dtype):
    a = values(257, dtype, 16)
    s = np.float64(7.9)                         # cast to the array's dtype (7 for integers)
    cast = s.astype(dtype)
    with np.errstate(all="ignore"):
        assert_exact(getattr(ops, name)(a, s, device=dev), ref(a, cast))


def test_scalar_is_an_argument_not_program_text(dev):
    program = ops.kernel("scalar_add", np.float32)
    a = np.arange(5, dtype=np.float32)
    assert_exact(ops.scalar_add(a, 1.5, device=dev), a + np.float32(1.5))
    assert_exact(ops.scalar_add(a, -3, device=dev), a - np.float32(3))
    assert ops.kernel("scalar_add", np.float32) is program
    assert "1.5" not in program.to_text()


# ----------------------------------------------------------------------------- transcendental

def ref_sigmoid(x):
    with np.errstate(all="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype)


def ref_gelu(x):
    t = x.dtype.type
    with np.errstate(all="ignore"):
        return t(0.5) * x * (t(1) + np.tanh(t(np.sqrt(2 / np.pi)) * (x + t(0.044715) * x ** 3)))


@pytest.mark.parametrize("dtype, size", [(dtype, size) for dtype in FLOATS for size in SIZES
                                          if size < 100000 or dtype == np.float32])
@pytest.mark.parametrize("name, ref", [("sigmoid", ref_sigmoid), ("tanh", np.tanh)])
def test_sigmoid_tanh(dev, name, ref, size, dtype):
    x = values(size, dtype, 17)
    r = ref(x)
    assert_within(getattr(ops, name)(x, device=dev), r, 4 * eps(dtype) * np.abs(r))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", SMALL_SIZES)
def test_gelu(dev, size, dtype):
    x = values(size, dtype, 18)
    r = ref_gelu(x)
    with np.errstate(all="ignore"):
        bound = 8 * eps(dtype) * (np.abs(r) + np.abs(x).astype(np.float64))
    assert_within(ops.gelu(x, device=dev), r, bound)


def test_gelu_is_the_tanh_form(dev):
    x = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    exact = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(ops.gelu(x, device=dev), exact, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
@pytest.mark.parametrize("dtype", INTS + (np.float16,))
def test_transcendental_needs_float(dev, name, dtype):
    with pytest.raises(simt.UnsupportedOperationError, match=f"{name}.*float32"):
        getattr(ops, name)(np.zeros(3, dtype), device=dev)


# ----------------------------------------------------------------------------- copy / fill

def bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}")


@pytest.mark.parametrize("size", SIZES)
def test_copy_sizes(dev, size):
    a = values(size, np.float64, 19)
    got = ops.copy(a, device=dev)
    assert got is not a
    assert_exact(bits(got), bits(a))


@pytest.mark.parametrize("dtype", ALL12)
def test_copy_dtypes_bit_exact(dev, dtype):
    raw = np.random.default_rng(20).integers(0, 256, size=257 * np.dtype(dtype).itemsize,
                                             dtype=np.uint8)
    a = raw.view(dtype)                          # any bit pattern, NaN payloads included
    got = ops.copy(a, device=dev)
    assert got.dtype == a.dtype
    assert_exact(bits(got), bits(a))


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_fill_sizes(dev, size):
    a = values(size, np.int16, 21)
    assert_exact(ops.fill(a, -12345, device=dev), np.full_like(a, -12345))


@pytest.mark.parametrize("dtype", ALL12)
@pytest.mark.parametrize("value", [0, 1.5, -2, float("nan"), float("-inf")])
def test_fill_dtypes(dev, dtype, value):
    if np.dtype(dtype).kind in "iu" and (not float(value).is_integer() or
                                         (value < 0 and np.dtype(dtype).kind == "u")):
        value = 3
    a = np.zeros((3, 5), dtype)
    got = ops.fill(a, value, device=dev)
    assert_exact(got, np.full_like(a, value))


def test_fill_out_of_range_like_numpy(dev):
    with pytest.raises(OverflowError):
        ops.fill(np.zeros(3, np.int8), 300, device=dev)
    a = np.zeros(3, np.uint8)
    assert_exact(ops.fill(a, np.int64(300), device=dev), np.full_like(a, np.int64(300)))


# ----------------------------------------------------------------------------- shapes, dtypes

@pytest.mark.parametrize("shape", [(), (1,), (4, 0), (3, 7), (2, 3, 5), (1, 1, 1, 9)])
def test_shapes_are_kept(dev, shape):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 5
    b = np.full(shape, 2, np.float32)
    assert_exact(ops.mul(a, b, device=dev), a * b)
    assert_exact(ops.relu(a, device=dev), ref_relu(a))
    assert_exact(ops.fill(a, 7, device=dev), np.full_like(a, 7))


def test_non_contiguous_inputs(dev):
    base = values(600, np.float64, 22).reshape(20, 30)
    a, b = base.T, base[::2, ::3]
    assert_exact(ops.neg(a, device=dev), -a)
    assert_exact(ops.add(b, b, device=dev), b + b)
    big_endian = base.astype(">f8")
    assert_exact(ops.copy(big_endian, device=dev), base)


def test_shape_mismatch_is_a_value_error(dev):
    with pytest.raises(ValueError, match="shape"):
        ops.add(np.zeros(3, np.float32), np.zeros(4, np.float32), device=dev)
    with pytest.raises(ValueError):
        ops.minimum(np.zeros((2, 3)), np.zeros(6), device=dev)


def test_dtype_mismatch_is_a_type_error(dev):
    with pytest.raises(TypeError, match="dtype"):
        ops.add(np.zeros(3, np.float32), np.zeros(3, np.float64), device=dev)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.bool_, np.complex64])
@pytest.mark.parametrize("name", ["add", "maximum", "relu", "scalar_mul"])
def test_unsupported_dtypes_raise(dev, name, dtype):
    a = np.zeros(4, dtype)
    args = {"add": (a, a), "maximum": (a, a), "relu": (a,), "scalar_mul": (a, 2)}[name]
    with pytest.raises(simt.UnsupportedOperationError, match=name):
        getattr(ops, name)(*args, device=dev)


def test_copy_rejects_types_without_isa_type(dev):
    with pytest.raises(TypeError):
        ops.copy(np.zeros(3, np.complex128), device=dev)
    with pytest.raises(TypeError):
        ops.copy(np.array(["a", "b"]), device=dev)


# ----------------------------------------------------------------------------- chunks

@pytest.mark.parametrize("delta", [-1, 0, 1, 2049])
def test_chunk_boundaries(dev, small_chunk, delta):
    n = 2 * small_chunk + delta
    a, b = values(n, np.float32, 23), values(n, np.float32, 24)
    assert_exact(ops.sub(a, b, device=dev), a - b)
    assert_exact(ops.clip(a, -1, 1, device=dev), np.fmin(np.fmax(a, np.float32(-1)), 1))
    assert_exact(ops.fill(a, 2, device=dev), np.full_like(a, 2))
    r = ref_gelu(a)
    assert_within(ops.gelu(a, device=dev), r, 8 * eps(np.float32) * (np.abs(r) + np.abs(a)))


def test_one_past_the_default_chunk(dev):
    n = ops.CHUNK + 3
    a = values(n, np.float32, 25)
    assert_exact(ops.add(a, a, device=dev), a + a)


def test_temporaries_are_freed(counting):
    a = values(1000, np.float32, 26)
    ops.add(a, a, device=counting)
    ops.clip(a, 0, 1, device=counting)
    ops.fill(a, 1, device=counting)
    assert counting.allocations > 0
    assert counting.live == set()
