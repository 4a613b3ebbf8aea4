"""Which bytes of device memory were ever written, for the init check.

A byte counts as written once the host uploaded or wrote it, a device store
wrote it, or a launch that ran *without* the init check ended (what such a
launch stores is not tracked, so everything it could have touched counts).
The zero fill of ``alloc`` and PoolAlloc does not count; the boundary pool is
always written.

Users who never ask for the init check pay O(1) per launch and per host copy:

* a launch without the check forgets every record and moves two marks: buffers
  and pools whose handles are below them count as entirely written (buffer
  handles and pool handles only grow; pools allocated *during* that launch are
  covered when the next launch starts, since only launches allocate pools);
* a host copy into a buffer above the mark appends one interval;
* bitmaps (one bool per byte) exist only for arrays an init-checked launch
  touched above the marks; they count against the device's memory limit and
  go away with their array or at the next launch without the check.
"""

from __future__ import annotations

import weakref

import numpy as np

from .memory import CLASS_HANDLE_BASE, DeviceMemory

__all__ = ["Written", "written", "host_wrote", "launch_begins"]


class _Entry:
    __slots__ = ("intervals", "bitmap", "__weakref__")

    def __init__(self) -> None:
        self.intervals: list[tuple[int, int]] = []
        self.bitmap: np.ndarray | None = None


class Written:
    """The written-bytes records of one device's memory."""

    def __init__(self, memory: DeviceMemory) -> None:
        self._memory = weakref.ref(memory)
        self.buffer_mark = 1
        self.pool_mark = 1
        self.pools_pending = False
        self.entries: dict[int, tuple[weakref.ref, _Entry]] = {}
        self.reserved = [0]

    # ------------------------------------------------------------------ launches
    def launch_begins(self, init_checked: bool) -> None:
        """A launch starts; ``init_checked``: whether it tracks what it writes."""
        memory = self._memory()
        if self.pools_pending:      # pools the last unchecked launch allocated
            self.pool_mark = memory.next_pool
            self.pools_pending = False
        if init_checked:
            return
        self.forget()
        self.buffer_mark = memory.next_buffer
        self.pool_mark = memory.next_pool
        self.pools_pending = True

    def forget(self) -> None:
        """Drop every record (their arrays then count as written if below the marks)."""
        if self.entries:
            for key in list(self.entries):
                self._drop(key)

    def _drop(self, key: int) -> None:
        _, entry = self.entries.pop(key)
        if entry.bitmap is not None:
            memory = self._memory()
            if memory is not None:
                memory.release(entry.bitmap.size)
            self.reserved[0] -= entry.bitmap.size

    # ------------------------------------------------------------------ host
    def host_wrote(self, handle: int, offset: int, nbytes: int) -> None:
        """The host copied ``nbytes`` into buffer ``handle`` at ``offset``."""
        if handle < self.buffer_mark or handle >= CLASS_HANDLE_BASE or nbytes <= 0:
            return
        data = self._memory().buffers.get(handle)
        if data is None:
            return
        entry = self._entry(data)
        if entry.bitmap is not None:
            entry.bitmap[offset:offset + nbytes] = True
        else:
            entry.intervals.append((offset, offset + nbytes))

    # ------------------------------------------------------------------ device
    def bitmap(self, mem: np.ndarray) -> np.ndarray | None:
        """The written flags of each byte of ``mem``, or None when all count as written."""
        found = self.entries.get(id(mem))
        if found is not None and found[0]() is mem:
            entry = found[1]
        else:
            if not self._tracked(mem):
                return None
            entry = self._entry(mem)
        if entry.bitmap is None:
            memory = self._memory()
            memory.reserve(mem.size, "init check shadow memory")
            self.reserved[0] += mem.size
            bitmap = np.zeros(mem.size, bool)
            for lo, hi in entry.intervals:
                bitmap[lo:hi] = True
            entry.bitmap = bitmap
            entry.intervals = []
        return entry.bitmap

    def _tracked(self, mem: np.ndarray) -> bool:
        memory = self._memory()
        if mem is memory.boundary:
            return False
        for handle, data in memory.buffers.items():
            if data is mem:
                return handle >= self.buffer_mark
        for pb in memory.pools:
            if pb.data is mem:
                return pb.first >= self.pool_mark
        return False

    def _entry(self, mem: np.ndarray) -> _Entry:
        key = id(mem)
        found = self.entries.get(key)
        if found is not None and found[0]() is mem:
            return found[1]
        if found is not None:
            self._drop(key)
        entry = _Entry()
        me = weakref.ref(self)

        def gone(_ref, key=key):
            owner = me()
            if owner is not None and key in owner.entries and owner.entries[key][1] is entry:
                owner._drop(key)
        self.entries[key] = (weakref.ref(mem, gone), entry)
        return entry


def written(memory: DeviceMemory) -> Written:
    """The device memory's written-bytes records (made on first use)."""
    state = memory.__dict__.get("written_bytes")
    if state is None:
        state = memory.__dict__["written_bytes"] = Written(memory)
    return state


def host_wrote(memory: DeviceMemory, handle: int, offset: int, nbytes: int) -> None:
    """Record a host copy into a buffer (see :meth:`Written.host_wrote`)."""
    written(memory).host_wrote(handle, offset, nbytes)


def launch_begins(memory: DeviceMemory, init_checked: bool) -> None:
    """Record that a launch starts, with or without the init check."""
    written(memory).launch_begins(init_checked)
