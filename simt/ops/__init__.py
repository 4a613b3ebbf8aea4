"""``simt.ops``: an operations library whose every arithmetic step is an ISA kernel.

Each op takes NumPy arrays and returns NumPy arrays (reductions and losses a NumPy
scalar), computed on a :class:`simt.Device` (``device=``, else a default device created
on first use).  The host only validates, uploads, launches and downloads.

>>> import numpy as np, simt
>>> simt.ops.add(np.arange(4, dtype=np.float32), np.ones(4, np.float32))
array([1., 2., 3., 4.], dtype=float32)
>>> print(simt.ops.kernel("add", np.float32).to_text())   # doctest: +SKIP

See ``docs/ops.md`` for what each op computes, its dtypes and tolerances.
"""

from ._kernels import KERNELS, accumulator_dtype, kernel, programs, source
from ._launch import BLOCK, CHUNK
from .elementwise import (abs, add, clip, copy, div, fill, gelu, maximum, minimum, mul, neg,
                          relu, scalar_add, scalar_mul, sigmoid, sub, tanh)
from .linalg import gemm, matvec
from .losses import binary_cross_entropy, cross_entropy, mse
from .reductions import max, min, sum
from .softmax import softmax

__all__ = ["add", "sub", "mul", "div", "minimum", "maximum", "abs", "neg", "relu", "clip",
           "scalar_add", "scalar_mul", "sigmoid", "tanh", "gelu", "softmax", "sum", "min",
           "max", "matvec", "gemm", "mse", "cross_entropy", "binary_cross_entropy", "copy",
           "fill", "kernel", "programs", "source", "accumulator_dtype", "KERNELS", "BLOCK", "CHUNK"]
