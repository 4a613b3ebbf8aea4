"""Packed rows and remembered shared grids: the fast forms give the plain paths' values.

A register restarted on a :class:`~simt.machine.lanes.Tiles` or index-array lane set
with a fresh compact array keeps that array (``Row.packed``); shared-memory grids are
remembered across pieces and launches (``kernels.memory._GRIDS``).  Each is checked
here against what the row or the kernel must hold, and end to end against NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import simt
from simt.demo import TREE_REDUCTION
from simt.isa.types import DType
from simt.machine import debug
from simt.machine.kernels import memory as kmem
from simt.machine.lanes import LaneSet, Tiles
from simt.machine.state import UNSET, Row

N = 64
F32 = DType.F32
TILES = Tiles.make(16, 0, 4, 2, 6)      # lanes 2..5 of each of 4 rows of 16


def _lanes(s: LaneSet) -> np.ndarray:
    return s.indices()


def _packed_row() -> tuple[Row, np.ndarray]:
    row = Row(N, 3)
    values = np.arange(1, len(TILES) + 1, dtype=np.float32)
    row.write(TILES, F32.code, F32.storage, values, N, N, 0)
    return row, values


def test_a_tiles_write_of_a_fresh_array_keeps_it_and_a_read_by_that_set_is_it() -> None:
    row, values = _packed_row()
    assert row.packed and row.data is values
    assert row.fast(F32.code, F32.storage, TILES) is values
    assert row.values(TILES, F32.storage) is values


def test_a_read_by_another_set_unpacks_into_the_lanes_of_the_region() -> None:
    row, values = _packed_row()
    everyone = LaneSet.range(0, N)
    assert row.fast(F32.code, F32.storage, everyone) is None
    got = row.values(everyone, F32.storage)
    want = np.zeros(N, np.float32)
    want[_lanes(TILES)] = values
    np.testing.assert_array_equal(got, want)
    assert not row.packed and row.data.shape == (N,)


def test_readout_of_a_packed_row_shows_its_lanes_and_keeps_it_packed() -> None:
    row, values = _packed_row()
    bits, tags = row.readout()
    assert row.packed
    lanes = _lanes(TILES)
    np.testing.assert_array_equal(bits[lanes].astype(np.uint32).view(np.float32), values)
    assert (tags[lanes] == F32.code).all()
    rest = np.setdiff1d(np.arange(N), lanes)
    assert (tags[rest] == UNSET).all()


def test_a_partial_write_after_packing_keeps_the_region_values() -> None:
    row, values = _packed_row()
    other = LaneSet.range(40, 44)                 # beside the windows
    extra = np.full(4, 7.5, np.float32)
    row.write(other, F32.code, F32.storage, extra, N, N, 1 << row.bit)   # others wait: keep
    assert not row.packed
    want = np.zeros(N, np.float32)
    want[_lanes(TILES)] = values
    want[40:44] = extra
    got = row.values(LaneSet.range(0, N), F32.storage)
    written = np.union1d(_lanes(TILES), np.arange(40, 44))
    np.testing.assert_array_equal(got[written], want[written])
    bits, tags = row.readout()
    assert (tags[written] == F32.code).all()


def test_a_tag_check_by_another_set_unpacks_first() -> None:
    row, values = _packed_row()
    found = row.check(LaneSet.range(0, 16), F32.code)       # lanes 0, 1, 6.. are unset
    assert found is not None and found[1] == UNSET
    assert not row.packed
    np.testing.assert_array_equal(row.values(TILES, F32.storage), values)


def test_an_array_the_row_does_not_own_is_scattered_not_kept() -> None:
    row = Row(N, 3)
    base = np.arange(2 * len(TILES), dtype=np.float32)
    view = base[::2]                                # a view: someone else holds the memory
    row.write(TILES, F32.code, F32.storage, view, N, N, 0)
    assert not row.packed and row.data.shape == (N,)
    np.testing.assert_array_equal(row.values(TILES, F32.storage), view)


def test_a_full_write_after_packing_replaces_the_packed_array() -> None:
    row, _ = _packed_row()
    fresh = np.arange(N, dtype=np.float32)
    assert row.write_all(F32.code, F32.storage, fresh)
    assert not row.packed and row.data is fresh
    np.testing.assert_array_equal(row.values(TILES, F32.storage), fresh[_lanes(TILES)])


def _tree_partials(a: np.ndarray, block: int) -> np.ndarray:
    """The kernel's own order of float32 additions: exact partials."""
    rows = a.reshape(-1, block).copy()
    s = block // 2
    while s:
        rows[:, :s] = rows[:, :s] + rows[:, s:2 * s]
        s //= 2
    return rows[:, 0]


