"""Every Python block of docs/howto-checks.md runs as written, in order."""

from __future__ import annotations

import re
from pathlib import Path

HOWTO = Path(__file__).resolve().parents[2] / "docs" / "howto-checks.md"


def test_howto_code_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", HOWTO.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{HOWTO.name} block {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "WAR race on shared[+0]" in out and "hologram" in out
