"""asv suites for ``simt.ops`` (end to end: upload, launches, download).

If ``simt.ops`` cannot be imported, this module defines no benchmark at all, so the
suite stays green on a build without the operations library.
"""

from __future__ import annotations

import numpy as np

import simt

try:
    import simt.ops as ops
except ImportError:  # pragma: no cover - only on a build without simt.ops
    ops = None

MILLION = 1_000_000

if ops is not None:

    class OpsElementwise:
        """Element-wise ops over 1e6 float32 (``np.add`` etc. for comparison)."""

        params = [["add", "mul", "relu", "gelu"]]
        param_names = ["op"]

        def setup(self, op):
            rng = np.random.default_rng(0)
            self.dev = simt.Device()
            self.a = rng.standard_normal(MILLION, np.float32)
            self.b = rng.standard_normal(MILLION, np.float32)
            self.call = self._call(op)
            self.call()

        def _call(self, op):
            fn = getattr(ops, op)
            if op in ("add", "mul"):
                return lambda: fn(self.a, self.b, device=self.dev)
            return lambda: fn(self.a, device=self.dev)

        def time_op(self, op):
            self.call()

    class OpsReductions:
        """Reductions and a loss over 1e6 float32 (``a.sum()`` for comparison)."""

        params = [["sum", "max", "mse"]]
        param_names = ["op"]

        def setup(self, op):
            rng = np.random.default_rng(0)
            self.dev = simt.Device()
            a = rng.standard_normal(MILLION, np.float32)
            b = rng.standard_normal(MILLION, np.float32)
            fn = getattr(ops, op)
            self.call = (lambda: fn(a, b, device=self.dev)) if op == "mse" else (
                lambda: fn(a, device=self.dev))
            self.call()

        def time_op(self, op):
            self.call()

    class OpsLinalg:
        """Softmax of 256 x 1024, GEMM of 128 x 128 x 128 and a 1024 x 1024 matvec."""

        def setup(self):
            rng = np.random.default_rng(0)
            self.dev = simt.Device()
            self.x = rng.standard_normal((256, 1024), np.float32)
            self.g = rng.standard_normal((128, 128), np.float32)
            self.m = rng.standard_normal((1024, 1024), np.float32)
            self.v = rng.standard_normal(1024, np.float32)
            ops.softmax(self.x, device=self.dev)

        def time_softmax(self):
            ops.softmax(self.x, device=self.dev)

        def time_gemm(self):
            ops.gemm(self.g, self.g, device=self.dev)

        def time_matvec(self):
            ops.matvec(self.m, self.v, device=self.dev)
