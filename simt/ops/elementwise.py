"""Element-wise ops: one lane per element, a bounds guard, a grid covering ``n``.

Each function takes NumPy arrays and returns a new array of the same shape and dtype,
computed by one kernel (``simt.ops.kernel(name, dtype)``) launched chunk by chunk
(:func:`simt.ops._launch.map_elements`).  Scalars (clip bounds, ``s``, a fill value) are
kernel arguments of the array's type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._launch import cast_scalar, map_elements, prepare

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..device import Device

__all__ = ["add", "sub", "mul", "div", "minimum", "maximum", "abs", "neg", "relu", "clip",
           "scalar_add", "scalar_mul", "sigmoid", "tanh", "gelu", "copy", "fill"]


def _run(name: str, arrays: tuple[Any, ...], scalars: tuple[Any, ...] = (),
         device: "Device | None" = None) -> np.ndarray:
    """Validate ``arrays``, cast ``scalars`` to their dtype, run kernel ``name``, reshape."""
    flat, shape, dtype = prepare(name, *arrays)
    args = tuple(cast_scalar(s, dtype) for s in scalars)
    n = flat[0].size
    return map_elements(name, dtype, flat, n, scalars=args, device=device).reshape(shape)


def add(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a + b`` element-wise (same shape and dtype; integers wrap).

    Parameters
    ----------
    a, b
        Arrays of the same shape and dtype (int8..uint64, float32, float64).
    device
        The :class:`simt.Device` to run on (default: the module's default device).

    Returns
    -------
    numpy.ndarray
        A new array of that shape and dtype.
    """
    return _run("add", (a, b), device=device)


def sub(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a - b`` element-wise (integers wrap).  See :func:`add`."""
    return _run("sub", (a, b), device=device)


def mul(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a * b`` element-wise (integers keep the low bits).  See :func:`add`."""
    return _run("mul", (a, b), device=device)


def div(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a / b`` element-wise in the arrays' dtype.

    Floats follow IEEE (``x / 0`` is ``±inf`` or NaN).  Integers truncate toward zero
    (``MIN / -1`` wraps to ``MIN``); a zero divisor raises
    :class:`simt.DivisionByZeroError` from the kernel.  See :func:`add`.
    """
    return _run("div", (a, b), device=device)


def minimum(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``np.fmin(a, b)``: a single NaN operand is ignored.  See :func:`add`."""
    return _run("minimum", (a, b), device=device)


def maximum(a: ArrayLike, b: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``np.fmax(a, b)``: a single NaN operand is ignored.  See :func:`add`."""
    return _run("maximum", (a, b), device=device)


def abs(a: ArrayLike, *, device: Device | None = None) -> np.ndarray:  # noqa: A001
    """``np.abs(a)`` for signed integers (``abs(MIN) = MIN``) and floats.

    Unsigned dtypes raise :class:`simt.UnsupportedOperationError` (ABS rejects them).
    """
    return _run("abs", (a,), device=device)


def neg(a: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``-a`` for signed integers (wrapping) and floats; unsigned dtypes raise
    :class:`simt.UnsupportedOperationError`."""
    return _run("neg", (a,), device=device)


def relu(a: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``np.where(a > 0, a, 0)``, with ``relu(NaN) = 0`` (int8..uint64, float32, float64)."""
    return _run("relu", (a,), device=device)


def clip(a: ArrayLike, lo: Any, hi: Any, *, device: Device | None = None) -> np.ndarray:
    """``min(max(a, lo), hi)`` element-wise; NaN becomes ``lo``; ``lo > hi`` gives ``hi``.

    ``lo`` and ``hi`` are cast to ``a.dtype`` (as ``np.full_like`` casts) and passed to the
    kernel as arguments.
    """
    return _run("clip", (a,), (lo, hi), device=device)


def scalar_add(a: ArrayLike, s: Any, *, device: Device | None = None) -> np.ndarray:
    """``a + s`` with ``s`` cast to ``a.dtype`` (a kernel argument)."""
    return _run("scalar_add", (a,), (s,), device=device)


def scalar_mul(a: ArrayLike, s: Any, *, device: Device | None = None) -> np.ndarray:
    """``a * s`` with ``s`` cast to ``a.dtype`` (a kernel argument)."""
    return _run("scalar_mul", (a,), (s,), device=device)


def sigmoid(x: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))`` (the ISA's SIGMOID); float32 and float64 only."""
    return _run("sigmoid", (x,), device=device)


def tanh(x: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``np.tanh(x)``; float32 and float64 only."""
    return _run("tanh", (x,), device=device)


def gelu(x: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """GELU in tanh form: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Computed step by step in the dtype (float32 or float64).
    """
    return _run("gelu", (x,), device=device)


def copy(a: ArrayLike, *, device: Device | None = None) -> np.ndarray:
    """``a.copy()``, bit-exact, for all 12 dtypes (float16 and bfloat16 included)."""
    return _run("copy", (a,), device=device)


def fill(a: ArrayLike, value: Any, *, device: Device | None = None) -> np.ndarray:
    """``np.full_like(a, value)`` for all 12 dtypes; ``value`` is a kernel argument."""
    flat, shape, dtype = prepare("fill", a)
    v = cast_scalar(value, dtype)
    return map_elements("fill", dtype, (), flat[0].size, scalars=(v,),
                        device=device).reshape(shape)
