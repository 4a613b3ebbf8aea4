"""An ALU result stored by the next instruction is computed into the stored bytes.

simt/machine/kernels/forward.py: a float add, sub or mul followed by a global store of
its result through ``[rH + rO]`` computes, when a range of lanes runs on into the store,
straight into the buffer; the register is lent a view of those bytes and the store
finds its values in place.  Each test checks the memory and the registers against the
same launch without forwarding (bit for bit), NumPy or the scalar reference, and that
the forwarding happened (or, where it must not, did not).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import simt
from simt.errors import StepLimitError
from simt.machine import debug, lanes as lanes_module, memory as device_memory
from simt.machine.kernels import forward, memory as memory_kernels
from simt.testing.engines import Reference, Vectorized, assert_outcomes_agree, make_case, run
from simt.testing.programs import Case, Outcome


@pytest.fixture(autouse=True)
def forward_small_rows(monkeypatch):
    """Forward and lend at any size (by default only rows of 64 KiB and more)."""
    monkeypatch.setattr(memory_kernels, "LEND_MIN_BYTES", 0)
    monkeypatch.setattr(forward, "LEND_MIN_BYTES", 0)


@pytest.fixture
def in_place(monkeypatch):
    """The stores that found their values in place, as (byte range) pairs."""
    found = []
    holds = device_memory.DeviceMemory.holds

    def spy(self, view, mem, lo, hi):
        answer = holds(self, view, mem, lo, hi)
        if answer:
            found.append((lo, hi))
        return answer

    monkeypatch.setattr(device_memory.DeviceMemory, "holds", spy)
    return found


def kernel(op: str = "add", ty: str = "f32", second: str = "r7", out: str = "r2",
           then: str = "") -> str:
    """``out[i] = a[i] op second`` over every lane (args r0=a r1=b r2=c r3=d)."""
    size = 8 if ty == "f64" else 4
    return f"""
    mov_imm.u64 r4, {size}
    mul.u64 r5, r255, r4
    ldg.{ty} r6, [r0 + r5]
    ldg.{ty} r7, [r1 + r5]
    {op}.{ty} r8, r6, {second}
    stg.{ty} [{out} + r5], r8
{then}    exit
"""


def case_of(text: str, *arrays: np.ndarray, lanes: int) -> Case:
    """``text`` over ``lanes`` lanes (blocks of up to 256) with ``arrays`` as buffers
    r0, r1, ..."""
    block = min(lanes, 256)
    return make_case(text, arrays, grid=lanes // block, block=block)


def run_vectorized(case: Case, forwarding: bool = True, **options) -> Outcome:
    """``case`` on a fresh device, with or without forwarding."""
    with pytest.MonkeyPatch.context() as patch:
        if not forwarding:
            patch.setattr(forward, "_FORWARDED", {})
        return run(Vectorized(), case, **options)


def launch(text: str, *arrays: np.ndarray, lanes: int, **options) -> list[np.ndarray]:
    """The buffers' contents after ``text`` ran over ``lanes`` lanes with ``arrays`` as
    buffers r0, r1, ... (it must run to completion)."""
    outcome = run_vectorized(case_of(text, *arrays, lanes=lanes), **options)
    assert outcome.error is None, outcome.error
    return [np.frombuffer(memory, x.dtype) for memory, x in zip(outcome.buffers, arrays)]


def test_a_stored_sum_is_computed_in_place(in_place):
    n = 1024
    a = np.arange(n, dtype=np.float32) / 3
    b = np.float32(0.25) - a
    c = np.zeros(n, np.float32)
    _, _, got = launch(kernel(), a, b, c, lanes=n)
    np.testing.assert_array_equal(got, a + b)
    assert in_place == [(0, 4 * n)]                         # one piece: one run


def test_a_guarded_tail_is_forwarded(in_place):
    # 1,000 lanes of 4 blocks of 256: after the guard the lanes are a range short of
    # the piece; the register views the 1,000 results from a row of 1,024
    n = 1000
    text = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    setge.u64 p0, r255, r3
    bra.p0 @done
    ldg.f32 r6, [r0 + r5]
    ldg.f32 r7, [r1 + r5]
    mul.f32 r8, r6, r7
    stg.f32 [r2 + r5], r8
done:
    exit
"""
    a = np.linspace(-1, 1, n, dtype=np.float32)
    b = np.full(n, 3.0, np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * n)]
    dev.launch(simt.assemble(text), grid=4, block=256, args=(*bufs, np.uint64(n)))
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), a * b)
    assert in_place == [(0, 4 * n)]


