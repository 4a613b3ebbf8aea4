"""Debug mode: assertions of the register file's invariants while programs run.

Off unless asked: set ``SIMT_DEBUG=1`` in the environment (read once, when
this module is imported) or call :func:`enable` (:func:`enabled_mode` for a
``with`` block).  While on, every launch asserts

* **the ALU rule** (:mod:`simt.machine.alu`): an array an ALU function returns
  to a kernel shares memory with none of its operands and with no register row
  of any live register file;
* **the liveness rule** (:mod:`simt.isa.flow`): a write keeps, bit for bit and
  tag for tag, the value of every lane that does not issue, has not exited and
  waits at a pc where the row's bit is in :func:`simt.isa.flow.kept` (every
  lane that does not issue, in a stepping session).  Where lanes wait is read
  from the scheduler itself (its groups and parked lanes), not from the bit
  set the executor computed, so a stale or wrong ``waiting`` is caught;
* **array ownership** (:mod:`simt.machine.state`): an array a row adopts as its
  storage is :func:`~simt.machine.state.owned` and shares memory with no other
  row of its register file;
* **packed rows** (:class:`~simt.machine.state.Row`): a row holding a compact
  array holds one value per lane of its region (a set that is not a slice), with
  one tag and no compressed value.
* **lent views** (:meth:`Row.lend <simt.machine.state.Row.lend>`): a row lent a
  view of device memory keeps the liveness rule, the view is read-only, and
  the device memory keeps each view's loaded values and asserts, whenever it
  settles views before a write, that the memory under them never changed
  (:meth:`simt.machine.memory.DeviceMemory.settle`).
* **intervals** (:mod:`simt.machine.alu.intervals`): a row that carries an interval
  holds a number within it, never NaN, and no zero of a sign it excludes, in every lane
  of its region; a row's ``whole`` is its value, with one tag over every lane in that
  tag's own dtype;
* **held values** (:meth:`Row.hold <simt.machine.state.Row.hold>`): values a
  row holds as a cached read (not dirty) equal what its storage holds for
  those lanes when they are settled.

A failed check raises ``AssertionError`` naming the register and the pc.

Zero cost when off: nothing on the issue path tests the flag.  :func:`enable`
swaps :meth:`Row.write <simt.machine.state.Row.write>`,
:meth:`Row.write_all <simt.machine.state.Row.write_all>`, :meth:`Row.lend
<simt.machine.state.Row.lend>` and :meth:`Row.settle <simt.machine.state.Row.settle>`
for checking versions;
kernels wrap the ALU functions they bind at decode time (:func:`alu`), and
decoded programs are cached separately per mode (:data:`DECODED`); the
executor hands each piece's scheduler over once per piece (:func:`watch`).
"""

from __future__ import annotations

import contextlib
import os
import weakref
from typing import Callable, Iterator

import numpy as np

from ..isa.types import DType
from .alu.intervals import LARGEST, MINUS, PLUS
from ..isa.flow import PRED_BIT
from .state import UNSET, RegisterFile, Row, owned

_UNSIGNED_BITS = {4: np.uint32, 8: np.uint64}

__all__ = ["enabled", "enable", "enabled_mode", "alu", "watch", "DECODED"]

#: Whether debug mode is on (change it with :func:`enable`, never by assignment).
enabled = False
#: The key under which :func:`simt.machine.kernels.decoded` caches a program's ops.
DECODED = "machine.decoded"

_files: "weakref.WeakSet[RegisterFile]" = weakref.WeakSet()    # created while on
_plain = {"write": Row.write, "write_all": Row.write_all, "lend": Row.lend, "settle": Row.settle,
          "init": RegisterFile.__init__}


def enable(on: bool = True) -> None:
    """Turn debug mode on (or off) for launches that start from now on."""
    global enabled, DECODED
    enabled = bool(on)
    DECODED = "machine.decoded.debug" if enabled else "machine.decoded"
    Row.write = _checked_write if enabled else _plain["write"]
    Row.write_all = _checked_write_all if enabled else _plain["write_all"]
    Row.lend = _checked_lend if enabled else _plain["lend"]
    Row.settle = _checked_settle if enabled else _plain["settle"]
    RegisterFile.__init__ = _registering_init if enabled else _plain["init"]


