"""Trace, Profile and the progress bar: counts equal to the statistics, outputs that load."""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings

import simt
from simt.testing.programs import Case, cases

MIN_PIECE = 65_536

DOUBLE_HALF = """
    mov_imm.u32 r4, 2
    cvt.u64.u32 r5, r252
    shl.u64 r5, r5, r4
    ldg.f32 r6, [r0 + r5]
    mov_imm.u32 r7, 2
    setlt.u32 p0, r252, r7
    bra.p0 @skip
    add.f32 r6, r6, r6
skip:
    stg.f32 [r0 + r5], r6
"""


def _scalar(ty, bits: int) -> np.generic:
    return np.array([bits], dtype=f"<u{ty.size}").view(ty.numpy)[0]


def _launch(case: Case, observers, piece_lanes: int = 1 << 18):
    dev = simt.Device(piece_lanes=piece_lanes)
    buffers = [dev.upload(np.frombuffer(data, np.uint8)) for data in case.buffers]
    args = [buffers[a.buffer] if a.buffer is not None else _scalar(a.ty, a.bits)
            for a in case.args]
    return dev.launch(case.program_for([b.handle for b in buffers]), grid=case.grid,
                      block=case.block, args=args, shared_bytes=case.shared_bytes,
                      max_steps=case.max_steps, observers=observers)


def _assert_counts_match(trace: simt.Trace, profile: simt.Profile, stats: simt.Stats,
                         program: simt.Program) -> None:
    assert len(trace) == stats.steps
    assert [r.step for r in trace] == list(range(stats.steps))
    assert sum(r.lanes for r in trace) == stats.lane_instructions
    assert sum(r.bytes_loaded for r in trace) == stats.bytes_loaded
    assert sum(r.bytes_stored for r in trace) == stats.bytes_stored
    assert all(r.lane_min <= r.lane_max and r.lanes <= r.lane_max - r.lane_min + 1
               for r in trace)
    rows = profile.rows()
    assert [row.pc for row in rows] == sorted({r.pc for r in trace})
    assert sum(row.issues for row in rows) == stats.steps
    assert sum(row.lane_instructions for row in rows) == stats.lane_instructions
    assert sum(row.warp_instructions for row in rows) == stats.warp_instructions
    assert sum(row.bytes_loaded for row in rows) == stats.bytes_loaded
    assert sum(row.bytes_stored for row in rows) == stats.bytes_stored
    lanes = sum(row.lane_instructions for row in rows)
    warps = sum(row.warp_instructions for row in rows)
    assert (lanes / (32 * warps) if warps else 0.0) == stats.simd_efficiency
    per_pc = Counter(r.pc for r in trace)
    assert {row.pc: row.issues for row in rows} == dict(per_pc)
    by_name = Counter()
    for row in rows:
        by_name[program[row.pc].spec.name] += row.issues
    assert dict(by_name) == dict(stats.opcode_counts)


@settings(max_examples=60)
@given(cases(max_lanes=256, max_statements=16, chaotic=False))
def test_trace_and_profile_count_what_the_statistics_count(case: Case) -> None:
    trace, profile = simt.Trace(), simt.Profile()
    try:
        res = _launch(case, [trace, profile])
    except simt.SimtError:
        return
    _assert_counts_match(trace, profile, res.stats, case.program)


