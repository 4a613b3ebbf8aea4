"""Atlas constants and tables: classes, pages, the neighbour graph, mirrors.

The 96 resonance classes are labelled ``(e1, e2, e3, d45, e6, e7)`` with
``c = 48 e1 + 24 e2 + 12 e3 + 6 e6 + 3 e7 + (d45 + 1)``.  The tables below are
computed from those construction rules; tests pin them to the printed tables
of the reference.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASSES", "PAGES", "BYTES_PER_PAGE", "CLASS_BYTES", "BOUNDARY_BYTES",
           "PHASE_MODULUS", "UNITY_CLASSES", "MIRROR", "NEIGHBOURS", "DEGREE", "mirror",
           "neighbours"]

CLASSES = 96
PAGES = 48
BYTES_PER_PAGE = 256
CLASS_BYTES = PAGES * BYTES_PER_PAGE          # 12,288
BOUNDARY_BYTES = CLASSES * CLASS_BYTES        # 1,179,648
PHASE_MODULUS = 768
UNITY_CLASSES = frozenset({1, 4})


def mirror(c: int) -> int:
    """The mirror class: flip e7."""
    return c + 3 if c % 6 < 3 else c - 3


def neighbours(c: int) -> list[int]:
    """Neighbours of class ``c`` in ascending order (degree 5 or 6)."""
    out = [c - k if (c // k) % 2 else c + k for k in (48, 24, 12, 6)]
    out += [c - 1, c + 1] if c % 3 == 1 else [c - c % 3 + 1]
    return sorted(out)


MIRROR = np.array([mirror(c) for c in range(CLASSES)], np.uint8)
DEGREE = np.array([len(neighbours(c)) for c in range(CLASSES)], np.uint32)
NEIGHBOURS = np.zeros((CLASSES, 6), np.uint8)   # padded with 0 past the degree
for _c in range(CLASSES):
    NEIGHBOURS[_c, : DEGREE[_c]] = neighbours(_c)