def test_a_value_stored_back_where_it_was_loaded_is_not_written_again(in_place):
    n = 256
    a = np.arange(n, dtype=np.float32)
    text = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    stg.f32 [r0 + r5], r6
    stg.f32 [r1 + r5], r6
    exit
"""
    got_a, got_c = launch(text, a, np.zeros(n, np.float32), lanes=n)
    np.testing.assert_array_equal(got_a, a)
    np.testing.assert_array_equal(got_c, a)
    assert in_place == [(0, 4 * n)]


def test_the_sum_stored_over_its_operand_is_exact(in_place):
    # r6 views a[i] when the sum overwrites it: r6 must keep the old a
    n = 512
    a = np.linspace(-3, 3, n, dtype=np.float32)
    b = np.full(n, 1.5, np.float32)
    then = """    add.f32 r9, r6, r6
    stg.f32 [r3 + r5], r9
"""
    got_a, _, _, got_d = launch(kernel(out="r0", then=then), a, b, b, np.zeros_like(a),
                                lanes=n)
    np.testing.assert_array_equal(got_a, a + b)
    np.testing.assert_array_equal(got_d, a + a)
    assert in_place == [(0, 4 * n), (0, 4 * n)]


def test_a_register_keeps_its_forwarded_value_when_the_bytes_are_overwritten(in_place):
    n = 256
    a = np.arange(n, dtype=np.float32)
    b = np.full(n, 0.5, np.float32)
    c, d = np.zeros(n, np.float32), np.zeros(n, np.float32)
    then = """    stg.f32 [r2 + r5], r6
    add.f32 r9, r8, r8
    stg.f32 [r3 + r5], r9
"""
    _, _, got_c, got_d = launch(kernel(then=then), a, b, c, d, lanes=n)
    np.testing.assert_array_equal(got_c, a)                  # overwritten after the sum
    np.testing.assert_array_equal(got_d, 2 * (a + b))        # r8 kept the sum
    assert len(in_place) == 2


def test_no_forwarding_past_the_step_budget():
    # pcs 0-4 issue (the add is pc 4); the store at pc 5 would be the sixth instruction
    n = 256
    a, b = np.ones(n, np.float32), np.ones(n, np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * n)]
    with pytest.raises(StepLimitError):
        dev.launch(simt.assemble(kernel()), grid=1, block=n, args=tuple(bufs), max_steps=5)
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 0)


def test_a_session_sees_the_store_only_when_it_is_issued():
    n = 256
    a, b = np.ones(n, np.float32), np.full(n, 2.0, np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(b), dev.alloc(4 * n)]
    session = dev.session(simt.assemble(kernel()), grid=1, block=n, args=tuple(bufs))
    session.step(5)                         # the add has run, the store not
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 0)
    np.testing.assert_array_equal(session.register(8, np.float32), 3)
    session.step(1)
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 3)
    session.run()


def test_no_forwarding_under_a_memory_check(in_place):
    n = 256
    a, b = np.ones(n, np.float32), np.ones(n, np.float32)
    _, _, got = launch(kernel(), a, b, np.zeros(n, np.float32), lanes=n, check="race")
    np.testing.assert_array_equal(got, 2)
    assert not in_place


def test_a_range_of_lanes_is_forwarded_and_scattered_lanes_are_not(in_place):
    text = """
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    mov_imm.u64 r9, 100
    setlt.u64 p0, r255, r9
    bra.p0 @skip
    add.f32 r8, r6, r6
    stg.f32 [r1 + r5], r8
skip:
    mov_imm.f32 r10, 0.0
    setgt.f32 p1, r6, r10
    bra.p1 @done
    mul.f32 r11, r6, r6
    stg.f32 [r2 + r5], r11
done:
    exit
"""
    n = 256
    a = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    _, got_c, got_d = launch(text, a, np.zeros(n, np.float32), np.zeros(n, np.float32),
                             lanes=n)
    np.testing.assert_array_equal(got_c, np.where(np.arange(n) < 100, 0, 2 * a))
    np.testing.assert_array_equal(got_d, np.where(a > 0, 0, a * a))
    assert in_place == [(400, 4 * n)]         # lanes 100-255, a range; not the sign split


def test_debug_mode_checks_a_forwarded_row(in_place):
    n = 256
    a = np.linspace(0, 1, n, dtype=np.float32)
    then = """    stg.f32 [r2 + r5], r6
    add.f32 r9, r8, r8
    stg.f32 [r3 + r5], r9