@settings(max_examples=4)
@given(cases(max_lanes=64, max_statements=10, race_free=True, chaotic=False))
def test_counts_over_pieces(case: Case) -> None:
    per_block = case.block[0] * case.block[1] * case.block[2]
    big = case.with_grid((MIN_PIECE // per_block + 1, 1, 1))
    trace, profile = simt.Trace(), simt.Profile()
    try:
        res = _launch(big, [trace, profile], piece_lanes=MIN_PIECE)
    except simt.SimtError:
        return
    _assert_counts_match(trace, profile, res.stats, big.program)
    assert max(r.lane_max for r in trace) == big.lanes - 1


def _run(observers, **kw):
    dev = simt.Device()
    buf = dev.upload(np.arange(4, dtype=np.float32))
    return dev.launch(simt.assemble(DOUBLE_HALF), block=4, args=(buf,), observers=observers,
                      **kw)


def test_trace_records_of_a_known_kernel() -> None:
    trace = simt.Trace()
    _run([trace])
    assert len(trace) == 9
    add = trace[7]
    assert (add.step, add.pc, add.instruction, add.source_line) == (
        7, 7, "add.f32 r6, r6, r6", 9)
    assert (add.lanes, add.lane_min, add.lane_max) == (2, 2, 3)
    assert (trace[3].bytes_loaded, trace[8].bytes_stored) == (16, 16)
    assert [r.pc for r in trace][-3:] == [6, 7, 8]
    _run([trace])                       # a second launch: steps start again at 0
    assert len(trace) == 18 and trace[9].step == 0 and list(trace)[-1].step == 8
    trace.reset()
    assert len(trace) == 0 and list(trace) == []


def test_trace_of_a_mask_whose_last_blocks_hold_no_lane() -> None:
    # the lanes with a negative value below 1,536 are a mask over all 2,048 lanes whose
    # last two blocks are empty: the trace counts blocks up to the last lane only
    text = """
    mov_imm.u32 r1, 2
    shl.u64 r2, r255, r1
    ldg.f32 r3, [r0 + r2]
    mov_imm.f32 r4, 0.0
    setgt.f32 p0, r3, r4
    bra.p0 @skip
    add.f32 r3, r3, r3
    stg.f32 [r0 + r2], r3
skip:
    exit
"""
    a = np.random.default_rng(0).standard_normal(2048).astype(np.float32)
    a[1536:] = 1.0
    dev = simt.Device()
    buf = dev.upload(a)
    trace, profile = simt.Trace(), simt.Profile()
    res = dev.launch(simt.assemble(text), grid=8, block=256, args=(buf,),
                     observers=[trace, profile])
    _assert_counts_match(trace, profile, res.stats, simt.assemble(text))
    add = next(r for r in trace if r.instruction.startswith("add"))
    assert (add.lanes, add.lane_max) == (int((a < 0).sum()), int(np.flatnonzero(a < 0)[-1]))


def test_profile_rows_table_and_reset() -> None:
    profile = simt.Profile()
    _run([profile])
    _run([profile])
    rows = profile.rows()
    assert [r.pc for r in rows] == list(range(9))
    add = rows[7]
    assert (add.instruction, add.source_line, add.issues, add.lane_instructions) == (
        "add.f32 r6, r6, r6", 9, 2, 4)
    assert add.simd_efficiency == 4 / (32 * 2)
    assert rows[3].bytes_loaded == 32 and rows[8].bytes_stored == 32
    table = profile.table()
    lines = table.splitlines()
    source = DOUBLE_HALF.strip("\n").splitlines()
    assert any(line.endswith(source[7]) and " 2 " in line for line in lines)   # add.f32 line
    assert any(line.rstrip().endswith("skip:") for line in lines)
    assert all(any(line.endswith(text) for line in lines) for text in source if text.strip())
    profile.reset()
    assert profile.rows() == []


def test_profile_table_of_a_program_without_source() -> None:
    program = simt.Program.from_json(simt.assemble(DOUBLE_HALF).to_json())
    assert program.source is None
    profile = simt.Profile()
    dev = simt.Device()
    dev.launch(program, block=4, args=(dev.upload(np.zeros(4, np.float32)),),
               observers=[profile])
    table = profile.table()
    for line in program.to_text().splitlines():
        assert any(row.endswith(line) for row in table.splitlines())


def test_chrome_trace_loads_as_json(tmp_path) -> None:
    trace = simt.Trace()
    _run([trace])
    path = tmp_path / "trace.json"
    trace.to_chrome(path)
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert len(slices) == 9         # one block
    assert {e["name"] for e in slices} >= {"add.f32 r6, r6, r6", "bra.p0 @skip"}
    add = next(e for e in slices if e["args"]["pc"] == 7)
    assert (add["ts"], add["dur"], add["args"]["block_lanes"], add["args"]["of"]) == (7, 1, 2, 4)
    assert all({"ts", "pid", "tid"} <= set(e) for e in slices)
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert [e["args"]["name"] for e in names] == ["block 0"]


def test_chrome_trace_has_a_track_per_block(tmp_path) -> None:
    trace = simt.Trace()
    dev = simt.Device()
    prog = simt.assemble("""
        mov_imm.u32 r7, 3
        setlt.u32 p0, r252, r7
        bra.p0 @end
        mov.u32 r8, r252
    end:
        exit
    """)
    dev.launch(prog, grid=3, block=4, observers=[trace])
    trace.to_chrome(tmp_path / "t.json")
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    mov = [e for e in events if e["ph"] == "X" and e["args"]["pc"] == 3]
    assert [(e["tid"], e["args"]["block_lanes"]) for e in mov] == [(0, 1), (1, 1), (2, 1)]
    assert trace[3].lanes == 3 and (trace[3].lane_min, trace[3].lane_max) == (3, 11)


def test_plot_returns_a_figure() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    profile = simt.Profile()
    _run([profile])
    fig = profile.plot()
    assert isinstance(fig, Figure)
    line = fig.axes[0].lines[0]
    assert list(line.get_ydata()) == [4, 4, 4, 4, 4, 4, 4, 2, 4]


def test_plot_without_matplotlib_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    profile = simt.Profile()
    with pytest.raises(ImportError, match=r"simt\[plot\]"):
        profile.plot()


def test_observers_on_a_session_see_the_same_launch() -> None:
    by_launch, by_session = simt.Trace(), simt.Trace()
    _run([by_launch])
    dev = simt.Device()
    buf = dev.upload(np.arange(4, dtype=np.float32))
    s = dev.session(simt.assemble(DOUBLE_HALF), block=4, args=(buf,), observers=[by_session])
    s.step(4)
    assert len(by_session) == 4
    s.result()
    assert list(by_session) == list(by_launch)


def test_progress_bar_on_stderr(capsys) -> None:
    res = _run([], progress=True)
    err = capsys.readouterr().err
    assert "piece" in err and "9 steps" in err and "1/1" in err
    assert res.stats == _run([]).stats
    assert capsys.readouterr().err == ""        # only launches that ask show a bar


def test_trace_and_profile_are_observers() -> None:
    from simt.machine.events import Observer
    assert isinstance(simt.Trace(), Observer) and isinstance(simt.Profile(), Observer)
    assert simt.Trace.per_instruction and simt.Profile.per_instruction
