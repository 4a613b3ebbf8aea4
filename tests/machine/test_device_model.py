"""A stateful model of the device API under a tight ``memory_limit``.

Hypothesis drives a :class:`simt.Device` and a plain-Python model side by side:
buffers (alloc, upload of views and foreign byte orders, write, download, free)
and pools made, read and freed by kernels.  After every step the device's
``memory_used`` must match the model's, every operation must succeed or fail
exactly as the model says (with the error class it names), and contents must
match byte for byte.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant,
                                 multiple, precondition, rule)

import simt

BOUNDARY = 1_179_648
LANES = 32
LIMIT = BOUNDARY + 12 * LANES + (96 << 10)
WORKING = 512               # bytes per lane that bound a small kernel's working memory
POOL_SIZES = (4, 64, 1024, 4096)
DTYPES = ("u1", "<u2", ">u2", "<i4", ">i4", "<f8", ">f8")

_LANE = """
    cvt.u64.u32 r3, r252
    mov_imm.u32 r4, 3
    shl.u64 r5, r3, r4          ; lane * 8
    mov_imm.u32 r8, 2
    shl.u64 r9, r3, r8          ; lane * 4
"""
# r0: handles (u64 per lane); r1: a u32 tag (alloc) or the u32 results per lane (read)
_ALLOC = {size: simt.assemble(_LANE + f"""
    pool.alloc r2, {size}
    stg.u64 [r0 + r5], r2
    cvt.u32.u64 r6, r2
    xor.u32 r6, r6, r1
    mov_imm.u64 r7, 0
    pool.store.u32 r2, r7, r6
""") for size in POOL_SIZES}
_READ = simt.assemble(_LANE + """
    ldg.u64 r2, [r0 + r5]
    mov_imm.u64 r7, 0
    pool.load.u32 r6, r2, r7
    stg.u32 [r1 + r9], r6
""")
_FREE = simt.assemble(_LANE + """
    ldg.u64 r2, [r0 + r5]
    pool.free r2
""")


def _expect(error: type[BaseException] | None, run):
    """Run ``run()``; it must raise exactly ``error`` (a class), or nothing if None."""
    if error is None:
        return run()
    with pytest.raises(error):
        run()
    return None


@st.composite
def host_arrays(draw) -> np.ndarray:
    """Arrays of several dtypes and byte orders, contiguous or not."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    n = draw(st.integers(0, 24))
    raw = draw(st.binary(min_size=n * dtype.itemsize, max_size=n * dtype.itemsize))
    arr = np.frombuffer(raw, dtype).copy()
    form = draw(st.sampled_from(["plain", "strided", "broadcast", "transposed"]))
    if form == "strided":
        return arr[::2]
    if form == "broadcast" and n:
        return np.broadcast_to(arr[:1], (draw(st.integers(1, 5000)),))
    if form == "transposed" and n % 2 == 0:
        return arr.reshape(2, n // 2).T
    return arr


def _native_bytes(arr: np.ndarray) -> bytes:
    return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("=")).tobytes()


