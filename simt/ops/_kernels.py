"""The ISA kernels of :mod:`simt.ops`: templates, the types each accepts, and a cache.

Every kernel is a readable assembly template in ``simt/ops/kernels/<file>.s``.  The only
placeholders are *type-level* facts (``{T}`` the ISA element type, ``{S}`` its size,
literals such as ``{ZERO}``, the instruction ``{OP}`` of a kernel family); anything that
depends on the data (``n``, a clip bound, a fill value, a row's max) reaches the program
as a kernel argument.  So each ``(name, type)`` is assembled once and cached.

Kernel names (``simt.ops.kernel(name, dtype)``):

========================================  ==================================================
name                                      program
========================================  ==================================================
``add sub mul div minimum maximum``       ``binary.s``: one lane per element
``abs neg sigmoid tanh``                  ``unary.s``
``relu clip scalar_add scalar_mul gelu``  ``relu.s``, ``clip.s``, ``scalar.s``, ``gelu.s``
``copy fill``                             ``copy.s``, ``fill.s`` (all 12 types)
``sum min max``                           ``reduce.s``: one pass of the block tree; the
                                          passes over the partials run
                                          ``kernel(name, accumulator_dtype(name, dtype))``
``softmax``                               ``softmax.s``: one block per row
``matvec gemm``                           ``matvec.s`` (one lane per row), ``gemm.s``
                                          (16 x 16 shared-memory tiles)
``mse cross_entropy                       the per-element loss terms (``mse.s``, ...); the
binary_cross_entropy``                    op then runs ``sum`` over them and ``mean``
``mean``                                  ``mean.s``: ``s / n`` in one lane
========================================  ==================================================

:func:`programs` lists every program an op runs, e.g. ``programs("sum", np.int8)``.

The types a kernel accepts are derived from the instruction table
(:data:`simt.isa.table.SPECS`): the intersection of the types its instructions accept.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import UnsupportedOperationError
from ..isa.table import BY_NAME, CVT_PAIRS
from ..isa.types import FL, DType, by_numpy

if TYPE_CHECKING:  # pragma: no cover
    from ..isa.program import Program

__all__ = ["KERNELS", "kernel", "programs", "source", "isa_type", "accumulator_dtype",
           "check_dtype", "TEMPLATE_DIR", "REDUCE_ITEMS"]

TEMPLATE_DIR = Path(__file__).with_name("kernels")


def _accepts(*instructions: str) -> frozenset[DType]:
    """The types every one of ``instructions`` accepts (from the instruction table)."""
    return frozenset.intersection(*(BY_NAME[name].types for name in instructions))


def _converts(to: DType | None = None, frm: DType | None = None) -> frozenset[DType]:
    """Types ``t`` with CVT ``t -> to`` (or ``frm -> t``) in the CVT table."""
    if to is not None:
        return frozenset(t for t in DType if (t, to) in CVT_PAIRS)
    return frozenset(t for t in DType if (frm, t) in CVT_PAIRS)


def _accumulator(t: DType) -> DType:
    """A sum accumulates integers in 64 bits (like NumPy's ``a.sum()``), floats in ``t``."""
    if t.is_signed_int:
        return DType.I64
    if t.is_unsigned:
        return DType.U64
    return t


def _extreme(t: DType, low: bool) -> str:
    info = np.iinfo(t.numpy)
    return str(int(info.min if low else info.max))


def _literal(t: DType, value: int) -> str:
    return f"{value}.0" if t.is_float else str(value)


@dataclass(frozen=True)
class KernelSpec:
    """How to build one named kernel."""

    template: str                        # file stem in kernels/
    accepts: frozenset[DType]            # ISA types it can be built for
    params: dict[str, str] = field(default_factory=dict)   # fixed placeholders
    per_type: Callable[[DType], dict[str, str]] | None = None   # type-dependent ones


REDUCE_ITEMS = 8
"""Elements each lane of a reduction folds sequentially before the block tree.

The tree's ~80 steps run over every lane, so folding a few elements per lane first (as
GPU reductions do) cuts the lanes, and the work, of the tree.  ``sum`` of 2**21 float32
(CHUNK = 131072) took 107, 43, 34.5, 32.5 and 37 ns per element for 1, 4, 8, 16 and 32
elements per lane; 8 is within 6% of the best with a short sequential fold (accuracy)."""


def _reduction(op: str, identity: Callable[[DType], str]) -> Callable[[DType], dict[str, str]]:
    def params(t: DType) -> dict[str, str]:
        acc = _accumulator(t) if op == "add" else t
        return {"A": acc.text, "AS": str(acc.size), "ID": identity(acc),
                "F": str(REDUCE_ITEMS), "F1": str(REDUCE_ITEMS - 1)}
    return params


_SUM = frozenset(t for t in _accepts("ADD") if (t, _accumulator(t)) in CVT_PAIRS)
_FLOATS_VIA_F64 = _converts(to=DType.F64) & _converts(frm=DType.F64)

KERNELS: dict[str, KernelSpec] = {
    **{name: KernelSpec("binary", _accepts(op.upper()), {"OP": op, "SYMBOL": symbol})
       for name, op, symbol in (("add", "add", "+"), ("sub", "sub", "-"), ("mul", "mul", "*"),
                                ("div", "div", "/"), ("minimum", "min", "min"),
                                ("maximum", "max", "max"))},
    **{name: KernelSpec("unary", _accepts(name.upper()), {"OP": name})
       for name in ("abs", "neg", "sigmoid", "tanh")},
    "relu": KernelSpec("relu", _accepts("MAX")),
    "clip": KernelSpec("clip", _accepts("MIN", "MAX")),
    "scalar_add": KernelSpec("scalar", _accepts("ADD"), {"OP": "add", "SYMBOL": "+"}),
    "scalar_mul": KernelSpec("scalar", _accepts("MUL"), {"OP": "mul", "SYMBOL": "*"}),
    "gelu": KernelSpec("gelu", _accepts("MUL", "ADD", "TANH")),
    "copy": KernelSpec("copy", _accepts("LDG", "STG")),
    "fill": KernelSpec("fill", _accepts("STG")),
    "sum": KernelSpec("reduce", _SUM, {"OP": "add"}, _reduction("add", lambda t: _literal(t, 0))),
    "min": KernelSpec("reduce", _accepts("MIN"), {"OP": "min"},
                      _reduction("min", lambda t: "nan" if t.is_float else _extreme(t, False))),
    "max": KernelSpec("reduce", _accepts("MAX"), {"OP": "max"},
                      _reduction("max", lambda t: "nan" if t.is_float else _extreme(t, True))),
    "softmax": KernelSpec("softmax", _accepts("MAX", "SUB", "EXP", "DIV") & _FLOATS_VIA_F64),
    "matvec": KernelSpec("matvec", _accepts("MUL", "ADD")),
    "gemm": KernelSpec("gemm", _accepts("MUL", "ADD")),
    # Losses are means, hence float only.
    "mse": KernelSpec("mse", _accepts("SUB", "MUL") & FL),
    "cross_entropy": KernelSpec("cross_entropy", _accepts("LOG", "MUL", "NEG")),
    "binary_cross_entropy": KernelSpec("binary_cross_entropy",
                                       _accepts("LOG", "MUL", "SUB", "ADD", "NEG")),
    "mean": KernelSpec("mean", _accepts("DIV") & _converts(frm=DType.F64) & FL),
}

def isa_type(dtype: Any) -> DType:
    """The ISA type of a NumPy dtype (or dtype-like, or an ISA type name such as ``"bf16"``).

    Raises
    ------
    UnsupportedOperationError
        For a dtype with no ISA type (``bool``, ``complex64``, ``object``, ...).
    """
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str) and dtype.upper() in DType.__members__:
        return DType[dtype.upper()]
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise UnsupportedOperationError(f"{dtype!r} is not a NumPy dtype") from exc
    if dt.byteorder not in "=|":
        dt = dt.newbyteorder("=")
    found = by_numpy(dt)
    if found is None:
        raise UnsupportedOperationError(
            f"dtype {dt} has no Atlas ISA type (int8..uint64, float16, bfloat16, float32, "
            f"float64)")
    return found


def _numpy_names(types: frozenset[DType]) -> str:
    return ", ".join(str(t.numpy) for t in sorted(types, key=lambda t: t.value))


def check_dtype(name: str, dtype: Any) -> DType:
    """The ISA type for running ``name`` on ``dtype``, or a clear error.

    Raises
    ------
    ValueError
        For an unknown kernel name.
    UnsupportedOperationError
        (a ``TypeError``) when the kernel's instructions do not accept that type.
    """
    try:
        spec = KERNELS[name]
    except KeyError:
        raise ValueError(f"unknown simt.ops kernel {name!r}; known: {', '.join(KERNELS)}") \
            from None
    try:
        t = isa_type(dtype)
    except UnsupportedOperationError as exc:
        raise UnsupportedOperationError(f"simt.ops.{name}: {exc.reason}") from None
    if t not in spec.accepts:
        raise UnsupportedOperationError(
            f"simt.ops.{name} does not support dtype {t.numpy}; it accepts "
            f"{_numpy_names(spec.accepts)}")
    return t


def accumulator_dtype(name: str, dtype: Any) -> np.dtype:
    """The dtype of the partials (and the result) of reduction ``name`` over ``dtype``.

    ``sum`` widens integers to 64 bits (int64 / uint64, like NumPy); everything else keeps
    the element type.
    """
    t = check_dtype(name, dtype)
    return _accumulator(t).numpy if name == "sum" else t.numpy


