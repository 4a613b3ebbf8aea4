"""The peer comparison (``benchmarks/compare_peers.py``) covers the real-world gallery, and
its Numba versions (``benchmarks/numba_gallery.py``) import without Numba installed.

Nothing here runs a peer: Numba is an optional extra (``pip install -e '.[peers]'``)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import compare_peers, numba_gallery, realworld

ROOT = Path(__file__).resolve().parents[1]


def test_compare_script_lists_every_gallery_kernel():
    assert set(realworld.names()) <= set(compare_peers.KERNELS)
    assert compare_peers.GROUPS["gallery"] == tuple(realworld.names())
    assert set(compare_peers.GROUPS["all"]) == set(compare_peers.MICRO) | set(realworld.names())


def test_every_gallery_kernel_has_a_numba_version():
    assert set(numba_gallery.SETUPS) == set(realworld.names())


def test_every_numba_kernel_the_setups_launch_is_defined():
    """Each ``kern["name"]`` a set-up launches is a kernel :func:`numba_gallery.kernels`
    defines and returns (read from the source: defining them needs Numba)."""
    tree = ast.parse((ROOT / "benchmarks" / "numba_gallery.py").read_text())
    define = next(n for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name == "kernels")
    defined = {n.name for n in define.body if isinstance(n, ast.FunctionDef)}
    returned = next(n for n in define.body if isinstance(n, ast.Return)).value
    assert isinstance(returned, ast.Dict)
    keys = {k.value for k in returned.keys}
    assert {v.id for v in returned.values} <= defined
    launched = {node.slice.value for node in ast.walk(tree)
                if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                and node.value.id == "kern" and isinstance(node.slice, ast.Constant)}
    assert launched and launched <= keys


def test_importing_the_numba_versions_does_not_import_numba():
    code = ("import sys, benchmarks.numba_gallery, benchmarks.compare_peers; "
            "print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("name", realworld.names())
def test_gallery_size_at_1e3_lanes_is_the_small_size(name):
    assert compare_peers.gallery_size(name, 1000) == realworld.get(name).small
    assert compare_peers.gallery_size(name, 10_000) == 10 * realworld.get(name).small


def test_triton_has_no_gallery_versions():
    assert compare_peers.has_version("numba", "spmv_csr")
    assert compare_peers.has_version("triton", "vecadd")
    assert not compare_peers.has_version("triton", "spmv_csr")


def test_unknown_kernel_names_are_refused(capsys):
    with pytest.raises(SystemExit):
        compare_peers.main(["--kernels", "gallery,nope"])
    assert "unknown kernel 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                    reason="Numba is an optional extra: pip install -e '.[peers]'")
def test_numba_versions_give_numpys_results():
    """Every Numba version at a small size (one or a few blocks) passes its NumPy check
    in the simulator (in a subprocess: the simulator is chosen when Numba is imported)."""
    code = """
import json, sys
from benchmarks import numba_gallery, realworld
sizes = {"histogram_shared": 1024, "saxpy": 512, "gemm_tiled": 256, "nbody": 128,
         "transpose": 200}
found = {}
for name in realworld.names():
    result = numba_gallery.run(name, sizes.get(name, 256), lambda launch: float(launch() or 0))
    found[name] = result["ok"]
print(json.dumps(found))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "NUMBA_ENABLE_CUDASIM": "1"},
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {name: True for name in realworld.names()}
