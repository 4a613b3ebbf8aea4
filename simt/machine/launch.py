"""Launch geometry and the context of one running piece.

A launch is a grid of blocks of lanes (1-3 dimensions each).  Global lane id
``= block_linear * lanes_per_block + lane_linear`` with x fastest.  A large
launch runs as *pieces*: consecutive whole blocks, each piece run to completion
before the next (docs/semantics.md, "Pieces").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import SimtTypeError, SimtValueError
from ..isa.program import Program
from .memory import DeviceMemory
from .values import Affine, Digits, digits, tiled

__all__ = ["Dim3", "Geometry", "Piece"]


@dataclass(frozen=True)
class Dim3:
    """An (x, y, z) extent, each >= 1."""

    x: int
    y: int = 1
    z: int = 1

    @classmethod
    def parse(cls, value: "int | tuple[int, ...] | Dim3", what: str) -> "Dim3":
        """Normalize an int or a tuple of 1-3 ints; ``TypeError``/``ValueError`` otherwise."""
        if isinstance(value, Dim3):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            value = (int(value),)
        if not isinstance(value, (tuple, list)):
            raise SimtTypeError(f"{what} must be an int or a tuple of 1-3 ints, got {value!r}")
        if not 1 <= len(value) <= 3:
            raise SimtValueError(f"{what} must have 1 to 3 dimensions, got {len(value)}")
        dims = []
        for v in value:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise SimtTypeError(f"{what} dimensions must be ints, got {v!r}")
            if v < 1:
                raise SimtValueError(f"{what} dimensions must be >= 1, got {tuple(value)}")
            dims.append(int(v))
        return cls(*dims)

    @cached_property        # frozen: computed once (launches reuse their geometry)
    def size(self) -> int:
        return self.x * self.y * self.z

    def unravel(self, linear: int) -> tuple[int, int, int]:
        """(x, y, z) of a linear index, x fastest."""
        return (linear % self.x, (linear // self.x) % self.y, linear // (self.x * self.y))

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.x, self.y, self.z)


@dataclass(frozen=True)
class Geometry:
    """The shape of a launch."""

    grid: Dim3
    block: Dim3

    @cached_property        # frozen: computed once (launches reuse their geometry)
    def lanes_per_block(self) -> int:
        return self.block.size

    @cached_property
    def blocks(self) -> int:
        return self.grid.size

    @cached_property
    def lanes(self) -> int:
        return self.grid.size * self.block.size

    def locate(self, lane: int) -> dict:
        """Error location attributes of a global lane id."""
        b, t = divmod(lane, self.lanes_per_block)
        return {"lane": lane, "block": self.grid.unravel(b), "thread": self.block.unravel(t)}


@dataclass
class Piece:
    """One piece of a launch: blocks ``[block0, block0 + blocks)`` run together.

    Kernels read launch-wide things from here: device memory, the resonance
    accumulator, the program, this piece's shared memory and lane geometry.
    """

    program: Program
    geometry: Geometry
    memory: DeviceMemory
    resonance: np.ndarray
    block0: int
    blocks: int
    shared_bytes: int
    shared: np.ndarray = field(init=False)
    #: when a list, ResAccum logs its (classes, values) here instead of adding them
    #: (a parallel launch replays the logs in piece order, see simt.parallel)
    log: list | None = None

    def __post_init__(self) -> None:
        self.shared = np.zeros(self.blocks * self.shared_bytes, np.uint8)

    def accumulate(self, classes: np.ndarray, values: np.ndarray) -> None:
        """ResAccum: add ``values`` into the running resonance, in ascending lane order."""
        if self.log is None:
            add_in_order(self.resonance, classes, values)
        else:
            self.log.append((np.array(classes, copy=True), np.array(values, copy=True)))


    @property
    def lanes(self) -> int:
        return self.blocks * self.geometry.lanes_per_block

    @property
    def lane0(self) -> int:
        """Global id of the piece's first lane."""
        return self.block0 * self.geometry.lanes_per_block

    def block_of(self, local: np.ndarray) -> np.ndarray:
        """Piece-local block index of each piece-local lane."""
        bpl = self.geometry.lanes_per_block
        if bpl & (bpl - 1) == 0:
            return np.asarray(local) >> (bpl.bit_length() - 1)
        return np.asarray(local) // bpl

    def block_x(self, local: np.ndarray) -> np.ndarray:
        """blockIdx.x of each piece-local lane."""
        linear = self.block0 + self.block_of(local)
        return linear % self.geometry.grid.x

    def special_registers(self, wanted: frozenset[int]
                          ) -> dict[int, "np.ndarray | Affine | Digits"]:
        """Initial values of the ``wanted`` registers among r252..r255."""
        g = self.geometry
        bpl = g.lanes_per_block
        out: dict[int, object] = {}
        u32 = np.dtype(np.uint32)
        if 252 in wanted:       # lane_linear % block.x, and block.x divides lanes_per_block
            out[252] = tiled(0, 1, 0, g.block.x, u32)
        if 253 in wanted:
            if g.grid.y == g.grid.z == 1:       # blockIdx.x is the block's linear index
                out[253] = tiled(self.block0, 0, 1, bpl, u32)
            elif g.grid.x == 1:
                out[253] = Affine(0, 0, u32)
            elif self.block0 // g.grid.x == (self.block0 + self.blocks - 1) // g.grid.x:
                # every block of the piece in one row of the grid: the block index, shifted
                out[253] = tiled(self.block0 % g.grid.x, 0, 1, bpl, u32)
            elif self.block0 % g.grid.x == 0:
                # rows start at the piece's first lane: (lane // bpl) % grid.x, as digits
                out[253] = digits(0, (0, 1, 0), (bpl, g.grid.x, None), u32)
            else:
                block_linear = np.arange(self.block0, self.block0 + self.blocks, dtype=np.uint64)
                out[253] = np.repeat((block_linear % np.uint64(g.grid.x)).astype(np.uint32), bpl)
        if 254 in wanted:
            out[254] = Affine(g.block.x, 0, np.dtype(np.uint32))
        if 255 in wanted:
            out[255] = Affine(self.lane0, 1, np.dtype(np.uint64))
        return out