@contextlib.contextmanager
def enabled_mode(on: bool = True) -> Iterator[None]:
    """Debug mode on (or off) inside a ``with`` block; the previous mode after it."""
    before = enabled
    enable(on)
    try:
        yield
    finally:
        enable(before)


# ---------------------------------------------------------------------- the ALU rule
def alu(fn: Callable | None) -> Callable | None:
    """``fn`` itself when debug mode is off; else ``fn`` asserting the ALU rule on each call.

    Kernels call this once per instruction, when they decode it.
    """
    if not enabled or fn is None:
        return fn

    def checked(*args):
        out = fn(*args)
        got = out[0] if type(out) is tuple else out     # an interval kernel's (result, interval)
        if type(got) is np.ndarray:
            _assert_fresh(got, args, getattr(fn, "__name__", repr(fn)))
        return out
    return checked


def _arrays(args) -> Iterator[np.ndarray]:
    for x in args:
        if isinstance(x, np.ndarray):
            yield x
        elif isinstance(x, (list, tuple)):
            yield from _arrays(x)


def _assert_fresh(out: np.ndarray, args, name: str) -> None:
    for k, x in enumerate(_arrays(args)):
        assert not np.shares_memory(out, x), \
            f"ALU function {name} returned an array sharing memory with its operand {k}"
    for file in list(_files):
        for row in _rows(file):
            for held in (row.data, row.near_values):
                if held is not None:
                    assert not np.shares_memory(out, held), \
                        f"ALU function {name} returned an array sharing memory with {_name(row)}"


# ---------------------------------------------------------------------- the register file
def _registering_init(self: RegisterFile, *args, **kwargs) -> None:
    _plain["init"](self, *args, **kwargs)
    self.debug_watch = None
    _files.add(self)
    for row in _rows(self):
        row.file = self


def watch(regs: RegisterFile, scheduler, kept: list[int]) -> None:
    """Let the liveness check see where the lanes of ``regs`` wait (``scheduler``'s groups
    and parked lanes) and the program's :func:`~simt.isa.flow.kept` sets."""
    if hasattr(regs, "debug_watch"):
        regs.debug_watch = (scheduler, kept)


def _rows(file: RegisterFile) -> Iterator[Row]:
    for row in file.regs:
        if row is not None:
            yield row
    for row in file.preds:
        if row is not None:
            yield row


def _name(row: Row) -> str:
    from ..isa.flow import PRED_BIT
    return f"p{row.bit - PRED_BIT}" if row.bit >= PRED_BIT else f"r{row.bit}"


def _checked_write_all(self: Row, tag: int, dtype: np.dtype, values, interval=None) -> bool:
    done = _plain["write_all"](self, tag, dtype, values, interval)
    if done:
        _assert_adopted(self, values, dtype)
        _assert_interval(self)
        _assert_whole(self)
    return done


def _checked_write(self: Row, lanes, tag: int, dtype: np.dtype, values, n: int, live: int,
                   waiting: int = 0, interval=None) -> None:
    keep = _must_keep(self, lanes, waiting)
    if keep is not None:
        bits, tags = self.readout()
    _plain["write"](self, lanes, tag, dtype, values, n, live, waiting, interval)
    _assert_interval(self)
    _assert_whole(self)
    if keep is not None:
        _assert_kept(self, keep, bits, tags)
    _assert_adopted(self, values, dtype)
    if self.packed:     # a packed row holds one value per lane of its region, nothing else
        assert self.region is not None and not self.region.sliced and self.tags is None \
            and self.lin is None and self.data.shape == (len(self.region),), \
            f"{_name(self)} is packed over {self.region!r} with {self.data.shape} values"


def _checked_lend(self: Row, lanes, tag: int, view: np.ndarray, waiting: int,
                  interval=None) -> bool:
    keep = _must_keep(self, lanes, waiting)
    if keep is not None:
        bits, tags = self.readout()
    done = _plain["lend"](self, lanes, tag, view, waiting, interval)
    if done:
        _assert_interval(self)
        if keep is not None:
            _assert_kept(self, keep, bits, tags)
        assert not view.flags.writeable and view.base is not None, \
            f"{_name(self)} was lent an array that is not a read-only view"
        _assert_whole(self)
    return done


