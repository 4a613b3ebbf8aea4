"""docs/howto/debug.md runs: its Python blocks in order, and its debugger transcript."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "howto" / "debug.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", PAGE.read_text(encoding="utf-8"),
                      re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def worked(tmp_path_factory) -> tuple[Path, str]:
    """Run every Python block of the page in one namespace, in a scratch directory;
    the directory and what the blocks printed."""
    pytest.importorskip("matplotlib")
    where = tmp_path_factory.mktemp("howto")
    here = Path.cwd()
    namespace: dict = {"__name__": "howto"}
    printed = io.StringIO()
    try:
        os.chdir(where)
        with contextlib.redirect_stdout(printed):
            for number, code in enumerate(_blocks("python"), 1):
                exec(compile(code, f"{PAGE.name} block {number}", "exec"), namespace)
    finally:
        os.chdir(here)
    return where, printed.getvalue()


def test_python_blocks_run(worked) -> None:
    where, printed = worked
    assert len(_blocks("python")) >= 5
    assert (where / "scale-lanes.png").stat().st_size > 0
    assert (where / "scale-lanes-fixed.png").stat().st_size > 0
    shown = printed.splitlines()
    (table,) = _blocks("text")
    for line in table.splitlines():
        if line.strip() != "...":
            assert line in shown, line


def test_debugger_transcript_replays(worked) -> None:
    where, _ = worked
    (console,) = _blocks("console")
    lines = console.rstrip("\n").split("\n")
    assert lines[0].startswith("$ simt debug ")
    argv = shlex.split(lines[0][len("$ simt "):])
    commands = [line[len("(simt) "):] for line in lines[1:] if line.startswith("(simt) ")]
    expected = [line for line in lines[1:] if not line.startswith("(simt) ")]
    done = subprocess.run([sys.executable, "-m", "simt", *argv],
                          input="".join(c + "\n" for c in commands), capture_output=True,
                          text=True, cwd=where, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected
