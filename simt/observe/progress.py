"""``launch(..., progress=True)``: a tqdm bar of a launch's pieces and steps on stderr.

The bar counts pieces (its total is the number of pieces the launch is cut
into) and shows the instructions issued so far beside it, refreshed at most
ten times a second.  It is drawn whether or not stderr is a terminal.  Only a
launch that asks for progress has this observer, so no other launch pays for it;
this one listens to ``after`` events as the executor fuses them, and does no
more than add and compare a clock per event.
"""

from __future__ import annotations

import sys
import time

from ..machine.events import Event, LaunchInfo, Observer

__all__ = ["Progress"]

_REFRESH = 0.1      # seconds between redraws of the step count


class Progress(Observer):
    """A progress bar of pieces and steps (see the module docstring)."""

    def __init__(self, file=None) -> None:
        self.file = file
        self.bar = None
        self.steps = 0
        self._next = 0.0

    def on_launch(self, launch: LaunchInfo) -> None:
        from tqdm import tqdm
        g = launch.geometry
        per_piece = max(1, launch.piece_lanes // g.lanes_per_block)
        pieces = -(-g.blocks // per_piece)
        self.steps = 0
        self.bar = tqdm(total=pieces, unit="piece", desc="simt launch", leave=True,
                        file=self.file if self.file is not None else sys.stderr,
                        disable=False, dynamic_ncols=True)
        self.bar.set_postfix_str("0 steps", refresh=False)
        self._next = time.monotonic() + _REFRESH
        self._pieces = 0

    def on_piece(self, piece) -> None:
        if self._pieces:
            self.bar.update(1)      # the previous piece is done
        self._pieces += 1

    def after(self, event: Event) -> None:
        self.steps += event.count
        now = time.monotonic()
        if now >= self._next:
            self._next = now + _REFRESH
            self.bar.set_postfix_str(f"{self.steps} steps")

    def on_finish(self) -> None:
        bar = self.bar
        if bar is None:
            return
        bar.set_postfix_str(f"{self.steps} steps", refresh=False)
        bar.update(bar.total - bar.n)
        bar.close()
        self.bar = None