def source(name: str, dtype: Any) -> str:
    """The commented assembly text of kernel ``name`` for ``dtype`` (before assembling).

    ``kernel(name, dtype).to_text()`` prints the assembled program without comments.
    """
    return _render(name, check_dtype(name, dtype))


@functools.lru_cache(maxsize=None)
def _template(stem: str) -> str:
    return (TEMPLATE_DIR / f"{stem}.s").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def _render(name: str, t: DType) -> str:
    spec = KERNELS[name]
    params = {"NAME": name, "T": t.text, "S": str(t.size), "BTILE": str(256 * t.size),
              **spec.params}
    if t in _accepts("ADD"):
        params.update(ZERO=_literal(t, 0), ONE=_literal(t, 1))
    if spec.per_type is not None:
        params.update(spec.per_type(t))
    return _template(spec.template).format(**params)


@functools.lru_cache(maxsize=None)
def _build(name: str, t: DType) -> "Program":
    from ..isa.text import assemble
    return assemble(_render(name, t))


def kernel(name: str, dtype: Any) -> "Program":
    """The ISA program that op ``name`` runs for elements of ``dtype`` (built once, cached).

    Parameters
    ----------
    name
        An op name (``"add"``, ``"sum"``, ``"gemm"``, ...) or a helper kernel (``"mean"``).
        Multi-kernel ops: ``sum``/``min``/``max`` run ``kernel(name, dtype)`` over the input,
        then ``kernel(name, accumulator_dtype(name, dtype))`` over the block partials until
        one value is left; the losses run ``kernel(loss, dtype)`` (per-element terms), then
        ``sum`` and ``mean``.  :func:`programs` lists them all for an op.
    dtype
        A NumPy dtype (``np.float32``, ``ml_dtypes.bfloat16``, ``"int8"``) or an ISA type
        name (``"f32"``).

    Returns
    -------
    simt.Program
        ``print(simt.ops.kernel("add", np.float32).to_text())`` shows it;
        :func:`simt.ops.source` gives the commented source.

    Raises
    ------
    UnsupportedOperationError
        When the kernel's instructions do not accept ``dtype``.
    """
    return _build(name, check_dtype(name, dtype))


_LOSSES = ("mse", "cross_entropy", "binary_cross_entropy")


def programs(op: str, dtype: Any) -> dict[str, "Program"]:
    """Every program op ``op`` runs for ``dtype``, in order, keyed by kernel name (a
    program used by several passes appears once).

    ``programs("sum", np.int8)`` is ``{"sum.i8": first pass, "sum.i64": passes over the
    partials}``; ``programs("mse", np.float32)`` is ``{"mse.f32": per-element terms,
    "sum.f32": the tree sum, "mean.f32": the division by n}``; single-kernel ops give one
    entry.
    """
    t = check_dtype(op, dtype)
    if op in ("sum", "min", "max"):
        steps = [(op, t), (op, isa_type(accumulator_dtype(op, t.numpy)))]
    elif op in _LOSSES:
        steps = [(op, t), ("sum", t), ("mean", t)]
    else:
        steps = [(op, t)]
    return {f"{name}.{s.text}": _build(name, s) for name, s in steps}
