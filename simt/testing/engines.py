"""One adapter over both engines: run a case on each and compare everything it left.

simt has two independent semantics of the ISA: the vectorized executor behind
:class:`simt.Device` and the scalar reference interpreter
:class:`simt.reference.ReferenceDevice`.  :class:`Vectorized` and
:class:`Reference` give them the same small host API (the part of
:class:`simt.Device` that tests and :mod:`simt.ops` use: ``alloc``, ``upload``,
``write``, ``download``, ``free``, ``boundary``, ``launch``), so one test body
runs on either:

* a behaviour test takes an ``engine`` parameter,
  ``@pytest.mark.parametrize("engine", ENGINES)``, and calls ``engine()`` for a
  fresh device;
* a differential test builds a :class:`~simt.testing.programs.Case` (random,
  from :func:`~simt.testing.programs.cases`, or hand-written with
  :func:`make_case`) and calls :func:`assert_agree`, which runs it on both
  engines and compares every buffer, the whole boundary pool, the resonance bit
  patterns, the statistics and the error (class and every attribute).

``launch`` returns a :class:`Launched` (resonance as float64 bit patterns,
statistics as a plain dict) on both engines and raises the engine's
:class:`simt.SimtError` on a fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import SimtError
from ..isa.program import Program
from ..isa.types import DType, by_numpy
from ..reference import DEFAULT_PIECE_LANES, ReferenceDevice
from ..reference import scalar
from .programs import ArgSpec, Case, Outcome, describe_difference

__all__ = ["Engine", "Vectorized", "Reference", "Launched", "ENGINES", "make_case", "run",
           "run_both", "assert_agree", "assert_outcomes_agree", "error_attributes",
           "device_scalar", "RefBuffer"]

# Error attributes left out of the comparison: the composed message (each engine words its
# own) and the exception machinery's bookkeeping.
_NOT_COMPARED = frozenset({"reason", "args", "__traceback__", "__cause__", "__context__",
                           "__suppress_context__", "__notes__"})


@dataclass(frozen=True)
class Launched:
    """What a launch that ran to completion returns, alike on both engines.

    Attributes
    ----------
    resonance
        The 96 resonance accumulators as float64 bit patterns.
    stats
        The launch statistics as a plain dict (``opcode_counts`` included).
    """

    resonance: tuple[int, ...]
    stats: dict


@runtime_checkable
class Engine(Protocol):
    """The host API both engines provide (a subset of :class:`simt.Device`'s)."""

    name: str
    boundary: Any

    def alloc(self, nbytes: int) -> Any:
        """A zero-filled buffer of ``nbytes``."""

    def upload(self, array: Any) -> Any:
        """A new buffer holding the bytes of ``array``."""

    def write(self, buf: Any, array: Any, offset: int = 0) -> None:
        """Copy the bytes of ``array`` into ``buf`` at byte ``offset``."""

    def download(self, buf: Any, dtype: Any = np.uint8, count: int | None = None,
                 offset: int = 0) -> np.ndarray:
        """``count`` elements (default: to the end) of ``buf`` from byte ``offset``."""

    def free(self, buf: Any) -> None:
        """Give a buffer back."""

    def handle(self, buf: Any) -> int:
        """The buffer's handle, as kernels see it."""

    def launch(self, program: Program, grid: Any = 1, block: Any = 1, args: Sequence = (),
               shared_bytes: int = 0, max_steps: int | None = None) -> Launched:
        """Run ``program``; raise the engine's :class:`simt.SimtError` on a fault."""


class Vectorized:
    """The vectorized executor, :class:`simt.Device`, behind the :class:`Engine` API.

    Parameters
    ----------
    **device
        Keyword arguments of :class:`simt.Device` (``piece_lanes=``, ...).
    """

    name = "vectorized"

    def __init__(self, **device: Any) -> None:
        from ..device import Device
        self.device = Device(**device)
        self.boundary = self.device.boundary

    def alloc(self, nbytes: int) -> Any:
        return self.device.alloc(nbytes)

    def upload(self, array: Any) -> Any:
        return self.device.upload(array)

    def write(self, buf: Any, array: Any, offset: int = 0) -> None:
        self.device.write(buf, array, offset=offset)

    def download(self, buf: Any, dtype: Any = np.uint8, count: int | None = None,
                 offset: int = 0) -> np.ndarray:
        return self.device.download(buf, dtype, count=count, offset=offset)

    def free(self, buf: Any) -> None:
        self.device.free(buf)

    def handle(self, buf: Any) -> int:
        return buf.handle

    def launch(self, program: Program, grid: Any = 1, block: Any = 1, args: Sequence = (),
               shared_bytes: int = 0, max_steps: int | None = None, **tools: Any) -> Launched:
        """As :meth:`simt.Device.launch`; ``tools`` are its other keyword arguments
        (``check=``, ``race_model=``, ``observers=``), which only this engine has."""
        res = self.device.launch(program, grid=grid, block=block, args=tuple(args),
                                 shared_bytes=shared_bytes, max_steps=max_steps, **tools)
        bits = np.asarray(res.resonance, np.float64).view(np.uint64)
        return Launched(tuple(int(v) for v in bits), res.stats.as_dict())

    def __repr__(self) -> str:
        return "Vectorized()"


@dataclass(frozen=True)
class RefBuffer:
    """A buffer of :class:`Reference`: its handle and size."""

    handle: int
    nbytes: int


class Reference:
    """The scalar reference interpreter behind the :class:`Engine` API.

    Kernel arguments are buffers (passed as u64 handles), NumPy scalars (typed
    by their dtype) or ``(DType, raw bits)`` pairs.

    Parameters
    ----------
    piece_lanes
        As for :class:`simt.reference.ReferenceDevice`.
    """

    name = "reference"

    def __init__(self, piece_lanes: int = DEFAULT_PIECE_LANES) -> None:
        self.device = ReferenceDevice(piece_lanes=piece_lanes)
        self.boundary = RefBuffer(0, len(self.device.read(0)))

    def alloc(self, nbytes: int) -> RefBuffer:
        return RefBuffer(self.device.alloc(nbytes), nbytes)

    def upload(self, array: Any) -> RefBuffer:
        data = np.ascontiguousarray(array).tobytes()
        buf = self.alloc(len(data))
        self.device.write(buf.handle, data)
        return buf

    def write(self, buf: RefBuffer, array: Any, offset: int = 0) -> None:
        self.device.write(buf.handle, np.ascontiguousarray(array).tobytes(), offset)

    def download(self, buf: RefBuffer, dtype: Any = np.uint8, count: int | None = None,
                 offset: int = 0) -> np.ndarray:
        dt = np.dtype(dtype)
        nbytes = None if count is None else count * dt.itemsize
        return np.frombuffer(self.device.read(buf.handle, offset, nbytes), dt).copy()

    def free(self, buf: RefBuffer) -> None:
        self.device.free(buf.handle)

    def handle(self, buf: RefBuffer) -> int:
        return buf.handle

    def launch(self, program: Program, grid: Any = 1, block: Any = 1, args: Sequence = (),
               shared_bytes: int = 0, max_steps: int | None = None) -> Launched:
        res = self.device.launch(program, grid=grid, block=block,
                                 args=[_reference_arg(a) for a in args],
                                 shared_bytes=shared_bytes, max_steps=max_steps)
        return Launched(tuple(scalar.f64_bits(v) for v in res.resonance), res.stats)

    def __repr__(self) -> str:
        return "Reference()"


def _reference_arg(arg: Any) -> tuple[DType, int]:
    if isinstance(arg, RefBuffer):
        return (DType.U64, arg.handle)
    if isinstance(arg, tuple):
        return arg
    value = np.asarray(arg)
    ty = by_numpy(value.dtype)
    if ty is None:
        raise TypeError(f"a kernel argument must be a buffer, a (DType, bits) pair or a NumPy "
                        f"scalar of an ISA type, got {arg!r}")
    return (ty, int(value.view(f"u{value.dtype.itemsize}")))


ENGINES = (Vectorized, Reference)
"""Both engine classes, for ``@pytest.mark.parametrize("engine", ENGINES)``."""


# --------------------------------------------------------------------------- cases

def _dim3(dim: int | Sequence[int]) -> tuple[int, int, int]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(dims) + (1,) * (3 - len(dims))  # type: ignore[return-value]


def make_case(program: str | Program, buffers: Sequence[Any] = (), grid: Any = 1,
              block: Any = 1, args: Sequence[ArgSpec] | None = None, shared_bytes: int = 0,
              max_steps: int | None = None) -> Case:
    """A hand-written :class:`~simt.testing.programs.Case`.

    Parameters
    ----------
    program
        Assembly text or a :class:`~simt.isa.Program`.
    buffers
        Initial contents (bytes or arrays), allocated in this order.
    grid, block
        An int or 1-3 ints.
    args
        Kernel arguments; by default every buffer, in order (r0, r1, ...).
    shared_bytes, max_steps
        As for ``launch``.
    """
    from ..isa.text import assemble
    prog = assemble(program) if isinstance(program, str) else program
    data = tuple(b if isinstance(b, bytes) else np.ascontiguousarray(b).tobytes()
                 for b in buffers)
    if args is None:
        args = tuple(ArgSpec(buffer=i) for i in range(len(data)))
    return Case(prog, _dim3(grid), _dim3(block), shared_bytes, tuple(args), data,
                max_steps=max_steps)


def device_scalar(ty: DType, bits: int) -> np.generic:
    """A NumPy scalar of ISA type ``ty`` with raw ``bits`` (bf16: ``ml_dtypes.bfloat16``)."""
    return np.array([bits], dtype=f"<u{ty.size}").view(ty.numpy)[0]


def error_attributes(error: BaseException) -> dict:
    """Every attribute of an error that both engines must agree on (not its message)."""
    return {k: v for k, v in sorted(vars(error).items()) if k not in _NOT_COMPARED}


def run(engine: Engine, case: Case, **tools: Any) -> Outcome:
    """Run ``case`` on ``engine`` (a fresh one): what memory, resonance, stats, error it left.

    Memory is read after an error too: faults are precise, earlier effects remain.
    ``tools`` go to the launch (:class:`Vectorized` only: ``check=``, ``observers=``, ...).
    """
    buffers = [engine.upload(np.frombuffer(data, np.uint8)) for data in case.buffers]
    for offset, data in case.boundary:
        engine.write(engine.boundary, np.frombuffer(data, np.uint8), offset)
    args = [buffers[a.buffer] if a.buffer is not None else device_scalar(a.ty, a.bits)
            for a in case.args]
    program = case.program_for([engine.handle(b) for b in buffers])
    res = error = None
    try:
        res = engine.launch(program, grid=case.grid, block=case.block, args=args,
                            shared_bytes=case.shared_bytes, max_steps=case.max_steps, **tools)
    except SimtError as exc:
        error = exc
    memory = tuple(engine.download(b).tobytes() for b in buffers)
    boundary = engine.download(engine.boundary).tobytes()
    if error is not None:
        return Outcome(memory, boundary, None, None, (type(error).__name__, error.pc, error.lane),
                       error, error_attributes(error))
    return Outcome(memory, boundary, res.resonance, res.stats, None)


def run_both(case: Case, reference: Engine | None = None, vectorized: Engine | None = None
             ) -> tuple[Outcome, Outcome]:
    """``(reference outcome, vectorized outcome)`` of ``case``, each on a fresh engine."""
    return (run(reference or Reference(), case), run(vectorized or Vectorized(), case))


def _comparable(out: Outcome, keys: set) -> Outcome:
    stats = {k: out.stats[k] for k in keys} if out.stats is not None else None
    return Outcome(out.buffers, out.boundary, out.resonance, stats, out.error, None, out.fault)


def assert_agree(case: Case, reference: Engine | None = None,
                 vectorized: Engine | None = None) -> Outcome:
    """Run ``case`` on both engines and assert they agree bit for bit; return the outcome.

    Compared: every buffer, the whole boundary pool, the resonance bit
    patterns, the statistics both engines define, and the error (class and
    every attribute but the message).

    Raises
    ------
    AssertionError
        Naming the case and every difference.
    """
    ref, vec = run_both(case, reference, vectorized)
    assert_outcomes_agree(case, ref, vec)
    return ref


def assert_outcomes_agree(case: Case, ref: Outcome, vec: Outcome) -> None:
    """The comparison of :func:`assert_agree`, on outcomes already computed."""
    keys = set(ref.stats or {}) & set(vec.stats or {})
    assert _comparable(ref, keys) == _comparable(vec, keys), (
        f"engines disagree on\n{case!r}\n"
        + describe_difference(ref, vec, ("reference", "vectorized")))
