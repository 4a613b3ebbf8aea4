"""The twelve Atlas data types (atlas-isa.md §1).

Each :class:`DType` knows its Display name, serde variant name, bincode index,
size, the NumPy dtype a register row of that type is stored in, and its class.
f16 and bf16 are storage-only: registers hold their raw 16-bit patterns.
"""

from __future__ import annotations

import enum

import ml_dtypes
import numpy as np

__all__ = ["DType", "INT", "SINT", "UINT", "FLOAT", "FL", "ALL", "by_name", "by_serde",
           "BFLOAT16"]

BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


class DType(enum.Enum):
    """An ISA type.  ``value`` is the bincode index."""

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

    @property
    def text(self) -> str:
        """Display name, e.g. ``"f32"``."""
        return self.name.lower()

    @property
    def serde(self) -> str:
        """serde variant name, e.g. ``"F32"``."""
        return self.name

    @property
    def size(self) -> int:
        """Size in bytes."""
        return _SIZE[self]

    @property
    def bits(self) -> int:
        return 8 * _SIZE[self]

    @property
    def storage(self) -> np.dtype:
        """NumPy dtype of a register row holding this type (f16/bf16: raw uint16)."""
        return _STORAGE[self]

    @property
    def numpy(self) -> np.dtype:
        """NumPy dtype of the values of this type (f16 -> float16, bf16 -> bfloat16)."""
        return _NUMPY[self]

    @property
    def is_int(self) -> bool:
        return self.value < 8

    @property
    def is_signed_int(self) -> bool:
        return self.value < 4

    @property
    def is_unsigned(self) -> bool:
        return 4 <= self.value < 8

    @property
    def is_float(self) -> bool:
        return self.value >= 8

    def __repr__(self) -> str:
        return f"DType.{self.name}"


_SIZE = {t: s for t, s in zip(DType, (1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8))}
_STORAGE = {t: np.dtype(d) for t, d in zip(DType, (
    "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "u2", "u2", "f4", "f8"))}
_NUMPY = {**_STORAGE, DType.F16: np.dtype(np.float16), DType.BF16: BFLOAT16}

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


def by_serde(name: str) -> DType:
    """The type whose serde variant name is ``name`` (``KeyError`` otherwise)."""
    return _BY_SERDE[name]
