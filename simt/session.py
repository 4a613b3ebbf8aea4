"""Stepping through a launch: :class:`Session`, made by :meth:`simt.Device.session`.

A session drives the executor's own step loop
(:func:`simt.machine.executor.steps` with ``stepping=True``): the loop pauses
before every instruction it issues, and keeps every value written, so a
register can be read back for every lane, exited and parked lanes included.
Nothing else differs from :meth:`~simt.Device.launch`: the same kernels, the
same scheduler and the same observers (statistics, checks) run, so a session
run to its end computes exactly what ``launch`` computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from .errors import SimtTypeError, SimtValueError
from .isa.types import DType
from .machine.executor import Launch, Paused, steps
from .machine.state import UNSET

if TYPE_CHECKING:
    from .device import Buffer, Device, LaunchResult
    from .machine.events import Observer

__all__ = ["Session"]

_UNSIGNED = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16), 4: np.dtype(np.uint32),
             8: np.dtype(np.uint64)}
#: item size of each register tag, indexed by tag + 1 (0 for UNSET)
_TAG_SIZE = np.zeros(max(t.code for t in DType) + 2, np.int64)
for _t in DType:
    _TAG_SIZE[_t.code + 1] = _t.size


def _count(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise SimtTypeError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise SimtValueError(f"{what} must be >= 0, got {value}")
    return int(value)


def _index(value: Any, prefix: str, limit: int) -> int:
    """A register (``prefix`` "r") or predicate ("p") number from an int or "r7"/"p2"."""
    kind = "register" if prefix == "r" else "predicate"
    if isinstance(value, str) and value[:1].lower() == prefix and value[1:].isdigit():
        value = int(value[1:])
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise SimtTypeError(f"{kind} must be an int 0..{limit - 1} (or '{prefix}N'), "
                            f"got {value!r}")
    if not 0 <= value < limit:
        raise SimtValueError(f"{kind} must be 0..{limit - 1}, got {value}")
    return int(value)


class Session:
    """A launch that runs one instruction at a time, inspectable between instructions.

    Made by :meth:`simt.Device.session`; nothing runs until :meth:`step`,
    :meth:`run` or :meth:`result`.  Lanes are named by global lane id.  The
    session describes one piece of the launch at a time (the one running);
    after the end, the last piece's final state.

    A paused session holds no lock: other operations on the device (writes,
    frees, other launches) take effect at once, and the session then no longer
    promises to compute what ``launch`` would.

    An error raised by :meth:`step` or :meth:`run` (a fault, a check, the step
    budget, a barrier deadlock) leaves the session as it stood just before the
    failing issue: :attr:`pc` is that instruction, :attr:`lanes` its lanes,
    :attr:`finished` is false; :meth:`step`, :meth:`run` and :meth:`result`
    then raise the same error object again.

    Examples
    --------
    >>> import simt
    >>> prog = simt.assemble('''
    ...     mov_imm.u32 r4, 3
    ...     add.u32 r5, r4, r252
    ... ''')
    >>> s = simt.Device().session(prog, block=4)
    >>> s.step()
    1
    >>> s.pc, s.register(4).tolist()
    (1, [3, 3, 3, 3])
    >>> s.result().stats.steps, s.register(5).tolist()
    (2, [3, 4, 5, 6])
    """

    def __init__(self, device: "Device", launch: Launch, observers: "list[Observer]") -> None:
        from .observe.stats import StatsObserver
        self._device = device
        self._launch = launch
        self._stats = StatsObserver()
        self._issues = steps(launch, device._memory, [self._stats, *observers], stepping=True)
        self._paused: Paused | None = None
        self._error: BaseException | None = None
        self._resonance: np.ndarray | None = None
        self._advance()     # to the first pause: no instruction has run yet

    def _advance(self) -> None:
        """Issue the instruction the session is paused at (or start), up to the next pause."""
        try:
            with self._device._lock:     # held while issuing, never while paused
                self._paused = next(self._issues)
        except StopIteration as done:
            self._resonance = done.value
        except BaseException as error:  # the step loop ended with it: it cannot go on
            self._error = error
            raise

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------------ running
    def step(self, n: int = 1) -> int:
        """Issue up to ``n`` instructions; return how many were issued (fewer at the end)."""
        n = _count(n, "n")
        self._check()
        done = 0
        while done < n and self._resonance is None:
            self._advance()
            done += 1
        return done

    def run(self, breakpoints: Iterable[int | str] = ()) -> int | None:
        """Issue at least one instruction, then stop before the next one whose pc is in
        ``breakpoints`` (pcs or label names), or at the end.

        Returns the pc stopped at, or ``None`` at the end.
        """
        stops = self._breakpoints(breakpoints)
        self._check()
        while self._resonance is None:
            self._advance()
            if self._resonance is None and self._paused.pc in stops:
                return self._paused.pc
        return None

    def _breakpoints(self, breakpoints: Iterable[int | str]) -> frozenset[int]:
        if isinstance(breakpoints, (str, int, np.integer)):
            breakpoints = (breakpoints,)
        try:
            items = list(breakpoints)
        except TypeError:
            raise SimtTypeError(f"breakpoints must be an iterable of pcs or labels, got "
                                f"{breakpoints!r}") from None
        program = self._launch.program
        pcs = set()
        for item in items:
            if isinstance(item, str):
                if item not in program.labels:
                    raise SimtValueError(f"breakpoint: no label {item!r} in the program")
                pcs.add(program.labels[item])
            else:
                pcs.add(_count(item, "breakpoint pc"))
        return frozenset(pcs)

    def result(self) -> "LaunchResult":
        """Run to the end if needed; the :class:`~simt.LaunchResult` ``launch`` would return."""
        from .device import LaunchResult
        self._check()
        while self._resonance is None:
            self._advance()
        return LaunchResult(self._resonance, self._stats.result())

    # ------------------------------------------------------------------ where it stands
    @property
    def finished(self) -> bool:
        """Whether the launch has ended (without error)."""
        return self._resonance is not None

    @property
    def pc(self) -> int | None:
        """The pc of the next instruction to issue; ``None`` when finished."""
        if self._resonance is not None or self._paused is None:
            return None
        return self._paused.pc

    @property
    def issued(self) -> int:
        """Instructions issued so far without error (all pieces)."""
        return sum(self._stats.per_pc)

    @property
    def program(self):
        """The program being run."""
        return self._launch.program

    def _lane0(self) -> int:
        if self._paused is not None:
            return self._paused.piece.lane0
        g = self._launch.geometry   # a program that issued nothing: its last piece
        per_piece = max(1, self._launch.piece_lanes // g.lanes_per_block)
        return (g.blocks - 1) // per_piece * per_piece * g.lanes_per_block

    def _piece_lanes(self) -> int:
        if self._paused is not None:
            return self._paused.piece.lanes
        return self._launch.geometry.lanes - self._lane0()

    @property
    def lanes(self) -> np.ndarray:
        """Global ids (ascending int64) of the lanes the next instruction runs for."""
        if self.pc is None:
            return np.zeros(0, np.int64)
        return self._paused.lanes.indices() + np.int64(self._lane0())

    @property
    def lane_ids(self) -> np.ndarray:
        """Global ids (ascending int64) of the lanes of the piece being run."""
        return np.arange(self._lane0(), self._lane0() + self._piece_lanes(), dtype=np.int64)

    @property
    def lane_pcs(self) -> np.ndarray:
        """The pc of each lane of :attr:`lane_ids` (int64): where a runnable lane goes next,
        the ``bar.sync`` a parked lane waits at, -1 for an exited lane."""
        pcs = np.full(self._piece_lanes(), -1, np.int64)
        paused = self._paused
        if paused is None:
            return pcs
        scheduler = paused.scheduler
        for pc, group in scheduler.groups.items():
            pcs[group.sel] = pc
        if scheduler.park_id is not None:
            parked = scheduler.park_id != -1
            pcs[parked] = scheduler.park_pc[parked]
        if self.pc is not None:     # the issue paused at: taken from the groups already
            pcs[paused.lanes.sel] = paused.pc
        return pcs

    # ------------------------------------------------------------------ registers and memory
    def register(self, r: int | str, dtype: Any = None) -> np.ma.MaskedArray:
        """Register ``r`` of every lane of :attr:`lane_ids`, as a masked array.

        Without ``dtype`` the values have the NumPy dtype of the register's type
        tag (that of the lowest lane that wrote it); lanes that never wrote it
        or hold it under another type are masked.  No lane wrote it: every lane
        is masked, dtype uint64.  With ``dtype`` the bytes of every lane whose
        tag has ``dtype``'s item size are reinterpreted as ``dtype`` (the rest
        masked); ``ValueError`` if no lane has such a tag.
        """
        r = _index(r, "r", 256)
        want = None
        if dtype is not None:
            from .device import _dtype
            want = _dtype(dtype)
        bits, tags = self._readout(self._paused.regs.regs[r] if self._paused else None)
        if want is not None:
            mask = _TAG_SIZE[tags.astype(np.int64) + 1] != want.itemsize
            if mask.all():
                raise SimtValueError(f"register r{r}: no lane holds a {want.itemsize}-byte value "
                                     f"to view as {want}")
            return self._masked(bits, mask, want)
        written = tags != UNSET
        if not written.any():
            return np.ma.MaskedArray(bits, mask=np.ones(bits.size, bool))
        tag = int(tags[int(np.argmax(written))])
        return self._masked(bits, tags != tag, DType(tag).numpy)

    def predicate(self, p: int | str) -> np.ma.MaskedArray:
        """Predicate ``p`` of every lane of :attr:`lane_ids` (bool), masked where never written."""
        p = _index(p, "p", 16)
        bits, tags = self._readout(self._paused.regs.preds[p] if self._paused else None)
        return self._masked(bits, tags == UNSET, np.dtype(bool))

    def _readout(self, row) -> tuple[np.ndarray, np.ndarray]:
        if row is None:
            n = self._piece_lanes()
            return np.zeros(n, np.uint64), np.full(n, UNSET, np.int8)
        return row.readout()

    @staticmethod
    def _masked(bits: np.ndarray, mask: np.ndarray, dtype: np.dtype) -> np.ma.MaskedArray:
        bits = np.where(mask, np.uint64(0), bits)
        values = bits.astype(_UNSIGNED[dtype.itemsize]).view(dtype)
        return np.ma.MaskedArray(values, mask=mask)

    def download(self, buf: "Buffer", dtype: Any, count: int | None = None,
                 offset: int = 0) -> np.ndarray:
        """The buffer's contents as they are now (see :meth:`simt.Device.download`)."""
        return self._device.download(buf, dtype, count, offset)

    def __repr__(self) -> str:
        if self._error is not None:
            state = f"stopped by {type(self._error).__name__} at pc {self.pc}"
        elif self.finished:
            state = "finished"
        else:
            state = f"at pc {self.pc}, {len(self._paused.lanes)} lanes"
        return f"<simt.Session {state}, {self.issued} issued>"
