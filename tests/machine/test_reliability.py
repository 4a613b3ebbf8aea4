"""Edges of the device API: pool handles of any u64 value, memory the operating system
refuses, host copies of views and foreign byte orders, threads sharing a device, memory
given back, working-memory accounting, and errors and results crossing process
boundaries.  Each test pins a defect that once existed."""

from __future__ import annotations

import copy
import pickle
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import simt
from simt.testing.engines import assert_agree, make_case

U64_MAX = (1 << 64) - 1


def _both(src: str, block: int, out_words: int = 0, buffers: bool = True):
    """Run ``src`` on both engines and assert they agree on everything (memory, resonance,
    statistics, the error and its attributes).

    r0 is an output buffer of ``out_words`` u32 words (no argument if not ``buffers``).
    Returns the fault, as (class name, pc, lane, lanes_faulting) or None, and the output
    words.
    """
    out = assert_agree(make_case(src, [bytes(4 * out_words)] if buffers else [], block=block))
    fault = None if out.error is None else (*out.error, out.fault["lanes_faulting"])
    return fault, (np.frombuffer(out.buffers[0], np.uint32).tolist() if buffers else None)


# ---------------------------------------------------------------------- pool handles

def _pool_op(op: str, handle: int) -> str:
    ops = {"store": "mov_imm.u32 r3, 99\npool.store.u32 r1, r2, r3",
           "load": "pool.load.u32 r3, r1, r2",
           "free": "pool.free r1"}
    return f"mov_imm.u64 r1, {handle}\nmov_imm.u64 r2, 0\n{ops[op]}"


@pytest.mark.parametrize("op, handle", [("store", U64_MAX), ("load", U64_MAX - 1),
                                        ("free", U64_MAX - 2), ("store", 1 << 63),
                                        ("load", (1 << 63) + 255), ("free", 1 << 62)])
def test_pool_handles_of_any_bits_never_alias_a_live_pool(op, handle):
    dev = simt.Device()
    fill = simt.assemble("pool.alloc r1, 8\nmov_imm.u64 r2, 0\ncvt.u32.u64 r3, r255\n"
                         "pool.store.u32 r1, r2, r3")
    dev.launch(fill, block=256)                     # pools 1..256 hold their lane id
    before = dev.memory_used
    with pytest.raises(simt.InvalidHandleError) as info:
        dev.launch(simt.assemble(_pool_op(op, handle)))
    assert str(handle) in str(info.value)
    assert dev.memory_used == before                # nothing freed
    check = simt.assemble("""
        mov_imm.u64 r1, 1
        cvt.u64.u32 r4, r252
        add.u64 r1, r1, r4          ; pool 1 + lane
        mov_imm.u64 r2, 0
        pool.load.u32 r3, r1, r2
        mov_imm.u32 r5, 2
        shl.u64 r6, r4, r5
        stg.u32 [r0 + r6], r3
    """)
    out = dev.alloc(4 * 256)
    dev.launch(check, block=256, args=(out,))
    np.testing.assert_array_equal(dev.download(out, np.uint32), np.arange(256))


@pytest.mark.parametrize("handle", [1 << 62, (1 << 63) + 1, U64_MAX, 1])
def test_pool_handles_on_a_device_without_pools(handle):
    for op in ("store", "load", "free"):
        src = _pool_op(op, handle)
        got, _ = _both(src, block=2)
        assert (got[0], got[2], got[3]) == ("InvalidHandleError", 0, 2)


def test_two_lanes_freeing_an_unknown_handle_blame_the_lowest():
    got, _ = _both(_pool_op("free", 1 << 62), block=2)
    assert got == ("InvalidHandleError", 2, 0, 2)


