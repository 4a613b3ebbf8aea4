"""Fixtures of the simt.ops tests (shared data and comparisons: ``opscheck.py``)."""

from __future__ import annotations

import pytest

import simt
from simt.ops import _kernels, _launch


class CountingDevice(simt.Device):
    """A Device that remembers which buffers are live, to check that ops free theirs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.live: set[int] = set()
        self.allocations = 0

    def alloc(self, nbytes):
        buf = super().alloc(nbytes)
        self.live.add(buf.handle)
        self.allocations += 1
        return buf

    def upload(self, array):
        buf = super().upload(array)
        self.live.add(buf.handle)
        self.allocations += 1
        return buf

    def free(self, buf):
        super().free(buf)
        self.live.discard(buf.handle)


@pytest.fixture(scope="session")
def dev() -> simt.Device:
    return simt.Device()


@pytest.fixture
def counting() -> CountingDevice:
    return CountingDevice()


@pytest.fixture
def small_chunk(monkeypatch) -> int:
    """Run the ops with the smallest legal chunk, so that a few thousand elements already
    take several chunks."""
    size = _launch.BLOCK * _kernels.REDUCE_ITEMS
    monkeypatch.setattr(_launch, "CHUNK", size)
    monkeypatch.setattr(_launch, "REDUCE_CHUNK", size)
    return size