#: the NaN an invalid sum (inf + -inf) gives on this machine; both engines use it
DEFAULT_NAN = math.inf + -math.inf
_QUIET = np.uint64(1 << 51)


def add_in_order(resonance: np.ndarray, classes: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` into ``resonance[classes]`` one after the other, in order.

    A sum that is not a NaN has one correctly rounded value whatever loop computes
    it, and ``np.add.at`` adds in order.  Which NaN a sum of NaNs keeps is left to
    the loop NumPy picks (it depends on the arrays' layout), so it is defined here:
    a class's sum is NaN from the first addition that makes it NaN on, and that
    NaN is the running value if it already was one, else the added value if that
    is one, else (``inf + -inf``) :data:`DEFAULT_NAN`; NaNs are made quiet.  The
    first such addition is found from the sequential partial sums
    (``np.add.accumulate``), which round exactly as the additions do.  Only
    classes that end NaN are looked at, at most 96.
    """
    before = resonance.copy()
    np.add.at(resonance, classes, values)
    ended = np.isnan(resonance)
    if not ended.any():
        return
    for c in np.flatnonzero(ended):
        start = before[c]
        if np.isnan(start):
            first = start
        else:
            mine = values[classes == c]
            partial = np.add.accumulate(np.concatenate(([start], mine)))
            k = int(np.argmax(np.isnan(partial)))
            first = mine[k - 1] if np.isnan(mine[k - 1]) else DEFAULT_NAN
        bits = np.array([first], np.float64).view(np.uint64) | _QUIET
        resonance[c] = bits.view(np.float64)[0]
