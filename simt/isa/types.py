"""The twelve Atlas data types.

Each :class:`DType` knows its Display name, serde variant name, bincode index,
size, the NumPy dtype a register row of that type is stored in, and its class.
f16 and bf16 are storage-only: registers hold their raw 16-bit patterns.

``ml_dtypes`` (which provides NumPy's bfloat16) takes most of a second to import,
so it is imported the first time a bf16 value is needed (:func:`bfloat16`), not by
``import simt``.
"""

from __future__ import annotations

import enum
import sys

import numpy as np

__all__ = ["DType", "INT", "SINT", "UINT", "FLOAT", "FL", "ALL", "by_name", "by_serde",
           "by_numpy", "bfloat16", "BFLOAT16"]

_BFLOAT16: np.dtype | None = None


def bfloat16() -> np.dtype:
    """The NumPy dtype of bf16 values, ``ml_dtypes.bfloat16`` (imported on first use)."""
    global _BFLOAT16
    if _BFLOAT16 is None:
        import ml_dtypes
        _BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
    return _BFLOAT16


def __getattr__(name: str) -> np.dtype:
    if name == "BFLOAT16":          # the module constant, computed on first access
        return bfloat16()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _LazyNumpy:
    """``DType.BF16.numpy``: imports ml_dtypes on first access, then cached on the member."""

    def __get__(self, member: DType | None, owner: type | None = None):
        if member is None:
            return self
        member.numpy = value = bfloat16()
        return value


class DType(enum.Enum):
    """An ISA type.  ``value`` is the bincode index.

    The attributes are plain attributes, set once, so the executor reads them cheaply.

    Attributes
    ----------
    text
        Display name, e.g. ``"f32"``.
    serde
        serde variant name, e.g. ``"F32"``.
    size, bits
        Width in bytes and bits.
    storage
        NumPy dtype of a register row holding this type (f16/bf16: raw uint16).
    scalar
        The NumPy scalar class of ``storage`` (``np.float32`` ...).
    numpy
        NumPy dtype of the values (f16 -> float16, bf16 -> ml_dtypes.bfloat16).
    code
        The bincode index as a plain int (the register file's type tag).
    is_int, is_signed_int, is_unsigned, is_float
        Type classes: signed integers i8..i64, unsigned integers u8..u64, floats
        f16, bf16, f32, f64.
    """

    I8 = 0
    I16 = 1
    I32 = 2
    I64 = 3
    U8 = 4
    U16 = 5
    U32 = 6
    U64 = 7
    F16 = 8
    BF16 = 9
    F32 = 10
    F64 = 11

    def __repr__(self) -> str:
        return f"DType.{self.name}"

    # Members compare by identity; hashing by identity too keeps set and dict lookups
    # (type checks on every instruction issue) in C.
    __hash__ = object.__hash__

    numpy = _LazyNumpy()


_SIZES = (1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8)
_STORAGE_CODES = ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "u2", "u2", "f4", "f8")
for _t, _size, _code in zip(DType, _SIZES, _STORAGE_CODES):
    _t.code = _t.value
    _t.text = _t.name.lower()
    _t.serde = _t.name
    _t.size = _size
    _t.bits = 8 * _size
    _t.storage = np.dtype(_code)
    _t.scalar = _t.storage.type
    if _t is not DType.BF16:
        _t.numpy = np.dtype(np.float16) if _t is DType.F16 else _t.storage
    _t.is_int = _t.value < 8
    _t.is_signed_int = _t.value < 4
    _t.is_unsigned = 4 <= _t.value < 8
    _t.is_float = _t.value >= 8

SINT = frozenset((DType.I8, DType.I16, DType.I32, DType.I64))
UINT = frozenset((DType.U8, DType.U16, DType.U32, DType.U64))
INT = SINT | UINT
FL = frozenset((DType.F32, DType.F64))
FLOAT = FL | {DType.F16, DType.BF16}
ALL = frozenset(DType)

_BY_NAME = {t.text: t for t in DType}
_BY_SERDE = {t.serde: t for t in DType}


def by_name(name: str) -> DType:
    """The type whose Display name is ``name`` (``KeyError`` otherwise)."""
    return _BY_NAME[name]


_BY_NUMPY = {t.numpy: t for t in DType if t is not DType.BF16}


def by_numpy(dtype: np.dtype) -> DType | None:
    """The type whose values have NumPy dtype ``dtype`` (native byte order), else ``None``."""
    found = _BY_NUMPY.get(dtype)
    if found is None and "ml_dtypes" in sys.modules and dtype == bfloat16():
        return DType.BF16       # a bfloat16 dtype exists only once ml_dtypes is imported
    return found


def by_serde(name: str) -> DType:
    """The type whose serde variant name is ``name`` (``KeyError`` otherwise)."""
    return _BY_SERDE[name]
