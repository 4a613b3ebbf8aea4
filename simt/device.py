"""The public device: buffers, host copies and launches."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np

from .errors import (DeviceMemoryError, InvalidHandleError, OutOfBoundsError, SimtError,
                      SimtTypeError, SimtValueError)
from .isa import types as isa_types
from .isa.program import Program
from .isa.types import DType
from .observe.checks import checkers, parse_checks
from .observe.stats import Stats, StatsObserver
from .machine.events import Observer
from .machine.executor import DEFAULT_MAX_STEPS, Launch, run
from .machine.launch import Dim3, Geometry
from .machine.allocator import retain_freed_memory
from .machine.written import host_wrote, launch_begins
from .machine.memory import BOUNDARY_BYTES, CLASS_BYTES, CLASS_HANDLE_BASE, DeviceMemory, \
    default_memory_limit

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Buffer", "Device", "LaunchResult", "DEFAULT_PIECE_LANES", "MAX_SHARED_BYTES",
           "MAX_ARGS"]

DEFAULT_PIECE_LANES = 1 << 18
MIN_PIECE_LANES = 1 << 16
MAX_SHARED_BYTES = 4 << 20
MAX_ARGS = 252

@dataclass(frozen=True, eq=False)
class Buffer:
    """A device buffer: ``handle`` as kernels see it (u64) and its size in bytes.

    Made by :meth:`Device.alloc` and :meth:`Device.upload`; pass it in a launch's
    ``args`` and the kernel receives ``handle`` as a u64.

    Attributes
    ----------
    handle : int
        The buffer's handle (from 1, never reused; 0 is the boundary pool).
    nbytes : int
        Its size in bytes.
    device : Device
        The device that holds it.
    dtype, shape
        What :meth:`Device.upload` was given (native byte order), so that
        ``dev.download(buf)`` gives it back; ``None`` for other buffers.
    """

    handle: int
    nbytes: int
    device: "Device"
    dtype: np.dtype | None = None
    shape: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        if self.dtype is None:
            return f"Buffer(handle={self.handle}, nbytes={self.nbytes})"
        return (f"Buffer(handle={self.handle}, nbytes={self.nbytes}, dtype={self.dtype}, "
                f"shape={self.shape})")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise SimtTypeError(
            f"{self!r} lives in device memory and is not an array: copy it to the host "
            "with dev.download(buf) (an uploaded buffer) or dev.download(buf, dtype)")


@dataclass(frozen=True, eq=False)
class LaunchResult:
    """What a launch returns: the resonance accumulator and statistics.

    Results compare equal when their resonance arrays have the same bit
    patterns (NaNs and signed zeros included) and their statistics are equal;
    they are hashable, and pickle and copy to equal results.

    Attributes
    ----------
    resonance : numpy.ndarray
        float64, shape (96,): what ``res.accum`` added into each class during the launch.
    stats : Stats
        What the launch did: steps, lane and warp instructions, SIMD efficiency,
        divergent branches, barriers, memory traffic, instructions by name.
    """

    resonance: np.ndarray
    stats: Stats

    def _bits(self) -> bytes:
        return np.ascontiguousarray(self.resonance, np.float64).tobytes()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LaunchResult):
            return NotImplemented
        return self._bits() == other._bits() and self.stats == other.stats

    def __hash__(self) -> int:
        return hash((self._bits(), self.stats))


_GEOMETRIES: dict = {}


def _geometry(grid: Any, block: Any) -> Geometry:
    """``Geometry(Dim3.parse(grid, "grid"), Dim3.parse(block, "block"))``, kept for grids
    and blocks given as ints (both frozen, so one object serves every launch)."""
    key = (grid, block)
    if type(grid) is int and type(block) is int:
        found = _GEOMETRIES.get(key)
        if found is not None:
            return found
    geometry = Geometry(Dim3.parse(grid, "grid"), Dim3.parse(block, "block"))
    if type(grid) is int and type(block) is int:
        if len(_GEOMETRIES) >= 256:
            _GEOMETRIES.clear()
        _GEOMETRIES[key] = geometry
    return geometry


@contextmanager
def _host_memory(what: str) -> Iterator[None]:
    """Turn the operating system refusing memory into :class:`DeviceMemoryError`."""
    try:
        yield
    except DeviceMemoryError:
        raise
    except MemoryError as exc:
        raise DeviceMemoryError(f"{what}: the operating system refused memory ({exc})") \
            from None


def _dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from a NumPy dtype-like or an ISA type name (``"bf16"``)."""
    if isinstance(dtype, DType):
        return dtype.numpy
    if isinstance(dtype, str):
        try:
            return isa_types.by_name(dtype.lower()).numpy
        except KeyError:
            pass
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise SimtTypeError(f"not a dtype: {dtype!r} ({exc})") from None
    if dt.itemsize == 0 or dt.hasobject:
        raise SimtTypeError(f"dtype must be a fixed-size non-object type, got {dt}")
    return dt


