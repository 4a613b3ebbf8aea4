"""Stepping sessions: the same answers as launch, inspection at known points, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simt
from simt.isa import DType
from simt.machine.events import Access, Hazard, Observer
from simt.testing.programs import Case, cases

MIN_PIECE = 65_536


# --------------------------------------------------------------------------- session == launch

def _scalar(ty: DType, bits: int) -> np.generic:
    return np.array([bits], dtype=f"<u{ty.size}").view(ty.numpy)[0]


def _setup(case: Case, piece_lanes: int):
    dev = simt.Device(piece_lanes=piece_lanes)
    buffers = [dev.upload(np.frombuffer(data, np.uint8)) for data in case.buffers]
    for offset, data in case.boundary:
        dev.write(dev.boundary, np.frombuffer(data, np.uint8), offset=offset)
    args = [buffers[a.buffer] if a.buffer is not None else _scalar(a.ty, a.bits)
            for a in case.args]
    kw = dict(grid=case.grid, block=case.block, args=args, shared_bytes=case.shared_bytes,
              max_steps=case.max_steps)
    return dev, buffers, case.program_for([b.handle for b in buffers]), kw


def _memory(dev, buffers) -> tuple:
    return (tuple(dev.download(b, np.uint8).tobytes() for b in buffers),
            dev.download(dev.boundary, np.uint8).tobytes())


def _by_launch(case: Case, piece_lanes: int):
    dev, buffers, program, kw = _setup(case, piece_lanes)
    try:
        res = dev.launch(program, **kw)
    except simt.SimtError as error:
        return _memory(dev, buffers), None, (type(error).__name__, error.pc, error.lane)
    return _memory(dev, buffers), res, None


def _by_session(case: Case, piece_lanes: int, strides: list[int], breaks: list[int]):
    """Run ``case`` in a session by steps of ``strides`` (cycled) and runs to ``breaks``."""
    dev, buffers, program, kw = _setup(case, piece_lanes)
    s = dev.session(program, **kw)
    k = 0
    try:
        while not s.finished:
            before = s.pc
            if k % 3 == 2 and breaks:
                stop = s.run(breaks)
                assert stop is None or (stop == s.pc and stop in breaks)
            else:
                n = strides[k % len(strides)]
                done = s.step(n)
                assert done == n or s.finished
            assert s.finished or s.pc is not None, before
            k += 1
        res = s.result()
    except simt.SimtError as error:
        assert not s.finished
        assert s.pc is not None and len(s.lanes) > 0
        with pytest.raises(simt.SimtError) as again:
            s.step()
        assert again.value is error
        with pytest.raises(simt.SimtError) as again:
            s.result()
        assert again.value is error
        if type(error) is not simt.BarrierDeadlockError:
            assert s.pc == error.pc and error.lane in s.lanes
        return _memory(dev, buffers), None, (type(error).__name__, error.pc, error.lane)
    assert s.pc is None and len(s.lanes) == 0 and (s.lane_pcs == -1).all()
    return _memory(dev, buffers), res, None


def _assert_same(case: Case, piece_lanes: int, strides, breaks) -> None:
    mem_l, res_l, err_l = _by_launch(case, piece_lanes)
    mem_s, res_s, err_s = _by_session(case, piece_lanes, strides, breaks)
    assert err_s == err_l, case
    assert mem_s == mem_l, case
    if res_l is not None:
        assert res_s.resonance.view(np.uint64).tolist() == res_l.resonance.view(
            np.uint64).tolist(), case
        assert res_s.stats == res_l.stats, case


@settings(max_examples=200)
@given(cases(max_lanes=256, max_statements=16), st.lists(st.integers(1, 9), min_size=1,
                                                          max_size=4),
       st.lists(st.integers(0, 80), max_size=3))
def test_session_computes_what_launch_computes(case: Case, strides, breaks) -> None:
    _assert_same(case, MIN_PIECE, strides, breaks)


@settings(max_examples=8)
@given(cases(max_lanes=64, max_statements=12, race_free=True, chaotic=False),
       st.integers(1, 50))
def test_session_over_several_pieces(case: Case, stride: int) -> None:
    """A launch just larger than one piece: the session walks into the second piece."""
    per_block = case.block[0] * case.block[1] * case.block[2]
    big = case.with_grid((MIN_PIECE // per_block + 1, 1, 1))
    _assert_same(big, MIN_PIECE, [stride], [])


# --------------------------------------------------------------------------- inspection

DOUBLE_HALF = """
    mov_imm.u32 r4, 2
    cvt.u64.u32 r5, r252            ; line 3
    shl.u64 r5, r5, r4
    ldg.f32 r6, [r0 + r5]           ; line 5
    mov_imm.u32 r7, 2
    setlt.u32 p0, r252, r7          ; line 7
    bra.p0 @skip
    add.f32 r6, r6, r6              ; pc 7, line 9
