"""Hypothesis strategies for valid, terminating random programs and their launches.

:func:`cases` draws a :class:`Case`: a program plus everything needed to run
it (launch shape, shared memory, kernel arguments, initial buffer and
boundary-pool contents, step budget).  :func:`run_reference` runs a case on
the scalar reference interpreter and returns an :class:`Outcome` (final
memory, resonance, statistics or the error); a test runs the same case on
another engine and compares outcomes.

What the generated programs contain:

* straight-line code over all 12 types and every instruction: CVT (valid
  pairs and, in "chaotic" cases, invalid ones), shifts by any amount, DIV with
  zero divisors, MIN/MAX with NaN and signed zeros, transcendentals,
  reductions over consecutive registers, Atlas instructions;
* structured control flow: data-dependent (divergent) if and if/else,
  nested; LOOP with per-lane trip counts (including an empty body, which the
  PC rule turns into a fall-through); CALL/RET, also inside divergent code,
  to functions placed before or after their callers (the main code, then
  being placed after some functions, is entered by a jump); functions call
  functions of a higher index (placed anywhere) and may call themselves
  (bounded recursion: a per-lane budget of 0..3 levels, so lanes of one call
  return from different depths), with early RET inside branches and barriers
  inside divergent calls; EXIT inside branches;
* memory: loads and stores to buffers (own slot, neighbour slot, uniform
  addresses), the boundary pool (Φ addresses, handle 0, class handles,
  BoundMap offsets), pools (alloc, load, store, free, pool handle 0) and
  per-block shared memory, in bounds and (in chaotic cases) out of bounds;
* tile coordinates of the launch (threadIdx.x/y/z and blockIdx.x/y/z from
  the global lane id by AND, SHR, DIV, MUL and SUB, and ``r253``), scaled and
  summed into row indices, used as load addresses and in comparisons that
  branch: the values the executor holds as nested tiles of the lane (digits);
* a bitonic sort's partner ``lane.x ^ 2^j`` (a digit of the lane flipped),
  compared with ``lane.x`` and used as a shared slot;
* barriers at uniform points of the main code, and deliberately divergent
  ones inside branches (released by exiting lanes, or deadlocking);
* ResAccum;
* launch shapes in 1, 2 and 3 dimensions from 1 lane up to ``max_lanes``.

Validity and termination by construction: register types are tracked while
generating (a read names a register known to hold that type at that point;
after a branch only registers typed alike on every path stay known; loop
bodies and functions never retype a register), loops run at most 4 times,
recursion ends when the lane's budget does.  "Chaotic" cases (about half)
deliberately break these rules with a small probability per instruction: mistyped or
uninitialized reads, unsupported types, pairs and conditions, out-of-bounds
addresses, classes >= 96, RET with an empty stack, tiny step budgets.

Observability: computed values only matter once they reach memory, so the
main code ends by storing every register whose type is known (and every set
predicate) into the lane's slot of the output buffer, and each function does
the same before its final RET.

Race-free cases (``race_free=True``) write global memory only at lane-owned
slots (output buffer; boundary pool from class 48 on) and read the boundary
pool only below class 48 or at their own slots, never store pool handles,
and so their final memory must not depend on how the grid is cut into
pieces.  (Shared memory may be raced on: its order within a block is the
same in any piece.)

Hypothesis and probabilities: Hypothesis favours small integers, so a rare
choice is taken when a drawn integer is near the top of its range
(:meth:`_Gen.chance`); shrinking then removes rare choices first.

Register conventions: r0 data buffer (u64 handle), r1 output buffer, r2 the
boundary pool (handle 0), r3 an optional scalar argument; r4..r15 are set up
by the prologue and then only read; r16..r47 are the main code's working
registers, r48..r55 its address temporaries, r60..r63 loop counters, r64..r67
pool handles, r56+k the recursion budget of function ``k`` (which also uses p7);
function ``k`` works in r100+20k .. r119+20k.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from hypothesis import assume, strategies as st

from ..isa.program import (BufferOffset, Instruction, PhiCoordinate, Program, RegisterIndirect,
                           RegisterIndirectComputed, Shared, SharedIndirect, make)
from ..isa.table import BY_NAME, CVT_PAIRS, SPECS, Category, Condition, Kind, Scope
from ..isa.types import DType
from ..reference import DEFAULT_PIECE_LANES
from ..reference import scalar

__all__ = ["Case", "ArgSpec", "Outcome", "cases", "launch_shapes", "tile_shapes", "run_reference",
           "describe_difference", "DATA", "OUT", "UNIFORM", "OUT_STRIDE", "OWNED_BOUNDARY",
           "CLASS_HANDLE_BASE"]

DATA, OUT, UNIFORM = 0, 1, 2       # buffer indices (nominal handles 1, 2, 3)
OWNED_BOUNDARY = 48 * 12288        # lane-owned boundary slots: this + gid * 8 (classes 48..95)
OUT_STRIDE = 544                   # bytes of the output buffer owned by each lane:
OUT_FREE = 64                      #   [0, 64) random stores,
DUMP_MAIN = 64                     #   [64, 320) r16..r47 at the end of the main code,
DUMP_PREDS = 320                   #   [320, 336) p0..p15 (1 byte each),
DUMP_FUNCTIONS = 336               #   [336, 528) r100+20k.. at the end of function k (96 each)
UNIFORM_BYTES = 64
POOL_BYTES = 64                    # size of the pools the programs allocate
CLASS_HANDLE_BASE = (1 << 64) - 96
T = DType

# Lane-wise register operations s_alu emits, read from the table so that a new arithmetic,
# logic or transcendental instruction enters the random programs without an edit here
# (tests/test_engines.py pins that every instruction of the table is emitted).
ALU = tuple(s.name for s in SPECS if s.category in (Category.ARITHMETIC, Category.LOGIC))
TRANSCENDENTALS = tuple(s.name for s in SPECS if s.category is Category.TRANSCENDENTAL)


# --------------------------------------------------------------------------- cases and outcomes

@dataclass(frozen=True)
class ArgSpec:
    """A kernel argument: a buffer (by index in :attr:`Case.buffers`) or a typed value."""

    buffer: int | None = None
    ty: DType | None = None
    bits: int = 0

    def __repr__(self) -> str:
        if self.buffer is not None:
            return f"buffer[{self.buffer}]"
        return f"{self.ty.text}:{self.bits:#x}"


@dataclass(frozen=True)
class Case:
    """One random launch.

    Attributes
    ----------
    program
        The program, with buffer ``i`` addressed by the nominal handle
        ``i + 1`` in ``BufferOffset`` addresses (what a fresh device hands
        out); :meth:`program_for` rewrites them for other handles.
    grid, block
        Launch shape, ``(x, y, z)``.
    shared_bytes
        Per-block shared memory.
    args
        Kernel arguments for r0, r1, ...
    buffers
        Initial contents of the buffers, allocated in this order.
    boundary
        ``(offset, bytes)`` written into the boundary pool before the launch.
    max_steps
        The step budget (``None``: the default).
    race_free
        Whether the program writes global memory only at lane-owned places.
    """

    program: Program
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_bytes: int
    args: tuple[ArgSpec, ...]
    buffers: tuple[bytes, ...]
    boundary: tuple[tuple[int, bytes], ...] = ()
    max_steps: int | None = None
    race_free: bool = False

    @property
    def lanes(self) -> int:
        g, b = self.grid, self.block
        return g[0] * g[1] * g[2] * b[0] * b[1] * b[2]

    def program_for(self, handles: Sequence[int]) -> Program:
        """The program with nominal buffer handles ``1..n`` replaced by ``handles``."""
        mapping = {i + 1: h for i, h in enumerate(handles)}
        if all(k == v for k, v in mapping.items()):
            return self.program
        out = []
        for ins in self.program:
            addr = getattr(ins, "addr", None)
            if isinstance(addr, BufferOffset) and addr.handle in mapping:
                ins = ins.replace(addr=BufferOffset(mapping[addr.handle], addr.offset))
            out.append(ins)
        return Program(out, self.program.labels, self.program.source_lines)

    def with_grid(self, grid: tuple[int, int, int]) -> "Case":
        """The same program and block over another grid, with buffers sized for it."""
        g, b = grid, self.block
        lanes = g[0] * g[1] * g[2] * b[0] * b[1] * b[2]
        data = _pattern(len(self.buffers[DATA]), 8 * lanes + 8)
        buffers = (data, bytes(OUT_STRIDE * lanes)) + tuple(self.buffers[UNIFORM:])
        return replace(self, grid=tuple(grid), buffers=buffers)

    def text(self) -> str:
        """The program as assembly text (instructions numbered by PC)."""
        by_pc: dict[int, list[str]] = {}
        for name, pc in self.program.labels.items():
            by_pc.setdefault(pc, []).append(name)
        lines = []
        for pc in range(len(self.program) + 1):
            lines += [f"{name}:" for name in sorted(by_pc.get(pc, []))]
            if pc < len(self.program):
                lines.append(f"    {_text(self.program[pc]):40s} ; pc {pc}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Case(grid={self.grid}, block={self.block}, shared_bytes={self.shared_bytes}, "
                f"max_steps={self.max_steps}, race_free={self.race_free}, args={list(self.args)},"
                f" buffers={[len(b) for b in self.buffers]} bytes, "
                f"boundary writes={[(o, len(d)) for o, d in self.boundary]})\n{self.text()}")


def _text(ins: Instruction) -> str:
    try:
        return str(ins)
    except Exception:
        return repr(ins)


@dataclass(frozen=True)
class Outcome:
    """What a launch left behind, in a form two engines can be compared by.

    ``resonance`` holds the 96 accumulators as float64 bit patterns; ``error``
    is ``(class name, pc, lane)`` or ``None``, and ``fault`` every attribute of
    the error but its message (:func:`simt.testing.engines.error_attributes`).
    Memory is compared after errors too: faults are precise, earlier effects
    remain.
    """

    buffers: tuple[bytes, ...]
    boundary: bytes
    resonance: tuple[int, ...] | None
    stats: dict | None
    error: tuple[str, int | None, int | None] | None
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    fault: dict | None = None


def run_reference(case: Case, piece_lanes: int = DEFAULT_PIECE_LANES) -> Outcome:
    """Run ``case`` on a fresh :class:`~simt.reference.ReferenceDevice`."""
    from .engines import Reference, run
    return run(Reference(piece_lanes=piece_lanes), case)


def describe_difference(a: Outcome, b: Outcome, names: tuple[str, str] = ("reference", "other")
                        ) -> str:
    """A short human-readable account of how two outcomes differ ('' if they do not)."""
    lines = []
    if a.error != b.error:
        lines.append(f"error: {names[0]} {a.error} ({a.exception}) vs {names[1]} {b.error} "
                     f"({b.exception})")
    elif a.fault != b.fault:
        lines.append(f"error attributes: {names[0]} {a.fault} vs {names[1]} {b.fault}")
    for i, (x, y) in enumerate(zip(a.buffers, b.buffers)):
        if x != y:
            lines.append(f"buffer[{i}]: " + _first_bytes_differing(x, y))
    if a.boundary != b.boundary:
        lines.append("boundary: " + _first_bytes_differing(a.boundary, b.boundary))
    if a.resonance != b.resonance:
        if a.resonance is None or b.resonance is None:
            lines.append(f"resonance: {a.resonance is None} vs {b.resonance is None} missing")
        else:
            diff = [(c, scalar.f64_value(x), scalar.f64_value(y))
                    for c, (x, y) in enumerate(zip(a.resonance, b.resonance)) if x != y]
            lines.append(f"resonance (class, {names[0]}, {names[1]}): {diff[:6]}")
    if a.stats is not None and b.stats is not None and a.stats != b.stats:
        keys = sorted(k for k in set(a.stats) | set(b.stats) if a.stats.get(k) != b.stats.get(k))
        lines.append("stats: " + "; ".join(f"{k}: {a.stats.get(k)} vs {b.stats.get(k)}"
                                           for k in keys))
    return "\n".join(lines)


def _first_bytes_differing(x: bytes, y: bytes) -> str:
    if len(x) != len(y):
        return f"sizes {len(x)} vs {len(y)}"
    where = [i for i in range(len(x)) if x[i] != y[i]]
    first = where[0]
    return (f"{len(where)} bytes differ, first at {first}: "
            f"{x[first:first + 8].hex()} vs {y[first:first + 8].hex()}")


# --------------------------------------------------------------------------- launch shapes

def _factor(draw, n: int) -> tuple[int, int, int]:
    """``n`` as a shape of 1-3 dims (padded with 1s) whose product is exactly ``n``."""
    dims = draw(st.integers(1, 3))
    shape = []
    rest = n
    for _ in range(dims - 1):
        size = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        shape.append(size)
        rest //= size
    shape.append(rest)
    return tuple(shape + [1] * (3 - dims))  # type: ignore[return-value]


@st.composite
def launch_shapes(draw, max_lanes: int = 256) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """``(grid, block)`` in 1-3 dims with at most ``max_lanes`` lanes.

    Totals mix tiny launches, odd sizes (partial warps: 33, 99) and launches
    near ``max_lanes``.
    """
    totals = sorted({t for t in (1, 2, 3, 4, 7, 8, 16, 32, 33, 64, 99, 100, 160, 256,
                                 max_lanes // 4, max_lanes // 2, max_lanes - 1, max_lanes)
                     if 1 <= t <= max_lanes})
    total = draw(st.sampled_from(totals))
    per_block = draw(st.sampled_from([d for d in range(1, total + 1) if total % d == 0]))
    return _factor(draw, total // per_block), _factor(draw, per_block)


@st.composite
def tile_shapes(draw, max_lanes: int = 256
                ) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """``(grid, block)`` of 2-D and 3-D blocks with at least 64 lanes when ``max_lanes``
    allows (pieces that small keep tile coordinates compressed)."""
    block = (draw(st.sampled_from([2, 3, 4, 8, 16])), draw(st.sampled_from([2, 3, 4, 8])),
             draw(st.sampled_from([1, 1, 2])))
    per_block = block[0] * block[1] * block[2]
    most = max(1, max_lanes // per_block)
    blocks = draw(st.integers(min(most, -(-64 // per_block)), most))
    return _factor(draw, blocks), block


# --------------------------------------------------------------------------- the generator

_FLOAT_CONSTANTS = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-3, 3.14159, 100.0, 1e30, -1e30,
                    float("inf"), float("-inf"), float("nan"), 5e-324, 1e-40, 65504.0, 7.0e4)


class _Scope:
    """Registers one piece of code may write, and how."""

    def __init__(self, work: Sequence[int], temps: Sequence[int], counters: Sequence[int],
                 in_function: bool) -> None:
        self.work = list(work)
        self.temps = list(temps)
        self.counters = list(counters)
        self.in_function = in_function
        self.loop_depth = 0
        self.if_depth = 0
        self.busy: set[int] = set()   # loop counters of the enclosing loops

    @property
    def no_retype(self) -> bool:
        """Inside loops and functions registers keep their type (a second pass stays valid)."""
        return self.in_function or self.loop_depth > 0


class _Gen:
    """Draws one program, instruction by instruction, tracking register types."""

    def __init__(self, draw: Callable, *, lanes_per_block: int, race_free: bool, chaos: int,
                 n_functions: int, max_statements: int, use_shared: bool,
                 grid: tuple[int, int, int] = (1, 1, 1),
                 block: tuple[int, int, int] | None = None, coords: int = 2) -> None:
        self.draw = draw
        self.coords = coords                # weight of tile-coordinate statements
        self.grid = grid
        self.block_shape = block or (lanes_per_block, 1, 1)
        self.race_free = race_free
        self.chaos = chaos                  # per-mille chance of a deliberate error per choice
        self.n_functions = n_functions
        self.callable: list[int] = list(range(n_functions))   # functions the code may call
        self.budget = max_statements
        self.use_shared = use_shared
        self.lanes_per_block = lanes_per_block
        self.code: list[Instruction] = []
        self.labels: dict[str, int] = {}
        self.env: dict[int, DType] = {}     # register -> type known at this point
        self.preds: set[int] = set()        # predicates known to be set
        self.pools: set[int] = set()        # pool registers holding a handle
        self.pinned: set[int] = set()       # operands chosen for the statement being built
        self.n_labels = 0
        self.n_temp = 0                     # the address temporary used last (tile coordinates)

    # ------------------------------------------------------------------ small helpers

    def chance(self, per_mille: int) -> bool:
        """True with roughly ``per_mille``/1000 probability; shrinks toward False.

        (Hypothesis favours small integers, so the test is at the top of the range.)
        """
        return self.draw(st.integers(0, 999)) >= 1000 - per_mille

    def oops(self) -> bool:
        """Whether to make a deliberate mistake now (chaotic cases only)."""
        return self.chaos > 0 and self.chance(self.chaos)

    def pick(self, items: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(list(items)))

    def emit(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.code.append(make(name, *args, **kwargs))

    def new_label(self, stem: str) -> str:
        self.n_labels += 1
        return f"{stem}{self.n_labels}"

    def place(self, label: str) -> None:
        self.labels[label] = len(self.code)

    # ------------------------------------------------------------------ values

    def const(self, ty: DType) -> int:
        """Raw bits of an interesting constant of type ``ty``."""
        if ty.is_int:
            width = ty.bits
            choices = [0, 1, 2, 3, 5, 7, 8, 31, (1 << width) - 1, 1 << (width - 1),
                       (1 << (width - 1)) - 1]
            if self.chance(250):
                return self.draw(st.integers(0, (1 << width) - 1))
            return self.pick(choices) & ((1 << width) - 1)
        if self.chance(150):
            return self.draw(st.integers(0, (1 << ty.bits) - 1))  # any pattern, NaNs included
        value = self.pick(_FLOAT_CONSTANTS)
        f32 = scalar.f32_bits(value)
        if ty is T.F64:
            return scalar.f64_bits(value)
        if ty is T.F32:
            return f32
        return scalar.convert(f32, T.F32, ty)

    def const_special(self, ty: DType) -> int:
        """Bits of 0.0, -0.0 or a NaN of float type ``ty``."""
        value = self.pick([0.0, -0.0, float("nan"), -1.0, float("inf"), float("-inf"), 3e9,
                           -3e38, 1e300, 0.5, 65520.0, 2.0 ** -130])
        if self.chance(100):  # a NaN with a payload, possibly signalling
            return (0x7FF0000000000001 | self.draw(st.integers(0, (1 << 51) - 1))
                    if ty is T.F64 else 0x7F800001 | self.draw(st.integers(0, (1 << 22) - 1)))
        return scalar.f64_bits(value) if ty is T.F64 else scalar.f32_bits(value)

    def typed(self, ty: DType) -> list[int]:
        return sorted(r for r, t in self.env.items() if t is ty)

    def src(self, scope: _Scope, ty: DType) -> int:
        """A register holding a ``ty`` value (made with mov_imm if need be)."""
        if self.oops():  # anything: maybe uninitialized or mistyped (never a pool handle)
            return self.draw(st.integers(0, 63))
        regs = self.typed(ty)
        if regs and not self.chance(400):
            reg = self.pick(regs)
        else:  # a fresh constant, in a register no other operand of this statement uses
            reg = self.dst(scope, ty, tuple(self.pinned))
            self.emit("MOV_IMM", ty, reg, self.const(ty))
            self.env[reg] = ty
        self.pinned.add(reg)
        return reg

    def dst(self, scope: _Scope, ty: DType, exclude: Sequence[int] = ()) -> int:
        """A working register that may receive a ``ty`` value (not one of ``exclude``)."""
        regs = [r for r in scope.work if r not in exclude
                and (not scope.no_retype or r not in self.env or self.env[r] is ty)]
        # a loop body that may not retype can hold every working register with other
        # types (tile coordinates take the temporaries): this draw is then given up
        assume(regs)
        return self.pick(regs)

    def define(self, reg: int, ty: DType) -> None:
        self.env[reg] = ty

    def temp_u64(self, scope: _Scope, value_from: int | None, add: int) -> int:
        """A temporary u64 = ``value_from + add`` (``value_from`` a u64 register or None)."""
        reg = self.pick(scope.temps)
        self.emit("MOV_IMM", T.U64, reg, add & ((1 << 64) - 1))
        if value_from is not None:
            self.emit("ADD", T.U64, reg, value_from, reg)
        return reg

    def a_type(self, allowed: Sequence[DType]) -> DType:
        if self.oops():
            return self.pick(list(DType))
        return self.pick(sorted(allowed, key=lambda t: t.value))

    # ------------------------------------------------------------------ prologue

    def prologue(self, scope: _Scope, scalar_arg: DType | None) -> None:
        """Set up the read-only registers r4..r15 (see the module docstring)."""
        e = self.emit
        e("MOV_IMM", T.U32, 13, 3)                       # r13 = 3 (mask and shift)
        e("SHL", T.U64, 4, 255, 13)                      # r4 = gid * 8
        e("CVT", T.U32, T.U64, 6, 252)
        e("SHL", T.U64, 6, 6, 13)                        # r6 = lane.x * 8 (u64)
        e("LDG", T.U64, 7, RegisterIndirectComputed(0, 4))   # r7 = data[gid] as u64
        e("LDG", T.F64, 8, RegisterIndirectComputed(0, 4))   # r8 = as f64
        e("LDG", T.F32, 9, RegisterIndirectComputed(0, 4))   # r9 = as f32
        e("MOV_IMM", T.U64, 15, 4)
        e("ADD", T.U64, 15, 4, 15)
        e("LDG", T.I32, 10, RegisterIndirectComputed(0, 15))  # r10 = high word as i32
        e("ClsGet", 11)                                  # r11 = class (u8)
        e("LDG", T.U32, 12, RegisterIndirectComputed(0, 4))
        e("AND", T.U32, 12, 12, 13)                      # r12 = data & 3 (per-lane count)
        e("MOV_IMM", T.U64, 14, OUT_STRIDE)
        e("MUL", T.U64, 14, 255, 14)                     # r14 = gid * OUT_STRIDE
        e("MOV", T.U32, 5, 252)
        e("AND", T.U32, 15, 5, 13)                       # r15 = lane.x & 3
        self.env.update({0: T.U64, 1: T.U64, 2: T.U64, 4: T.U64, 5: T.U32, 6: T.U64, 7: T.U64,
                         8: T.F64, 9: T.F32, 10: T.I32, 11: T.U8, 12: T.U32, 13: T.U32,
                         14: T.U64, 15: T.U32, 252: T.U32, 253: T.U32, 254: T.U32, 255: T.U64})
        if scalar_arg is not None:
            self.env[3] = scalar_arg
        if self.n_functions or self.chance(300):
            self.emit("PoolAlloc", POOL_BYTES, 64)
            self.pools.add(64)

    # ------------------------------------------------------------------ statements

    def block(self, scope: _Scope, n: int) -> None:
        for _ in range(n):
            if self.budget <= 0:
                return
            self.budget -= 1
            self.statement(scope)

    def statement(self, scope: _Scope) -> None:
        self.pinned = set()
        kinds = ["alu"] * 8 + ["edge"] * 3 + ["memory"] * 4 + ["atlas"] * 2 + ["reduce", "pool"]
        kinds += ["coords"] * self.coords
        if scope.if_depth + scope.loop_depth < 2:
            kinds += ["if"] * 3 + ["loop"] * 2
        if self.callable:
            kinds += ["call"] * 2
        if scope.in_function and scope.if_depth > 0:
            kinds += ["ret"]
        if scope.if_depth > 0:
            kinds += ["exit"]
        top = not scope.in_function and scope.if_depth == 0 and scope.loop_depth == 0
        if top:
            kinds += ["barrier"] + (["exchange"] * 2 + ["tree"] if self.use_shared else [])
        elif scope.loop_depth == 0 and (not scope.in_function or self.chance(300)):
            kinds += ["divergent_barrier"]
        if self.use_shared:
            kinds += ["shared"]
        if self.chaos:
            kinds += ["mistake"]
        getattr(self, "s_" + self.pick(kinds))(scope)

    # -- arithmetic and logic

    def s_alu(self, scope: _Scope) -> None:
        name = self.pick(ALU + ("CVT", "CVT", "MOV", "MOV_IMM") + ("TRANS",) * 6)
        if name == "CVT":
            return self.s_cvt(scope)
        if name == "TRANS":
            name = self.pick(TRANSCENDENTALS)
        spec = BY_NAME[name]
        if name in ("MOV", "MOV_IMM"):
            ty = self.pick(list(DType))
        else:
            ty = self.a_type(spec.types)
        operands = [f.name for f in spec.fields if f.kind is Kind.REG and f.name != "dst"]
        if name == "SETcc":
            cond = self.pick(list(Condition)[:6]) if not (ty.is_unsigned or self.oops()) \
                else self.pick(list(Condition))
            a, b = self.src(scope, ty), self.src(scope, ty)
            p = self.draw(st.integers(0, 7))
            self.emit("SETcc", ty, cond, p, a, b)
            self.preds.add(p)
            return
        if name == "SEL":
            p = self.a_pred(scope)
            a, b = self.src(scope, ty), self.src(scope, ty)
            d = self.dst(scope, ty)
            self.emit("SEL", ty, d, p, a, b)
            self.define(d, ty)
            return
        if name == "MOV_IMM":
            d = self.dst(scope, ty)
            self.emit("MOV_IMM", ty, d, self.const(ty))
            self.define(d, ty)
            return
        values = []
        for operand in operands:
            if operand == "amount" and self.chance(500):  # any amount, not just small ones
                values.append(self.dst(scope, T.U32, values))
                self.emit("MOV_IMM", T.U32, values[-1], self.const(T.U32))
                self.define(values[-1], T.U32)
            else:
                values.append(self.src(scope, T.U32 if operand == "amount" else ty))
        if name in ("MIN", "MAX") and ty.is_float and self.chance(300):  # signed zeros, NaNs
            for n in range(2):
                values[n] = self.dst(scope, ty, values)
                self.emit("MOV_IMM", ty, values[n], self.const_special(ty))
                self.define(values[n], ty)
        if name == "DIV" and ty.is_int and not self.chaos and self.chance(800):
            values[1] = self.dst(scope, ty)   # a non-zero divisor, mostly
            self.emit("MOV_IMM", ty, values[1], self.pick([1, 2, 3, 7, (1 << ty.bits) - 1]))
            self.define(values[1], ty)
        d = self.dst(scope, ty)
        self.emit(name, ty, d, *values)
        self.define(d, ty)

    def s_edge(self, scope: _Scope) -> None:
        """An operation on edge-case operands: signed zeros and NaNs for MIN/MAX, zero
        divisors, float-to-int conversions of NaN/inf/huge values, extreme shifts."""
        what = self.pick(["MIN", "MAX", "DIV", "CVT", "SHL", "SHR", "ABS", "NEG", "MAD", "FMA"])
        if what in ("MIN", "MAX") and self.chance(400):
            return self.s_zeros(scope, what)
        if what == "CVT":
            src_ty, dst_ty = self.pick([(T.F32, T.I32), (T.F32, T.U32), (T.F64, T.I64),
                                        (T.F64, T.U64), (T.F64, T.F32), (T.F32, T.F16),
                                        (T.F32, T.BF16), (T.U64, T.F64), (T.I32, T.F32)])
            s = self.dst(scope, src_ty)
            bits = self.const_special(src_ty) if src_ty.is_float else self.const(src_ty)
            self.emit("MOV_IMM", src_ty, s, bits)
            self.define(s, src_ty)
            d = self.dst(scope, dst_ty)
            self.emit("CVT", src_ty, dst_ty, d, s)
            self.define(d, dst_ty)
            return
        spec = BY_NAME[what]
        ty = self.pick(sorted(spec.types, key=lambda t: t.value))
        if what == "DIV" and ty.is_int and not self.chaos:
            ty = self.pick([T.F32, T.F64])   # integer zero divisors only in chaotic cases
        operands = [f.name for f in spec.fields if f.kind is Kind.REG and f.name != "dst"]
        values: list[int] = []
        for operand in operands:
            operand_ty = T.U32 if operand == "amount" else ty
            reg = self.dst(scope, operand_ty, values)
            if what in ("MIN", "MAX") and ty.is_float:
                bits = self.pick([scalar.encode(v, ty) for v in (0.0, -0.0, float("nan"), 1.0)])
            elif operand_ty.is_float:
                bits = self.const_special(operand_ty)
            else:
                bits = self.const(operand_ty)
            self.emit("MOV_IMM", operand_ty, reg, bits)
            self.define(reg, operand_ty)
            values.append(reg)
        d = self.dst(scope, ty)
        self.emit(what, ty, d, *values)
        self.define(d, ty)

    def s_zeros(self, scope: _Scope, what: str) -> None:
        """MIN or MAX of per-lane floats whose intervals say which signed zeros they hold:
        ``lane.x & 3`` converted (``+0`` in one lane of four), then scaled or shifted by
        uniform constants (``-0``, tiny values whose products underflow to a zero of their
        sign, f64 to f32 conversion underflowing), against the converted value or ``+0``."""
        used: list[int] = []

        def new(ty: DType) -> int:      # a working register no other step here uses
            reg = self.dst(scope, ty, used)
            used.append(reg)
            self.define(reg, ty)
            return reg

        ty = self.pick([T.F32, T.F64])
        x = x32 = new(T.F32)
        self.emit("CVT", T.U32, T.F32, x32, 15)
        if ty is T.F64:
            x = new(T.F64)
            self.emit("CVT", T.F32, T.F64, x, x32)
        tiny = 2.0 ** -149 if ty is T.F32 else 5e-324
        y = x
        for _ in range(self.draw(st.integers(1, 2))):
            c = new(ty)
            value = self.pick([-0.0, 0.0, -1.0, 0.5, -0.5, tiny, -tiny, 1e-30, -1e-30, 1e-200])
            self.emit("MOV_IMM", ty, c, scalar.encode(value, ty))
            z = new(ty)
            self.emit(self.pick(["MUL", "MUL", "ADD", "SUB"]), ty, z,
                      *((y, c) if self.draw(st.booleans()) else (c, y)))
            y = z
        other = x
        if ty is T.F64 and self.draw(st.booleans()):     # to f32: tiny values become zeros
            y32 = new(T.F32)
            self.emit("CVT", T.F64, T.F32, y32, y)
            ty, y, other = T.F32, y32, x32
        if self.draw(st.booleans()):                       # +0 in every lane
            zero, plus = new(ty), new(ty)
            self.emit("MOV_IMM", ty, zero, 0)
            self.emit("MUL", ty, plus, other, zero)
            other = plus
        d = new(ty)
        self.emit(what, ty, d, *((y, other) if self.draw(st.booleans()) else (other, y)))

    def a_pred(self, scope: _Scope) -> int:
        if self.preds and not self.oops():
            return self.pick(sorted(self.preds))
        if self.oops():
            return self.draw(st.integers(0, 15))
        return self.condition(scope)

    def s_cvt(self, scope: _Scope) -> None:
        if self.oops():
            src_ty, dst_ty = self.pick(list(DType)), self.pick(list(DType))
        else:
            src_ty, dst_ty = self.pick(sorted(CVT_PAIRS, key=lambda p: (p[0].value, p[1].value)))
        s = self.src(scope, src_ty)
        d = self.dst(scope, dst_ty)
        self.emit("CVT", src_ty, dst_ty, d, s)
        self.define(d, dst_ty)

    def s_reduce(self, scope: _Scope) -> None:
        name = self.pick(["ReduceAdd", "ReduceMin", "ReduceMax", "ReduceMul"])
        ty = self.a_type([T.I32, T.I64, T.F32, T.F64])
        count = self.draw(st.integers(0, 4))
        work = scope.work
        fits = [i for i in range(len(work) - max(count, 1) + 1)
                if work[i + max(count, 1) - 1] - work[i] == max(count, 1) - 1
                and (not scope.no_retype
                     or all(self.env.get(work[i + k], ty) is ty for k in range(count)))]
        if not fits:
            return
        base = work[self.pick(fits)]
        for k in range(count):
            if self.oops():
                continue  # leave it as it is: maybe uninitialized or of another type
            if self.chance(500):
                self.emit("MOV", ty, base + k, self.src(scope, ty))
            else:
                self.emit("MOV_IMM", ty, base + k, self.const(ty))
            self.define(base + k, ty)
        d = self.dst(scope, ty)
        self.emit(name, ty, d, base, count)
        self.define(d, ty)

    def s_atlas(self, scope: _Scope) -> None:
        what = self.pick(["ClsGet", "MIRROR", "UnityTest", "NbrCount", "NbrGet", "ResAccum",
                          "ResAccum", "PhaseGet", "PhaseGet", "PhaseAdv", "BoundMap", "MemFence"])
        if what == "ClsGet":
            d = self.dst(scope, T.U8)
            self.emit("ClsGet", d)
            self.define(d, T.U8)
        elif what == "UnityTest":
            p = self.draw(st.integers(0, 7))
            self.emit("UnityTest", p, self.pick([0.0, 1e-10, 1.0, float("nan")]))
            self.preds.add(p)
        elif what == "PhaseGet":
            d = self.dst(scope, T.U32)
            self.emit("PhaseGet", d)
            self.define(d, T.U32)
        elif what == "PhaseAdv":
            self.emit("PhaseAdv", self.pick([0, 1, 5, 767, 768, 1000, 65535]))
        elif what == "MemFence":
            self.emit("MemFence", self.pick(list(Scope)))
        elif what in ("MIRROR", "NbrCount", "NbrGet"):
            c = self.a_class(scope)
            ty = T.U32 if what == "NbrCount" else T.U8
            d = self.dst(scope, ty)
            if what == "NbrGet":
                self.emit("NbrGet", c, self.pick([0, 1, 4, 5, 6, 255]), d)
            elif what == "NbrCount":
                self.emit("NbrCount", c, d)
            else:
                self.emit("MIRROR", d, c)
            self.define(d, ty)
        elif what == "ResAccum":
            c = self.a_class(scope)
            value = self.src(scope, T.F64)
            self.emit("ResAccum", c, value)
        else:  # BoundMap
            c = self.a_class(scope)
            page = self.u8(scope, 48 if not self.oops() else 256, (c,))
            byte = self.u8(scope, 256, (c, page))
            d = self.dst(scope, T.U64)
            self.emit("BoundMap", c, page, byte, d)
            self.define(d, T.U64)

    def u8(self, scope: _Scope, below: int, exclude: Sequence[int] = ()) -> int:
        reg = self.dst(scope, T.U8, exclude)
        self.emit("MOV_IMM", T.U8, reg, self.draw(st.integers(0, below - 1)))
        self.define(reg, T.U8)
        self.pinned.add(reg)    # later operands of the statement (a ResAccum value) keep off it
        return reg

    def a_class(self, scope: _Scope, exclude: Sequence[int] = ()) -> int:
        """A u8 class register: usually < 96 (the lane's own class or a constant)."""
        if self.chance(400):
            return 11
        return self.u8(scope, 256 if self.oops() else 96, exclude)

    # -- control flow

    def condition(self, scope: _Scope) -> int:
        """Emit a data-dependent comparison into a predicate; return the predicate."""
        p = self.draw(st.integers(8, 15))
        kind = self.pick(["lane", "gid", "data", "any", "tile", "periodic", "partner"])
        if kind == "partner":       # lane.x ^ 2^j against lane.x: two varying values
            x, lane = self.partner(scope, self._temp(scope))
            self.emit("SETcc", T.U32, self.pick(list(Condition)[:10]), p, x, lane)
            self.preds.add(p)
            return p
        if kind == "periodic":      # (lane & 2^j) == 0 or != 0: a window repeating with a period
            k = self.dst(scope, T.U32)
            self.emit("MOV_IMM", T.U32, k, 1 << self.draw(st.integers(0, 5)))
            self.define(k, T.U32)
            t = self.dst(scope, T.U32)
            self.emit("AND", T.U32, t, 5, k)
            self.define(t, T.U32)
            zero = self.dst(scope, T.U32, (t,))
            self.emit("MOV_IMM", T.U32, zero, 0)
            self.define(zero, T.U32)
            self.emit("SETcc", T.U32, self.pick([Condition.EQ, Condition.NE]), p, t, zero)
            self.preds.add(p)
            return p
        if kind == "tile" and scope.no_retype:
            kind = "gid"
        top = 40
        if kind == "tile":
            ty, (a, top) = T.U64, self.coordinate(scope)
            if self.chance(300):    # compared as a u32
                b = self.dst(scope, T.U32, (a,))
                self.emit("CVT", T.U64, T.U32, b, a)
                self.define(b, T.U32)
                ty, a = T.U32, b
            self.pinned.add(a)
        if kind == "lane":
            ty, a = T.U32, 5
        elif kind == "gid":
            ty, a = T.U64, 255
        elif kind == "data":
            ty, a = self.pick([(T.U64, 7), (T.F64, 8), (T.F32, 9), (T.I32, 10), (T.U32, 12)])
        else:
            ty = self.pick([T.I8, T.U16, T.I64, T.F32, T.F64, T.U32])
            a = self.src(scope, ty)
        if ty in (T.U32, T.U64) and (kind == "tile" or self.chance(600)):
            b = self.dst(scope, ty, tuple(self.pinned))
            self.emit("MOV_IMM", ty, b, self.draw(st.integers(0, top)))
            self.define(b, ty)
        else:
            b = self.src(scope, ty)
        cond = self.pick(list(Condition)[:6])
        self.emit("SETcc", ty, cond, p, a, b)
        self.preds.add(p)
        return p

    # -- tile coordinates

    def _temp(self, scope: _Scope) -> int:
        """The next address temporary, in turn: a value computed in one is still there
        after the next few (a tile coordinate's steps need at most four at once)."""
        self.n_temp = (self.n_temp + 1) % len(scope.temps)
        return scope.temps[self.n_temp]

    def _const_u64(self, scope: _Scope, value: int) -> int:
        reg = self._temp(scope)
        self.emit("MOV_IMM", T.U64, reg, value)
        return reg

    def _div(self, scope: _Scope, src: int, d: int) -> int:
        """A temporary holding the u64 ``src // d`` (SHR for powers of two, else DIV)."""
        if d == 1:
            return src
        if d & (d - 1) == 0 and self.chance(700):
            amount = self._temp(scope)
            self.emit("MOV_IMM", T.U32, amount, d.bit_length() - 1)
            out = self._temp(scope)
            self.emit("SHR", T.U64, out, src, amount)
        else:
            k = self._const_u64(scope, d)
            out = self._temp(scope)
            self.emit("DIV", T.U64, out, src, k)
        return out

    def _mod(self, scope: _Scope, src: int, m: int) -> int:
        """A temporary holding the u64 ``src % m`` (AND for powers of two, else
        ``src - (src // m) * m``)."""
        if m & (m - 1) == 0 and self.chance(700):
            k = self._const_u64(scope, m - 1)
            out = self._temp(scope)
            self.emit("AND", T.U64, out, src, k)
        else:
            q = self._div(scope, src, m)
            k = self._const_u64(scope, m)
            prod = self._temp(scope)
            self.emit("MUL", T.U64, prod, q, k)
            out = self._temp(scope)
            self.emit("SUB", T.U64, out, src, prod)
        return out

    def coordinate(self, scope: _Scope) -> tuple[int, int]:
        """Emit one tile coordinate of the launch or a row index built from two; return
        its (u64) register and a bound its values stay below.

        ``threadIdx`` along an axis is ``(gid % lanes_per_block) // unit % dim``,
        ``blockIdx`` likewise over the block's linear index ``gid // lanes_per_block``;
        ``r253`` is blockIdx.x as the machine gives it.
        """
        (bx, by, bz), (gx, gy, gz) = self.block_shape, self.grid
        bpl = bx * by * bz
        # (thread or block, unit, dim) of every axis that varies (else the x axes)
        axes = [(kind, unit, dim) for kind, unit, dim in (
            ("thread", 1, bx), ("thread", bx, by), ("thread", bx * by, bz),
            ("block", 1, gx), ("block", gx, gy), ("block", gx * gy, gz)) if dim > 1]
        kind, unit, dim = self.pick(axes or [("thread", 1, bx)])
        if kind == "block" and unit == 1 and self.chance(300):     # r253 (u32), widened
            out = self._temp(scope)
            self.emit("CVT", T.U32, T.U64, out, 253)
        elif kind == "thread":      # (gid % lanes_per_block) // unit % dim
            out = self._mod(scope, self._div(scope, self._mod(scope, 255, bpl), unit), dim)
        else:                       # (gid // lanes_per_block) // unit % dim
            out = self._mod(scope, self._div(scope, self._div(scope, 255, bpl), unit), dim)
        value = self.dst(scope, T.U64, tuple(self.pinned))
        self.emit("MOV", T.U64, value, out)
        self.define(value, T.U64)
        self.pinned.add(value)
        bound = dim
        if self.chance(400):                        # a row index: coordinate * k + another
            other, below = self.coordinate(scope)
            scale = self.pick([1, 2, bx, by, 16])
            bound = (dim - 1) * scale + below
            k = self._const_u64(scope, scale)
            scaled = self._temp(scope)
            self.emit("MUL", T.U64, scaled, value, k)
            self.emit("ADD", T.U64, value, scaled, other)
        return value, bound

    def s_coords(self, scope: _Scope) -> None:
        """A tile coordinate, kept, used as a load address, or compared."""
        if scope.no_retype:     # needs fresh u64 registers
            return self.s_alu(scope)
        value, bound = self.coordinate(scope)
        use = self.pick(["keep", "address", "compare", "compare"])
        if use == "address":    # data[index * 8], index < lanes: in bounds for every lane
            lanes = self.lanes_per_block * self.grid[0] * self.grid[1] * self.grid[2]
            index = value if bound <= lanes else self._mod(scope, value, lanes)
            amount = self._temp(scope)
            self.emit("MOV_IMM", T.U32, amount, 3)
            where = self._temp(scope)
            self.emit("SHL", T.U64, where, index, amount)
            ty = self.pick([T.U64, T.U32, T.I16, T.F32, T.F64])
            d = self.dst(scope, ty, (value,))
            self.emit("LDG", ty, d, RegisterIndirectComputed(0, where))
            self.define(d, ty)
        elif use == "compare":
            c = self._const_u64(scope, self.draw(st.integers(0, bound)))   # mostly inside
            p = self.draw(st.integers(0, 7))
            self.emit("SETcc", T.U64, self.pick(list(Condition)[:6]), p, value, c)
            self.preds.add(p)

    def _branch(self, scope: _Scope, body: Callable[[], None]) -> tuple[dict, set]:
        """Generate ``body`` from the current state; return its end state and restore."""
        env, preds, pools = dict(self.env), set(self.preds), set(self.pools)
        scope.if_depth += 1
        body()
        scope.if_depth -= 1
        out = (self.env, self.preds, self.pools)
        self.env, self.preds, self.pools = env, preds, pools
        return out

    def _merge(self, *states) -> None:
        """After paths join, only what holds on every path is known."""
        envs = [s[0] for s in states]
        self.env = {r: t for r, t in envs[0].items() if all(e.get(r) is t for e in envs[1:])}
        self.preds = set.intersection(*[s[1] for s in states])
        self.pools = set.intersection(*[s[2] for s in states])

    def s_if(self, scope: _Scope) -> None:
        p = self.condition(scope)
        n_then = self.draw(st.integers(0, 3))
        if self.chance(500):  # if (no else): lanes with p skip the body
            skip = self.new_label("skip")
            self.emit("BRA", skip, p)
            before = (dict(self.env), set(self.preds), set(self.pools))
            after = self._branch(scope, lambda: self.block(scope, n_then))
            self.place(skip)
            self._merge(before, after)
            return
        then, end = self.new_label("then"), self.new_label("end")
        self.emit("BRA", then, p)
        other = self._branch(scope, lambda: (self.block(scope, self.draw(st.integers(0, 3))),
                                             self.emit("BRA", end)))
        self.place(then)
        mine = self._branch(scope, lambda: self.block(scope, n_then))
        self.place(end)
        self._merge(other, mine)

    def s_loop(self, scope: _Scope) -> None:
        busy = scope.busy
        free = [c for c in scope.counters
                if c not in busy and (c not in self.env or self.env[c] is T.U32)]
        if not free:
            return
        counter = free[0]
        source = self.pick(["data", "lane", "const"])
        if source == "data":
            self.emit("MOV", T.U32, counter, 12)
        elif source == "lane":
            self.emit("MOV", T.U32, counter, 15)
        else:
            self.emit("MOV_IMM", T.U32, counter, self.draw(st.integers(0, 3)))
        self.define(counter, T.U32)
        body = self.new_label("body")
        self.place(body)
        scope.busy = busy | {counter}
        scope.loop_depth += 1
        self.block(scope, self.draw(st.integers(0, 3)))
        scope.loop_depth -= 1
        scope.busy = busy
        self.emit("LOOP", counter, body)
        self.env[counter] = T.U32

    def s_call(self, scope: _Scope) -> None:
        self.emit("CALL", f"f{self.pick(self.callable)}")

    def s_ret(self, scope: _Scope) -> None:
        self.emit("RET")

    def s_exit(self, scope: _Scope) -> None:
        self.emit("EXIT")

    def s_barrier(self, scope: _Scope) -> None:
        self.emit("BarSync", self.pick([0, 0, 0, 1]))

    def s_divergent_barrier(self, scope: _Scope) -> None:
        self.emit("BarSync", self.pick([0, 1]))

    def s_mistake(self, scope: _Scope) -> None:
        """A deliberate fault (chaotic cases)."""
        what = self.pick(["ret", "div0", "class", "uninit", "pool", "free_const"])
        if what == "ret" and not scope.in_function:
            self.emit("RET")
        elif what == "div0":
            ty = self.pick([T.I8, T.U32, T.I64])
            zero = self.dst(scope, ty)
            self.emit("MOV_IMM", ty, zero, 0)
            self.define(zero, ty)
            d = self.dst(scope, ty)
            self.emit("DIV", ty, d, self.src(scope, ty), zero)
            self.define(d, ty)
        elif what == "class":
            c = self.u8(scope, 256)
            self.emit("MIRROR", self.dst(scope, T.U8), c)
        elif what == "uninit":
            self.emit("ADD", T.F32, self.dst(scope, T.F32), 99, 9)
        elif what == "free_const":  # every lane frees the same handle: all but one fault
            reg = self.pick(scope.temps)
            self.emit("MOV_IMM", T.U64, reg, self.pick([0, 1, 2, 3]))
            self.emit("PoolFree", reg)
        else:
            self.emit("PoolFree", 64)

    # -- memory

    def s_memory(self, scope: _Scope) -> None:
        ty = self.pick(list(DType))
        size = ty.size
        store = self.chance(500)
        where = self.pick(["data", "data", "dense", "out", "out", "uniform", "indirect", "phi",
                           "boundary", "class"])
        if self.race_free and store and where not in ("out", "boundary"):
            where = "out"
        if where == "data":      # own slot, or the next lane's (racy when stored)
            k = self.draw(st.integers(0, 8 - size)) + (8 if self.chance(300) else 0)
            if self.oops():
                k += self.pick([8 * 1024, 1 << 40, (1 << 64) - 8])
            addr = RegisterIndirectComputed(0, self.temp_u64(scope, 4, k))
        elif where == "dense":   # consecutive elements, gid * size (+ one element): a lane's
            # load may leave the register viewing the data buffer (kernels/memory.py)
            reg, one = self._temp(scope), self._temp(scope)
            self.emit("MOV_IMM", T.U64, reg, size)
            self.emit("MUL", T.U64, reg, 255, reg)
            if self.chance(300):
                self.emit("MOV_IMM", T.U64, one, size)
                self.emit("ADD", T.U64, reg, reg, one)
            addr = RegisterIndirectComputed(0, reg)
        elif where == "out":     # own slot
            k = self.draw(st.integers(0, OUT_FREE - size))
            if self.oops():
                k += OUT_STRIDE * 4096
            addr = RegisterIndirectComputed(1, self.temp_u64(scope, 14, k))
        elif where == "uniform":  # every lane the same address; highest lane wins stores
            k = self.draw(st.integers(0, UNIFORM_BYTES - size + (64 if self.oops() else 0)))
            addr = BufferOffset(UNIFORM + 1, k)
        elif where == "indirect":
            k = self.draw(st.integers(0, 8 - size))
            if self.oops():
                k = self.pick([-4, -1, 1 << 20])
            addr = RegisterIndirect(0, k)
        elif where == "phi":
            addr = PhiCoordinate(self.draw(st.integers(0, 47 if self.race_free else 95)
                                           if not self.oops() else st.integers(0, 255)),
                                 self.draw(st.integers(0, 47 if not self.oops() else 255)),
                                 self.draw(st.integers(0, 255)))
        elif where == "boundary":  # handle 0 + an offset: lane-owned (gid * 8) or BoundMap'ed
            if self.race_free or self.chance(500):
                k = self.draw(st.integers(0, 8 - size))
                addr = RegisterIndirectComputed(2, self.temp_u64(scope, 4, OWNED_BOUNDARY + k))
            else:
                c = self.a_class(scope)
                page = self.u8(scope, 48, (c,))
                byte = self.u8(scope, 256 - size + 1 + (8 if self.oops() else 0), (c, page))
                offset = self.pick(scope.temps)
                self.emit("BoundMap", c, page, byte, offset)
                addr = RegisterIndirectComputed(2, offset)
        else:                    # a class handle
            c = self.draw(st.integers(0, 47 if self.race_free else 95))
            k = self.draw(st.integers(0, 12288 - size + (8 if self.oops() else 0)))
            addr = BufferOffset(CLASS_HANDLE_BASE + c, k)
        load_name, store_name = ("LDS", "STS") if self.chance(150) else ("LDG", "STG")
        if store:
            self.emit(store_name, ty, self.src(scope, ty), addr)
        else:
            d = self.dst(scope, ty)
            self.emit(load_name, ty, d, addr)
            self.define(d, ty)

    def shared_slot(self, scope: _Scope, neighbour: bool, read: bool = False) -> Any:
        """``[shared + r]`` at the lane's slot (lane.x * 8), or the next lane's; a ``read``
        may also share its slot with other lanes (:meth:`shared_shared_slot`)."""
        k = 8 if neighbour else 0
        if read and self.chance(250):
            return self.shared_shared_slot(scope)
        if self.chance(300):
            return Shared(self.draw(st.integers(0, 16)))
        if self.chance(300):  # a u32 offset register: lane.x << 3 (+ 8)
            reg = scope.temps[0]
            self.emit("SHL", T.U32, reg, 5, 13)
            if k:
                eight = scope.temps[1]
                self.emit("MOV_IMM", T.U32, eight, k)
                self.emit("ADD", T.U32, reg, reg, eight)
            return SharedIndirect(reg)
        return SharedIndirect(self.temp_u64(scope, 6, k))

    def shared_shared_slot(self, scope: _Scope) -> Any:
        """``[shared + r]`` at a slot several lanes read: ``(lane.x >> 2) << 3`` (four
        neighbours read one slot: a broadcast read, digits of the lane with a zero
        coefficient) or ``(lane.x & 3) << 3`` (a pattern of period four, shorter than a
        block), both inside the lanes' own slots."""
        reg = scope.temps[0]
        if self.chance(300):    # the partner lane.x ^ 2^j (a digit of the lane flipped)
            self.emit("SHL", T.U32, reg, self.partner(scope, reg)[0], 13)
        elif self.chance(500):
            two = scope.temps[1]
            self.emit("MOV_IMM", T.U32, two, 2)
            self.emit("SHR", T.U32, reg, 5, two)
            self.emit("SHL", T.U32, reg, reg, 13)
        else:
            self.emit("SHL", T.U32, reg, 15, 13)
        return SharedIndirect(reg)

    def partner(self, scope: _Scope, reg: int) -> tuple[int, int]:
        """Emit ``reg = x ^ 2^j`` for the lane's ``x = lane.x`` (blocks whose x extent is
        a power of two) or ``lane.x & 3``, below that extent: a bitonic sort's partner,
        inside the lanes' own slots; return ``reg`` and the register of ``x``."""
        bx = self.block_shape[0]
        src, bits = (5, bx.bit_length() - 1) if bx > 1 and bx & (bx - 1) == 0 else (15, 2)
        k = scope.temps[1] if reg != scope.temps[1] else scope.temps[2]
        self.emit("MOV_IMM", T.U32, k, 1 << self.draw(st.integers(0, bits - 1)))
        self.emit("XOR", T.U32, reg, src, k)
        return reg, src

    def s_shared(self, scope: _Scope) -> None:
        ty = self.pick([T.U8, T.I16, T.F16, T.U32, T.F32, T.I64, T.F64])
        if self.chance(500):
            self.emit("STS", ty, self.src(scope, ty), self.shared_slot(scope, False))
        else:
            d = self.dst(scope, ty)
            self.emit("LDS", ty, d, self.shared_slot(scope, self.chance(500), read=True))
            self.define(d, ty)

    def s_exchange(self, scope: _Scope) -> None:
        """Store to the own slot, barrier, load the neighbour's slot (top level only)."""
        ty = self.pick([T.U32, T.F64, T.U64, T.BF16])
        self.emit("STS", ty, self.src(scope, ty), self.shared_slot(scope, False))
        self.emit("BarSync", 0)
        d = self.dst(scope, ty)
        self.emit("LDS", ty, d, self.shared_slot(scope, True, read=True))
        self.define(d, ty)

    def s_tree(self, scope: _Scope) -> None:
        """A tree reduction's level, ``if (lane.x < s) slot[x] += slot[x + s]``, then a
        barrier (top level only): the adding lanes are a window at the start of every row
        of lane.x (tiles), whose registers are kept packed and whose shared accesses are
        strided grids, remembered across pieces."""
        bx = self.block_shape[0]
        if bx < 2:
            return
        s = 1 << self.draw(st.integers(0, bx.bit_length() - 2))    # x + s < 2s <= bx
        ty = self.pick([T.U32, T.F32, T.F64, T.I64])
        k = scope.temps[1]
        self.emit("MOV_IMM", T.U32, k, s)
        p = self.draw(st.integers(8, 15))
        self.emit("SETcc", T.U32, Condition.GE, p, 5, k)
        self.preds.add(p)
        skip = self.new_label("skip")
        self.emit("BRA", skip, p)

        def level() -> None:
            far = SharedIndirect(self.temp_u64(scope, 6, 8 * s))
            a = self.dst(scope, ty)
            self.emit("LDS", ty, a, far)
            b = self.dst(scope, ty, (a,))
            self.emit("LDS", ty, b, SharedIndirect(6))
            self.emit("ADD", ty, b, b, a)
            self.emit("STS", ty, b, SharedIndirect(6))
            self.define(a, ty)
            self.define(b, ty)
        before = (dict(self.env), set(self.preds), set(self.pools))
        after = self._branch(scope, level)
        self.place(skip)
        self._merge(before, after)
        self.emit("BarSync", 0)

    def s_pool(self, scope: _Scope) -> None:
        what = self.pick(["alloc", "load", "store", "store", "load", "free", "zero"])
        if what == "alloc":
            reg = self.pick([64, 65, 66, 67])
            self.emit("PoolAlloc", self.pick([0, 4, 16]) if self.oops() else POOL_BYTES, reg)
            self.pools.add(reg)
            return
        if what == "free":
            if self.pools and (self.chaos or (not scope.no_retype and self.chance(300))):
                reg = self.pick(sorted(self.pools))
                self.emit("PoolFree", reg)
                self.pools.discard(reg)
            return
        ty = self.a_type([t for t in DType if t not in (T.F16, T.BF16)])
        if what == "zero":  # pool handle 0: the boundary pool
            if self.race_free:
                return
            pool = 2
            offset = self.temp_u64(scope, None, self.draw(st.integers(0, 96 * 12288 - 8)))
        else:
            if not self.pools:
                return
            pool = self.pick(sorted(self.pools))
            limit = POOL_BYTES - ty.size + (16 if self.oops() else 0)
            offset = self.temp_u64(scope, None, self.draw(st.integers(0, max(0, limit))))
        if what == "load":
            d = self.dst(scope, ty)
            self.emit("PoolLoad", ty, pool, offset, d)
            self.define(d, ty)
        else:
            value = self.src(scope, ty)
            if self.race_free and pool == 2:
                return
            self.emit("PoolStore", ty, pool, offset, value)

    # ------------------------------------------------------------------ whole programs

    def dump(self, scope: _Scope, offset: int, with_preds: bool) -> None:
        """Store every register of ``scope`` whose type is known (and the predicates) to
        the lane's output slot, so that computed values become observable memory."""
        for reg in scope.work:
            ty = self.env.get(reg)
            if ty is None:
                continue
            where = self.temp_u64(scope, 14, offset + 8 * (reg - scope.work[0]))
            self.emit("STG", ty, reg, RegisterIndirectComputed(1, where))
        if not with_preds or not self.preds:
            return
        one, zero, bit = scope.temps[1], scope.temps[2], scope.temps[3]
        self.emit("MOV_IMM", T.U8, one, 1)
        self.emit("MOV_IMM", T.U8, zero, 0)
        for p in sorted(self.preds):
            self.emit("SEL", T.U8, bit, p, one, zero)
            where = scope.temps[0]
            self.emit("MOV_IMM", T.U64, where, DUMP_PREDS + p)
            self.emit("ADD", T.U64, where, 14, where)
            self.emit("STG", T.U8, bit, RegisterIndirectComputed(1, where))

    def program(self, scalar_arg: DType | None) -> Program:
        main = _Scope(range(16, 48), range(48, 56), range(60, 64), in_function=False)
        recursive = [self.chance(400) for _ in range(self.n_functions)]
        self.prologue(main, scalar_arg)
        for k in range(self.n_functions):
            if recursive[k]:    # the recursion budget: 0..3 levels, per lane
                self.emit("MOV", T.U32, 56 + k, 12)
        stable = (dict(self.env), set(self.pools))
        self.block(main, self.budget)
        self.dump(main, DUMP_MAIN, with_preds=True)
        if self.n_functions or self.chance(700):
            self.emit("EXIT")   # else the lanes run off the end
        segments = [(0, len(self.code), dict(self.labels))]
        for k in range(self.n_functions):
            start, known = len(self.code), set(self.labels)
            self.env, self.preds = dict(stable[0]), set()
            self.pools = set(stable[1])
            base = 100 + 20 * k
            fn = _Scope(range(base, base + 12), range(base + 12, base + 16),
                        range(base + 16, base + 20), in_function=True)
            self.place(f"f{k}")
            if recursive[k]:
                self.recurse(fn, k)
            self.budget = self.draw(st.integers(1, 4))
            self.callable = list(range(k + 1, self.n_functions))   # no cycles but recursion
            self.block(fn, self.budget)
            if self.callable and self.chance(600):
                self.emit("CALL", f"f{self.pick(self.callable)}")   # a nested call at the end
            self.dump(fn, DUMP_FUNCTIONS + 96 * k, with_preds=False)
            self.emit("RET")
            segments.append((start, len(self.code),
                              {name: pc for name, pc in self.labels.items() if name not in known}))
        return self.arrange(segments)

    def recurse(self, scope: _Scope, k: int) -> None:
        """Open function ``k`` with a call to itself while the lane's budget r56+k lasts."""
        budget, temp, base = 56 + k, scope.temps[0], self.new_label("base")
        self.emit("MOV_IMM", T.U32, temp, 0)
        self.emit("SETcc", T.U32, Condition.EQ, 7, budget, temp)
        self.emit("BRA", base, 7)
        self.emit("MOV_IMM", T.U32, temp, 1)
        self.emit("SUB", T.U32, budget, budget, temp)
        self.emit("CALL", f"f{k}")
        self.emit("MOV_IMM", T.U32, temp, 1)
        self.emit("ADD", T.U32, budget, budget, temp)
        self.place(base)

    def arrange(self, segments: list[tuple[int, int, dict[str, int]]]) -> Program:
        """Lay out the main code and the functions in a drawn order (callees before or
        after their callers); main, when not first, is entered by a jump."""
        order = self.draw(st.permutations(range(len(segments))))
        code: list[Instruction] = []
        labels: dict[str, int] = {}
        if order[0] != 0:
            code.append(make("BRA", "main"))
        for i in order:
            start, end, own = segments[i]
            shift = len(code) - start
            if i == 0 and order[0] != 0:
                labels["main"] = len(code)
            labels.update({name: pc + shift for name, pc in own.items()})
            code += self.code[start:end]
        return Program(code, labels)


@st.composite
def cases(draw, max_lanes: int = 256, max_statements: int = 14, race_free: bool = False,
          chaotic: bool | None = None, tiles: bool = False) -> Case:
    """A random valid, terminating program with a launch (see the module docstring).

    Parameters
    ----------
    max_lanes
        Most lanes a launch may have.
    max_statements
        Most top-level statements in the main code (nested ones count too).
    race_free
        Only lane-owned global stores (for the piece-size property).
    chaotic
        Force deliberate mistakes on (True) or off (False); default: half of the cases.
    tiles
        Launch 2-D and 3-D blocks of at least 64 lanes (:func:`tile_shapes`) and compute
        tile coordinates more often.
    """
    grid, block = draw(tile_shapes(max_lanes) if tiles else launch_shapes(max_lanes))
    lanes_per_block = block[0] * block[1] * block[2]
    lanes = lanes_per_block * grid[0] * grid[1] * grid[2]
    if chaotic is None:
        chaotic = draw(st.booleans())
    chaos = draw(st.sampled_from([10, 30, 60])) if chaotic else 0
    use_shared = draw(st.booleans())
    scalar_arg = draw(st.none() | st.sampled_from(list(DType)))
    gen = _Gen(draw, lanes_per_block=lanes_per_block, race_free=race_free, chaos=chaos,
               n_functions=draw(st.integers(0, 2)), max_statements=max_statements,
               use_shared=use_shared, grid=grid, block=block, coords=8 if tiles else 2)
    program = gen.program(scalar_arg)
    args = [ArgSpec(buffer=DATA), ArgSpec(buffer=OUT), ArgSpec(ty=T.U64, bits=0)]
    if scalar_arg is not None:
        args.append(ArgSpec(ty=scalar_arg, bits=gen.const(scalar_arg)))
    data = bytearray(_pattern(draw(st.integers(0, 2 ** 32 - 1)), 8 * lanes + 8))
    for _ in range(draw(st.integers(0, 4))):   # a few lanes get special values
        slot = 8 * draw(st.integers(0, lanes))
        data[slot:slot + 8] = draw(st.sampled_from(_SPECIAL_WORDS)).to_bytes(8, "little")
    data = bytes(data)
    buffers = (data, bytes(OUT_STRIDE * lanes), _pattern(draw(st.integers(0, 99)), UNIFORM_BYTES))
    shared_bytes = 0
    if use_shared:
        shared_bytes = 8 * (block[0] + 1) + 32 + draw(st.integers(0, 24))
        if chaos and draw(st.booleans()):
            shared_bytes = draw(st.integers(0, 8 * block[0]))
    boundary = tuple((12288 * c + draw(st.integers(0, 12288 - 64)), _pattern(c, 64))
                     for c in draw(st.lists(st.integers(0, 95), max_size=3)))
    max_steps = None
    if chaos and draw(st.integers(0, 999)) >= 880:
        max_steps = draw(st.integers(0, 60))
    return Case(program, grid, block, shared_bytes, tuple(args), buffers, boundary, max_steps,
                race_free)


_SPECIAL_WORDS = (0, 1, 3, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0x7FF8000000000000,
                  0x7FC00000, 0x3FF0000000000000, 0x80000000, 0x7F800000FFF00000, 0x00000001)


def _pattern(seed: int, n: int) -> bytes:
    """``n`` pseudo-random bytes from ``seed`` (cheap to draw, varied values)."""
    out = bytearray()
    x = seed * 2654435761 + 12345
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out += struct.pack("<Q", x)
    return bytes(out[:n])