class DeviceModel(RuleBasedStateMachine):
    buffers = Bundle("buffers")

    @initialize()
    def start(self) -> None:
        self.dev = simt.Device(memory_limit=LIMIT)
        self.handles = self.dev.alloc(8 * LANES)        # kernels' per-lane pool handles
        self.results = self.dev.alloc(4 * LANES)        # kernels' per-lane results
        self.used = BOUNDARY + 12 * LANES
        self.contents: dict[int, bytearray] = {}        # live buffers
        self.uploaded: dict[int, tuple[np.dtype, tuple]] = {}
        self.pools: dict[int, tuple[int, int]] = {}     # live pool -> (size, u32 at 0)
        self.next_pool = 1
        self.dead_pools: list[int] = []

    # -------------------------------------------------------------- buffers
    @rule(target=buffers, nbytes=st.integers(0, 40_000))
    def alloc(self, nbytes):
        if self.used + nbytes > LIMIT:
            _expect(simt.DeviceMemoryError, lambda: self.dev.alloc(nbytes))
            return multiple()
        buf = self.dev.alloc(nbytes)
        self.used += nbytes
        self.contents[buf.handle] = bytearray(nbytes)
        return buf

    @rule(target=buffers, arr=host_arrays())
    def upload(self, arr):
        if self.used + arr.nbytes > LIMIT:
            _expect(simt.DeviceMemoryError, lambda: self.dev.upload(arr))
            return multiple()
        buf = self.dev.upload(arr)
        self.used += arr.nbytes
        self.contents[buf.handle] = bytearray(_native_bytes(arr))
        self.uploaded[buf.handle] = (arr.dtype.newbyteorder("="), arr.shape)
        return buf

    @rule(buf=buffers, arr=host_arrays(), offset=st.integers(-8, 64))
    def write(self, buf, arr, offset):
        data = self.contents.get(buf.handle)
        if data is None:
            _expect(simt.InvalidHandleError, lambda: self.dev.write(buf, arr, offset))
        elif offset < 0 or offset + arr.nbytes > len(data):
            _expect(simt.OutOfBoundsError, lambda: self.dev.write(buf, arr, offset))
        else:
            self.dev.write(buf, arr, offset)
            data[offset:offset + arr.nbytes] = _native_bytes(arr)

    @rule(buf=buffers, dtype=st.sampled_from(["u1", "u4", None]),
          count=st.none() | st.integers(-1, 40), offset=st.integers(-4, 64))
    def download(self, buf, dtype, count, offset):
        data = self.contents.get(buf.handle)

        def run():
            return self.dev.download(buf, dtype, count=count, offset=offset)
        if data is None:
            return _expect(simt.InvalidHandleError, run)
        if dtype is None:
            if buf.handle not in self.uploaded:
                return _expect(TypeError, run)
            dt = self.uploaded[buf.handle][0]
        else:
            dt = np.dtype(dtype)
        if offset < 0 or offset > len(data):
            return _expect(simt.OutOfBoundsError, run)
        if count is None and (len(data) - offset) % dt.itemsize:
            return _expect(ValueError, run)
        n = (len(data) - offset) // dt.itemsize if count is None else count
        if n < 0 or offset + n * dt.itemsize > len(data):
            return _expect(simt.OutOfBoundsError, run)
        got = run()
        want = np.frombuffer(bytes(data[offset:offset + n * dt.itemsize]), dt)
        if dtype is None and count is None and offset == 0:
            want = want.reshape(self.uploaded[buf.handle][1])
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()

    @rule(buf=buffers)
    def free(self, buf):
        data = self.contents.pop(buf.handle, None)
        if data is None:
            _expect(simt.InvalidHandleError, lambda: self.dev.free(buf))
            return
        self.dev.free(buf)
        self.used -= len(data)

    # -------------------------------------------------------------- pools
    def _launch(self, prog, lanes, args, must_fit, fault=None):
        """Launch; DeviceMemoryError is allowed only where working memory may not fit.

        ``fault`` is the (lane, lanes_faulting) of the InvalidHandleError the
        launch must raise, if any.  Returns the result, or None if it failed.
        """
        fits = self.used + must_fit + WORKING * lanes <= LIMIT
        try:
            res = self.dev.launch(prog, block=lanes, args=args)
        except simt.DeviceMemoryError as err:
            assert not fits, f"refused although it fits: {err}"
            return None
        except simt.InvalidHandleError as err:
            assert fault is not None, f"unexpected {err!r}"
            assert (err.lane, err.lanes_faulting) == fault
            return None
        assert fault is None, f"expected InvalidHandleError at lane {fault[0]}"
        return res

    @rule(lanes=st.integers(1, LANES), size=st.sampled_from(POOL_SIZES),
          tag=st.integers(0, 2**32 - 1))
    def pool_alloc(self, lanes, size, tag):
        need = lanes * size
        if self.used + need > LIMIT:
            _expect(simt.DeviceMemoryError, lambda: self.dev.launch(
                _ALLOC[size], block=lanes, args=(self.handles, np.uint32(tag))))
            return
        res = self._launch(_ALLOC[size], lanes, (self.handles, np.uint32(tag)), need)
        if res is None:
            return
        handles = self.dev.download(self.handles, np.uint64, count=lanes).tolist()
        assert handles == list(range(self.next_pool, self.next_pool + lanes))
        self.next_pool += lanes
        for h in handles:
            self.pools[h] = (size, (h & 0xFFFF_FFFF) ^ tag)
        self.used += need
        assert res.stats.opcode_counts["PoolAlloc"] == 1

    def _handles(self, data) -> list[int]:
        """Per-lane handles: live pools, freed ones, handle 0 and arbitrary u64s."""
        choices = [st.sampled_from([0, (1 << 64) - 1, 1 << 63, (1 << 63) + 1, 1 << 62]),
                   st.integers(0, 2**64 - 1)]
        if self.pools:
            choices += [st.sampled_from(sorted(self.pools))] * 4
        if self.dead_pools:
            choices.append(st.sampled_from(self.dead_pools))
        return data.draw(st.lists(st.one_of(choices), min_size=1, max_size=LANES))

    @rule(data=st.data())
    def pool_read(self, data):
        handles = self._handles(data)
        lanes = len(handles)
        self.dev.write(self.handles, np.array(handles, np.uint64))
        bad = [i for i, h in enumerate(handles) if h != 0 and h not in self.pools]
        fault = (bad[0], len(bad)) if bad else None
        if self._launch(_READ, lanes, (self.handles, self.results), 0, fault) is not None:
            got = self.dev.download(self.results, np.uint32, count=lanes).tolist()
            assert got == [self.pools[h][1] if h else 0 for h in handles]

    @precondition(lambda self: self.pools)
    @rule(data=st.data())
    def pool_free(self, data):
        handles = self._handles(data)
        lanes = len(handles)
        self.dev.write(self.handles, np.array(handles, np.uint64))
        bad = [i for i, h in enumerate(handles) if h not in self.pools or h in handles[:i]]
        fault = (bad[0], len(bad)) if bad else None
        if self._launch(_FREE, lanes, (self.handles,), 0, fault) is not None:
            for h in handles:
                self.used -= self.pools.pop(h)[0]
                self.dead_pools.append(h)

    # -------------------------------------------------------------- checks
    @invariant()
    def memory_used_matches(self):
        if hasattr(self, "dev"):
            assert self.dev.memory_used == self.used


TestDeviceModel = DeviceModel.TestCase
TestDeviceModel.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
