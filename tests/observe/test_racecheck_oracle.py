"""The race check against a brute-force oracle written from the definition.

The oracle watches an unchecked launch (every access, every barrier release), keeps
every access ever made to every byte, and finds the first instruction with a hazard
by the definition alone (two accesses of different lanes sharing a byte, one a store,
not ordered; stores equal on every shared byte are benign).  The race check must
raise at that instruction, for its lowest lane with a hazard, and nowhere else.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import simt
from simt.machine.events import Observer
from simt.testing.engines import Vectorized, run
from simt.testing.programs import cases


class Oracle(Observer):
    def __init__(self, model: str) -> None:
        self.gpu = model == "gpu"
        self.history: dict = {}      # byte key -> [(lane, block, epoch, store, value, pc)]
        self.epoch: dict[int, int] = {}
        self.first = None            # (issue, pc, lane)
        self.issue = 0
        self.keep = []

    def on_launch(self, launch):
        self.bpl = launch.geometry.lanes_per_block

    def on_piece(self, piece):
        self.piece = piece
        self.keep.append(piece.shared)

    def after(self, event):
        if event.released is not None:
            for b in event.released:
                blk = self.piece.block0 + int(b)
                self.epoch[blk] = self.epoch.get(blk, 0) + 1

    def _ordered(self, old, lane, block):
        if old[0] == lane:
            return True
        return self.gpu and old[1] == block and old[2] < self.epoch.get(block, 0)

    def access(self, access):
        self.issue += 1
        if self.first is not None:
            return
        lane0 = self.piece.lane0
        mine = []       # (lane, block, key per byte, values per byte)
        for seg in access.segments:
            frame, local, pos = access.lanes_of(seg)
            self.keep.append(seg.mem)
            vals = None
            if access.store:
                vals = np.ascontiguousarray(access.values[frame]).view(np.uint8).reshape(
                    -1, access.size)
            for k in range(local.size):
                lane = int(local[k]) + lane0
                keys = [(id(seg.mem), int(pos[k]) + j) for j in range(access.size)]
                mine.append((lane, lane // self.bpl, keys,
                             None if vals is None else [int(v) for v in vals[k]]))
        bad = set()
        for lane, block, keys, vals in mine:
            pairs: dict = {}
            for j, key in enumerate(keys):
                for old in self.history.get(key, ()):
                    if self._ordered(old, lane, block) or not (old[3] or access.store):
                        continue
                    if old[3] and access.store:
                        pairs[old[6]] = pairs.get(old[6], False) or old[4] != vals[j]
                    else:
                        bad.add(lane)
            if any(pairs.values()):
                bad.add(lane)
        if access.store:        # lanes of this instruction
            at: dict = {}
            for lane, block, keys, vals in mine:
                for j, key in enumerate(keys):
                    at.setdefault(key, []).append((lane, vals[j]))
            for writers in at.values():
                if len({v for _, v in writers}) > 1:
                    bad.update(lane for lane, _ in writers)
        if bad:
            self.first = (self.issue, access.pc, min(bad))
            return
        for lane, block, keys, vals in mine:
            for j, key in enumerate(keys):
                self.history.setdefault(key, []).append(
                    (lane, block, self.epoch.get(block, 0), access.store,
                     None if vals is None else vals[j], access.pc, (self.issue, lane)))


def _launch(case, **kw):
    """The error a launch of ``case`` raised, or None."""
    return run(Vectorized(), case, **kw).exception


@pytest.mark.parametrize("model", ["gpu", "hologram"])
@settings(max_examples=120)
@given(case=cases(max_lanes=64))
def test_race_check_matches_the_definition(case, model):
    oracle = Oracle(model)
    plain = _launch(case, observers=[oracle])
    checked = _launch(case, check="race", race_model=model)
    if oracle.first is None:
        assert not isinstance(checked, simt.DataRaceError), checked
        assert type(checked) is type(plain)
    else:
        _, pc, lane = oracle.first
        assert isinstance(checked, simt.DataRaceError), (oracle.first, checked)
        assert (checked.pc, checked.lane) == (pc, lane), (oracle.first, checked)
