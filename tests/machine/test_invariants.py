"""The register file's written invariants: liveness (and its cross-lane exception), array
ownership, and the debug mode that asserts them."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

import simt
from simt.isa import flow
from simt.isa.table import Flag
from simt.isa.types import DType
from simt.machine import alu, debug, executor
from simt.machine.events import Observer
from simt.machine.kernels import data as data_kernels
from simt.machine.lanes import LaneSet
from simt.machine.scheduler import MinPC
from simt.machine.state import UNSET, RegisterFile, Row, owned

# The high lanes (16..31) run first (lower pc) and write r1 while the low lanes wait at
# `low`, where r1 is dead (they write it before reading it): liveness lets the high lanes'
# write drop the low lanes' loaded values.
DIVERGE = """
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.i32 r1, [r0 + r4]
    mov_imm.u64 r5, 16
    setlt.u64 p0, r255, r5
    bra.p0 @low
    mov_imm.i32 r1, 9
    bra @join
low:
    mov_imm.i32 r1, 5
join:
    add.i32 r2, r1, r1
    stg.i32 [r0 + r4], r2
    exit
"""
HIGH_WRITE = 6          # pc of the high lanes' write
JOIN = 9                # pc of the add reading r1


class _RowAfter(Observer):
    """Reads register ``reg``'s tags right after the instruction at ``pc`` ran."""

    per_instruction = True

    def __init__(self, files: list, pc: int, reg: int) -> None:
        self.files, self.pc, self.reg, self.tags = files, pc, reg, None

    def after(self, event) -> None:
        if event.pc == self.pc:
            self.tags = self.files[-1].regs[self.reg].readout()[1]


def _launch(monkeypatch, program, reg: int = 1, pc: int = HIGH_WRITE):
    """Run ``program`` on 32 lanes over ``arange(32)``; return the output and the tags of
    ``reg`` right after ``pc`` ran."""
    files: list = []

    class Recorded(RegisterFile):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            files.append(self)

    monkeypatch.setattr(executor, "RegisterFile", Recorded)
    watch = _RowAfter(files, pc, reg)
    dev = simt.Device()
    buf = dev.upload(np.arange(32, dtype=np.int32))
    dev.launch(program, block=32, args=(buf,), observers=[watch])
    return dev.download(buf, np.int32), watch.tags


EXPECTED = np.where(np.arange(32) < 16, 10, 18)


def _cross_lane(monkeypatch, ins) -> None:
    """Mark the instruction class of ``ins`` as reading registers of other lanes."""
    cls = type(ins)
    monkeypatch.setattr(cls, "spec", dataclasses.replace(cls.spec,
                                                         flags=cls.spec.flags | Flag.CROSS_LANE))


# ------------------------------------------------------------------ liveness
def test_no_instruction_is_cross_lane_so_kept_is_live_in():
    program = simt.assemble(DIVERGE)
    assert flow.shared(program) == 0
    assert flow.kept(program) == flow.live_in(program)
    assert not flow.live_in(program)[HIGH_WRITE + 2] >> 1 & 1      # r1 dead at `low`


def test_cross_lane_reads_are_kept_at_every_pc(monkeypatch):
    program = simt.assemble(DIVERGE)
    _cross_lane(monkeypatch, program[JOIN])
    assert flow.shared(program) == 1 << 1
    assert all(bits >> 1 & 1 for bits in flow.kept(program))
    assert flow.kept(program)[HIGH_WRITE + 2] & ~flow.live_in(program)[HIGH_WRITE + 2] == 1 << 1


def test_liveness_drops_dead_values_of_waiting_lanes(monkeypatch):
    out, tags = _launch(monkeypatch, simt.assemble(DIVERGE))
    np.testing.assert_array_equal(out, EXPECTED)
    assert (tags[:16] == UNSET).all()           # dropped: the low lanes never read them
    assert (tags[16:] == DType.I32.code).all()


def test_liveness_keeps_what_a_cross_lane_instruction_reads(monkeypatch):
    program = simt.assemble(DIVERGE)
    _cross_lane(monkeypatch, program[JOIN])
    out, tags = _launch(monkeypatch, program)
    np.testing.assert_array_equal(out, EXPECTED)
    assert (tags == DType.I32.code).all()       # the low lanes' loaded values survive