def _native(dtype: np.dtype) -> np.dtype:
    """``dtype`` in the machine's byte order (fields of structured dtypes included)."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _nonneg_int(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise SimtTypeError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise SimtValueError(f"{what} must be >= 0, got {value}")
    return int(value)


def _parallel_arguments(workers: Any, executor: Any) -> tuple[int, Any]:
    """Validated ``workers`` and ``executor`` of a Device."""
    if executor is not None:
        import concurrent.futures
        if not isinstance(executor, concurrent.futures.Executor):
            raise SimtTypeError(f"executor must be a concurrent.futures.Executor or None, got "
                                f"{type(executor).__name__}")
    if workers is None:
        return (1 if executor is None else 2), executor
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)):
        raise SimtTypeError(f"workers must be an int or None, got {workers!r}")
    if workers < 1:
        raise SimtValueError(f"workers must be >= 1, got {workers}")
    return int(workers), executor


class Device:
    """An emulated device: memory plus the vectorized executor.

    Parameters
    ----------
    piece_lanes
        Lanes run together as one piece of whole blocks (default 262,144; at
        least 65,536).  Launches with more lanes run piece by piece.
    memory_limit
        Bytes the device may hold (buffers, pools, shared memory and a
        launch's working memory); default half of the machine's RAM.
    workers
        Worker processes that run a launch's pieces (``None``: 1, in-process);
        with ``executor``, how many pieces are in flight at once (``None``: 2).
        Results are bit for bit those of ``workers=1`` (docs/howto/parallel.md).
    executor
        A ``concurrent.futures.Executor`` to run pieces on instead of local
        workers (a ``ProcessPoolExecutor``, loky's, a Dask ``Client.get_executor()``);
        it stays yours: ``close()`` does not shut it down.

    Attributes
    ----------
    boundary : Buffer
        The boundary pool (handle 0): 96 classes x 48 pages x 256 bytes, persisting
        across launches.
    piece_lanes : int
        Lanes per piece.

    Notes
    -----
    A Device may be shared between threads: every operation (allocation,
    host copies, freeing and a whole launch) holds the device's lock, so
    operations on one device run one at a time, each as if alone.  Threads
    that want to run launches side by side use one Device each.

    Examples
    --------
    >>> import numpy as np, simt
    >>> dev = simt.Device()
    >>> buf = dev.upload(np.arange(3, dtype=np.int32))
    >>> dev.download(buf, np.int32)
    array([0, 1, 2], dtype=int32)
    """

    def __init__(self, piece_lanes: int = DEFAULT_PIECE_LANES,
                 memory_limit: int | None = None, workers: int | None = None,
                 executor: Any = None) -> None:
        piece_lanes = _nonneg_int(piece_lanes, "piece_lanes")
        if piece_lanes < MIN_PIECE_LANES:
            raise SimtValueError(f"piece_lanes must be >= {MIN_PIECE_LANES}, got {piece_lanes}")
        limit = default_memory_limit() if memory_limit is None else _nonneg_int(
            memory_limit, "memory_limit")
        self.piece_lanes = piece_lanes
        self._lock = threading.RLock()
        self._memory = DeviceMemory(limit)
        self.boundary = Buffer(0, BOUNDARY_BYTES, self)
        retain_freed_memory()       # see simt.machine.allocator
        self.workers, self.executor = _parallel_arguments(workers, executor)
        self._parallel = None

    # ------------------------------------------------------------------ workers
    def close(self) -> None:
        """Stop this device's worker processes (a user's executor is left to its owner).

        Buffers and pools stay valid; a later launch starts workers afresh.
        """
        if self._parallel is not None:
            self._parallel.close()

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def memory_limit(self) -> int:
        """Bytes the device may hold."""
        return self._memory.limit

    @property
    def memory_used(self) -> int:
        """Bytes the device holds now (buffers and pools)."""
        return self._memory.used

    # ------------------------------------------------------------------ buffers
    def alloc(self, nbytes: int) -> Buffer:
        """A new zero-filled buffer of ``nbytes`` bytes."""
        nbytes = _nonneg_int(nbytes, "nbytes")
        with self._lock:
            return Buffer(self._memory.alloc(nbytes), nbytes, self)

    def upload(self, array: Any) -> Buffer:
        """A new buffer holding a copy of ``np.asarray(array)`` in C order, native byte order.

        The buffer remembers the dtype (in native byte order) and shape, which
        ``download(buf)`` returns.  The size is checked against the memory limit
        before anything is copied.
        """
        arr = self._host_array(array)
        native = _native(arr.dtype)
        with self._lock:
            handle = self._memory.alloc(arr.nbytes)
            try:
                self._copy_in(handle, 0, arr, native)
            except BaseException:
                self._memory.free(handle)
                raise
        return Buffer(handle, arr.nbytes, self, native, arr.shape)

    def boundary_class(self, c: int) -> Buffer:
        """The Buffer of boundary class ``c`` (handle 2^64 - 96 + c, 12,288 bytes)."""
        c = _nonneg_int(c, "class")
        if c >= 96:
            raise SimtValueError(f"boundary class must be < 96, got {c}")
        return Buffer(CLASS_HANDLE_BASE + c, CLASS_BYTES, self)

    def _handle(self, buf: Any) -> int:
        if not isinstance(buf, Buffer):
            raise SimtTypeError(f"expected a simt.Buffer, got {type(buf).__name__}")
        if buf.device is not self:
            raise SimtValueError(f"{buf!r} belongs to another Device")
        if self._memory.region(buf.handle) is None:
            raise InvalidHandleError(f"invalid buffer handle: {buf.handle} (freed)")
        return buf.handle

    @staticmethod
    def _host_array(array: Any) -> np.ndarray:
        """``np.asarray(array)`` without copying views (broadcast views stay small)."""
        with _host_memory("converting the host data"):
            try:
                arr = np.asarray(array)
            except SimtError:
                raise
            except MemoryError:
                raise
            except Exception as exc:   # anything np.asarray rejects is a bad argument
                raise SimtTypeError(f"cannot convert {type(array).__name__} to an array: "
                                    f"{exc}") from None
        if arr.dtype.hasobject:
            raise SimtTypeError(f"cannot upload an object array ({type(array).__name__})")
        return arr

    def _copy_in(self, handle: int, offset: int, arr: np.ndarray, native: np.dtype) -> None:
        """Copy ``arr`` into a buffer at ``offset``: bounds first, then element by element.

        Writing through a view of the destination converts non-contiguous and
        non-native-byte-order inputs on the fly, with no host-side copy.
        """
        dest = self._memory.host_view(handle, offset, arr.nbytes)
        if arr.nbytes:
            with _host_memory("copying to the device"):
                dest.view(native).reshape(arr.shape)[...] = arr
        host_wrote(self._memory, handle, offset, arr.nbytes)

    def write(self, buf: Buffer, array: Any, offset: int = 0) -> None:
        """Copy ``array``'s elements (C order, native byte order) into ``buf`` at byte ``offset``.

        Bounds are checked before anything is copied.
        """
        if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (int, np.integer)):
            raise SimtTypeError(f"offset must be an int, got {offset!r}")
        arr = self._host_array(array)
        with self._lock:
            handle = self._handle(buf)
            self._copy_in(handle, int(offset), arr, _native(arr.dtype))

    def download(self, buf: Buffer, dtype: Any = None, count: int | None = None,
                 offset: int = 0) -> np.ndarray:
        """A new writable array of ``count`` elements of ``dtype`` from byte ``offset``.

        Without ``dtype``, a buffer made by :meth:`upload` comes back with the
        dtype it was uploaded with (native byte order), and, when ``count`` and
        ``offset`` are left out, its shape; any other buffer needs ``dtype``.
        Otherwise the result is 1-D.
        """
        if dtype is None:
            if not isinstance(buf, Buffer) or buf.dtype is None:
                self._handle(buf)
                raise SimtTypeError(
                    f"download: dtype is required for {buf!r}, which was not made by upload; "
                    "pass dtype=, e.g. dev.download(buf, np.float32)")
            dt = buf.dtype
            shape = buf.shape if count is None and not offset else None
        else:
            dt = _dtype(dtype)
            shape = None
        if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (int, np.integer)):
            raise SimtTypeError(f"offset must be an int, got {offset!r}")
        offset = int(offset)
        with self._lock:
            handle = self._handle(buf)
            size = BOUNDARY_BYTES if handle == 0 else buf.nbytes
            if offset < 0 or offset > size:
                raise OutOfBoundsError(f"download offset {offset} is outside buffer {handle} "
                                       f"({size} bytes)")
            if count is None:
                rest = size - offset
                if rest % dt.itemsize:
                    raise SimtValueError(f"{rest} bytes from offset {offset} are not a whole "
                                         f"number of {dt} elements; pass count")
                count = rest // dt.itemsize
            else:
                if isinstance(count, (bool, np.bool_)) or not isinstance(count,
                                                                         (int, np.integer)):
                    raise SimtTypeError(f"count must be an int or None, got {count!r}")
                if count < 0:
                    raise OutOfBoundsError(f"download count {count} is negative")
            view = self._memory.host_view(handle, offset, int(count) * dt.itemsize)
            with _host_memory("download"):
                out = view.copy().view(dt)
        return out if shape is None else out.reshape(shape)

    def free(self, buf: Buffer) -> None:
        """Free ``buf``; its handle is never reused."""
        if not isinstance(buf, Buffer):
            raise SimtTypeError(f"expected a simt.Buffer, got {type(buf).__name__}")
        if buf.device is not self:
            raise SimtValueError(f"{buf!r} belongs to another Device")
        with self._lock:
            self._memory.free(buf.handle)

    # ------------------------------------------------------------------ launches
    def launch(self, program: Program, grid: int | tuple[int, ...] = 1,
               block: int | tuple[int, ...] = 1, args: Sequence[Any] = (),
               shared_bytes: int = 0, max_steps: int | None = None, check: Any = None,
               race_model: str = "gpu", observers: Sequence[Observer] = (),
               progress: bool = False) -> LaunchResult:
        """Run ``program`` on a grid of blocks of lanes.

        Parameters
        ----------
        program
            A :class:`~simt.Program` (validated before any lane runs).
        grid, block
            An int or a tuple of 1-3 ints, each >= 1.
        args
            Kernel arguments written into r0, r1, ... (see :func:`kernel_argument`).
        shared_bytes
            Zero-filled per-block shared memory, 0 to ``MAX_SHARED_BYTES``.
        max_steps
            Instruction budget per piece; ``None`` means ``simt.DEFAULT_MAX_STEPS``.
        check
            Checks to run: ``None``, ``"race"``, ``"sync"``, ``"init"``, ``"all"`` or an
            iterable of those (docs/semantics.md, "Checks").
        race_model
            What orders accesses for the race check: ``"gpu"`` (barriers order a
            block) or ``"hologram"`` (every lane an independent task).
        observers
            Extra observers (:class:`simt.Trace`, :class:`simt.Profile`, your own) that
            see every step.
        progress
            Show a progress bar of pieces and steps on stderr.

        Returns
        -------
        LaunchResult
            The resonance accumulator and the statistics.

        Raises
        ------
        SimtError
            A subclass naming the instruction, source line and lowest lane for a fault
            (``OutOfBoundsError``, ``TypeMismatchError``, ...), ``BarrierDeadlockError``
            or ``StepLimitError``, or a :class:`~simt.CheckError` of a check asked for;
            the failing instruction has no effect, earlier ones keep theirs, and the
            device stays usable.
        TypeError, ValueError
            For invalid arguments, naming the argument.
        """
        with self._lock:
            launch, tools = self._plan(program, grid, block, args, shared_bytes, max_steps,
                                       check, race_model, observers, progress)
            stats = StatsObserver()
            try:        # _host_memory("launch"), written out (a launch's fixed cost)
                resonance = None
                if not tools and (self.workers > 1 or self.executor is not None):
                    if self._parallel is None:
                        from .parallel import Parallel
                        self._parallel = Parallel(self.workers, self.executor)
                    resonance = self._parallel.launch(launch, self._memory, stats)
                if resonance is None:       # declined: the launch runs in-process
                    resonance = run(launch, self._memory, [stats, *tools])
            except DeviceMemoryError:
                raise
            except MemoryError as exc:
                raise DeviceMemoryError(
                    f"launch: the operating system refused memory ({exc})") from None
        return LaunchResult(resonance, stats.result())

    def _plan(self, program: Any, grid: Any, block: Any, args: Any, shared_bytes: Any,
              max_steps: Any, check: Any, race_model: Any, observers: Any,
              progress: Any) -> tuple[Launch, list[Observer]]:
        """Validate a launch's arguments; the Launch and the observers it runs with."""
        if not isinstance(program, Program):
            raise SimtTypeError(f"program must be a simt.Program, got {type(program).__name__}")
        program.validate()
        geometry = _geometry(grid, block)
        shared_bytes = _nonneg_int(shared_bytes, "shared_bytes")
        if shared_bytes > MAX_SHARED_BYTES:
            raise SimtValueError(f"shared_bytes must be <= {MAX_SHARED_BYTES}, got {shared_bytes}")
        max_steps = DEFAULT_MAX_STEPS if max_steps is None else _nonneg_int(max_steps, "max_steps")
        if type(args) is not tuple and type(args) is not list and (
                isinstance(args, (str, bytes)) or not isinstance(args, Sequence)):
            raise SimtTypeError(f"args must be a sequence, got {type(args).__name__}")
        if len(args) > MAX_ARGS:
            raise SimtValueError(f"args: at most {MAX_ARGS} kernel arguments, got {len(args)}")
        checks = parse_checks(check, race_model)
        if type(observers) is not tuple and type(observers) is not list and (
                isinstance(observers, (str, bytes)) or not isinstance(observers, Iterable)):
            raise SimtTypeError(f"observers must be a sequence of observers, got "
                                f"{type(observers).__name__}")
        observers = list(observers)
        for o in observers:
            if not isinstance(o, Observer):
                raise SimtTypeError(f"observers: {o!r} is not a simt observer "
                                    "(subclass simt.machine.events.Observer)")
        if not isinstance(progress, (bool, np.bool_)):
            raise SimtTypeError(f"progress must be a bool, got {progress!r}")
        converted = [self.kernel_argument(a, i) for i, a in enumerate(args)]
        tools = checkers(checks, race_model) + observers
        if progress:
            from .observe.progress import Progress
            tools.append(Progress())
        launch = Launch(program, geometry, converted, shared_bytes, max_steps, self.piece_lanes)
        launch_begins(self._memory, "init" in checks)
        if self._memory.lent:   # registers of a paused session viewing memory this may write
            self._memory.settle()
        return launch, tools

    def kernel_argument(self, value: Any, index: int = 0) -> tuple[DType, np.generic]:
        """(type, value) a launch argument is written as (docs/semantics.md, "Kernel arguments")."""
        if isinstance(value, Buffer):
            return DType.U64, np.uint64(self._handle(value))
        if isinstance(value, (bool, np.bool_)):
            raise SimtTypeError(f"argument {index}: bool is not a kernel argument type")
        if isinstance(value, int):
            if not -(1 << 63) <= value < (1 << 63):
                raise SimtValueError(f"argument {index}: {value} is outside the i64 range; "
                                     "pass np.uint64(...) for unsigned 64-bit values")
            return DType.I64, np.int64(value)
        if isinstance(value, float):
            return DType.F64, np.float64(value)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, np.generic):
            ty = isa_types.by_numpy(value.dtype)
            if ty is not None:
                return ty, np.asarray(value).view(ty.storage)[()]
        raise SimtTypeError(f"argument {index}: unsupported kernel argument {value!r} of type "
                            f"{type(value).__name__}")

    def session(self, program: Program, grid: int | tuple[int, ...] = 1,
                block: int | tuple[int, ...] = 1, args: Sequence[Any] = (),
                shared_bytes: int = 0, max_steps: int | None = None, check: Any = None,
                race_model: str = "gpu", observers: Sequence[Observer] = ()) -> "Session":
        """A stepping session of the launch ``launch`` would run with these arguments.

        Parameters
        ----------
        program, grid, block, args, shared_bytes, max_steps, check, race_model
            As for :meth:`launch`, and validated the same way.
        observers
            Extra observers (:class:`simt.Trace`, :class:`simt.Profile`, your own).

        Returns
        -------
        simt.Session
            Paused before the first instruction: nothing has run yet.
        """
        from .session import Session
        launch, tools = self._plan(program, grid, block, args, shared_bytes, max_steps, check,
                                   race_model, observers, False)
        return Session(self, launch, tools)