def _assert_kept(row: Row, keep: np.ndarray, bits: np.ndarray, tags: np.ndarray) -> None:
    new_bits, new_tags = row.readout()
    lost = keep & ((new_tags != tags) | ((tags != UNSET) & (new_bits != bits)))
    assert not lost.any(), (
        f"liveness: a write to {_name(row)} dropped the value of lane "
        f"{int(np.argmax(lost))}, which waits where {_name(row)} may still be read")


def _assert_whole(row: Row) -> None:
    """A row's ``whole`` is its value when one tag covers every lane in its own dtype."""
    whole = row.whole
    if whole is None:
        return
    assert whole is (row.data if row.lin is None else row.lin), \
        f"{_name(row)}: whole is not the row's value"
    assert row.tags is None and row.region is None and (row.lo, row.hi) == (0, row.n), \
        f"{_name(row)}: whole set, but its tag does not cover every lane"
    want = np.dtype(bool) if row.bit >= PRED_BIT else DType(row.tag).storage
    assert whole.dtype is want, f"{_name(row)}: whole holds {whole.dtype}, its tag {want}"


def _assert_interval(row: Row) -> None:
    """A row's interval (:mod:`simt.machine.alu.intervals`) holds for every lane of its region."""
    if row.interval is None:
        return
    assert row.tags is None and row.tag > 0, f"{_name(row)} has an interval but no one tag"
    dtype = DType(row.tag).storage
    assert dtype in LARGEST, f"{_name(row)} has an interval but holds {dtype}, not f32 or f64"
    bits, tags = row.readout()
    values = bits[tags == row.tag].astype(_UNSIGNED_BITS[dtype.itemsize]).view(dtype)
    values = values.astype(np.float64)      # compared exactly with the float64 bounds
    lo, hi, zeros = row.interval
    assert not np.isnan(values).any(), f"{_name(row)} holds a NaN but has interval {row.interval}"
    assert ((values >= lo) & (values <= hi)).all(), \
        f"{_name(row)} holds a value outside its interval {row.interval}"
    minus = np.signbit(values[values == 0])
    assert (zeros & PLUS or minus.all()) and (zeros & MINUS or not minus.any()), \
        f"{_name(row)} holds a zero of a sign its interval {row.interval} excludes"


def _checked_settle(self: Row) -> None:
    if self.near is not None and not self.near_dirty:
        assert np.array_equal(self.near.read(self.data).view(np.uint8),
                              self.near_values.view(np.uint8)), \
            f"{_name(self)} held values of {self.near!r} that differ from its storage"
    _plain["settle"](self)


def _must_keep(row: Row, lanes, waiting: int) -> np.ndarray | None:
    """The lanes whose value in ``row`` a write by ``lanes`` must keep (None: unwatched)."""
    file = getattr(row, "file", None)
    seen = None if file is None else file.debug_watch
    if seen is None:
        return None
    scheduler, kept = seen
    issuing = np.zeros(row.n, bool)
    lanes.write(issuing, True)
    if waiting == -1:           # a stepping session keeps every value
        return ~issuing
    pcs = np.full(row.n, -1, np.int64)
    for pc, group in scheduler.groups.items():
        group.write(pcs, pc)
    if scheduler.park_id is not None:
        parked = scheduler.park_id != -1
        pcs[parked] = scheduler.park_pc[parked]
    live_at = np.array([bits >> row.bit & 1 for bits in kept] + [0], bool)
    return ~issuing & live_at[pcs]      # pc -1 (exited or issuing) reads the trailing 0


def _assert_adopted(row: Row, values, dtype: np.dtype) -> None:
    if row.data is not values or row.data is None:
        return
    assert owned(values, dtype) and values.flags.writeable, \
        f"{_name(row)} adopted an array it does not own"
    file = getattr(row, "file", None)
    if file is None:
        return
    for other in _rows(file):
        if other is not row and other.data is not None:
            assert not np.shares_memory(values, other.data), \
                f"{_name(row)} adopted an array that {_name(other)} holds too"


if os.environ.get("SIMT_DEBUG", "") not in ("", "0"):
    enable()
