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

Every function exists in two forms: the module's public functions (``alu.add``) are
*checked* -- safe to call anywhere, each call ignoring NumPy's floating-point errors for
its duration -- and :data:`inside` holds the in-launch forms (``alu.inside.add``), which
assume the error state of :func:`silenced` and skip that cost.  Decoders bind the
in-launch form once, at decode time; nothing tests an ambient flag per call.

Families (one module each):

=====================  =====================================================
``arith``              add sub mul div mad minimum maximum abs_ neg
``fused``              fma (single rounding, f32 and f64; see its docstring)
``bits``               and_ or_ xor not_ shl shr
``compare``            setcc cond_supported compare_ufunc compare_operator
``convert``            cvt cvt_supported mov_imm scalar_converter
``reduction``          reduce identity
``arrays``             array_kernel, scalar_kernel, interval_kernel, same_kernel (two-operand
                       fast paths)
``intervals``          the bounds a float row is known to lie in (skipping NaN checks)
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

from types import SimpleNamespace

from ...isa.transcendental import NAMES as _TRANSCENDENTAL_NAMES
from ...isa.transcendental import transcendental as _transcendental
from ...isa.types import DType
from . import arith, bits, compare, convert, fused, reduction
from ._common import INT_MAX, INT_MIN, checked, silenced
from .arrays import array_kernel, interval_kernel, same_kernel, scalar_kernel
from .compare import compare_operator, compare_ufunc, cond_supported
from .convert import cvt_supported, scalar_converter

__all__ = [
    "INT_MIN", "INT_MAX", "TRANSCENDENTALS", "silenced", "inside",
    "add", "sub", "mul", "div", "mad", "fma", "minimum", "maximum", "abs_", "neg",
    "and_", "or_", "xor", "not_", "shl", "shr",
    "setcc", "cond_supported", "compare_ufunc", "compare_operator",
    "cvt", "cvt_supported", "mov_imm", "scalar_converter",
    "transcendental", "reduce", "identity", "array_kernel", "scalar_kernel", "interval_kernel",
    "same_kernel",
]

#: The in-launch forms, for decoders to bind: they assume NumPy's floating-point errors
#: are ignored, as inside :func:`silenced` (the executor runs every launch in it).
inside = SimpleNamespace(
    add=arith.add, sub=arith.sub, mul=arith.mul, div=arith.div, mad=arith.mad, fma=fused.fma,
    minimum=arith.minimum, maximum=arith.maximum, abs_=arith.abs_, neg=arith.neg,
    and_=bits.and_, or_=bits.or_, xor=bits.xor, not_=bits.not_, shl=bits.shl, shr=bits.shr,
    setcc=compare.setcc, cvt=convert.cvt, mov_imm=convert.mov_imm, reduce=reduction.reduce,
    identity=reduction.identity)

# The checked forms (the module's public functions): safe anywhere, each call entering
# :func:`silenced` (about a microsecond): for tests and other callers outside a launch.
add, sub, mul, div, mad = (checked(f) for f in (arith.add, arith.sub, arith.mul, arith.div,
                                                 arith.mad))
fma = checked(fused.fma)
minimum, maximum, abs_, neg = (checked(f) for f in (arith.minimum, arith.maximum, arith.abs_,
                                                     arith.neg))
and_, or_, xor, not_, shl, shr = (checked(f) for f in (bits.and_, bits.or_, bits.xor, bits.not_,
                                                        bits.shl, bits.shr))
setcc, cvt, mov_imm = checked(compare.setcc), checked(convert.cvt), checked(convert.mov_imm)
reduce, identity = checked(reduction.reduce), reduction.identity

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
