"""The init check against an oracle written from the definition, on random programs.

The random cases upload every buffer (written) and the boundary pool counts as
written; shared memory is unwritten when a piece begins, pools when PoolAlloc makes
them.  The oracle tracks the written bytes of every other array byte by byte.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

import simt
from simt.machine.events import Observer
from simt.testing.programs import cases

from test_racecheck_oracle import _launch


class InitOracle(Observer):
    def __init__(self) -> None:
        self.written: dict[int, set] = {}
        self.known: set[int] = set()
        self.keep = []
        self.first = None

    def on_launch(self, launch):
        memory = launch.memory
        self.known = {id(memory.boundary)} | {id(a) for a in memory.buffers.values()}

    def on_piece(self, piece):
        self.keep.append(piece.shared)
        self.written[id(piece.shared)] = set()

    def access(self, access):
        if self.first is not None:
            return
        bad = []
        for seg in access.segments:
            if id(seg.mem) in self.known:
                continue
            self.keep.append(seg.mem)
            done = self.written.setdefault(id(seg.mem), set())
            frame, local, pos = access.lanes_of(seg)
            for k in range(local.size):
                span = range(int(pos[k]), int(pos[k]) + access.size)
                if access.store:
                    done.update(span)
                elif not done.issuperset(span):
                    bad.append(int(local[k]) + access.piece.lane0)
        if bad:
            self.first = (access.pc, min(bad))


@settings(max_examples=200)
@given(case=cases(max_lanes=64))
def test_init_check_matches_the_definition(case):
    oracle = InitOracle()
    plain = _launch(case, observers=[oracle])
    checked = _launch(case, check="init")
    if oracle.first is None:
        assert not isinstance(checked, simt.UninitializedMemoryError), checked
        assert type(checked) is type(plain)
    else:
        assert isinstance(checked, simt.UninitializedMemoryError), (oracle.first, checked)
        assert (checked.pc, checked.lane) == oracle.first, (oracle.first, checked)
