"""The ALU: pure, vectorized value semantics of the Atlas data instructions.

Every function takes NumPy arrays (or NumPy scalars / 0-d arrays, which broadcast)
of a type's *storage* dtype (``ty.storage``: int8 .. uint64, float32, float64; f16
and bf16 as raw uint16 patterns) and returns values of the result's storage dtype
(a NumPy scalar when every operand was scalar).  No function reads registers,
raises for any input value or emits a NumPy warning: lanes the caller will reject
(an integer divisor of 0) still get some value.  Type and condition checks are the
caller's job (:func:`cvt_supported`, :func:`cond_supported`).

No function returns an array it was given, or a view of one: an array result is
always fresh memory (where the result equals an operand, a copy).  The register
file adopts such a result as its storage without copying it (the ownership rule
of :mod:`simt.machine.state`), so returning an operand would make two registers
share memory.  Debug mode (:mod:`simt.machine.debug`) asserts this on every call.

Families (one module each):

=====================  =====================================================
``arith``              add sub mul div mad minimum maximum abs_ neg
``fused``              fma (single rounding, f32 and f64; see its docstring)
``bits``               and_ or_ xor not_ shl shr
``compare``            setcc cond_supported
``convert``            cvt cvt_supported mov_imm
``reduction``          reduce identity
``arrays``             array_kernel (the executor's two-array fast paths)
=====================  =====================================================

Transcendentals (EXP .. SIGMOID) are defined once, in
:mod:`simt.isa.transcendental`, shared with the scalar reference interpreter so
both engines agree bit for bit; :func:`transcendental` here forwards to it and
also accepts lower-case names.  The recipe, for ``x`` of type ``ty``:

* f64: the NumPy float64 ufunc (``np.exp``, ``np.log``, ``np.log2``, ``np.log10``,
  ``np.sqrt``, ``np.sin``, ``np.cos``, ``np.tan``, ``np.tanh``); ``rsqrt x =
  1.0 / np.sqrt(x)`` and ``sigmoid x = 1.0 / (1.0 + np.exp(-x))``, each operation
  rounded to f64.
* f32: ``f32(np.<fn>(f64(x)))`` -- computed in float64, rounded once;
  ``rsqrt x = f32(1 / f32(np.sqrt(f64(x))))`` (two roundings, as the REF);
  ``sigmoid x = f32(1 / f32(1 + f32(np.exp(-f64(x)))))`` (each REF step rounded
  to f32).

Accuracy against a correctly rounded result: f64 is NumPy's float64
implementation (libm or NumPy's SIMD kernels), typically within 1 ulp (measured:
at most 2 ulp from glibc's ``math`` results, for tanh and log10) and not
guaranteed identical across NumPy builds or CPUs; a reference must call the same
NumPy ufuncs, not the ``math`` module.  f32 computed via float64 and rounded once
is within 1 ulp (the float64 error is ~2**-29 f32 ulp, so the result is the
correctly rounded one except when the true value lies within that distance of a
half-way point); ``sqrt.f32`` is exactly the correctly rounded square root.
``rsqrt`` and ``sigmoid`` carry the extra roundings of their REF steps.
"""

from __future__ import annotations

from ...isa.transcendental import NAMES as _TRANSCENDENTAL_NAMES
from ...isa.transcendental import transcendental as _transcendental
from ...isa.types import DType
from ._common import INT_MAX, INT_MIN, silenced
from .arith import abs_, add, div, mad, maximum, minimum, mul, neg, sub
from .arrays import array_kernel
from .bits import and_, not_, or_, shl, shr, xor
from .compare import cond_supported, setcc
from .convert import cvt, cvt_supported, mov_imm
from .fused import fma
from .reduction import identity, reduce

__all__ = [
    "INT_MIN", "INT_MAX", "TRANSCENDENTALS", "silenced",
    "add", "sub", "mul", "div", "mad", "fma", "minimum", "maximum", "abs_", "neg",
    "and_", "or_", "xor", "not_", "shl", "shr",
    "setcc", "cond_supported", "cvt", "cvt_supported", "mov_imm",
    "transcendental", "reduce", "identity", "array_kernel",
]

TRANSCENDENTALS: frozenset[str] = frozenset(n.lower() for n in _TRANSCENDENTAL_NAMES)


def transcendental(name: str, ty: DType, x):
    """``name(x)`` for f32/f64 by the recipe above.

    Parameters
    ----------
    name
        ``"exp"``, ``"log"``, ``"log2"``, ``"log10"``, ``"sqrt"``, ``"rsqrt"``, ``"sin"``,
        ``"cos"``, ``"tan"``, ``"tanh"`` or ``"sigmoid"`` (any case).
    ty
        ``DType.F32`` or ``DType.F64``.
    x
        Values of ``ty.storage``.
    """
    if not ty.is_float or ty.size < 4:
        raise ValueError(f"{name} is defined for f32 and f64, not {ty.text}")
    return _transcendental(name.upper(), ty, x)