@pytest.mark.parametrize("block", [64, 256])
@pytest.mark.parametrize("debugging", [False, True])
def test_tree_reduction_over_several_pieces_is_exact(block: int, debugging: bool) -> None:
    rng = np.random.default_rng(block)
    blocks = 163_840 // block                     # two and a half pieces of 65,536 lanes
    a = rng.standard_normal(blocks * block).astype(np.float32)
    want = _tree_partials(a, block)
    prog = simt.assemble(TREE_REDUCTION)
    with debug.enabled_mode(debugging):
        for piece_lanes in (1 << 16, 1 << 18):      # several pieces (the grid memo), one
            dev = simt.Device(piece_lanes=piece_lanes)
            src, out = dev.upload(a), dev.alloc(4 * blocks)
            for _ in range(2):                        # the second launch meets the memo
                dev.launch(prog, grid=blocks, block=block,
                           args=(src, out, np.uint64(a.size)), shared_bytes=4 * block)
                np.testing.assert_array_equal(dev.download(out, np.float32), want)


def test_the_grid_memo_key_names_everything_the_grid_depends_on() -> None:
    from simt.machine.values import Tiled
    offsets = Tiled(4, 4, 0, 256, np.dtype(np.uint64))
    lanes = Tiles.make(256, 0, 8, 0, 128)
    key = kmem._grid_key(offsets, lanes, 4, 256, 1024)
    assert key == kmem._grid_key(Tiled(4, 4, 0, 256, np.dtype(np.uint64)),
                                 Tiles.make(256, 0, 8, 0, 128), 4, 256, 1024)
    for other in (kmem._grid_key(offsets, lanes, 8, 256, 1024),
                  kmem._grid_key(offsets, lanes, 4, 256, 2048),
                  kmem._grid_key(offsets, Tiles.make(256, 0, 8, 0, 64), 4, 256, 1024),
                  kmem._grid_key(Tiled(0, 4, 0, 256, np.dtype(np.uint64)), lanes, 4, 256, 1024),
                  kmem._grid_key(Tiled(4, 4, 0, 256, np.dtype(np.uint32)), lanes, 4, 256, 1024)):
        assert other != key
    index_set = LaneSet.of(np.array([1, 5, 9]))
    assert kmem._grid_key(offsets, index_set, 4, 256, 1024) is None


def test_a_constant_shared_offset_reads_one_slot_per_block() -> None:
    src = """
    mov_imm.u32 r1, 0
    setne.u32 p0, r252, r1
    bra.p0 @done
    cvt.u64.u32 r2, r253
    mov_imm.u32 r3, 2
    shl.u64 r2, r2, r3
    mov_imm.u32 r4, 7
    add.u32 r4, r4, r253
    sts.u32 [shared + 12], r4
    lds.u32 r5, [shared + 12]
    stg.u32 [r0 + r2], r5
done:
    exit
"""
    dev = simt.Device()
    blocks = 40
    out = dev.alloc(4 * blocks)
    dev.launch(simt.assemble(src), grid=blocks, block=64, args=(out,), shared_bytes=16)
    np.testing.assert_array_equal(dev.download(out, np.uint32), 7 + np.arange(blocks))


def test_a_constant_shared_offset_past_the_scratch_still_faults() -> None:
    dev = simt.Device()
    with pytest.raises(simt.OutOfBoundsError, match="offset 16 "):
        dev.launch(simt.assemble("lds.u32 r1, [shared + 16]\nexit"), grid=3, block=32,
                   shared_bytes=16)
