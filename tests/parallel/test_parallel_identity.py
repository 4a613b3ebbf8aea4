"""Parallel launches are bit for bit the serial launch with the same ``piece_lanes``.

Memory, resonance (bit patterns), statistics and the error raised (class, message and
every attribute) are compared against ``workers=1``, with local workers, a
``ProcessPoolExecutor`` and a two-worker ``distributed.LocalCluster``.  Random programs
from the generator are stretched to grids of 2-4 pieces of 65,536 lanes; hand-written
programs cover what random ones rarely hit: pieces reading what earlier pieces wrote,
a fault in a middle piece, a step limit, resonance sums whose order matters, pools.

The cost rule sends only programs with loops to the workers; these tests switch it off
(``pays``, ``MIN_PIECE_SECONDS``) so that every multi-piece launch without pools really runs on workers.
"""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simt
from simt.parallel import runner
from simt.testing.programs import ArgSpec, Case, cases
from simt.isa import DType

from parallel_cases import PIECE, assert_identical, run


@pytest.fixture(autouse=True)
def always_parallel(monkeypatch):
    monkeypatch.setattr(runner, "pays", lambda program: True)
    monkeypatch.setattr(runner, "MIN_PIECE_SECONDS", 0.0)


@pytest.fixture(scope="module")
def local():
    with simt.Device(piece_lanes=PIECE, workers=2) as dev:
        yield dev, simt.Device(piece_lanes=PIECE)


@pytest.fixture(scope="module")
def pool():
    with cf.ProcessPoolExecutor(2) as ex:
        with simt.Device(piece_lanes=PIECE, executor=ex) as dev:
            yield dev, simt.Device(piece_lanes=PIECE)


@pytest.fixture(scope="module")
def dask():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with simt.Device(piece_lanes=PIECE, executor=client.get_executor()) as dev:
                yield dev, simt.Device(piece_lanes=PIECE)


def text_case(text: str, grid: int, block: int = 256, data: bytes | None = None,
              max_steps: int | None = None, out_bytes: int | None = None) -> Case:
    """r0 = data buffer (8 bytes per lane + 8), r1 = output buffer, r2 = lane count (u64)."""
    lanes = grid * block
    if data is None:
        data = np.arange(lanes + 1, dtype=np.uint64).tobytes()
    out = bytes(8 * lanes if out_bytes is None else out_bytes)
    return Case(simt.assemble(text), (grid, 1, 1), (block, 1, 1), 0,
                (ArgSpec(buffer=0), ArgSpec(buffer=1), ArgSpec(ty=DType.U64, bits=lanes)),
                (data, out), max_steps=max_steps)


# Each lane adds its left neighbour one piece back into its own slot, in a loop: every
# piece reads what the piece before it wrote (the speculation is stale and is re-run).
CHAIN = """
    mov_imm.u32 r9, 3
    shl.u64 r3, r255, r9                ; my slot
    mov_imm.u64 r4, 524288              ; 65536 lanes * 8 bytes: one piece back
    setlt.u64 p0, r3, r4
    bra.p0 @done
    sub.u64 r5, r3, r4
    mov_imm.u32 r6, 2
    mov_imm.u64 r8, 0
again:
    ldg.u64 r7, [r0 + r5]
    add.u64 r8, r8, r7
    loop r6, @again
    ldg.u64 r7, [r0 + r3]
    add.u64 r7, r7, r8
    stg.u64 [r0 + r3], r7
done:
    exit
"""

# Lanes store their id, and one lane of the third piece (of four) faults.
FAULT = """
    mov_imm.u32 r9, 3
    shl.u64 r3, r255, r9
    mov_imm.u32 r6, 1
again:
    stg.u64 [r1 + r3], r255
    loop r6, @again
    mov_imm.u64 r4, 150000
    setne.u64 p0, r255, r4
    bra.p0 @done
    mov_imm.u64 r5, 99999999
    stg.u64 [r1 + r5], r255             ; out of bounds
done:
    exit
"""

# Every lane loops a number of times that grows with its piece: a small step budget
# stops a later piece.
STEPS = """
    mov_imm.u32 r9, 16
    shr.u64 r3, r255, r9                ; piece number
    cvt.u32.u64 r6, r3
    mov_imm.u32 r7, 20
    mul.u32 r6, r6, r7
again:
    add.u64 r8, r255, r255
    loop r6, @again
    mov_imm.u32 r9, 3
    shl.u64 r3, r255, r9
    stg.u64 [r1 + r3], r255
    exit
"""

# Resonance: huge and tiny magnitudes into a few classes, from every piece, twice each
# (float sums whose value depends on the order they are added in).
RESONANCE = """
    cvt.u32.u64 r3, r255
    mov_imm.u32 r4, 5
    and.u32 r5, r3, r4
    cvt.u8.u32 r6, r5
    mov_imm.u64 r7, 1
    and.u64 r8, r255, r7
    cvt.f64.u64 r9, r8
    mov_imm.f64 r10, 1e16
    mul.f64 r11, r9, r10
    mov_imm.f64 r12, 0.75
    add.f64 r11, r11, r12
    cvt.f64.u64 r13, r255
    mov_imm.f64 r14, 1e-3
    mul.f64 r13, r13, r14
    add.f64 r11, r11, r13
    mov_imm.u32 r15, 1
again:
    res.accum r6, r11
    loop r15, @again
    exit
"""