_MIXED = """
    pool.alloc r1, 16           ; pools 1..4, then freed: handle 1 is dead
    pool.free r1
    pool.alloc r1, 16           ; pools 5..8
    mov_imm.u64 r5, 0
    mov_imm.u32 r6, 1
    and.u32 r7, r252, r6
    cvt.u64.u32 r8, r7
    setne.u64 p0, r8, r5
    sel.u64 r10, p0, r1, r5     ; odd lanes: their pool; even lanes: pool handle 0
    {bad}
    mov_imm.u64 r2, 8
    cvt.u32.u64 r3, r255
    pool.store.u32 r10, r2, r3
    pool.load.u32 r4, r10, r2
    mov_imm.u32 r11, 2
    cvt.u64.u32 r12, r252
    shl.u64 r12, r12, r11
    stg.u32 [r0 + r12], r4
"""


def test_pool_handle_zero_beside_real_pools_is_the_boundary_pool():
    got, out = _both(_MIXED.format(bad=""), block=4, out_words=4)
    assert got is None
    assert out == [2, 1, 2, 3]   # even lanes share boundary byte 8: lane 2 wins


def test_lanes_faulting_counts_only_lanes_with_a_bad_pool_handle():
    bad = """mov_imm.u32 r13, 3
    setne.u32 p1, r252, r13
    mov_imm.u64 r14, 12345
    sel.u64 r10, p1, r10, r14   ; lane 3 holds an unknown handle"""
    got, out = _both(_MIXED.format(bad=bad), block=4, out_words=4)
    assert got[0] == "InvalidHandleError" and got[2] == 3 and got[3] == 1
    assert out == [0, 0, 0, 0]


@pytest.mark.parametrize("src", [
    "ldg.u32 r1, [Φ(96, 0, 0)]",
    "ldg.u8 r1, [phi(255, 47, 255)]",
    "mov_imm.u32 r1, 7\nstg.u32 [Φ(96, 0, 0)], r1",
    "mov_imm.u64 r0, 0\nmov_imm.u64 r1, 1179648\npool.load.u32 r2, r0, r1",
    "mov_imm.u64 r0, 0\nmov_imm.u64 r1, 1179648\nmov_imm.u32 r2, 1\npool.store.u32 r0, r1, r2",
    "mov_imm.u64 r0, 0\nmov_imm.u64 r1, 18446744073709551615\npool.load.u8 r2, r0, r1",
])
def test_class_96_and_beyond_is_out_of_bounds(src):
    got, _ = _both(src, block=2, buffers=False)
    assert got[0] == "OutOfBoundsError" and got[2:] == (0, 2)


# ---------------------------------------------------------------------- refused memory

def test_memory_the_operating_system_refuses_is_a_device_memory_error():
    dev = simt.Device(memory_limit=1 << 62)     # far above what any machine can map
    used = dev.memory_used
    with pytest.raises(simt.DeviceMemoryError, match="operating system"):
        dev.alloc(1 << 55)
    assert dev.memory_used == used
    with pytest.raises(simt.DeviceMemoryError, match="operating system"):
        dev.upload(np.broadcast_to(np.uint8(1), (1 << 55,)))
    assert dev.memory_used == used
    with pytest.raises(simt.DeviceMemoryError, match="operating system") as info:
        dev.launch(simt.assemble("pool.alloc r1, 1125899906842624"), block=2)
    assert (info.value.pc, info.value.lane) == (0, 0)
    assert dev.memory_used == used
    res = dev.launch(simt.assemble("pool.alloc r1, 8\npool.free r1"), block=2)
    assert res.stats.steps == 2 and dev.memory_used == used


# ---------------------------------------------------------------------- host copies

