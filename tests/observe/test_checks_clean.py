"""No false positives: every kernel the project ships runs clean under check="all"."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import simt
import simt.ops as ops
from simt.demo import run_gallery

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))    # the benchmarks package
from benchmarks import kernels as bench_kernels, workloads  # noqa: E402


class CheckedDevice(simt.Device):
    """A device whose every launch runs all checks, with the race model chosen."""

    def __init__(self, race_model: str = "gpu", **kw) -> None:
        super().__init__(**kw)
        self.race_model = race_model
        self.checked = 0

    def launch(self, *args, **kw):
        kw["check"] = "all"
        kw["race_model"] = self.race_model
        self.checked += 1
        return super().launch(*args, **kw)


def test_gallery_runs_clean():
    dev = CheckedDevice()
    results = run_gallery(3000, device=dev, repeat=0)
    assert all(r.ok for r in results), [r.name for r in results if not r.ok]
    assert dev.checked == len(results)


WORKLOADS = [
    *[(workloads.vector_add, dict(variant=v)) for v in bench_kernels.VECTOR_ADD_VARIANTS],
    *[(workloads.if_else, dict(variant=v, data=d)) for v in bench_kernels.IF_ELSE_VARIANTS
      for d in ("random", "positive")],
    *[(workloads.tree_reduction, dict(variant=v)) for v in bench_kernels.TREE_REDUCTION_VARIANTS],
    *[(workloads.divergence, dict(pattern=p)) for p in ("none", "parity", "random")],
    (workloads.neighbour_exchange, dict(rounds=3)),
    *[(workloads.opcode, dict(op=op, count=8)) for op in bench_kernels.OPCODES],
]


@pytest.mark.parametrize("make, kw", WORKLOADS,
                         ids=[f"{m.__name__}-{'-'.join(map(str, k.values()))}"
                              for m, k in WORKLOADS])
def test_benchmark_kernels_run_clean(make, kw):
    dev = CheckedDevice()
    work = make(dev, n=1500, **kw)
    work.run()
    assert work.check()
    assert dev.checked >= 1


def test_straight_line_kernel_runs_clean():
    dev = CheckedDevice()
    work = workloads.straight_line(dev, lanes=64, length=40)
    work.run()
    assert work.check()


def _op_calls(rng):
    f = rng.standard_normal(700).astype(np.float32)
    g = rng.standard_normal(700).astype(np.float32)
    i = rng.integers(-50, 50, 700).astype(np.int32)
    j = rng.integers(1, 50, 700).astype(np.int32)
    m = rng.standard_normal((9, 13)).astype(np.float32)
    k = rng.standard_normal((13, 7)).astype(np.float32)
    p = rng.random((6, 5)).astype(np.float32) + np.float32(0.1)
    p = p / p.sum(axis=1, keepdims=True)
    q = rng.random(700).astype(np.float32) * np.float32(0.8) + np.float32(0.1)
    return {
        "add": (f, g), "sub": (i, j), "mul": (f, g), "div": (i, j), "minimum": (f, g),
        "maximum": (i, j), "abs": (f,), "neg": (i,), "relu": (f,), "clip": (f, -0.5, 0.5),
        "scalar_add": (i, 3), "scalar_mul": (f, 1.5), "sigmoid": (f,), "tanh": (f,),
        "gelu": (f,), "softmax": (m,), "sum": (f,), "min": (i,), "max": (f,),
        "matvec": (m, k[:, 0].copy()), "gemm": (m, k), "mse": (f, g),
        "cross_entropy": (p, p[::-1].copy()), "binary_cross_entropy": (q, q[::-1].copy()),
        "copy": (f,), "fill": (i, 7),
    }


@pytest.mark.parametrize("model", ["gpu"])
def test_every_op_runs_clean(model):
    rng = np.random.default_rng(1)
    dev = CheckedDevice(model)
    plain = simt.Device()
    calls = _op_calls(rng)
    names = [n for n in ops.__all__ if callable(getattr(ops, n)) and n in calls]
    assert set(names) == set(calls)
    for name in names:
        before = dev.checked
        got = getattr(ops, name)(*calls[name], device=dev)
        want = getattr(ops, name)(*calls[name], device=plain)
        assert dev.checked > before, name
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=name)


def test_gemm_with_several_tiles_runs_clean():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((70, 40)).astype(np.float32)
    b = rng.standard_normal((40, 50)).astype(np.float32)
    dev = CheckedDevice()
    np.testing.assert_allclose(ops.gemm(a, b, device=dev), a @ b, rtol=1e-4, atol=1e-4)


def test_large_launch_over_two_pieces_runs_clean():
    dev = CheckedDevice(piece_lanes=65536)
    results = run_gallery(2 * 65536 + 1000, device=dev, repeat=0)
    assert all(r.ok for r in results)
