"""``simt run --check``: the checks from the command line."""

from __future__ import annotations

import pytest

from simt.cli import main

RACY = """
    cvt.u32.u64 r1, r255
    mov_imm.u64 r2, 0
    stg.u32 [r0 + r2], r1
    exit
"""


@pytest.fixture
def racy(tmp_path):
    path = tmp_path / "racy.s"
    path.write_text(RACY)
    return path


def test_run_check_race_reports_the_race(racy, capsys):
    assert main(["run", str(racy), "--block", "4", "--arg", "zeros:u32:1"]) == 0
    capsys.readouterr()
    assert main(["run", str(racy), "--block", "4", "--arg", "zeros:u32:1",
                 "--check", "race"]) == 1
    err = capsys.readouterr().err
    assert "DataRaceError" in err and "WAW race on buffer" in err
    assert len(err.strip().splitlines()) == 1


def test_run_check_takes_a_comma_list_and_a_race_model(racy, capsys):
    assert main(["run", str(racy), "--block", "1", "--arg", "zeros:u32:1",
                 "--check", "sync,init", "--race-model", "hologram"]) == 0
    assert main(["run", str(racy), "--block", "1", "--arg", "zeros:u32:1",
                 "--check", "all"]) == 0


@pytest.mark.parametrize("bad", [["--check", "races"], ["--race-model", "cpu"]])
def test_run_check_usage_errors(racy, bad):
    with pytest.raises(SystemExit) as info:
        main(["run", str(racy), *bad])
    assert info.value.code == 2