# NaN sums: which NaN a resonance class keeps is defined by the first NaN in serial
# order, and pieces 1-3 meet NaNs (quiet, signalling, inf + -inf) of different payloads.
NANS = """
    mov_imm.u32 r9, 3
    shl.u64 r3, r255, r9
    ldg.f64 r4, [r0 + r3]
    cvt.u32.u64 r5, r255
    mov_imm.u32 r6, 3
    and.u32 r5, r5, r6
    cvt.u8.u32 r7, r5
    res.accum r7, r4
    exit
"""


def _nan_data(lanes: int) -> bytes:
    values = np.ones(lanes + 1)
    bits = values.view(np.uint64)
    quiet, signalling = 0x7FF8 << 48, 0x7FF0 << 48
    bits[70_000] = quiet | 11          # class 0, piece 1
    bits[70_004] = quiet | 13          # class 0, later in piece 1
    bits[200_000] = quiet | 1 << 63 | 7  # class 0, piece 3
    values[150_001] = np.inf           # class 1: inf in piece 2, -inf in piece 3
    values[200_001] = -np.inf
    bits[140_002] = signalling | 17    # class 2, piece 2
    bits[140_006] = quiet | 19
    return values.tobytes()


# Pools: every lane of every piece allocates a pool, stores into it, reads it back,
# frees every other one; handle values depend on the serial order of the pieces.
POOLS = """
    pool.alloc r3, 16
    mov_imm.u64 r4, 8
    pool.store.u64 r3, r4, r255
    pool.load.u64 r5, r3, r4
    mov_imm.u32 r9, 3
    shl.u64 r6, r255, r9
    stg.u64 [r1 + r6], r3
    mov_imm.u64 r7, 1
    and.u64 r8, r255, r7
    mov_imm.u64 r10, 0
    setne.u64 p0, r8, r10
    bra.p0 @done
    pool.free r3
done:
    exit
"""

HAND = {
    "chain": text_case(CHAIN, grid=1024),                      # 4 pieces, all racy
    "fault": text_case(FAULT, grid=1024),                      # faults in piece 2 of 0..3
    "steps": text_case(STEPS, grid=768, max_steps=60),         # piece 2 of 0..2 stops
    "resonance": text_case(RESONANCE, grid=2048, block=96),    # 3 pieces of 682 blocks
    "pools": text_case(POOLS, grid=512),
    "nans": text_case(NANS, grid=1024, data=_nan_data(1024 * 256)),  # 4 pieces
}


def _blocks_of_32(case: Case) -> bool:
    """Grids of single lanes take minutes at 2-4 pieces; keep blocks of >= 32 lanes."""
    return case.block[0] * case.block[1] * case.block[2] >= 32


def _stretch(case: Case, pieces: int) -> Case:
    per_block = case.block[0] * case.block[1] * case.block[2]
    blocks = -(-pieces * PIECE // per_block) - (1 if per_block < PIECE else 0)
    return case.with_grid((max(blocks, 2), 1, 1))


def test_hand_written_programs_with_local_workers(local) -> None:
    ran = {}
    for name, case in HAND.items():
        assert_identical(case, local)
        ran[name] = local[0]._parallel.last
    assert ran["chain"] == (2, 2)           # pieces 2 and 3 read what 1 and 2 wrote
    assert ran["fault"] == (3, 0)           # pieces 0, 1 and the faulting piece 2
    assert ran["steps"] == (3, 0)
    assert ran["resonance"] == (4, 0)
    assert ran["pools"] is None             # pool programs run in-process
    assert ran["nans"] == (4, 0)            # NaN resonance replayed from the workers' logs


def test_fault_in_a_middle_piece_keeps_earlier_pieces_only(local) -> None:
    got = run(local[0], HAND["fault"])
    run(local[1], HAND["fault"])            # keep the twin's allocation history in step
    assert isinstance(got.error, simt.OutOfBoundsError) and got.error.lane == 150000
    out = np.frombuffer(got.buffers[1], np.uint64)
    assert (out[:131072] == np.arange(131072)).all()      # pieces 0 and 1
    assert (out[196608:] == 0).all()                        # piece 3 left no trace


@settings(max_examples=4, suppress_health_check=list(HealthCheck))
@given(case=cases(max_lanes=256, max_statements=10).filter(_blocks_of_32), pieces=st.integers(2, 4))
def test_random_programs_with_local_workers(local, case: Case, pieces: int) -> None:
    case = _stretch(case, pieces)
    assert_identical(case, local)


@settings(max_examples=3, suppress_health_check=list(HealthCheck))
@given(case=cases(max_lanes=256, max_statements=10).filter(_blocks_of_32), pieces=st.integers(2, 3))
def test_random_programs_on_a_process_pool(pool, case: Case, pieces: int) -> None:
    case = _stretch(case, pieces)
    assert_identical(case, pool)


def test_hand_written_programs_on_a_process_pool(pool) -> None:
    for name in ("chain", "fault", "resonance"):
        case = HAND[name]
        assert_identical(case, pool)


@settings(max_examples=2, suppress_health_check=list(HealthCheck))
@given(case=cases(max_lanes=256, max_statements=10).filter(_blocks_of_32))
def test_random_programs_on_a_dask_cluster(dask, case: Case) -> None:
    case = _stretch(case, 2)
    assert_identical(case, dask)


def test_hand_written_programs_on_a_dask_cluster(dask) -> None:
    for name in ("chain", "fault", "steps"):
        case = HAND[name]
        assert_identical(case, dask)
