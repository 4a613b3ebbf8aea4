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


# ---------------------------------------------------------------------- bad input files

def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("simt:")
    for needle in needles:
        assert needle in err
    return err


def test_npy_header_claiming_more_than_the_file_holds(kernel, tmp_path, capsys):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f8", "fortran_order": False, "shape": (10**13,)})
    assert main(["run", str(kernel), "--arg", str(path), "--arg", "u64:4"]) == 1
    _one_line_error(capsys, "huge.npy", "header")


def test_npz_named_npy(kernel, tmp_path, capsys):
    path = tmp_path / "a.npy"
    with open(path, "wb") as f:
        np.savez(f, a=np.arange(3, dtype=np.float32))
    assert main(["run", str(kernel), "--arg", str(path), "--arg", "u64:3"]) == 1
    _one_line_error(capsys, "a.npy", "not a .npy file")


def test_truncated_npy(kernel, tmp_path, capsys):
    path = tmp_path / "cut.npy"
    np.save(path, np.arange(100, dtype=np.float32))
    path.write_bytes(path.read_bytes()[:-8])
    assert main(["run", str(kernel), "--arg", str(path), "--arg", "u64:100"]) == 1
    _one_line_error(capsys, "cut.npy")


def test_out_naming_a_file_is_refused_before_the_launch(kernel, tmp_path, capsys):
    a = np.arange(4, dtype=np.float32)
    np.save(tmp_path / "a.npy", a)
    out = tmp_path / "taken"
    out.write_text("not a directory")
    assert main(["run", str(kernel), "--block", "4", "--arg", str(tmp_path / "a.npy"),
                 "--arg", "u64:4", "--out", str(out)]) == 1
    err = _one_line_error(capsys, "--out", "not a directory")
    assert "steps" not in capsys.readouterr().out and "FileExistsError" not in err
    assert out.read_text() == "not a directory"


def test_big_endian_npy_is_converted_not_reinterpreted(kernel, tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.array([1.5, -2.0, 3.0], ">f4"))
    out = tmp_path / "out"
    assert main(["run", str(kernel), "--block", "4", "--arg", str(tmp_path / "a.npy"),
                 "--arg", "u64:3", "--out", str(out)]) == 0
    got = np.load(out / "a.npy")
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, [3.0, -4.0, 6.0])
    capsys.readouterr()
    assert main(["run", str(kernel), "--block", "4", "--arg", str(tmp_path / "a.npy"),
                 "--arg", "u64:3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["buffers"]["a"] == [3.0, -4.0, 6.0]


def test_npy_keeps_its_shape_in_out(kernel, tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "m.npy", a)
    out = tmp_path / "out"
    assert main(["run", str(kernel), "--block", "8", "--arg", str(tmp_path / "m.npy"),
                 "--arg", "u64:6", "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out / "m.npy"), 2 * a)


def test_isa_into_a_closed_pipe_stops_quietly(monkeypatch, capsys):
    """``simt isa | head``: the reader leaves early; no traceback, exit status 1."""
    import os
    import sys

    read, write = os.pipe()
    os.close(read)
    stdout = open(write, "w", buffering=1)
    try:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert main(["isa"]) == 1
        stdout.write("x\n")         # stdout now points at devnull: writes succeed
    finally:
        monkeypatch.undo()
        stdout.close()
    assert capsys.readouterr().err == ""
