"""The one math routine both engines share: EXP .. SIGMOID.

This is the single permitted exception to the independence of the vectorized
executor and the scalar reference interpreter (docs/testing.md): transcendental values
are defined as *this* computation, so the two engines agree bit for bit.

Recipe (f32 computed in float64 and rounded once per step of the reference
backend's formula, so results do not depend on the platform's libm):

* f64: NumPy's float64 ufunc (``np.exp``, ``np.log`` ...).  ``rsqrt`` is
  ``1 / sqrt(x)`` and ``sigmoid`` is ``1 / (1 + exp(-x))``, each step rounded
  to f64.
* f32: each REF step is evaluated in float64 and rounded once to float32:
  ``exp.f32 x = f32(np.exp(f64(x)))``; ``rsqrt.f32 x = f32(1 / f32(sqrt(f64(x))))``
  (two roundings, as the REF computes ``1 / sqrt(x)`` in f32);
  ``sigmoid.f32 x = f32(1 / f32(1 + f32(exp(-x))))``.

Accuracy: float64 libm results are within 1 ulp (NumPy's SIMD paths included),
so f32 values computed this way are within 1 ulp of the correctly rounded
result (the float64 error is far below half an f32 ulp except in rare
double-rounding cases).  IEEE specials propagate; no exception is raised.
"""

from __future__ import annotations

import numpy as np

from .types import DType

__all__ = ["NAMES", "transcendental"]

_UNARY = {
    "EXP": np.exp, "LOG": np.log, "LOG2": np.log2, "LOG10": np.log10, "SQRT": np.sqrt,
    "SIN": np.sin, "COS": np.cos, "TAN": np.tan, "TANH": np.tanh,
}
NAMES = frozenset(_UNARY) | {"RSQRT", "SIGMOID"}


def transcendental(name: str, ty: DType, x: np.ndarray) -> np.ndarray:
    """Evaluate transcendental ``name`` (a serde name, e.g. ``"EXP"``) of type ``ty``.

    Parameters
    ----------
    name
        One of :data:`NAMES`.
    ty
        ``DType.F32`` or ``DType.F64``.
    x
        Values of ``ty.storage`` dtype (array or scalar).

    Returns
    -------
    numpy.ndarray
        Values of ``ty.storage`` dtype, same shape as ``x``.
    """
    rnd = np.float32 if ty is DType.F32 else np.float64
    with np.errstate(all="ignore"):
        x64 = np.asarray(x, dtype=np.float64)
        if name == "RSQRT":
            root = np.sqrt(x64).astype(rnd)
            return (np.float64(1.0) / root.astype(np.float64)).astype(rnd)
        if name == "SIGMOID":
            e = np.exp(-x64).astype(rnd).astype(np.float64)
            d = (1.0 + e).astype(rnd).astype(np.float64)
            return (1.0 / d).astype(rnd)
        return _UNARY[name](x64).astype(rnd)