skip:
    stg.f32 [r0 + r5], r6           ; pc 8, line 11
"""


def test_nothing_runs_before_the_first_step() -> None:
    dev = simt.Device()
    buf = dev.upload(np.arange(4, dtype=np.float32))
    s = dev.session(simt.assemble(DOUBLE_HALF), block=4, args=(buf,))
    assert (s.pc, s.finished) == (0, False)
    assert s.lanes.dtype == np.int64 and s.lanes.tolist() == [0, 1, 2, 3]
    assert s.lane_ids.tolist() == [0, 1, 2, 3] and s.lane_pcs.tolist() == [0, 0, 0, 0]
    assert s.register(6).mask.all() and s.register(6).dtype == np.uint64
    assert s.predicate(0).mask.all()
    assert s.register(0).tolist() == [buf.handle] * 4      # kernel argument in r0
    assert s.register(0).dtype == np.uint64


def test_registers_predicates_and_lane_pcs_at_a_breakpoint() -> None:
    dev = simt.Device()
    buf = dev.upload(np.arange(4, dtype=np.float32))
    s = dev.session(simt.assemble(DOUBLE_HALF), block=4, args=(buf,))
    assert s.run([7]) == 7
    assert s.pc == 7 and s.lanes.tolist() == [2, 3]
    assert s.lane_pcs.tolist() == [8, 8, 7, 7]
    r6 = s.register(6)
    assert isinstance(r6, np.ma.MaskedArray) and r6.dtype == np.float32
    assert r6.tolist() == [0.0, 1.0, 2.0, 3.0] and not r6.mask.any()
    assert s.register(5).dtype == np.uint64 and s.register(5).tolist() == [0, 4, 8, 12]
    assert s.register(4).dtype == np.uint32 and s.register(4).tolist() == [2, 2, 2, 2]
    p0 = s.predicate(0)
    assert p0.dtype == bool and p0.tolist() == [True, True, False, False]
    assert s.register(6, np.int32).tolist() == [0, 0x3F800000, 0x40000000, 0x40400000]
    assert s.register(6, "u32").dtype == np.uint32
    with pytest.raises(ValueError):
        s.register(6, np.int16)        # no lane holds a 2-byte value
    assert s.register("r6").tolist() == r6.tolist()
    assert s.step() == 1
    assert s.pc == 8 and s.lanes.tolist() == [0, 1, 2, 3]
    assert s.register(6).tolist() == [0.0, 1.0, 4.0, 6.0]
    assert s.download(buf, np.float32).tolist() == [0.0, 1.0, 2.0, 3.0]   # not stored yet
    assert s.step(5) == 1 and s.finished and s.pc is None
    assert s.download(buf, np.float32).tolist() == [0.0, 1.0, 4.0, 6.0]
    assert s.register(6).tolist() == [0.0, 1.0, 4.0, 6.0]    # the last piece's final state
    assert s.lane_pcs.tolist() == [-1, -1, -1, -1]
    assert s.step() == 0 and s.run() is None
    res = s.result()
    assert res.stats.steps == 9 and res.stats.divergent_branches == 1


def test_mixed_tags_mask_the_other_lanes() -> None:
    """Lanes 0-1 write r8 as f64, lanes 2-3 as u32: the lowest writer's tag wins."""
    prog = simt.assemble("""
        mov_imm.u32 r7, 2
        setlt.u32 p1, r252, r7
        bra.p1 @low
        mov_imm.u32 r8, 7
        exit
    low:
        mov_imm.f64 r8, 1.5
        exit
    """)
    s = simt.Device().session(prog, block=4)
    s.result()
    r8 = s.register(8)
    assert r8.dtype == np.float64 and r8.mask.tolist() == [False, False, True, True]
    assert r8.compressed().tolist() == [1.5, 1.5]
    assert s.register(8, np.uint32).compressed().tolist() == [7, 7]
    assert s.register(8, np.uint32).mask.tolist() == [True, True, False, False]
    assert s.register(9).mask.all() and s.predicate(2).mask.all()


BARRIER = """
    mov_imm.u32 r7, 1
    setlt.u32 p0, r252, r7          ; lane 0 of each block exits early
    bra.p0 @out
    mov.u32 r8, r252
    bar.sync 0                      ; pc 4
    add.u32 r8, r8, r8
out:
    exit                            ; pc 6
"""