def test_upload_of_a_huge_broadcast_view_is_checked_before_copying():
    dev = simt.Device(memory_limit=64 << 20)
    with pytest.raises(simt.DeviceMemoryError):
        dev.upload(np.broadcast_to(np.float64(1.0), (1 << 57,)))
    tracemalloc.start()
    try:
        with pytest.raises(simt.DeviceMemoryError):
            dev.upload(np.broadcast_to(np.float64(1.0), (25 << 20,)))    # 200 MiB
        buf = dev.alloc(64)
        with pytest.raises(simt.OutOfBoundsError):
            dev.write(buf, np.broadcast_to(np.float64(1.0), (25 << 20,)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    assert dev.memory_used == 1_179_648 + 64


def test_views_and_foreign_byte_orders_copy_as_their_values():
    dev = simt.Device()
    grid = np.arange(12, dtype=np.int64).reshape(3, 4)
    for host in (np.arange(5, dtype=">i4"), np.arange(6, dtype=">f8").reshape(2, 3),
                 grid.T, grid[:, ::2], np.broadcast_to(np.float32(2.5), (3, 4)),
                 np.zeros(3, [("a", ">i4"), ("b", "<f8")]), np.float32(3.5)):
        buf = dev.upload(host)
        back = dev.download(buf)
        assert back.dtype.isnative and back.dtype == host.dtype.newbyteorder("=")
        assert back.shape == np.shape(host)
        np.testing.assert_array_equal(back, host)
        assert buf.nbytes == np.asarray(host).nbytes
    buf = dev.alloc(16)
    dev.write(buf, np.array([1, 2], ">u4"), offset=4)
    dev.write(buf, np.broadcast_to(np.uint16(7), (2,)), offset=12)
    np.testing.assert_array_equal(dev.download(buf, np.uint32), [0, 1, 2, 7 | 7 << 16])


def test_big_endian_input_reaches_kernels_in_native_order():
    dev = simt.Device()
    buf = dev.upload(np.array([1.5, -2.0, 3.25], ">f4"))
    prog = simt.assemble("""
        mov_imm.u32 r2, 2
        cvt.u64.u32 r3, r252
        shl.u64 r3, r3, r2
        ldg.f32 r4, [r0 + r3]
        add.f32 r4, r4, r4
        stg.f32 [r0 + r3], r4
    """)
    dev.launch(prog, block=3, args=(buf,))
    np.testing.assert_array_equal(dev.download(buf, np.float32), [3.0, -4.0, 6.5])


def test_download_without_dtype():
    dev = simt.Device()
    host = np.arange(6, dtype=np.int16).reshape(2, 3)
    buf = dev.upload(host)
    got = dev.download(buf)
    assert got.dtype == np.int16 and got.shape == (2, 3) and got.flags.writeable
    np.testing.assert_array_equal(got, host)
    np.testing.assert_array_equal(dev.download(buf, count=2, offset=2), [1, 2])
    for unknown in (dev.alloc(8), dev.boundary, dev.boundary_class(3)):
        with pytest.raises(TypeError, match="dtype"):
            dev.download(unknown)
    dev.free(buf)
    with pytest.raises(simt.InvalidHandleError):
        dev.download(buf)


def test_a_buffer_is_not_an_array():
    dev = simt.Device()
    buf = dev.upload(np.arange(3))
    with pytest.raises(TypeError, match="download") as info:
        np.asarray(buf)
    assert isinstance(info.value, simt.SimtError)
    with pytest.raises(TypeError, match="download"):
        dev.upload(buf)


# ---------------------------------------------------------------------- threads

_ROUND_TRIP = simt.assemble("""
    pool.alloc r3, 8
    mov_imm.u64 r4, 0
    cvt.u64.u32 r5, r252
    add.u64 r6, r5, r1          ; a value only this thread's lane writes
    pool.store.u64 r3, r4, r6
    pool.load.u64 r7, r3, r4
    mov_imm.u32 r8, 3
    shl.u64 r9, r5, r8
    stg.u64 [r0 + r9], r7
    stg.u64 [r2 + r9], r3       ; the handle it got
    pool.free r3
""")


def _contend(workers: list) -> None:
    """Run each worker on its own thread, switching threads as often as possible."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        pool = [threading.Thread(target=work) for work in workers]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(interval)


def test_threads_sharing_a_device_never_share_pools():
    dev = simt.Device()
    lanes, rounds, threads = 64, 200, 4
    failures: list[str] = []
    handles: list[np.ndarray] = []

    def work(tag: int) -> None:
        out, got = dev.alloc(8 * lanes), dev.alloc(8 * lanes)
        base = np.uint64(tag << 32)
        for _ in range(rounds):
            try:
                dev.launch(_ROUND_TRIP, block=lanes, args=(out, base, got))
            except simt.SimtError as exc:     # a pool another thread freed
                failures.append(f"thread {tag}: {exc}")
                continue
            values = dev.download(out, np.uint64)
            if not np.array_equal(values, base + np.arange(lanes, dtype=np.uint64)):
                failures.append(f"thread {tag} read another thread's pool")
            handles.append(dev.download(got, np.uint64))

    _contend([lambda t=t: work(t) for t in range(threads)])
    assert failures == []
    every = np.concatenate(handles)
    assert every.size == lanes * rounds * threads == np.unique(every).size
    assert dev.memory_used == 1_179_648 + threads * 2 * 8 * lanes


def test_threads_sharing_a_device_allocate_and_free_consistently():
    dev = simt.Device(memory_limit=1_179_648 + (1 << 20))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for n in range(200):
                buf = dev.upload(np.full(64, n, np.uint8))
                assert (dev.download(buf) == n).all()
                dev.free(buf)
        except BaseException as exc:     # reported below, in the test's thread
            errors.append(exc)

    _contend([work] * 4)
    assert errors == []
    assert dev.memory_used == 1_179_648


# ---------------------------------------------------------------------- memory held

def test_freed_pools_give_their_memory_back():
    dev = simt.Device()
    churn = simt.assemble("pool.alloc r1, 32768\nmov_imm.u64 r2, 0\nmov_imm.u32 r3, 1\n"
                          "pool.store.u32 r1, r2, r3\npool.free r1")
    dev.launch(churn, block=256)            # warm up allocator and caches
    tracemalloc.start()
    try:
        for _ in range(8):                  # 8 MiB of pools each
            dev.launch(churn, block=256)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 4 << 20
    assert dev.memory_used == 1_179_648 and dev._memory.pools == []


def test_half_freed_pools_are_compacted_and_keep_their_contents():
    dev = simt.Device()
    lanes = 1024
    make = simt.assemble("""
        pool.alloc r1, 8192
        mov_imm.u64 r2, 8
        cvt.u32.u64 r3, r255
        pool.store.u32 r1, r2, r3
        mov_imm.u32 r4, 3
        cvt.u64.u32 r5, r252
        shl.u64 r5, r5, r4
        stg.u64 [r0 + r5], r1
    """)
    handles = dev.alloc(8 * lanes)
    tracemalloc.start()
    try:
        dev.launch(make, block=lanes, args=(handles,))
        free_odd = simt.assemble("""
            mov_imm.u32 r4, 3
            cvt.u64.u32 r5, r252
            shl.u64 r5, r5, r4
            ldg.u64 r1, [r0 + r5]
            mov_imm.u32 r6, 1
            and.u32 r7, r252, r6
            mov_imm.u32 r8, 0
            setne.u32 p0, r7, r8
            bra.p0 @free
            exit
        free:
            pool.free r1
        """)
        dev.launch(free_odd, block=lanes, args=(handles,))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    live = lanes // 2 * 8192
    assert dev.memory_used == 1_179_648 + 8 * lanes + live
    assert held < live + (2 << 20)          # the freed half is given back
    read = simt.assemble("""
        mov_imm.u32 r4, 4
        cvt.u64.u32 r5, r252
        shl.u64 r6, r5, r4          ; lane * 16: the even lanes' handles
        ldg.u64 r2, [r0 + r6]
        mov_imm.u64 r3, 8
        pool.load.u32 r7, r2, r3
        mov_imm.u32 r8, 2
        shl.u64 r9, r5, r8
        stg.u32 [r1 + r9], r7
    """)
    out = dev.alloc(4 * (lanes // 2))
    dev.launch(read, block=lanes // 2, args=(handles, out))
    np.testing.assert_array_equal(dev.download(out, np.uint32), np.arange(0, lanes, 2))
    with pytest.raises(simt.InvalidHandleError):       # an odd lane's pool stays freed
        dev.launch(simt.assemble("ldg.u64 r1, [r0 + 8]\nmov_imm.u64 r2, 0\n"
                                 "pool.load.u32 r3, r1, r2"), args=(handles,))


# ---------------------------------------------------------------------- working memory

_RECURSE = """
    mov_imm.u32 r2, 7
    stg.u32 [r0 + 0], r2
    call @f
    exit
f:
    mov_imm.u32 r1, 0
    call @f
    ret
"""


def test_call_stacks_count_as_launch_working_memory():
    dev = simt.Device(memory_limit=8 << 20)
    buf = dev.alloc(4)
    used = dev.memory_used
    with pytest.raises(simt.DeviceMemoryError, match="call stacks") as info:
        dev.launch(simt.assemble(_RECURSE), block=1 << 15, args=(buf,))
    assert info.value.pc is None                  # refused before any instruction ran
    assert dev.download(buf, np.uint32)[0] == 0 and dev.memory_used == used
    with pytest.raises(simt.CallStackError):      # small enough: the stack overflows as usual
        dev.launch(simt.assemble(_RECURSE), block=1024, args=(buf,))
    assert dev.memory_used == used


def test_shared_memory_reservation_says_what_to_change():
    dev = simt.Device(memory_limit=64 << 20)
    with pytest.raises(simt.DeviceMemoryError) as info:
        dev.launch(simt.assemble("exit"), grid=4096, block=64, shared_bytes=4 << 20)
    message = str(info.value)
    assert "piece_lanes" in message and "shared_bytes" in message and "memory_limit" in message
    assert "\n" not in message


def test_a_block_too_large_for_memory_says_what_to_change():
    dev = simt.Device(memory_limit=16 << 20)
    buf = dev.alloc(4)
    with pytest.raises(simt.DeviceMemoryError) as info:
        dev.launch(simt.assemble("mov_imm.u32 r1, 7\nstg.u32 [r0 + 0], r1"), block=1 << 22,
                   args=(buf,))
    assert "lanes per block" in str(info.value) and "memory_limit" in str(info.value)
    assert dev.download(buf, np.uint32)[0] == 0


def test_step_limit_error_says_how_to_raise_the_budget():
    prog = simt.assemble("top:\nmov_imm.u32 r1, 0\nbra @top")
    with pytest.raises(simt.StepLimitError, match=r"max_steps=") as info:
        simt.Device().launch(prog, max_steps=10)
    assert info.value.pc == 0


def test_resonance_is_one_running_sum_across_pieces():
    # 1e16 + 1 rounds back to 1e16 (ties to even): the running sum ends at 1e16, where a
    # sum of per-piece partial sums (1e16 and 2.0) would end at 1e16 + 2
    block = 1 << 16
    values = np.zeros(2 * block)
    values[[0, block, block + 1]] = [1e16, 1.0, 1.0]
    prog = simt.assemble("""
        mov_imm.u32 r1, 3
        shl.u64 r2, r255, r1
        ldg.f64 r3, [r0 + r2]
        mov_imm.u8 r4, 0
        res.accum r4, r3
    """)
    dev = simt.Device(piece_lanes=block)
    res = dev.launch(prog, grid=2, block=block, args=(dev.upload(values),))
    assert res.resonance[0] == 1e16 and not res.resonance[1:].any()


# ---------------------------------------------------------------------- crossing processes

def _errors() -> list[simt.SimtError]:
    out = []
    try:
        simt.assemble("add.f32 r0, r1")
    except simt.AssemblyError as err:
        out.append(err)
    try:
        simt.Device().launch(simt.assemble("mov_imm.u32 r1, 1\nadd.u32 r2, r1, r7"), block=4)
    except simt.SimtError as err:
        out.append(err)
    err = simt.OutOfBoundsError("out of bounds", pc=3, instruction="ldg.u32 r1, [r0 + 4]",
                                source_line=4, lane=70, block=(2, 0, 0), thread=(6, 0, 0),
                                lanes_faulting=3)
    err.add_note("a note")
    out.append(err)
    out += [cls("what went wrong") for cls in (
        simt.ProgramError, simt.TypeMismatchError, simt.UninitializedRegisterError,
        simt.InvalidHandleError, simt.InvalidClassError, simt.DivisionByZeroError,
        simt.UnsupportedOperationError, simt.CallStackError, simt.BarrierDeadlockError,
        simt.StepLimitError, simt.DeviceMemoryError, simt.errors.SimtTypeError,
        simt.errors.SimtValueError)]
    return out


@pytest.mark.parametrize("err", _errors(), ids=lambda e: type(e).__name__)
def test_errors_pickle_and_copy_to_equal_errors(err):
    for twin in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err), copy.copy(err)):
        assert type(twin) is type(err) and twin == err and hash(twin) == hash(err)
        assert str(twin) == str(err) and vars(twin) == vars(err)
    if isinstance(err, simt.AssemblyError):
        assert (twin.line, twin.column) == (err.line, err.column) == (1, 15)


def test_errors_compare_by_class_message_and_attributes():
    a = simt.OutOfBoundsError("x", pc=1, lane=2)
    assert a == simt.OutOfBoundsError("x", pc=1, lane=2)
    assert a != simt.OutOfBoundsError("x", pc=1, lane=3)
    assert a != simt.InvalidHandleError("x", pc=1, lane=2)
    assert a != simt.OutOfBoundsError("y", pc=1, lane=2)
    assert len({a, simt.OutOfBoundsError("x", pc=1, lane=2)}) == 1


def test_an_assembly_error_crosses_a_process_pool():
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(simt.AssemblyError) as info:
            pool.submit(simt.assemble, "add.f32 r0, r1").result()
        assert info.value.line == 1
        prog = pool.submit(simt.assemble, "mov_imm.u32 r1, 5\nexit").result()
    assert prog == simt.assemble("mov_imm.u32 r1, 5\nexit")


def test_launch_results_pickle_copy_compare_and_hash():
    dev = simt.Device()
    prog = simt.assemble("mov_imm.u8 r1, 5\nres.accum r1, r0")
    res = dev.launch(prog, block=3, args=(1.5,))
    for twin in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res)):
        assert twin == res and hash(twin) == hash(res)
        assert twin.stats.opcode_counts["res.accum"] == 1
    assert res == dev.launch(prog, block=3, args=(1.5,))
    assert res != dev.launch(prog, block=3, args=(2.5,))
    assert res != dev.launch(prog, block=4, args=(1.5,))
    nan = dev.launch(prog, args=(float("nan"),))
    assert nan == copy.deepcopy(nan)                        # bit patterns, NaN included
    assert nan != res and len({res, copy.deepcopy(res), nan, copy.deepcopy(nan)}) == 2


def test_type_mismatch_on_a_kernel_argument_says_what_to_pass():
    """A Python int arrives as i64: reading it as u64 names the argument and the fix."""
    dev = simt.Device()
    out = dev.alloc(16)
    prog = simt.assemble("mov_imm.u32 r4, 2\nshl.u64 r5, r1, r4\nstg.u32 [r0 + r5], r4")
    with pytest.raises(simt.TypeMismatchError) as info:
        dev.launch(prog, args=(out, 1))
    assert "kernel argument 1, passed as i64; pass np.uint64(...)" in str(info.value)
    assert info.value.pc == 1 and info.value.lane == 0
    dev.launch(prog, args=(out, np.uint64(1)))          # the fix works
    # a register the program writes itself gets no hint: it may no longer hold the argument
    rewritten = simt.assemble("mov_imm.i64 r1, 1\nmov_imm.u32 r4, 2\nshl.u64 r5, r1, r4")
    with pytest.raises(simt.TypeMismatchError) as info:
        dev.launch(rewritten, args=(out, 1))
    assert "kernel argument" not in str(info.value)