# ------------------------------------------------------------------ ownership
def test_owned_is_a_fresh_writeable_vector_of_the_dtype():
    i4 = np.dtype(np.int32)
    fresh = np.arange(8, dtype=np.int32)
    assert owned(fresh, i4)
    assert not owned(fresh[2:], i4)                     # a view: someone else holds the base
    assert not owned(fresh, np.dtype(np.int64))
    assert not owned(fresh.reshape(2, 4).copy(), i4)
    assert not owned(np.int32(3), i4)
    assert owned(np.frombuffer(bytearray(32), np.int32).copy(), np.dtype("=i4"))


@pytest.mark.parametrize("make", [
    lambda: np.arange(8, dtype=np.int32),                       # owned
    lambda: np.arange(8, dtype=np.int32).astype(np.dtype("=i4")),
    lambda: np.arange(16, dtype=np.int32)[::2],                 # a view
    lambda: np.arange(8, dtype=np.int64),                       # another dtype
    lambda: np.arange(8, dtype=np.int32).reshape(1, 8)[0],      # a row of a 2-D array
])
@pytest.mark.parametrize("lanes", [LaneSet.range(0, 8), LaneSet.range(2, 8)])
def test_a_write_adopts_exactly_what_owned_allows(make, lanes):
    """Every adopting path of Row.write (the whole-piece fast path included) agrees
    with owned()."""
    regs = RegisterFile(8, regs=[1])
    values = make()[lanes.lo:] if lanes.lo else make()
    regs.write(1, DType.I32, lanes, values)
    adopted = regs.regs[1].data is values
    assert adopted == (owned(values, DType.I32.storage) and len(values) == 8)
    if not adopted:
        assert not np.shares_memory(regs.regs[1].data, values)


# ------------------------------------------------------------------ debug mode
LOADED = """
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3
    ldg.i32 r1, [r0 + r4]
    {body}
    stg.i32 [r0 + r4], r2
    exit
"""


def _run(src: str) -> np.ndarray:
    dev = simt.Device()
    buf = dev.upload(np.arange(32, dtype=np.int32))
    dev.launch(simt.assemble(src), block=32, args=(buf,))
    return dev.download(buf, np.int32)


def test_debug_mode_off_costs_nothing():
    with debug.enabled_mode(False):
        assert debug.alu(alu.add) is alu.add
        assert Row.write.__name__ == "write" and Row.write_all.__name__ == "write_all"
        assert debug.DECODED == "machine.decoded"
    with debug.enabled_mode():
        assert debug.alu(alu.add) is not alu.add
        assert debug.DECODED != "machine.decoded"


def test_debug_mode_runs_correct_programs_unchanged():
    with debug.enabled_mode():
        out = _run(LOADED.format(body="add.i32 r2, r1, r1\n    mov.i32 r5, r2"))
        diverged = _run(DIVERGE)
    np.testing.assert_array_equal(out, 2 * np.arange(32))
    np.testing.assert_array_equal(diverged, EXPECTED)


def test_debug_mode_catches_an_alu_function_returning_its_operand(monkeypatch):
    monkeypatch.setattr(alu, "array_kernel", lambda fn, ty: lambda a, b: a)
    src = LOADED.format(body="add.i32 r2, r1, r1")
    _run(src)                   # unnoticed without debug mode (r2 now shares r1's array)
    with debug.enabled_mode(), pytest.raises(AssertionError, match="sharing memory"):
        _run(src)


def test_debug_mode_catches_a_row_adopting_another_rows_array(monkeypatch):
    monkeypatch.setattr(data_kernels, "owned", lambda values, dtype: False)   # MOV forwards
    # r5 holds an ALU result (the row's own array; a loaded r1 may be a view of memory)
    src = LOADED.format(body="add.i32 r5, r1, r1\n    mov.i32 r2, r5")
    with debug.enabled_mode(), pytest.raises(AssertionError, match="r5 holds too"):
        _run(src)


def test_debug_mode_catches_a_drop_of_a_value_a_waiting_lane_reads(monkeypatch):
    monkeypatch.setattr(MinPC, "waiting", lambda self, kept: 0)   # "no lane waits": wrong
    src = DIVERGE.replace("low:\n    mov_imm.i32 r1, 5", "low:\n    add.i32 r1, r1, r1")
    with debug.enabled_mode(), pytest.raises(AssertionError, match="liveness"):
        _run(src)


def test_simt_debug_environment_variable_turns_debug_mode_on():
    code = "from simt.machine import debug; print(debug.enabled)"
    for value, shown in (("1", "True"), ("0", "False")):
        got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "SIMT_DEBUG": value}, check=True)
        assert got.stdout.strip() == shown
