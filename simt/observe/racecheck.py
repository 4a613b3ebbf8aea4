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
block's current epoch.  Epochs count releases (at most ``max_steps`` per piece)
in an integer wide enough for ``max_steps``; they never wrap.  Accesses of
different pieces are never in one block, so epochs are per piece.

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

Speed: a contiguous run or a strided lattice of lanes (the usual compressed
addresses) reads and writes the shadow through views, without index arrays;
other accesses use index arrays.  There is no Python loop over lanes.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import DataRaceError
from ..machine.events import Access, Event, Hazard, LaunchInfo, Observer
from ..machine.lanes import Masked
from ..machine.memory import Lattice, Run, describe

__all__ = ["RaceCheck"]

_EMPTY = -1


class _Slot:
    """One access per byte of an array: lane (-1: none), block epoch, pc."""

    __slots__ = ("lane", "ep", "pc")

    def __init__(self, nbytes: int, lane_dt: np.dtype, ep_dt: np.dtype) -> None:
        self.lane = np.full(nbytes, _EMPTY, lane_dt)
        self.ep = np.empty(nbytes, ep_dt)    # read only where lane >= 0
        self.pc = np.empty(nbytes, np.int32)


class _Shadow:
    """The slots of one memory array, each allocated on first need."""

    __slots__ = ("mem", "w", "w2", "r", "r2")

    def __init__(self, mem: np.ndarray) -> None:
        self.mem = mem
        self.w = self.w2 = self.r = self.r2 = None


class _Batch:
    """The bytes one access touches in one memory array, and the lanes touching them.

    ``get(arr)`` / ``put(arr, v)`` read and write a per-byte array at those bytes,
    shaped ``(..., size)`` with one row per lane; ``c``, ``cb``, ``ce`` (global
    lane, first lane of its block, the block's epoch) broadcast against it.
    ``frame``: frame positions of the lanes in row order.  ``dups``: whether two
    lanes may touch one byte (then ``flat`` holds the byte index array).
    """

    __slots__ = ("mem", "frame", "c", "cb", "ce", "get", "put", "bytes_of", "dups", "flat",
                 "vals", "shape")


def _run_batch(b: _Batch, start: int, n: int, size: int) -> None:
    end = start + n * size
    b.get = lambda arr: arr[start:end].reshape(n, size)
    b.shape = (n, size)

    def put(arr, v):
        arr[start:end].reshape(n, size)[...] = v
    b.put = put
    b.bytes_of = lambda k: start + k * size + np.arange(size, dtype=np.int64)
    b.dups = False
    b.flat = None


def _lattice_batch(b: _Batch, lat: Lattice, size: int) -> None:
    def view(arr):
        it = arr.itemsize
        return np.lib.stride_tricks.as_strided(
            arr[lat.start:], (lat.rows, lat.cols, size),
            (lat.row_step * it, lat.col_step * it, it))
    b.get = view
    b.shape = (lat.rows, lat.cols, size)

    def put(arr, v):
        view(arr)[...] = v
    b.put = put

    def bytes_of(k):
        i, j = divmod(k, lat.cols)
        return lat.start + i * lat.row_step + j * lat.col_step + np.arange(size, dtype=np.int64)
    b.bytes_of = bytes_of
    b.dups = False
    b.flat = None


