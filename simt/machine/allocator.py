"""Keep freed working memory in the process, so a launch's arrays do not fault pages in.

A piece allocates and frees many arrays of a megabyte or more (register rows,
masks, temporaries).  With glibc's defaults, large blocks are mapped and
unmapped one by one, and freed memory at the top of the heap goes back to the
operating system; every new array then takes a page fault per 4 KiB page on
first touch, which costs more than the arithmetic on it (measured: an if/else
kernel with a store in each path ran 3x faster with the settings below).

:func:`retain_freed_memory` raises glibc's mmap threshold to 32 MiB and its
trim threshold to 256 MiB (``mallopt``), once per process, when the first
:class:`~simt.Device` is made.  Arrays below 32 MiB then come from the heap
and up to 256 MiB of freed heap stays mapped for reuse; larger arrays (user
buffers) are still returned to the system on free.  Nothing is changed when
the process is not using glibc, when any ``MALLOC_*_`` tuning variable is set
(the user's choice wins) or when ``SIMT_KEEP_MALLOC=1`` is set.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["retain_freed_memory", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

from .thresholds import MMAP_THRESHOLD, TRIM_THRESHOLD  # noqa: E402
_M_TRIM_THRESHOLD = -1      # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
                  "MALLOC_MMAP_MAX_", "SIMT_KEEP_MALLOC")
_done: bool | None = None


def retain_freed_memory() -> bool:
    """Apply the settings above once per process; return whether they are in effect."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def _apply() -> bool:
    if not sys.platform.startswith("linux") or any(v in os.environ for v in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        if not libc.gnu_get_libc_version:   # glibc only: musl has no mallopt tuning
            return False
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
