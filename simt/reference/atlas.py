"""The Atlas graph, computed from its construction rules.

Class ``c`` in ``[0, 96)`` has the label ``(e1, e2, e3, d45, e6, e7)`` with
``c = 48*e1 + 24*e2 + 12*e3 + 6*e6 + 3*e7 + (d45 + 1)``.  The mirror flips
``e7``; neighbours flip one of ``e1, e2, e3, e6`` or move ``d45`` to or from 0.
These functions recompute everything from that rule; they do not share the
executor's tables.
"""

from __future__ import annotations

__all__ = ["CLASSES", "PAGES", "BYTES_PER_PAGE", "CLASS_BYTES", "PHASE_MODULUS",
           "UNITY_CLASSES", "mirror", "neighbours", "degree", "is_unity"]

CLASSES = 96
PAGES = 48
BYTES_PER_PAGE = 256
CLASS_BYTES = PAGES * BYTES_PER_PAGE  # 12,288
PHASE_MODULUS = 768
UNITY_CLASSES = frozenset({1, 4})


def mirror(c: int) -> int:
    """The mirror class of ``c`` (flip e7: +3 or -3)."""
    return c + 3 if c % 6 < 3 else c - 3


def neighbours(c: int) -> list[int]:
    """The neighbours of class ``c`` in ascending order (5 or 6 of them)."""
    out = []
    for k in (48, 24, 12, 6):  # flip e1, e2, e3, e6
        out.append(c - k if (c // k) % 2 == 1 else c + k)
    if c % 3 == 1:  # d45 = 0: move to -1 or +1
        out += [c - 1, c + 1]
    else:  # d45 = +-1: move to 0
        out.append(c - (c % 3) + 1)
    return sorted(out)


def degree(c: int) -> int:
    """Number of neighbours of ``c``."""
    return len(neighbours(c))


def is_unity(c: int) -> bool:
    """Whether ``c`` is one of the two unity classes {1, 4}."""
    return c in UNITY_CLASSES