def test_parked_and_exited_lanes() -> None:
    s = simt.Device().session(simt.assemble(BARRIER), grid=2, block=3)
    assert s.run([4]) == 4
    assert s.lanes.tolist() == [1, 2, 4, 5]
    assert s.lane_pcs.tolist() == [6, 4, 4, 6, 4, 4]
    assert s.step() == 1                 # bar.sync parks lanes 1, 2, 4, 5
    assert s.lane_pcs.tolist() == [6, 4, 4, 6, 4, 4]
    assert s.pc == 6 and s.lanes.tolist() == [0, 3]
    assert s.step() == 1                 # lanes 0 and 3 exit: both barriers release
    assert s.lane_pcs.tolist() == [-1, 5, 5, -1, 5, 5]
    assert s.pc == 5 and s.lanes.tolist() == [1, 2, 4, 5]
    s.result()
    assert s.register(8).tolist()[1:3] == [2, 4]
    assert s.register(8).mask.tolist() == [True, False, False, True, False, False]


def test_parked_lanes_show_their_barrier() -> None:
    prog = simt.assemble("""
        mov_imm.u32 r7, 2
        setlt.u32 p0, r252, r7
        bra.p0 @late
        bar.sync 0                  ; pc 3: lanes 2, 3 wait here
        exit
    late:
        mov.u32 r9, r252
        bar.sync 0                  ; pc 6
        exit
    """)
    s = simt.Device().session(prog, block=4)
    assert s.run([5]) == 5
    assert s.lane_pcs.tolist() == [5, 5, 3, 3]
    assert s.lanes.tolist() == [0, 1]


