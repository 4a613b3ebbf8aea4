"""``simt debug`` driven through a pipe, and ``simt run --progress/--trace/--profile``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simt
from simt.cli import main
from simt.debug import Debugger, ranges

ROOT = Path(__file__).resolve().parents[2]

KERNEL = """\
; double the upper half of a buffer, then store one value out of bounds
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
    mov_imm.u64 r9, 100
    stg.f32 [r0 + r9], r6
"""


def _debug(tmp_path: Path, commands: str, *options: str) -> subprocess.CompletedProcess:
    path = tmp_path / "kernel.s"
    path.write_text(KERNEL)
    return subprocess.run([sys.executable, "-m", "simt", "debug", str(path), *options],
                          input=commands, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_debugger_through_a_pipe(tmp_path) -> None:
    data = tmp_path / "x.npy"
    np.save(data, np.arange(4, dtype=np.float32))
    done = _debug(tmp_path, "break skip\nbreak :9\ncontinue\nprint r6\nprint p0 1\nlanes\n"
                  "step 2\nprint r6 3\nstep\nstep\nprint r9 0\nquit\n",
                  "--block", "4", "--arg", str(data))
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "pc 0 (line 2): mov_imm.u32 r4, 2"
    assert out[1] == "breakpoint at pc 8 (line 11)"
    assert out[3] == "breakpoint at pc 7 (line 9)"
    assert out[5] == "pc 7 (line 9): add.f32 r6, r6, r6"          # continue
    assert out[6] == "r6 (f32) lanes 0-3: [0.0 1.0 2.0 3.0]"
    assert out[8] == "p0 lane 1: True (bool)"
    assert "next: pc 7, 2 lanes: 2-3" in out
    assert "pc 8 (stg.f32 [r0 + r5], r6): 2 lanes: 0-1" in out
    assert "r6 lane 3: 6.0 (f32)" in out
    assert "pc 10 (line 13): stg.f32 [r0 + r9], r6" in out
    errors = [line for line in out if line.startswith("error: OutOfBoundsError")]
    assert len(errors) == 1 and "pc 10" in errors[0]
    after = out.index(errors[0])
    assert out[after + 1] == "pc 10 (line 13): stg.f32 [r0 + r9], r6"   # stopped before it
    assert out[after + 2] == "r9 lane 0: 100 (u64)"
    assert out[-1] == "pc 10 (line 13): stg.f32 [r0 + r9], r6"


def test_end_of_input_is_quit_and_the_end_is_reported(tmp_path) -> None:
    done = _debug(tmp_path, "step 9\nprint r7\nbogus\nbreak nowhere\n", "--block", "2",
                  "--arg", "zeros:f32:64")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[1] == "pc 10 (line 13): stg.f32 [r0 + r9], r6"   # both lanes skip pc 7
    assert out[2] == "r7 (u32) lanes 0-1: [2 2]"
    assert any(line.startswith("unknown command 'bogus'") for line in out)
    assert "break: 'nowhere' is neither a pc nor a label of the program" in out


def _session(block: int = 4):
    dev = simt.Device()
    buf = dev.upload(np.arange(block, dtype=np.float32))
    return dev.session(simt.assemble(KERNEL), block=block, args=(buf,))


def _drive(session, commands: str) -> list[str]:
    out = io.StringIO()
    Debugger(session, io.StringIO(commands), out).cmdloop()
    return out.getvalue().splitlines()


def test_debugger_runs_to_the_end_and_reports_it() -> None:
    dev = simt.Device()
    buf = dev.upload(np.arange(32, dtype=np.float32))
    out = _drive(dev.session(simt.assemble(KERNEL), block=4, args=(buf,)),
                 "continue\nlanes\nstep\n")
    assert out[1] == "finished after 11 instructions"
    assert "exited: 4 lanes: 0-3" in out
    assert out[-1] == "finished after 11 instructions"


def test_break_on_a_pc_and_a_line_without_an_instruction() -> None:
    out = _drive(_session(), "break 3\nbreak :10\nc\nc\nbreak\n")
    assert out[1] == "breakpoint at pc 3 (line 5)"
    assert out[3] == "breakpoint at pc 8 (line 11)"       # line 10 is the label
    assert out[5] == "pc 3 (line 5): ldg.f32 r6, [r0 + r5]"
    assert out[6] == "pc 8 (line 11): stg.f32 [r0 + r5], r6"
    assert out[7] == "breakpoints: 3, 8"


def test_print_checks_its_arguments() -> None:
    out = _drive(_session(), "print\nprint x1\nprint r1 99\nprint r300\nprint p3\nstep x\n")
    assert out[1] == "usage: print rN|pN [LANE]"
    assert out[3] == "usage: print rN|pN [LANE]"
    assert out[5].startswith("lane 99 is not in the piece")
    assert out[7].startswith("error: SimtValueError") and "0..255" in out[7]
    assert out[9] == "p3 (never written) lanes 0-3: [-- -- -- --]"
    assert out[11].startswith("step: expected a number")


def test_ranges() -> None:
    assert ranges(np.array([0, 1, 2, 3, 8, 10, 11])) == "0-3, 8, 10-11"
    assert ranges(np.array([], np.int64)) == "none"
    assert ranges(np.arange(0, 40, 2)).endswith("(12 more runs)")


# --------------------------------------------------------------------------- simt run options

def test_run_with_trace_profile_and_progress(tmp_path, capsys) -> None:
    path = tmp_path / "kernel.s"
    path.write_text(KERNEL.replace("    mov_imm.u64 r9, 100\n    stg.f32 [r0 + r9], r6\n", ""))
    trace = tmp_path / "trace.json"
    code = main(["run", str(path), "--block", "4", "--arg", "zeros:f32:4", "--progress",
                 "--trace", str(trace), "--profile"])
    assert code == 0
    captured = capsys.readouterr()
    assert "piece" in captured.err and "9 steps" in captured.err
    table = captured.out[captured.out.index("Issues:"):]
    assert "add.f32 r6, r6, r6" in table and "SIMD efficiency" in table
    doc = json.loads(trace.read_text())
    assert sum(e["ph"] == "X" for e in doc["traceEvents"]) == 9


def test_run_profile_in_json_mode(tmp_path, capsys) -> None:
    path = tmp_path / "kernel.s"
    path.write_text("mov_imm.u32 r4, 1\n")
    assert main(["run", str(path), "--json", "--profile"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "mov_imm.u32 r4, 1" in doc["profile"]


def test_debug_rejects_an_unknown_check(tmp_path, capsys) -> None:
    path = tmp_path / "kernel.s"
    path.write_text("exit\n")
    with pytest.raises(SystemExit) as stop:     # a usage error, as for simt run
        main(["debug", str(path), "--check", "race,bogus"])
    assert stop.value.code == 2
    assert "bogus" in capsys.readouterr().err


def test_debug_with_a_race_check_stops_before_the_race(tmp_path) -> None:
    pytest.importorskip("simt.observe.racecheck")
    path = tmp_path / "race.s"
    path.write_text("    sts.u32 [shared + 0], r252\n")
    done = subprocess.run([sys.executable, "-m", "simt", "debug", str(path), "--block", "4",
                           "--shared-bytes", "4", "--check", "race,init"],
                          input="continue\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[1].startswith("error: DataRaceError")
    assert out[2] == "pc 0 (line 1): sts.u32 [shared], r252"
