"""Device memory in POSIX shared memory, mapped copy-on-write by local workers.

The device process creates one named shared-memory object per buffer (and
one for the boundary pool) the first time a parallel launch needs it, copies
the buffer into it once and from then on keeps the buffer there (see
``DeviceMemory.adopt``).  A worker maps an object *privately*
(``MAP_PRIVATE``): it reads the device's bytes without a copy, and its own
stores touch only its private copies of the pages it writes.  The device
process never writes to shared memory while workers run a launch, so every
worker sees the memory as it was when the launch started.

The device removes a name when its buffer was freed (at the next parallel
launch), when the device is collected and at interpreter exit; only a device
process killed outright leaves its ``/simt_*`` names behind.  (No helper
process such as multiprocessing's resource tracker is involved.)
"""

from __future__ import annotations

import mmap
import os
import secrets

import numpy as np

try:   # POSIX only; elsewhere local workers get the buffers shipped with each launch
    import _posixshmem
except ImportError:    # pragma: no cover - not POSIX
    _posixshmem = None

__all__ = ["AVAILABLE", "SharedArrays", "attach"]

AVAILABLE = _posixshmem is not None


def _create(nbytes: int) -> tuple[str, np.ndarray]:
    """A new shared-memory object of ``nbytes`` bytes: its name and a writable mapping."""
    while True:
        name = f"/simt_{os.getpid()}_{secrets.token_hex(6)}"
        try:
            fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
        except FileExistsError:
            continue
        break
    try:
        os.ftruncate(fd, nbytes)
        mapping = mmap.mmap(fd, nbytes)
    except BaseException:
        _unlink(name)
        raise
    finally:
        os.close(fd)
    return name, np.frombuffer(mapping, np.uint8, count=nbytes)


def _unlink(name: str) -> None:
    try:
        _posixshmem.shm_unlink(name)
    except FileNotFoundError:
        pass


def attach(name: str, nbytes: int) -> np.ndarray:
    """A private copy-on-write mapping of the shared-memory object ``name`` (in a worker)."""
    fd = _posixshmem.shm_open(name, os.O_RDONLY, mode=0o600)
    try:
        mapping = mmap.mmap(fd, nbytes, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
    return np.frombuffer(mapping, np.uint8, count=nbytes)


class SharedArrays:
    """The shared-memory objects holding one device's memory, by key (0: boundary pool)."""

    def __init__(self) -> None:
        self.names: dict[int, tuple[str, np.ndarray]] = {}

    def share(self, memory) -> dict[int, tuple[str, int]]:
        """Move every buffer of ``memory`` into shared memory (once each); forget freed
        ones; return ``key -> (name, nbytes)`` of the non-empty arrays."""
        current = dict(memory.buffers)
        current[0] = memory.boundary
        for key in [k for k, (_, arr) in self.names.items() if current.get(k) is not arr]:
            _unlink(self.names.pop(key)[0])
        out = {}
        for key, arr in current.items():
            if arr.size == 0:
                continue
            held = self.names.get(key)
            if held is None:
                name, data = _create(arr.size)
                data[:] = arr
                memory.adopt(key, data)
                self.names[key] = held = (name, data)
            out[key] = (held[0], arr.size)
        return out

    def release(self) -> None:
        """Remove every name (mappings stay valid where they are held)."""
        for name, _ in self.names.values():
            _unlink(name)
        self.names.clear()

    def forget(self, memory) -> None:
        """Remove the names of freed buffers only."""
        current = dict(memory.buffers)
        current[0] = memory.boundary
        for key in [k for k, (_, arr) in self.names.items() if current.get(k) is not arr]:
            _unlink(self.names.pop(key)[0])