def test_memory_mid_launch_and_pieces() -> None:
    """Two pieces of whole blocks: lane_ids follow the piece being run."""
    prog = simt.assemble("""
        mov_imm.u32 r4, 2
        shl.u64 r5, r255, r4
        stg.u32 [r0 + r5], r252
    """)
    dev = simt.Device(piece_lanes=MIN_PIECE)
    lanes = MIN_PIECE + 1024
    buf = dev.alloc(4 * lanes)
    s = dev.session(prog, grid=lanes // 1024, block=1024, args=(buf,))
    assert s.lane_ids[[0, -1]].tolist() == [0, MIN_PIECE - 1]
    assert s.step(3) == 3
    mid = s.download(buf, np.uint32)
    assert (mid[:MIN_PIECE] == np.arange(MIN_PIECE) % 1024).all() and not mid[MIN_PIECE:].any()
    assert s.pc == 0 and s.lane_ids.tolist() == list(range(MIN_PIECE, lanes))
    assert s.lanes.tolist() == s.lane_ids.tolist()
    s.result()
    assert (s.download(buf, np.uint32) == np.arange(lanes) % 1024).all()
    assert s.lane_ids[0] == MIN_PIECE


# --------------------------------------------------------------------------- errors

FAULT = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    stg.u32 [r0 + r5], r252         ; pc 2
    mov_imm.u64 r6, 8
    add.u64 r5, r5, r6
    stg.u32 [r0 + r5], r252         ; pc 5: lanes 2, 3 go past the end
"""


def test_a_fault_stops_the_session_before_the_instruction() -> None:
    dev = simt.Device()
    buf = dev.alloc(16)
    s = dev.session(simt.assemble(FAULT), block=4, args=(buf,))
    with pytest.raises(simt.OutOfBoundsError) as caught:
        s.run()
    error = caught.value
    assert (error.pc, error.lane) == (5, 2)
    assert s.pc == 5 and s.lanes.tolist() == [0, 1, 2, 3] and not s.finished
    assert s.register(5).tolist() == [8, 12, 16, 20]      # the failing address, inspectable
    assert s.lane_pcs.tolist() == [5, 5, 5, 5]
    assert s.download(buf, np.uint32).tolist() == [0, 1, 2, 3]   # pc 5 had no effect
    for again in (s.step, s.run, s.result):
        with pytest.raises(simt.OutOfBoundsError) as repeated:
            again()
        assert repeated.value is error


def test_the_step_budget_stops_before_the_next_instruction() -> None:
    dev = simt.Device()
    s = dev.session(simt.assemble(FAULT), block=4, args=(dev.alloc(64),), max_steps=3)
    assert s.step(3) == 3
    with pytest.raises(simt.StepLimitError) as caught:
        s.step()
    assert caught.value.pc == 3 and s.pc == 3 and not s.finished
    assert s.lanes.tolist() == [0, 1, 2, 3]
    with pytest.raises(simt.StepLimitError) as again:
        s.run()
    assert again.value is caught.value


class _StoreCheck(Observer):
    """A check that finds a hazard at every store, for its lowest lane."""

    def check(self, access: Access):
        if access.store:
            return Hazard(0, 0, simt.CheckError("store seen", space="global"))
        return None


def test_a_check_stops_the_session_before_the_instruction() -> None:
    dev = simt.Device()
    buf = dev.alloc(16)
    s = dev.session(simt.assemble(FAULT), block=4, args=(buf,), observers=[_StoreCheck()])
    with pytest.raises(simt.CheckError) as caught:
        s.run()
    assert s.pc == 2 == caught.value.pc and caught.value.lane == 0 and not s.finished
    assert s.lanes.tolist() == [0, 1, 2, 3]
    assert not s.download(buf, np.uint32).any()


def test_a_race_check_stops_the_session_before_the_racing_store() -> None:
    pytest.importorskip("simt.observe.racecheck")
    prog = simt.assemble("""
        sts.u32 [shared + 0], r252      ; every lane writes shared word 0
    """)
    s = simt.Device().session(prog, block=4, shared_bytes=4, check="race")
    with pytest.raises(simt.DataRaceError) as caught:
        s.run()
    assert s.pc == 0 == caught.value.pc and not s.finished


def test_session_validates_its_arguments() -> None:
    dev = simt.Device()
    prog = simt.assemble("exit")
    with pytest.raises(simt.SimtError):
        dev.session(prog, block=0)
    with pytest.raises(ValueError):
        dev.session(prog, check="nonsense")
    with pytest.raises(ValueError):
        dev.session(prog, race_model="cpu")
    with pytest.raises(TypeError):
        dev.session("exit")
    s = dev.session(prog)
    with pytest.raises(ValueError):
        s.step(-1)
    with pytest.raises(ValueError):
        s.register(256)
    with pytest.raises(ValueError):
        s.predicate(16)
    with pytest.raises(ValueError):
        s.run(["no_such_label"])


def test_session_is_exported() -> None:
    assert simt.Session is type(simt.Device().session(simt.assemble("exit")))


def test_a_barrier_deadlock_stops_before_the_last_arrival() -> None:
    prog = simt.assemble("""
        mov_imm.u32 r7, 2
        setlt.u32 p0, r252, r7
        bra.p0 @a
        bar.sync 0                  ; pc 3: lanes 2, 3
        exit
    a:
        bar.sync 1                  ; pc 5: lanes 0, 1 -- a different barrier
        exit
    """)
    s = simt.Device().session(prog, block=4)
    with pytest.raises(simt.BarrierDeadlockError) as caught:
        s.run()
    assert caught.value.pc == 5 and s.pc == 5 and s.lanes.tolist() == [0, 1]
    assert s.lane_pcs.tolist() == [5, 5, 3, 3] and not s.finished


def test_half_precision_registers_and_reinterpretation() -> None:
    """Blocks of 8 lanes: lanes 0-1 of each write r9 as f16, the others as bf16."""
    import ml_dtypes
    prog = simt.assemble("""
        mov_imm.u32 r7, 2
        setlt.u32 p0, r252, r7
        bra.p0 @a
        mov_imm.bf16 r9, 1.5
        exit
    a:
        mov_imm.f16 r9, 0.5
        exit
    """)
    s = simt.Device().session(prog, grid=4, block=8)
    assert s.run([3]) == 3
    assert s.lanes.tolist() == [b * 8 + t for b in range(4) for t in range(2, 8)]
    s.step()
    r9 = s.register(9)
    assert r9.dtype == ml_dtypes.bfloat16
    assert r9.mask.tolist() == [t < 2 for _ in range(4) for t in range(8)]
    assert set(r9.compressed().astype(np.float32).tolist()) == {1.5}
    s.result()
    r9 = s.register(9)
    assert r9.dtype == np.float16 and set(r9.compressed().tolist()) == {0.5}
    every = s.register(9, np.uint16)
    assert not every.mask.any()
    assert set(every.tolist()) == {0x3800, 0x3FC0}      # f16 0.5, bf16 1.5


class _Broken(Observer):
    def after(self, event) -> None:
        if event.pc == 1:
            raise RuntimeError("observer failed")


def test_any_error_from_the_loop_ends_the_session() -> None:
    dev = simt.Device()
    s = dev.session(simt.assemble(FAULT), block=4, args=(dev.alloc(64),), observers=[_Broken()])
    with pytest.raises(RuntimeError) as caught:
        s.run()
    assert not s.finished
    for again in (s.step, s.run, s.result):
        with pytest.raises(RuntimeError) as repeated:
            again()
        assert repeated.value is caught.value