"""
    with debug.enabled_mode():
        _, _, c, d = launch(kernel(then=then), a, a, np.zeros(n, np.float32),
                            np.zeros(n, np.float32), lanes=n)
    np.testing.assert_array_equal(c, a)
    np.testing.assert_array_equal(d, 2 * (a + a))
    assert in_place


_SPECIALS = {
    np.float32: [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3.4e38],
    np.float64: [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1.7e308],
}


@st.composite
def floats_with_payloads(draw, dtype, n: int) -> np.ndarray:
    """Numbers, infinities, zeros, subnormals and NaNs with drawn payloads (quiet and
    signalling) in ``n`` lanes."""
    kinds = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    out = np.empty(n, dtype)
    raw = out.view(np.uint32 if dtype is np.float32 else np.uint64)
    for i, kind in enumerate(kinds):        # test data, built once per example
        if kind == 0:
            out[i] = draw(st.floats(width=32 if dtype is np.float32 else 64,
                                    allow_nan=False))
        elif kind == 1:
            out[i] = draw(st.sampled_from(_SPECIALS[dtype]))
        else:
            top = 0x7F800000 if dtype is np.float32 else 0x7FF0000000000000
            mantissa = (1 << (23 if dtype is np.float32 else 52)) - 1
            sign = (1 << (31 if dtype is np.float32 else 63)) if kind == 3 else 0
            raw[i] = sign | top | max(1, draw(st.integers(1, mantissa)))
    return out


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), op=st.sampled_from(["add", "sub", "mul"]),
       ty=st.sampled_from(["f32", "f64"]), second=st.sampled_from(["r7", "r6"]),
       out=st.sampled_from(["r2", "r0"]))
def test_forwarded_results_agree_bit_for_bit(in_place, data, op, ty, second, out):
    n = 67          # not a multiple of a vector: NumPy's tail loops swap NaN operands
    dtype = np.float32 if ty == "f32" else np.float64
    a = data.draw(floats_with_payloads(dtype, n))
    b = data.draw(floats_with_payloads(dtype, n))
    c = np.zeros(n, dtype)
    case = case_of(kernel(op, ty, second, out), a, b, c, lanes=n)
    forwarded = run_vectorized(case)
    assert in_place
    # memory, resonance, statistics, bit for bit: the reference's, and the unforwarded
    assert_outcomes_agree(case, run(Reference(), case), forwarded)
    assert run_vectorized(case, forwarding=False) == forwarded


# ----------------------------------------------------------------------- joined paths

@pytest.fixture
def masks(monkeypatch):
    """Divergent lanes of any span are Masked sets (by default spans of 1,024 lanes and
    more), the form whose steps join at a store."""
    monkeypatch.setattr(lanes_module, "MASK_MIN_SPAN", 1)


def if_else(op: str = "add", ty: str = "f32", init: bool = False,
            other: str = "neg.{ty} r7, r5") -> str:
    """``c[i] = a[i] op b[i]`` where ``a[i] > 0``, else ``other`` (args r0=a r1=b r2=c):
    the positive lanes' ALU op is the last instruction before the store where the paths
    join; ``init`` writes r7 in every lane before the branch."""
    size = 8 if ty == "f64" else 4
    first = f"    mov_imm.{ty} r7, 1.0\n" if init else ""
    return f"""
    mov_imm.u64 r3, {size}
    mul.u64 r4, r255, r3
    ldg.{ty} r5, [r0 + r4]
    ldg.{ty} r9, [r1 + r4]
{first}    mov_imm.{ty} r6, 0.0
    setgt.{ty} p1, r5, r6
    bra.p1 @positive
    {other.format(ty=ty)}
    bra @store
positive:
    {op}.{ty} r7, r5, r9
store:
    stg.{ty} [r2 + r4], r7
    exit
"""


@pytest.mark.parametrize("ends", ["random", "waiting", "joining"])
@pytest.mark.parametrize("init", [False, True])
def test_an_if_else_is_selected_into_the_buffer_where_its_paths_join(in_place, ends, init):
    n = 1024
    a = np.random.default_rng(2).standard_normal(n).astype(np.float32)
    if ends != "random":    # the first and last 100 lanes wait at the store, or join it
        a[:100] = a[-100:] = -1.5 if ends == "waiting" else 1.5
    b = np.linspace(-2, 2, n, dtype=np.float32)
    _, _, got = launch(if_else(init=init), a, b, np.zeros(n, np.float32), lanes=n)
    np.testing.assert_array_equal(got, np.where(a > 0, a + b, -a))
    assert in_place == [(0, 4 * n)]         # the joined store found its values


def test_lanes_outside_the_selecting_span_keep_their_values(in_place, masks):
    # lanes below 128 and from 896 on take r7 = a before the if/else of the others: the
    # positive lanes' mask spans [128, 896), the joined store all 1,024 lanes
    text = if_else().replace("    setgt.f32 p1, r5, r6\n", """    mov.f32 r7, r5
    mov_imm.u64 r10, 128
    setlt.u64 p2, r255, r10
    bra.p2 @store
    mov_imm.u64 r10, 896
    setge.u64 p2, r255, r10
    bra.p2 @store
    setgt.f32 p1, r5, r6
