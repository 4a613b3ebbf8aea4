"""Imports point one way: what a program is, how it runs, then what is built on it.

``isa`` <- ``reference``; ``isa`` <- ``machine`` <- ``observe`` <- ``device`` <- ``parallel``,
``session``, ``debug``, ``ops``, ``demo``, the CLI (docs/architecture.md).  Each layer may
import only the layers below it, lazily or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIMT = Path(__file__).resolve().parents[1] / "simt"

#: each layer and the simt modules it must never import
FORBIDDEN = {
    "isa": {"machine", "observe", "device", "parallel", "session", "debug", "ops", "reference",
            "cli", "demo"},
    "reference": {"machine", "observe", "device", "parallel", "session", "debug", "ops", "cli",
                  "demo"},
    "machine": {"observe", "device", "parallel", "session", "debug", "ops", "reference", "cli",
                "demo"},
    "observe": {"device", "parallel", "session", "debug", "ops", "reference", "cli", "demo"},
    "ops": {"parallel", "session", "debug", "cli", "demo"},
}


def _imported(path: Path) -> set[str]:
    """The top-level simt subpackages and modules a file imports."""
    package = path.relative_to(SIMT.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                parts = list(base) + (node.module.split(".") if node.module else [])
                names = [parts] if node.module else [parts + [a.name] for a in node.names]
            else:
                names = [node.module.split(".")] if node.module else []
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for parts in names:
            if len(parts) >= 2 and parts[0] == "simt":
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_down(layer):
    wrong = {}
    for path in sorted((SIMT / layer).rglob("*.py")):
        bad = _imported(path) & FORBIDDEN[layer]
        if bad:
            wrong[str(path.relative_to(SIMT))] = sorted(bad)
    assert not wrong, f"{layer}/ imports layers above it: {wrong}"