def _index_batch(b: _Batch, bidx: np.ndarray) -> None:
    b.get = lambda arr: arr[bidx]
    b.shape = bidx.shape

    def put(arr, v):
        arr[bidx] = v
    b.put = put
    b.bytes_of = lambda k: bidx[k]
    flat = bidx.ravel()
    srt = np.sort(flat)
    b.dups = bool(srt.size > 1 and (srt[1:] == srt[:-1]).any())
    b.flat = flat


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

    # ------------------------------------------------------------------ lifecycle
    def on_launch(self, launch: LaunchInfo) -> None:
        self._memory = memory = launch.memory
        self._program = launch.program
        self._geometry = launch.geometry
        self._bpl = launch.geometry.lanes_per_block
        self._shared_bytes = launch.shared_bytes
        self._lane_dt = np.dtype(np.int32 if launch.geometry.lanes < (1 << 31) else np.int64)
        # a block's epoch counts its releases, at most one per instruction issued
        self._ep_dt = np.dtype(np.int32)
        self._ep_wide = False
        reserved = self._reserved
        weakref.finalize(self, _give_back, memory, reserved)

    def on_piece(self, piece) -> None:
        self._piece = piece
        self._lane0 = piece.lane0
        self._epoch = np.zeros(piece.blocks, np.int64)
        old = self._shared
        if old is not None and id(old) in self._shadows:     # the last piece's shared memory
            self._drop(id(old))
        self._shared = piece.shared

    def after(self, event: Event) -> None:
        if event.released is not None and self.gpu:
            self._epoch[event.released] += 1
            self._releases += 1     # bounds every block's epoch
            if not self._ep_wide and self._releases >= (1 << 31) - 1:
                self._widen()

    def on_finish(self) -> None:
        for k in list(self._shadows):
            self._drop(k)
        _give_back(self._memory, self._reserved)

    # ------------------------------------------------------------------ memory
    def _drop(self, key: int) -> None:
        sh = self._shadows.pop(key)
        nbytes = sum(_slot_bytes(s) for s in (sh.w, sh.w2, sh.r, sh.r2) if s is not None)
        self._memory.release(nbytes)
        self._reserved[0] -= nbytes

    def _slot(self, sh: _Shadow) -> _Slot:
        nbytes = sh.mem.size * (self._lane_dt.itemsize + self._ep_dt.itemsize + 4)
        self._memory.reserve(nbytes, "race check shadow memory")
        self._reserved[0] += nbytes
        return _Slot(sh.mem.size, self._lane_dt, self._ep_dt)

    def _widen(self) -> None:
        self._ep_wide = True
        self._ep_dt = np.dtype(np.int64)
        for sh in self._shadows.values():
            for s in (sh.w, sh.w2, sh.r, sh.r2):
                if s is not None:
                    self._memory.reserve(s.ep.size * 4, "race check shadow memory")
                    self._reserved[0] += s.ep.size * 4
                    s.ep = s.ep.astype(np.int64)

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
        lane0 = self._lane0
        for segs in groups.values():
            b = _Batch()
            b.mem = segs[0].mem
            seg = segs[0]
            view = (len(segs) == 1 and isinstance(seg.where, slice) and type(lanes) is not Masked
                    and (isinstance(seg.pos, Run) or (isinstance(seg.pos, Lattice) and (
                        seg.pos.disjoint(size)))))
            if view:
                b.frame = np.arange(lanes.frame, dtype=np.int64)
                local = lanes.indices()
                if isinstance(seg.pos, Run):
                    _run_batch(b, seg.pos.start, seg.pos.count, size)
                    local = local.reshape(-1, 1)
                else:
                    _lattice_batch(b, seg.pos, size)
                    local = local.reshape(seg.pos.rows, seg.pos.cols, 1)
                if access.store:
                    b.vals = np.ascontiguousarray(access.values).view(np.uint8).reshape(b.shape)
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
                _index_batch(b, pos[:, None] + np.arange(size, dtype=np.int64))
                local = local.reshape(-1, 1)
                if access.store:
                    b.vals = np.ascontiguousarray(access.values[frame]).view(np.uint8).reshape(
                        b.shape)
            bpl = self._bpl
            blk = local // bpl
            b.c = local + lane0
            b.cb = blk * bpl + lane0
            b.ce = self._epoch[blk]
            out.append(b)
        return out

    # ------------------------------------------------------------------ ordering
    def _unordered(self, slot: _Slot, b: _Batch, get=None) -> np.ndarray:
        """Bytes whose recorded access in ``slot`` is not ordered before this lane's."""
        get = get or b.get
        sl = get(slot.lane)
        bad = sl != b.c
        bad &= sl >= 0
        if self.gpu:
            d = sl - b.cb
            ordered = d >= 0
            ordered &= d < self._bpl
            ordered &= get(slot.ep) < b.ce
            bad &= ~ordered
        return bad

    def _other_block(self, slot_lane: np.ndarray, cb) -> np.ndarray:
        d = slot_lane - cb
        return (d < 0) | (d >= self._bpl)

    # ------------------------------------------------------------------ the hook
    def check(self, access: Access) -> Hazard | None:
        batches = self._batches(access)
        self._pending = None
        found = None        # (frame position, batch, row)
        count = 0
        for b in batches:
            sh = self._shadow(b.mem)
            if access.store:
                bad = None
                cur = None
                for slot in (sh.w, sh.w2):
                    if slot is not None:
                        if cur is None:
                            cur = b.get(b.mem) != b.vals
                        u = self._unordered(slot, b) & cur
                        bad = u if bad is None else bad | u
                for slot in (sh.r, sh.r2):
                    if slot is not None:
                        u = self._unordered(slot, b)
                        bad = u if bad is None else bad | u
                lanes_bad = None if bad is None else bad.reshape(-1, b.shape[-1]).any(axis=1)
                if b.dups:
                    intra = self._intra(b)
                    lanes_bad = intra if lanes_bad is None else lanes_bad | intra
            else:
                bad = None
                for slot in (sh.w, sh.w2):
                    if slot is not None:
                        u = self._unordered(slot, b)
                        bad = u if bad is None else bad | u
                lanes_bad = None if bad is None else bad.reshape(-1, b.shape[-1]).any(axis=1)
            if lanes_bad is not None and lanes_bad.any():
                rows = np.flatnonzero(lanes_bad)
                count += rows.size
                pos = b.frame[rows]
                k = int(np.argmin(pos))
                if found is None or pos[k] < found[0]:
                    found = (int(pos[k]), b, int(rows[k]))
        if found is not None:
            pos, b, row = found
            return Hazard(pos, 0, self._error(access, b, row), count)
        self._pending = (access, batches)
        return None

    def access(self, access: Access) -> None:
        pending, self._pending = self._pending, None
        if pending is None or pending[0] is not access:
            return
        for b in pending[1]:
            sh = self._shadow(b.mem)
            if access.store:
                self._record(sh, b, access.pc, "w")
            else:
                self._record(sh, b, access.pc, "r")

    # ------------------------------------------------------------------ updates
    def _record(self, sh: _Shadow, b: _Batch, pc: int, kind: str) -> None:
        """Make this access the newest in the slot pair ``kind`` of its bytes."""
        first = getattr(sh, kind)
        if first is None:
            first = self._slot(sh)
            setattr(sh, kind, first)
            fresh = True
        else:
            fresh = False
        if b.dups:
            self._record_dups(sh, b, pc, kind)
            return
        second = getattr(sh, kind + "2")
        if not fresh:
            q1 = self._unordered(first, b)
            if second is not None or q1.any():
                q2 = None if second is None else self._unordered(second, b)
                self._second(sh, kind, b.get, b.put, b.cb, q1, q2, None)
        b.put(first.lane, b.c)
        b.put(first.ep, b.ce)
        b.put(first.pc, pc)

    def _second(self, sh: _Shadow, kind: str, get, put, cb, q1, q2, group) -> None:
        """Choose each byte's second slot: an access not ordered before the new one,
        from another block if there is one (``group``: lowest other lane of this
        instruction, as (lane, epoch, mask))."""
        first = getattr(sh, kind)
        second = getattr(sh, kind + "2")
        if second is None:
            second = self._slot(sh)
            setattr(sh, kind + "2", second)
            l2, e2, p2 = get(second.lane), None, None
            q2 = None
        l1, e1, p1 = get(first.lane), get(first.ep), get(first.pc)
        if q2 is not None:
            l2, e2, p2 = get(second.lane), get(second.ep), get(second.pc)
        shape = np.broadcast_shapes(l1.shape, np.shape(cb))
        lane = np.full(shape, _EMPTY, l1.dtype)
        ep = np.zeros(shape, e1.dtype)
        pcs = np.zeros(shape, np.int32)
        order = []      # in order of preference
        if group is not None:
            gl, ge, gq = group
            order.append(("g", gq, gl, ge, None))
        order.append(("1", q1, l1, e1, p1))
        if q2 is not None:
            order.append(("2", q2, l2, e2, p2))
        # any candidate not ordered before the new access, then those of another block;
        # filled in reverse order so the preferred one is written last
        for _, q, l, e, p in reversed(order):
            np.copyto(lane, l, where=q)
            np.copyto(ep, e, where=q)
            if p is not None:
                np.copyto(pcs, p, where=q)
            else:
                np.copyto(pcs, self._group_pc, where=q)
        for _, q, l, e, p in reversed(order):
            ob = q & self._other_block(l, cb)
            np.copyto(lane, l, where=ob)
            np.copyto(ep, e, where=ob)
            if p is not None:
                np.copyto(pcs, p, where=ob)
            else:
                np.copyto(pcs, self._group_pc, where=ob)
        put(second.lane, lane)
        put(second.ep, ep)
        put(second.pc, pcs)

    def _record_dups(self, sh: _Shadow, b: _Batch, pc: int, kind: str) -> None:
        """Record an access where several lanes touch one byte (index arrays)."""
        size = b.shape[-1]
        flat = b.flat
        order = np.argsort(flat, kind="stable")     # lanes ascend within a byte
        srt = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
        ends = np.concatenate((starts[1:], [srt.size])) - 1
        ub = srt[starts]
        rows_last = order[ends] // size
        rows_first = order[starts] // size
        c = np.broadcast_to(b.c, (b.c.shape[0], 1))[:, 0]
        cb = np.broadcast_to(b.cb, (b.cb.shape[0], 1))[:, 0]
        ce = np.broadcast_to(b.ce, (b.ce.shape[0], 1))[:, 0]
        nc, ncb, nce = c[rows_last], cb[rows_last], ce[rows_last]
        gl, ge = c[rows_first], ce[rows_first]
        gq = gl != nc
        first = getattr(sh, kind)
        second = getattr(sh, kind + "2")

        def get(arr):
            return arr[ub]

        def put(arr, v):
            arr[ub] = v

        flat_b = _Batch()
        flat_b.c, flat_b.cb, flat_b.ce = nc, ncb, nce
        q1 = self._unordered(first, flat_b, get)
        q2 = None if second is None else self._unordered(second, flat_b, get)
        if second is not None or q1.any() or gq.any():
            self._group_pc = pc
            self._second(sh, kind, get, put, ncb, q1, q2, (gl, ge, gq))
        put(first.lane, nc)
        put(first.ep, nce)
        put(first.pc, pc)

    def _intra(self, b: _Batch) -> np.ndarray:
        """Lanes of one store writing a byte another lane of it writes with another value."""
        size = b.shape[-1]
        flat = b.flat
        vals = b.vals.ravel()
        order = np.argsort(flat, kind="stable")
        srt = flat[order]
        sv = vals[order]
        starts = np.flatnonzero(np.concatenate(([True], srt[1:] != srt[:-1])))
        lo = np.minimum.reduceat(sv, starts)
        hi = np.maximum.reduceat(sv, starts)
        mixed = lo != hi
        group = np.cumsum(np.concatenate(([False], srt[1:] != srt[:-1])))
        bad_entries = order[mixed[group]]
        out = np.zeros(b.shape[0], bool)
        out[bad_entries // size] = True
        return out

    # ------------------------------------------------------------------ errors
    def _error(self, access: Access, b: _Batch, row: int) -> DataRaceError:
        """The error for the lane in ``row`` of batch ``b`` (slow path: one lane)."""
        sh = self._shadow(b.mem)
        mine = np.asarray(b.bytes_of(row), np.int64).ravel()
        c = int(np.broadcast_to(b.c, b.shape[:-1] + (1,)).reshape(-1)[row])
        cb = int(np.broadcast_to(b.cb, b.shape[:-1] + (1,)).reshape(-1)[row])
        ce = int(np.broadcast_to(b.ce, b.shape[:-1] + (1,)).reshape(-1)[row])
        one = _Batch()
        one.c, one.cb, one.ce = c, cb, ce

        def get(arr):
            return arr[mine]
        slots = [("w", sh.w), ("w2", sh.w2)]
        if access.store:
            slots += [("r", sh.r), ("r2", sh.r2)]
            vals = b.vals.reshape(-1, b.shape[-1])[row]
            differ = b.mem[mine] != vals
        best = None
        for name, slot in slots:
            if slot is None:
                continue
            u = self._unordered(slot, one, get)
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
            flat = b.flat.reshape(-1, b.shape[-1])
            allv = b.vals
            cs = np.broadcast_to(b.c, b.shape[:-1] + (1,)).reshape(-1)
            vals = allv.reshape(-1, b.shape[-1])[row]
            hit = np.zeros(flat.shape[0], bool)
            for j in range(mine.size):      # one lane's few bytes, not lanes
                at = flat == mine[j]
                hit |= (at & (allv != vals[j])).any(axis=1)
            hit &= cs != c
            other = int(cs[np.flatnonzero(hit)].min())
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
        geo = self._geometry
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
                             other_block=geo.grid.unravel(other // bpl),
                             other_instruction=str(prog[other_pc]))


def _slot_bytes(s: _Slot) -> int:
    return s.lane.nbytes + s.ep.nbytes + s.pc.nbytes


def _give_back(memory, reserved: list) -> None:
    """Release what a check still holds (at the end, or when it is collected after an error)."""
    if memory is not None and reserved[0]:
        memory.release(reserved[0])
        reserved[0] = 0
