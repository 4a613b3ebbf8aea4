"""Memory of the reference device: buffers, the boundary pool, pools.

Plain ``bytearray`` objects in dicts.  Every access is checked here in the
reference backend's order and raises the error docs/semantics.md names; the
caller applies writes only after all lanes of a step passed their checks.

Spaces and handles:

* buffers: handles from 1 (never reused), any size;
* buffer handle 0: the boundary pool, 96 classes x 12,288 = 1,179,648 bytes,
  zero-filled, persistent; inside kernels an access must also stay within
  one class (``offset % 12288 + size <= 12288``);
* buffer handles ``2**64 - 96 + c``: class ``c`` of the boundary pool (12,288 bytes);
* pools: handles from 1 (their own counter, never reused); pool handle 0 is
  the boundary pool again, with the same checks as buffer handle 0.
"""

from __future__ import annotations

from ..errors import InvalidHandleError, OutOfBoundsError
from .atlas import CLASS_BYTES, CLASSES

__all__ = ["BOUNDARY_BYTES", "CLASS_HANDLE_BASE", "Memory"]

BOUNDARY_BYTES = CLASSES * CLASS_BYTES  # 1,179,648
CLASS_HANDLE_BASE = (1 << 64) - CLASSES


class Memory:
    """All device memory that outlives a launch.

    Attributes
    ----------
    boundary
        The boundary pool (handle 0), 1,179,648 bytes.
    buffers
        Buffer handle -> contents.
    pools
        Pool handle -> contents.
    next_buffer, next_pool
        The next handle each counter hands out.
    """

    def __init__(self) -> None:
        self.boundary = bytearray(BOUNDARY_BYTES)
        self.buffers: dict[int, bytearray] = {}
        self.pools: dict[int, bytearray] = {}
        self.next_buffer = 1
        self.next_pool = 1

    # ------------------------------------------------------------------ regions

    def region(self, handle: int) -> tuple[bytearray, int, int]:
        """``(storage, base, size)`` of a buffer handle (0 and class handles included).

        Raises
        ------
        InvalidHandleError
            Unknown or freed handle.
        """
        if handle == 0:
            return self.boundary, 0, BOUNDARY_BYTES
        if handle >= CLASS_HANDLE_BASE:
            return self.boundary, (handle - CLASS_HANDLE_BASE) * CLASS_BYTES, CLASS_BYTES
        if handle in self.buffers:
            storage = self.buffers[handle]
            return storage, 0, len(storage)
        raise InvalidHandleError(f"invalid buffer handle: {handle}")

    # ------------------------------------------------------------------ kernel accesses

    def global_access(self, handle: int, offset: int, size: int) -> tuple[bytearray, int]:
        """Check an LDG/STG access of ``size`` bytes; return ``(storage, absolute offset)``.

        Order (REF): handle, then ``offset + size`` against the buffer size,
        then (handle 0 only) the access must not cross a class end.
        """
        storage, base, capacity = self.region(handle)
        if offset + size > capacity:
            raise OutOfBoundsError(f"access of {size} bytes at offset {offset} is outside "
                                   f"buffer {handle} of {capacity} bytes")
        if handle == 0:
            check_one_class(offset, size)
        return storage, base + offset

    def pool_access(self, handle: int, offset: int, size: int,
                    freed: set[int] | frozenset[int] = frozenset()) -> tuple[bytearray, int]:
        """Check a PoolLoad/PoolStore access; return ``(storage, absolute offset)``.

        ``freed`` holds handles freed earlier in the same step (by lower lanes).
        Handle 0 is the boundary pool: bounds against 1,179,648, then the
        per-class check.
        """
        if handle == 0:
            if offset + size > BOUNDARY_BYTES:
                raise OutOfBoundsError(f"pool access of {size} bytes at offset {offset} is "
                                       f"outside the boundary pool of {BOUNDARY_BYTES} bytes")
            check_one_class(offset, size)
            return self.boundary, offset
        storage = self.pool(handle, freed)
        if offset + size > len(storage):
            raise OutOfBoundsError(f"pool access of {size} bytes at offset {offset} is outside "
                                   f"pool {handle} of {len(storage)} bytes")
        return storage, offset

    def pool(self, handle: int, freed: set[int] | frozenset[int] = frozenset()) -> bytearray:
        """The storage of a live pool (not 0, not freed)."""
        if handle in self.pools and handle not in freed:
            return self.pools[handle]
        raise InvalidHandleError(f"invalid pool handle: {handle}")

    # ------------------------------------------------------------------ host side

    def alloc(self, nbytes: int) -> int:
        """Allocate a zero-filled buffer; return its handle."""
        handle = self.next_buffer
        self.next_buffer += 1
        self.buffers[handle] = bytearray(nbytes)
        return handle

    def free(self, handle: int) -> None:
        """Free a buffer (not the boundary pool or its classes)."""
        if handle not in self.buffers:
            raise InvalidHandleError(f"invalid buffer handle: {handle} (cannot be freed)")
        del self.buffers[handle]

    def host_span(self, handle: int, offset: int, nbytes: int | None) -> tuple[bytearray, int, int]:
        """Check a host copy; return ``(storage, absolute start, length)``."""
        storage, base, capacity = self.region(handle)
        if nbytes is None:
            nbytes = capacity - offset
        if offset < 0 or nbytes < 0 or offset + nbytes > capacity:
            raise OutOfBoundsError(f"host copy of {nbytes} bytes at offset {offset} is outside "
                                   f"buffer {handle} of {capacity} bytes")
        return storage, base + offset, nbytes


def check_one_class(offset: int, size: int) -> None:
    """A boundary-pool access must stay inside one class of 12,288 bytes."""
    if offset % CLASS_BYTES + size > CLASS_BYTES:
        raise OutOfBoundsError(f"access of {size} bytes at boundary offset {offset} crosses "
                               f"the end of class {offset // CLASS_BYTES}")