""")
    n = 1024
    a = np.random.default_rng(6).standard_normal(n).astype(np.float32)
    b = np.full(n, 0.5, np.float32)
    _, _, got = launch(text, a, b, np.zeros(n, np.float32), lanes=n)
    middle = (np.arange(n) >= 128) & (np.arange(n) < 896)
    np.testing.assert_array_equal(got, np.where(middle, np.where(a > 0, a + b, -a), a))
    assert in_place == [(0, 4 * n)]


def test_no_joined_select_when_waiting_lanes_would_fault(in_place, masks):
    # the negative lanes' r7 holds a u32: the store faults there, before writing anything
    n = 512
    a = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    text = if_else(other="mov_imm.u32 r7, 5")
    case = case_of(text, a, a, np.zeros(n, np.float32), lanes=n)
    outcome = run_vectorized(case)
    assert outcome.error[0] == "TypeMismatchError"
    assert_outcomes_agree(case, run(Reference(), case), outcome)
    assert not in_place and not np.frombuffer(outcome.buffers[2], np.float32).any()


def test_no_joined_select_past_the_step_budget(masks):
    # the positive lanes' add is issued last within the budget: the store is not
    n = 256
    a = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(a), dev.alloc(4 * n)]
    with pytest.raises(StepLimitError):
        dev.launch(simt.assemble(if_else()), grid=1, block=n, args=tuple(bufs), max_steps=10)
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 0)


def test_no_joined_select_past_the_step_budget_within_a_run(masks):
    # the positive lanes run a mov before their add, in one run: the budget ends at the add
    n = 256
    a = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    text = if_else().replace("positive:\n", "positive:\n    mov.f32 r9, r9\n")
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(a), dev.alloc(4 * n)]
    with pytest.raises(StepLimitError):
        dev.launch(simt.assemble(text), grid=1, block=n, args=tuple(bufs), max_steps=11)
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 0)
    dev.launch(simt.assemble(text), grid=1, block=n, args=tuple(bufs), max_steps=13)
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), np.where(a > 0, 2 * a, -a))


def test_a_session_sees_the_joined_store_only_when_it_is_issued(masks):
    n = 256
    a = np.random.default_rng(7).standard_normal(n).astype(np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(a), dev.alloc(4 * n)]
    session = dev.session(simt.assemble(if_else()), grid=1, block=n, args=tuple(bufs))
    session.step(10)                        # both paths have run, the store not
    assert session.pc == 10
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), 0)
    session.run()
    np.testing.assert_array_equal(dev.download(bufs[2], np.float32), np.where(a > 0, 2 * a, -a))


def test_no_joined_select_while_other_lanes_wait_elsewhere(in_place, masks):
    # lanes past n wait at the exit after the guard: the store is not next for them all
    n = 300
    text = if_else().replace("    setgt", "    setge.u64 p0, r255, r10\n    bra.p0 @done\n"
                             "    setgt").replace("    exit", "done:\n    exit")
    a = np.random.default_rng(5).standard_normal(512).astype(np.float32)
    dev = simt.Device()
    bufs = [dev.upload(a), dev.upload(a), dev.alloc(4 * 512)]
    args = (*bufs, *[np.uint64(0)] * 7, np.uint64(n))
    dev.launch(simt.assemble(text), grid=2, block=256, args=args)
    got = dev.download(bufs[2], np.float32)
    np.testing.assert_array_equal(got[:n], np.where(a[:n] > 0, a[:n] + a[:n], -a[:n]))
    np.testing.assert_array_equal(got[n:], 0)
    assert not in_place


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), op=st.sampled_from(["add", "sub", "mul"]),
       ty=st.sampled_from(["f32", "f64"]), init=st.booleans())
def test_joined_selects_agree_bit_for_bit(in_place, masks, data, op, ty, init):
    n = 67
    dtype = np.float32 if ty == "f32" else np.float64
    a = data.draw(floats_with_payloads(dtype, n))
    b = data.draw(floats_with_payloads(dtype, n))
    case = case_of(if_else(op, ty, init), a, b, np.zeros(n, dtype), lanes=n)
    forwarded = run_vectorized(case)
    assert_outcomes_agree(case, run(Reference(), case), forwarded)
    assert run_vectorized(case, forwarding=False) == forwarded
