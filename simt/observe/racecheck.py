"""The race check: two accesses of different lanes to one byte, one a store, unordered.

What orders two accesses (``race_model``, see docs/semantics.md, "Checks"):

* ``"gpu"``: the same lane (program order), or two lanes of the same block whose
  earlier access came before a release of a barrier of that block (every lane of
  a block takes part in every release, exited lanes included);
* ``"hologram"``: the same lane only (every lane an independent task).

Shadow state
------------
Every memory array an access touches (a buffer, the boundary pool, a pool
block, a piece's shared memory) gets a shadow of the same number of bytes,
allocated on first use and counted as launch working memory.  Per byte it holds
up to four *slots*, each ``(global lane, block epoch, pc)``: two for the writers
of the byte's current value (``w``, ``w2``) and two for readers (``r``, ``r2``).
A block's epoch counts the barrier releases of that block so far in the piece,
so an access recorded with epoch ``e`` by a lane of block ``B`` is ordered
before a later access of a lane of ``B`` exactly when ``e`` is older than the
block's current epoch.  Epochs count releases; they are stored as int32 and
widened to int64 before a piece could release 2**31 times, so they never wrap.
Accesses of different pieces are never in one block, so epochs are per piece.

Why two slots per kind are enough
----------------------------------
Write ``x <= y`` when access ``x`` is ordered before the later access ``y``.
The relation is transitive (same lane, or same block with an older epoch,
composes into the same), and a later access by the same lane or block only
sees epochs grow.  A new access ``S`` races with the readers recorded for a
byte if one of them is not ``<= S``.  Slot ``r`` holds the newest reader ``n``;
slot ``r2`` holds one earlier reader not ``<= n``, chosen from another block
than ``n`` whenever one exists.  Then for any later ``S``:

* if ``n`` is not ``<= S``, slot ``r`` shows the race;
* otherwise ``n <= S``, and any reader ``x`` with ``x <= n`` has ``x <= S``
  (transitivity), so only readers not ``<= n`` matter.  Those of another block
  than ``n`` are unordered with ``S`` (``S`` is in ``n``'s block, since
  ``n <= S`` and different lanes of different blocks are never ordered); those
  of ``n``'s block share ``n``'s epoch and race with ``S`` exactly when ``S``
  is ``n``'s own lane and no barrier was released since.  So one such reader,
  preferring another block, decides it; that is what ``r2`` keeps.

When a new reader arrives, the candidates for ``r2`` are the old ``r`` and
``r2`` and the other lanes of the same instruction reading the byte (their
lowest lane, which is in another block if any of them is); the argument above,
applied to the old pair, shows the chosen one again satisfies the invariant.
Readers are never dropped by a store: a store ordered after a read may be
followed by an equal-valued store of another block that races with the read.

Writers are summarized the same way, for the writers of the byte's *current*
value: a store that changes the value must be ordered after every recorded
writer (otherwise it is a WAW race and has no effect), so all of them are
ordered before it and drop out; an unordered store of the equal value is
benign and joins the pair.  What the pair cannot remember is an older writer of
a *different* value that an ordered store overwrote: a later equal-valued store
of a lane unordered with that older writer is not reported against it.  The
byte's final value cannot depend on such a pair (the overwrite is ordered after
the old store, and the two later stores agree), which is why the check keeps
memory bounded instead.

Within one store instruction all lanes run at once: two of them writing
different values to one byte is a WAW race (the other lane reported is the
lowest other conflicting lane); equal values are benign.  Loads never race with
loads.  ResAccum is not a memory access and never races.

Speed, each step exact
----------------------
* A contiguous run or a strided lattice of lanes (the usual compressed
  addresses) reads and writes the shadow through views, one byte of every lane
  (a *column*) at a time; other accesses use index arrays.  No Python loop runs
  over lanes.
* A slot remembers the hull of the bytes it ever recorded: an access outside it
  skips the slot.
* Recording is deferred: an access is kept as a description and written into
  the slots only when a later access meets its bytes (then every deferred access
  of the array is written, in order, with the epochs it saw, exactly as if it
  had been written at once).  An array that a launch only reads, or only writes,
  never fills its slots.
* While every record of a slot came from ``g``-byte accesses at multiples of
  ``g``, the ``g`` bytes of each word hold one record, so the slot keeps one entry
  per word and an access of the same grain reads and writes one column of words
  (contiguous for a run); the first access of another grain spells the slot out
  byte by byte first.
* Shared memory belongs to one block, so a slot whose newest record is older
  than a release of every block of the piece is ordered before anything the
  block does next and is skipped, and a deferred record that old is dropped
  instead of written.
* While every block of the piece has seen as many releases, an access's epoch is
  one number, not one per lane.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import numpy as np

from ..errors import DataRaceError, DeviceMemoryError
from ..machine.events import Access, Event, Hazard, LaunchInfo, Observer
from ..machine.lanes import Masked
from ..machine.memory import Lattice, Run, describe
from ..machine.step import Fault

__all__ = ["RaceCheck", "out_of_memory_at"]

_EMPTY = -1
_MAX_PENDING = 8        # deferred accesses per array (each holds its lanes' arrays)


class _Slot:
    """One access per byte of an array: lane (-1: none), block epoch, pc.

    ``unit``: the bytes one entry of the arrays stands for.  1, or ``g`` while every
    record so far came from ``g``-byte accesses at multiples of ``g``: the ``g`` bytes
    of each aligned word then hold one record, and the arrays one entry per word
    (accesses of that grain read and write them with a ``g``-th of the memory traffic)
    until an access of another grain spells them out (:meth:`RaceCheck._ungrain`).
    ``reserved``: the bytes counted against the device for the slot, enough for
    entries of one byte each.
    """

    __slots__ = ("lane", "ep", "pc", "lo", "hi", "rec", "unit", "nbytes", "reserved")

    def __init__(self, nbytes: int, lane_dt: np.dtype, ep_dt: np.dtype, unit: int,
                 reserved: int) -> None:
        self.unit, self.nbytes, self.reserved = unit, nbytes, reserved
        self.lo = self.hi = 0       # the bytes ever recorded lie in [lo, hi)
        self.rec = 0                # release events of the piece before the newest record
        words = -(-nbytes // unit)
        self.lane = np.full(words, _EMPTY, lane_dt)
        self.ep = np.empty(words, ep_dt)    # read only where lane >= 0
        self.pc = np.empty(words, np.int32)


class _Shadow:
    """The slots of one memory array, each allocated on first need."""

    __slots__ = ("mem", "w", "w2", "r", "r2", "pending", "plo", "phi")

    def __init__(self, mem: np.ndarray) -> None:
        self.mem = mem
        self.w = self.w2 = self.r = self.r2 = None
        self.pending: list = []         # recorded accesses not yet written into the slots
        self.plo = self.phi = 0         # the bytes they touch lie in [plo, phi)


class _Batch:
    """The bytes one access touches in one memory array, and the lanes touching them.

    Byte ``j`` of every lane's access is a *column*: ``col(arr, j)`` reads a per-byte
    array there (shaped like the lanes, a view for runs and lattices) and
    ``set_col(arr, j, v)`` writes it; ``fill(arr, v)`` writes one value to every byte.
    ``word(arr)`` and ``set_word(arr, v)`` do the same for the words of a slot whose unit
    is the batch's grain ``gran`` (``size`` when every lane's access is an aligned word,
    else 0: never called then).
    Working column by column keeps NumPy's inner loops long (a trailing axis of
    ``size`` bytes would make them 1-8 elements long).  ``c``, ``cb``, ``ce``: global
    lane, first lane of its block and the block's epoch, shaped like the lanes
    (``ce`` may be a scalar).  ``frame``: frame positions of the lanes, flat.
    """

    __slots__ = ("mem", "size", "frame", "local", "col", "set_col", "word", "set_word", "fill",
                 "bytes_of", "dups",
                 "flat", "vals", "lo", "hi", "settled", "settled_now", "lane_run", "_c", "_cb",
                 "_ce", "owner", "lane0", "gran")

    def meets(self, slot: "_Slot | None") -> bool:
        """Whether ``slot`` may hold a record at one of these bytes that is not yet ordered
        before every later access of its block, when only its block uses the array."""
        return slot is not None and slot.lo < self.hi and self.lo < slot.hi and \
            slot.rec >= self.settled

    def cover(self, slot: _Slot) -> None:
        slot.rec = self.settled_now
        if slot.hi == slot.lo:
            slot.lo, slot.hi = self.lo, self.hi
        else:
            slot.lo, slot.hi = min(slot.lo, self.lo), max(slot.hi, self.hi)

    @property
    def c(self) -> np.ndarray:
        if self._c is None:
            self._c = np.add(self.local, self.lane0, dtype=self.owner._lane_dt)
        return self._c

    @property
    def cb(self) -> np.ndarray:
        if self._cb is None:
            bpl = self.owner._bpl
            local = self.local
            if local.ndim == 2 and local.shape[1] and (
                    local[:, 0] // bpl == local[:, -1] // bpl).all():
                local = local[:, :1]        # each row inside one block: one start per row
            self._cb = np.add(local // bpl * bpl, self.lane0, dtype=self.owner._lane_dt)
        return self._cb

    @property
    def ce(self):
        if self._ce is None:
            self._ce = self.owner._epochs(self.local)
        return self._ce

    def val_col(self, j: int) -> np.ndarray:
        """Byte ``j`` of each lane's stored value."""
        return self.vals[:, j].reshape(np.shape(self.local))


