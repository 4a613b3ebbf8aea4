"""The ``simt`` command line: run, demo, isa; exit statuses 0, 1 and 2."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import simt
from simt import demo
from simt.cli import main

SCALE = """
; out[i] = a[i] * 2 for i < n      args: r0 = a (f32 buffer), r1 = n (u64)
    setge.u64 p0, r255, r1
    bra.p0 @done
    mov_imm.u32 r2, 2
    shl.u64 r3, r255, r2
    ldg.f32 r4, [r0 + r3]
    add.f32 r4, r4, r4
    stg.f32 [r0 + r3], r4
done:
    exit
"""


@pytest.fixture
def kernel(tmp_path):
    path = tmp_path / "scale.s"
    path.write_text(SCALE)
    return path


def test_run_writes_npy_back_to_out(kernel, tmp_path, capsys):
    a = np.arange(10, dtype=np.float32)
    np.save(tmp_path / "a.npy", a)
    out = tmp_path / "out"
    code = main(["run", str(kernel), "--grid", "2", "--block", "8", "--arg",
                 str(tmp_path / "a.npy"), "--arg", "u64:10", "--out", str(out)])
    assert code == 0
    np.testing.assert_array_equal(np.load(out / "a.npy"), 2 * a)
    assert "steps" in capsys.readouterr().out


def test_run_json_from_a_json_program(kernel, tmp_path, capsys):
    prog_json = tmp_path / "scale.json"
    prog_json.write_text(simt.assemble(SCALE).to_json())
    code = main(["run", str(prog_json), "--block", "4", "--arg", "zeros:f32:4",
                 "--arg", "u64:4", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["buffers"]["arg0"] == [0.0, 0.0, 0.0, 0.0]
    assert doc["stats"]["steps"] > 0 and doc["resonance"] is None


def test_run_prints_resonance_when_nonzero(tmp_path, capsys):
    path = tmp_path / "res.s"
    path.write_text("mov_imm.u8 r1, 5\nres.accum r1, r0\n")
    assert main(["run", str(path), "--block", "3", "--arg", "1.5"]) == 0
    assert "resonance" in capsys.readouterr().out


def test_simt_error_exits_1_with_one_line(kernel, capsys):
    code = main(["run", str(kernel), "--block", "4", "--arg", "zeros:f32:2", "--arg", "u64:4"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "OutOfBoundsError" in err and "pc 4" in err and "line 7" in err and "lane 2" in err


def test_assembly_error_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.s"
    path.write_text("add.f32 r0, r1\n")
    assert main(["run", str(path)]) == 1
    assert "line 1" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["run", "missing.s"],
    ["run", "{kernel}", "--grid", "0"],
    ["run", "{kernel}", "--block", "a,b"],
    ["run", "{kernel}", "--arg", "u8:300"],
    ["run", "{kernel}", "--arg", "what"],
    ["run", "{kernel}", "--arg", "nope.npy"],
    ["frobnicate"],
    ["demo", "--show", "nonesuch"],
    ["demo", "--repeat", "0"],
])
def test_usage_errors_exit_2(argv, kernel):
    argv = [a.format(kernel=kernel) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:       # argparse reports its own usage errors this way
        code = exc.code
    assert code == 2


def test_demo_runs_and_checks(capsys):
    assert main(["demo", "--size", "2000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for entry in demo.GALLERY:
        row = next(line for line in out.splitlines() if line.startswith(entry.name + " "))
        assert " ok " in row and row.count(" ms") == 2 and re.search(r"\d\.\dx ", row)
    assert "FAIL" not in out
    assert "simt demo --show NAME" in out


def test_demo_results_time_simt_and_numpy():
    results = demo.run_gallery(1000, repeat=1)
    assert all(r.ok and r.seconds > 0 and r.numpy_seconds > 0 for r in results)
    assert all(r.ratio == r.seconds / r.numpy_seconds for r in results)


@pytest.mark.parametrize("entry", demo.GALLERY, ids=lambda d: d.name)
def test_demo_show_prints_the_kernel_source(entry, capsys):
    assert main(["demo", "--show", entry.name]) == 0
    assert capsys.readouterr().out == entry.source.strip() + "\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"simt {simt.__version__}"


def test_demo_exits_1_when_a_check_fails(monkeypatch, capsys):
    zeros = np.zeros(4, np.float32)
    broken = demo.Case((zeros, zeros), ((np.float32, 4),), lambda out, res: False)
    entry = demo.Demo("broken", demo.VECTOR_ADD, 4, lambda n, g, r: broken)
    monkeypatch.setattr(demo, "GALLERY", (entry,))
    assert main(["demo", "--size", "4"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_isa_listing_and_markdown(capsys):
    assert main(["isa"]) == 0
    assert "fma" in capsys.readouterr().out
    assert main(["isa", "--markdown"]) == 0
    from simt.isa.doc import isa_markdown
    assert capsys.readouterr().out == isa_markdown()
