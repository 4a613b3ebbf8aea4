"""The real-world kernel gallery (``benchmarks/realworld.py``): every kernel at a small size
gives NumPy's result, and its check would notice a wrong one."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import simt
from benchmarks import realworld

NAMES = realworld.names()


@pytest.fixture(scope="module")
def dev() -> simt.Device:
    return simt.Device()


def test_gallery_has_every_kernel_of_the_issue():
    assert set(NAMES) == {
        "mandelbrot", "scan", "bitonic_sort", "transpose", "spmv_csr", "jacobi", "nbody",
        "histogram_resonance", "histogram_shared", "saxpy", "branch_tree_natural",
        "branch_tree_callee_first", "gemm_tiled"}
    for name in NAMES:
        entry = realworld.get(name)
        assert entry.small < entry.large, name
        simt.assemble(entry.text())              # every program assembles as written
    with pytest.raises(KeyError, match="known"):
        realworld.get("nope")


@pytest.mark.parametrize("name", NAMES)
def test_kernel_matches_numpy(dev, name):
    entry = realworld.get(name)
    work = entry.setup(dev, entry.small)
    try:
        work.run()
        assert work.check(), name
        work.baseline()                          # the timed NumPy equivalent runs too
    finally:
        work.free()


@pytest.mark.parametrize("name", [n for n in NAMES if n != "histogram_resonance"])
def test_check_notices_a_wrong_result(dev, name):
    entry = realworld.get(name)
    work = entry.setup(dev, entry.small)
    try:
        work.run()
        out = work.buffers[-1]                   # the (last) output buffer
        dev.write(out, np.full(out.nbytes, 0xFF, np.uint8))
        assert not work.check(), name
    finally:
        work.free()


def test_resonance_histogram_check_reads_the_launch(dev):
    entry = realworld.get("histogram_resonance")
    work = entry.setup(dev, entry.small)
    try:
        assert not work.check()                  # nothing launched yet
        result = work.run()
        assert work.check()
        assert result.resonance.sum() == entry.small
    finally:
        work.free()


def test_branch_tree_layouts_differ_only_in_placement():
    natural = realworld.branch_tree_text("natural").splitlines()
    first = realworld.branch_tree_text("callee_first").splitlines()
    assert first[0].split() == ["bra", "@main"]
    assert sorted(natural) == sorted(first[1:])
    call = simt.assemble("\n".join(natural))
    assert call.labels["classify"] > call.labels["main"]
    assert simt.assemble("\n".join(first)).labels["classify"] < \
        simt.assemble("\n".join(first)).labels["main"]
    with pytest.raises(ValueError, match="layout"):
        realworld.branch_tree_text("sideways")


@pytest.mark.parametrize("layout", ["natural", "callee_first"])
def test_branch_tree_reaches_every_leaf(dev, layout):
    data = np.array([[0, (1 << 28) - 1, 1 << 28, 0xFFFFFFFF] + [k << 28 for k in range(16)]],
                    np.uint32)
    want = [realworld.TREE_LEAVES[k] for k in [0, 0, 1, 15] + list(range(16))]
    assert realworld.branch_tree_numpy(data).tolist() == want
    bufs = [dev.upload(data), dev.alloc(4 * data.size)]
    try:
        dev.launch(simt.assemble(realworld.branch_tree_text(layout)), grid=1, block=32,
                   args=(*bufs, np.uint64(data.size), np.uint32(1)))
        assert dev.download(bufs[1], np.uint32).tolist() == want
    finally:
        for buf in bufs:
            dev.free(buf)


@pytest.mark.parametrize("name", ["scan", "bitonic_sort", "transpose", "nbody",
                                  "histogram_shared", "gemm_tiled"])
def test_shared_memory_kernels_are_race_free(name):
    if "check" not in inspect.signature(simt.Device.launch).parameters:
        pytest.skip("this build's launch has no check= (race, barrier and init checks)")
    dev = simt.Device()
    launch = dev.launch
    dev.launch = lambda program, **kw: launch(program, check="all", **kw)
    entry = realworld.get(name)
    work = entry.setup(dev, entry.small)
    try:
        work.run()
        assert work.check()
    finally:
        work.free()