def _run_batch(b: _Batch, start: int, n: int, size: int) -> None:
    end = start + n * size
    b.col = lambda arr, j: arr[start + j:end:size]

    def set_col(arr, j, v):
        arr[start + j:end:size] = v
    b.set_col = set_col

    def fill(arr, v):
        arr[start:end] = v
    b.fill = fill
    first, last = start // size, start // size + n
    b.word = lambda arr: arr[first:last]

    def set_word(arr, v):
        arr[first:last] = v
    b.set_word = set_word
    b.bytes_of = lambda k: start + k * size + np.arange(size, dtype=np.int64)
    b.dups = False
    b.flat = None
    b.lo, b.hi = start, end
    b.gran = size if start % size == 0 else 0


def _lattice_batch(b: _Batch, lat: Lattice, size: int) -> None:
    def col(arr, j):
        it = arr.itemsize
        return np.lib.stride_tricks.as_strided(
            arr[lat.start + j:], (lat.rows, lat.cols), (lat.row_step * it, lat.col_step * it))
    b.col = col

    def set_col(arr, j, v):
        col(arr, j)[...] = v
    b.set_col = set_col

    def fill(arr, v):
        for j in range(size):
            col(arr, j)[...] = v
    b.fill = fill

    def word(arr):
        it = arr.itemsize
        return np.lib.stride_tricks.as_strided(
            arr[lat.start // size:], (lat.rows, lat.cols),
            (lat.row_step // size * it, lat.col_step // size * it))
    b.word = word

    def set_word(arr, v):
        word(arr)[...] = v
    b.set_word = set_word

    def bytes_of(k):
        i, j = divmod(k, lat.cols)
        return lat.start + i * lat.row_step + j * lat.col_step + np.arange(size, dtype=np.int64)
    b.bytes_of = bytes_of
    b.dups = False
    b.flat = None
    ends = (lat.start, lat.start + (lat.rows - 1) * lat.row_step,
            lat.start + (lat.cols - 1) * lat.col_step,
            lat.start + (lat.rows - 1) * lat.row_step + (lat.cols - 1) * lat.col_step)
    b.lo, b.hi = min(ends), max(ends) + size
    b.gran = size if not (lat.start % size or lat.row_step % size or lat.col_step % size) else 0


def _index_batch(b: _Batch, bidx: np.ndarray) -> None:
    b.col = lambda arr, j: arr[bidx[:, j]]

    def set_col(arr, j, v):
        arr[bidx[:, j]] = v
    b.set_col = set_col

    def fill(arr, v):
        arr[bidx] = v
    b.fill = fill
    b.word = lambda arr: arr[bidx[:, 0] // bidx.shape[1]]

    def set_word(arr, v):
        arr[bidx[:, 0] // bidx.shape[1]] = v
    b.set_word = set_word
    b.bytes_of = lambda k: bidx[k]
    flat = bidx.ravel()
    srt = np.sort(flat)
    b.dups = bool(srt.size > 1 and (srt[1:] == srt[:-1]).any())
    b.flat = flat
    b.lo, b.hi = (int(srt[0]), int(srt[-1]) + 1) if srt.size else (0, 0)
    size = bidx.shape[1]
    b.gran = size if not b.dups and not (bidx[:, 0] % size).any() else 0


class RaceCheck(Observer):
    """Raise :class:`~simt.errors.DataRaceError` at the first unordered conflicting access.

    Parameters
    ----------
    race_model
        ``"gpu"`` (barriers order a block's lanes) or ``"hologram"`` (only a lane's own
        program order orders anything).
    """

    def __init__(self, race_model: str = "gpu") -> None:
        self.gpu = race_model == "gpu"
        self.model = race_model
        self._shadows: dict[int, _Shadow] = {}
        self._reserved = [0]
        self._memory = None
        self._pending = None
        self._shared = None
        self._releases = 0
        self._settled = 0

    # ------------------------------------------------------------------ lifecycle
    def on_launch(self, launch: LaunchInfo) -> None:
        self._memory = memory = launch.memory
        self._program = launch.program
        self._geometry = launch.geometry
        self._bpl = launch.geometry.lanes_per_block
        self._shared_bytes = launch.shared_bytes
        self._lane_dt = np.dtype(np.int32 if launch.geometry.lanes < (1 << 31) else np.int64)
        self._lane_udt = np.dtype(np.uint32 if self._lane_dt == np.int32 else np.uint64)
        # a block's epoch counts its releases: at most one per release event of the piece
        self._ep_dt = np.dtype(np.int32)
        self._ep_wide = False
        weakref.finalize(self, _give_back, memory, self._reserved)

    def on_piece(self, piece) -> None:
        self._lane0 = piece.lane0
        self._epoch = np.zeros(piece.blocks, np.int64)
        self._common_epoch: int | None = 0      # every block's epoch, while they agree
        self._releases = 0
        self._last_release = np.zeros(piece.blocks, np.int64)  # event number, 1-based
        self._settled = 0
        old = self._shared
        if old is not None and id(old) in self._shadows:     # the last piece's shared memory
            self._drop(id(old))
        self._shared = piece.shared

    def after(self, event: Event) -> None:
        if event.released is not None and self.gpu:
            epoch = self._epoch
            epoch[event.released] += 1
            first = int(epoch[0])
            self._common_epoch = first if (epoch == first).all() else None
            self._releases += 1     # bounds every block's epoch
            self._last_release[event.released] = self._releases
            self._settled = int(self._last_release.min())
            if not self._ep_wide and self._releases >= (1 << 31) - 1:
                self._widen()

    def on_finish(self) -> None:
        for k in list(self._shadows):
            self._drop(k)
        _give_back(self._memory, self._reserved)

    # ------------------------------------------------------------------ memory
    def _epochs(self, local: np.ndarray):
        """The epoch of each lane's block (``local``: piece-local lanes), or one number
        when every block of the piece has seen as many releases."""
        common = self._common_epoch
        return common if common is not None else self._epoch[local // self._bpl]

    def _drop(self, key: int) -> None:
        sh = self._shadows.pop(key)
        nbytes = sum(s.reserved for s in (sh.w, sh.w2, sh.r, sh.r2) if s is not None)
        self._memory.release(nbytes)
        self._reserved[0] -= nbytes

    def _slot(self, sh: _Shadow, unit: int) -> _Slot:
        nbytes = sh.mem.size * (self._lane_dt.itemsize + self._ep_dt.itemsize + 4)
        self._memory.reserve(nbytes, "race check shadow memory")
        self._reserved[0] += nbytes
        return _Slot(sh.mem.size, self._lane_dt, self._ep_dt, unit, nbytes)

    def _widen(self) -> None:
        self._ep_wide = True
        self._ep_dt = np.dtype(np.int64)
        for sh in self._shadows.values():
            for s in (sh.w, sh.w2, sh.r, sh.r2):
                if s is not None:
                    self._memory.reserve(s.nbytes * 4, "race check shadow memory")
                    self._reserved[0] += s.nbytes * 4
                    s.reserved += s.nbytes * 4
                    s.ep = s.ep.astype(np.int64)

    @staticmethod
    def _ungrain(slot: "_Slot | None") -> None:
        """Spell out a slot of words byte by byte (each word's record on each of its
        bytes): the unit of every later access."""
        if slot is None or slot.unit == 1:
            return
        g, n = slot.unit, slot.nbytes
        slot.lane = np.repeat(slot.lane, g)[:n]
        slot.ep = np.repeat(slot.ep, g)[:n]
        slot.pc = np.repeat(slot.pc, g)[:n]
        slot.unit = 1

    def _shadow(self, mem: np.ndarray) -> _Shadow:
        sh = self._shadows.get(id(mem))
        if sh is None or sh.mem is not mem:
            sh = self._shadows[id(mem)] = _Shadow(mem)
        return sh

    # ------------------------------------------------------------------ batches
    def _batches(self, access: Access) -> list[_Batch]:
        """One batch per memory array the access touches."""
        lanes = access.lanes
        size = access.size
        groups: dict[int, list] = {}
        for seg in access.segments:
            groups.setdefault(id(seg.mem), []).append(seg)
        out = []
        for segs in groups.values():
            b = _Batch()
            b.owner = self
            b.lane0 = self._lane0
            b._c = b._cb = b._ce = None
            b.lane_run = None
            b.mem = segs[0].mem
            b.size = size
            seg = segs[0]
            view = (len(segs) == 1 and isinstance(seg.where, slice) and type(lanes) is not Masked
                    and (isinstance(seg.pos, Run) or (isinstance(seg.pos, Lattice) and (
                        seg.pos.disjoint(size)))))
            if view:
                b.frame = None
                if isinstance(seg.pos, Run):
                    _run_batch(b, seg.pos.start, seg.pos.count, size)
                    if lanes.is_range:
                        b.lane_run = lanes.lo + self._lane0
                        b.local = np.arange(lanes.lo, lanes.hi, dtype=np.int64)
                    else:
                        b.local = lanes.indices()
                else:
                    _lattice_batch(b, seg.pos, size)
                    b.local = lanes.indices().reshape(seg.pos.rows, seg.pos.cols)
                if access.store:
                    b.vals = np.ascontiguousarray(access.values).view(np.uint8).reshape(-1, size)
            else:
                frames, locals_, poss = [], [], []
                for s in segs:
                    f, lo, p = access.lanes_of(s)
                    frames.append(f)
                    locals_.append(lo)
                    poss.append(p)
                frame = np.concatenate(frames)
                local = np.concatenate(locals_)
                pos = np.concatenate(poss)
                if len(segs) > 1:
                    order = np.argsort(frame, kind="stable")
                    frame, local, pos = frame[order], local[order], pos[order]
                b.frame = frame
                b.local = local
                _index_batch(b, pos[:, None] + np.arange(size, dtype=np.int64))
                if access.store:
                    b.vals = np.ascontiguousarray(access.values[frame]).view(np.uint8).reshape(
                        -1, size)
            # shared memory is per block: a slot whose newest record came before a release
            # of every block of the piece is ordered before whatever the block does next
            b.settled = self._settled if b.mem is self._shared and self.gpu else 0
            b.settled_now = self._releases
            out.append(b)
        return out

    # ------------------------------------------------------------------ ordering
    def _unordered(self, slot: _Slot, get, c, cb, ce) -> np.ndarray:
        """Where the access recorded in ``slot`` is not ordered before the new access of
        lanes ``c`` (blocks starting at ``cb``, epochs ``ce``); ``get`` reads the bytes."""
        sl = get(slot.lane)
        bad = sl != c
        bad &= sl >= 0
        if self.gpu:
            # lanes fit the lane dtype, so the difference does too; negative ones wrap
            # to unsigned values past any block size
            d = np.subtract(sl, cb, dtype=self._lane_dt)
            ordered = d.view(self._lane_udt) < self._bpl     # same block
            ordered &= get(slot.ep) < ce                # and a release since
            bad &= ~ordered
        return bad

    def _other_block(self, slot_lane: np.ndarray, cb) -> np.ndarray:
        return np.subtract(slot_lane, cb, dtype=self._lane_dt).view(self._lane_udt) \
            >= self._bpl

    # ------------------------------------------------------------------ the hook
    def check(self, access: Access) -> Hazard | None:
        with out_of_memory_at(access):
            return self._check(access)

    def _check(self, access: Access) -> Hazard | None:
        batches = self._batches(access)
        self._pending = None
        found = None        # (frame position, batch, row)
        count = 0
        for b in batches:
            sh = self._shadow(b.mem)
            if sh.pending and b.lo < sh.phi and sh.plo < b.hi:
                self._flush(sh)
            slots = [s for s in (sh.w, sh.w2) if b.meets(s)]
            readers = [s for s in (sh.r, sh.r2) if b.meets(s)] if access.store else []
            lanes_bad = None
            differ = None
            for slot in slots + readers:
                # the slot's words when they are the access's grain, else byte by byte
                granular = b.gran > 1 and slot.unit == b.gran
                cols = 1 if granular else b.size
                if not granular:
                    self._ungrain(slot)
                for j in range(cols):
                    u = self._unordered(slot, b.word if granular else
                                        (lambda arr, j=j: b.col(arr, j)), b.c, b.cb, b.ce)
                    if access.store and slot in slots:
                        if differ is None:
                            differ = [b.col(b.mem, k) != b.val_col(k) for k in range(b.size)]
                        u &= differ[j] if cols > 1 else np.logical_or.reduce(differ)
                    lanes_bad = u if lanes_bad is None else lanes_bad | u
            if lanes_bad is not None:
                lanes_bad = lanes_bad.reshape(-1)
            if access.store and b.dups:
                intra = self._intra(b)
                lanes_bad = intra if lanes_bad is None else lanes_bad | intra
            if lanes_bad is not None and lanes_bad.any():
                rows = np.flatnonzero(lanes_bad)
                count += rows.size
                pos = rows if b.frame is None else b.frame[rows]
                k = int(np.argmin(pos))
                if found is None or pos[k] < found[0]:
                    found = (int(pos[k]), b, int(rows[k]))
        if found is not None:
            pos, b, row = found
            error = self._error(access, b, row)
            self.on_finish()        # a hazard always ends the launch: give the shadow back
            return Hazard(pos, 0, error, count)
        self._pending = (access, batches)
        return None

    def access(self, access: Access) -> None:
        with out_of_memory_at(access):
            self._access(access)

    def _access(self, access: Access) -> None:
        pending, self._pending = self._pending, None
        if pending is None or pending[0] is not access:
            return
        for b in pending[1]:
            self._defer(self._shadow(b.mem), b, access.pc, "w" if access.store else "r")

    def _defer(self, sh: _Shadow, b: _Batch, pc: int, kind: str) -> None:
        """Record an access lazily: only an access that meets its bytes needs it in the
        slots (then :meth:`_flush` writes the deferred ones in order, exactly as if each
        had been written at once).  Arrays only read, or only written, in a launch then
        never fill their slots."""
        if b._ce is None:       # freeze the epochs the access saw
            b._ce = self._epochs(b.local)
        if sh.pending:
            sh.plo, sh.phi = min(sh.plo, b.lo), max(sh.phi, b.hi)
        else:
            sh.plo, sh.phi = b.lo, b.hi
        sh.pending.append((b, pc, kind))
        if len(sh.pending) > _MAX_PENDING:
            self._flush(sh)

    def _flush(self, sh: _Shadow) -> None:
        pending, sh.pending = sh.pending, []
        # shared memory: an access older than a release of every block is ordered before
        # whatever any block does next (as a slot holding it is, see _Batch.meets), so
        # its record could never decide a check: it is dropped, not written
        settled = self._settled if sh.mem is self._shared and self.gpu else 0
        for b, pc, kind in pending:
            if b.settled_now >= settled:
                self._record(sh, b, pc, kind)

    # ------------------------------------------------------------------ updates
    def _record(self, sh: _Shadow, b: _Batch, pc: int, kind: str) -> None:
        """Make this access the newest in the slot pair ``kind`` of its bytes."""
        first = getattr(sh, kind)
        unit = b.gran if b.gran > 1 else 1      # a new slot's unit: this access's grain
        if first is None:
            first = self._slot(sh, unit)
            setattr(sh, kind, first)
        if b.dups:
            self._record_dups(sh, b, pc, kind)
            return
        second = getattr(sh, kind + "2")
        # the same grain as every record so far: the slots' words, else byte by byte
        grain = unit > 1 and first.unit == unit and (second is None or second.unit == unit)
        if not grain:
            self._ungrain(first)
            self._ungrain(second)
            unit = 1
        if b.meets(first):
            for j in range(1 if grain else b.size):
                if grain:
                    get, put = b.word, b.set_word
                else:
                    def get(arr, j=j):
                        return b.col(arr, j)

                    def put(arr, v, j=j):
                        b.set_col(arr, j, v)
                q1 = self._unordered(first, get, b.c, b.cb, b.ce)
                if b.meets(second) or q1.any():
                    q2 = self._unordered(second, get, b.c, b.cb, b.ce) if b.meets(second) \
                        else None
                    self._second(sh, kind, get, put, b.cb, q1, q2, None, pc, unit)
                    second = getattr(sh, kind + "2")
                    second.rec = -1     # marked: cover below
            if second is not None and second.rec == -1:
                b.cover(second)
        if b.lane_run is not None:      # consecutive lanes: one arange for every column
            lanes = np.arange(b.lane_run, b.lane_run + b.local.size, dtype=first.lane.dtype)
        else:
            lanes = b.c
        ce = b.ce
        if grain:
            b.set_word(first.lane, lanes)
            b.set_word(first.ep, ce)
            b.set_word(first.pc, pc)
        else:
            for j in range(b.size):
                b.set_col(first.lane, j, lanes)
            if np.ndim(ce) == 0:
                b.fill(first.ep, ce)
                b.fill(first.pc, pc)
            else:
                for j in range(b.size):
                    b.set_col(first.ep, j, ce)
                    b.set_col(first.pc, j, pc)
        b.cover(first)

    def _second(self, sh: _Shadow, kind: str, get, put, cb, q1, q2, group, pc: int,
                unit: int) -> None:
        """Choose the second slot of some bytes: an access not ordered before the new one,
        from another block if there is one.  ``group``: the lowest other lane of this
        instruction at each byte, as (lane, epoch, present); ``get`` and ``put`` reach
        the slots' entries of ``unit`` bytes (a new second slot's unit)."""
        first = getattr(sh, kind)
        second = getattr(sh, kind + "2")
        if second is None:
            second = self._slot(sh, unit)
            setattr(sh, kind + "2", second)
            q2 = None
        l1, e1, p1 = get(first.lane), get(first.ep), get(first.pc)
        shape = np.broadcast_shapes(l1.shape, np.shape(cb))
        lane = np.full(shape, _EMPTY, l1.dtype)
        ep = np.zeros(shape, e1.dtype)
        pcs = np.zeros(shape, np.int32)
        order = []      # in order of preference
        if group is not None:
            gl, ge, gq = group
            order.append((gq, gl, ge, pc))
        order.append((q1, l1, e1, p1))
        if q2 is not None:
            order.append((q2, get(second.lane), get(second.ep), get(second.pc)))
        # any candidate not ordered before the new access, then those of another block;
        # filled in reverse order so that the preferred one is written last
        for other_block in (False, True):
            for q, l, e, p in reversed(order):
                m = q & self._other_block(l, cb) if other_block else q
                np.copyto(lane, l, where=m, casting="unsafe")
                np.copyto(ep, e, where=m, casting="unsafe")
                np.copyto(pcs, p, where=m, casting="unsafe")
        put(second.lane, lane)
        put(second.ep, ep)
        put(second.pc, pcs)

    def _record_dups(self, sh: _Shadow, b: _Batch, pc: int, kind: str) -> None:
        """Record an access where several lanes touch one byte (index arrays)."""
        size = b.size
        flat = b.flat
        order = np.argsort(flat, kind="stable")     # lanes ascend within a byte
        srt = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
        ends = np.concatenate((starts[1:], [srt.size])) - 1
        ub = srt[starts]
        rows_last = order[ends] // size
        rows_first = order[starts] // size
        c = b.c
        ce = np.broadcast_to(b.ce, c.shape)
        nc, ncb, nce = c[rows_last], b.cb[rows_last], ce[rows_last]
        gl, ge = c[rows_first], ce[rows_first]
        gq = gl != nc
        first = getattr(sh, kind)
        second = getattr(sh, kind + "2")
        self._ungrain(first)
        self._ungrain(second)

        def get(arr):
            return arr[ub]

        def put(arr, v):
            arr[ub] = v

        q1 = self._unordered(first, get, nc, ncb, nce)
        q2 = None if second is None else self._unordered(second, get, nc, ncb, nce)
        if second is not None or q1.any() or gq.any():
            self._second(sh, kind, get, put, ncb, q1, q2, (gl, ge, gq), pc, 1)
            b.cover(getattr(sh, kind + "2"))
        put(first.lane, nc)
        put(first.ep, nce)
        put(first.pc, pc)
        b.cover(first)

    def _intra(self, b: _Batch) -> np.ndarray:
        """Lanes of one store writing a byte another lane of it writes with another value."""
        flat = b.flat
        vals = b.vals.ravel()
        order = np.argsort(flat, kind="stable")
        srt = flat[order]
        sv = vals[order]
        new = np.concatenate(([True], srt[1:] != srt[:-1]))
        starts = np.flatnonzero(new)
        mixed = np.minimum.reduceat(sv, starts) != np.maximum.reduceat(sv, starts)
        group = np.cumsum(new) - 1
        out = np.zeros(b.vals.shape[0], bool)
        out[order[mixed[group]] // b.size] = True
        return out

    # ------------------------------------------------------------------ errors
    def _error(self, access: Access, b: _Batch, row: int) -> DataRaceError:
        """The error for the lane in ``row`` of batch ``b`` (one lane: not the fast path)."""
        sh = self._shadow(b.mem)
        for slot in (sh.w, sh.w2, sh.r, sh.r2):
            self._ungrain(slot)
        mine = np.asarray(b.bytes_of(row), np.int64).ravel()
        c = int(b.c.reshape(-1)[row])
        cb = int(np.broadcast_to(b.cb, np.shape(b.local)).reshape(-1)[row])
        ce = int(np.broadcast_to(b.ce, np.shape(b.local)).reshape(-1)[row])

        def get(arr):
            return arr[mine]
        slots = [("w", sh.w), ("w2", sh.w2)]
        if access.store:
            slots += [("r", sh.r), ("r2", sh.r2)]
            vals = b.vals[row]
            differ = b.mem[mine] != vals
        best = None
        for name, slot in slots:
            if slot is None:
                continue
            u = self._unordered(slot, get, c, cb, ce)
            if access.store and name.startswith("w"):
                u &= differ
            if u.any():
                k = int(np.argmax(u))
                if best is None or mine[k] < best[0]:
                    best = (int(mine[k]), name, slot, k)
        if best is not None:
            _, name, slot, k = best
            other = int(slot.lane[mine[k]])
            other_pc = int(slot.pc[mine[k]])
            same = (slot.lane[mine] == other) & (slot.pc[mine] == other_pc)
            shared = mine[same]
            kind = ("WAR" if name.startswith("r") else "WAW") if access.store else "RAW"
            intra = False
        else:       # two lanes of this store, different values
            kind = "WAW"
            intra = True
            other_pc = access.pc
            flat = b.flat.reshape(-1, b.size)
            allv = b.vals
            cs = b.c.reshape(-1)
            hit = np.zeros(flat.shape[0], bool)
            for j in range(mine.size):      # the bytes of one lane
                hit |= ((flat == mine[j]) & (allv != vals[j])).any(axis=1)
            hit &= cs != c
            other = int(cs[hit].min())
            orow = int(np.flatnonzero(cs == other)[0])
            shared = np.intersect1d(mine, flat[orow])
        address = int(shared.min())
        return self._make(access, b.mem, address, int(shared.size), kind, c, other, other_pc,
                          intra)

    def _make(self, access: Access, mem, address: int, nbytes: int, kind: str, lane: int,
              other: int, other_pc: int, intra: bool) -> DataRaceError:
        space, handle, offset = describe(self._memory, mem, address, self._shared,
                                         self._shared_bytes)
        where = {"shared": "shared", "global": f"buffer {handle}", "pool": f"pool {handle}",
                 "boundary": "boundary"}[space]
        prog = self._program
        bpl = self._bpl

        def at(pc):
            line = prog.source_line(pc)
            return f"pc {pc}" + (f" (line {line})" if line is not None else "")
        me = f"lane {lane} (block {lane // bpl})"
        them = f"lane {other}" + (f" (block {other // bpl})" if other // bpl != lane // bpl
                                  else "")
        if kind == "RAW":
            text = f"{me} loads at {at(access.pc)} what {them} stored at {at(other_pc)}"
        elif kind == "WAR":
            text = f"{me} stores at {at(access.pc)} over what {them} loaded at {at(other_pc)}"
        elif intra:
            text = f"{me} and {them} store different values in one instruction at {at(other_pc)}"
        else:
            text = f"{me} stores at {at(access.pc)} over what {them} stored at {at(other_pc)}"
        if not self.gpu:
            text += " (race_model='hologram': barriers order nothing)"
        elif lane // bpl != other // bpl:
            text += " in another block (blocks are never ordered)"
        elif not intra:
            text += " with no barrier between"
        reason = f"{kind} race on {where}[+{offset}] ({nbytes} byte{'s' * (nbytes != 1)}): {text}"
        return DataRaceError(reason, space=space, buffer=handle, address=offset, kind=kind,
                             other_pc=other_pc, other_lane=other,
                             other_block=self._geometry.grid.unravel(other // bpl),
                             other_instruction=str(prog[other_pc]))


@contextmanager
def out_of_memory_at(access: Access):
    """Turn a shadow allocation over the memory limit into a fault of the access's
    instruction (located like any fault; the instruction has had no effect)."""
    try:
        yield
    except DeviceMemoryError as exc:
        lanes = access.lanes
        raise Fault(lanes.first - lanes.lo if type(lanes) is Masked else 0, exc,
                    len(lanes)) from None


def _give_back(memory, reserved: list) -> None:
    """Release what a check still holds (at the end, or when it is collected after an error)."""
    if memory is not None and reserved[0]:
        memory.release(reserved[0])
        reserved[0] = 0
