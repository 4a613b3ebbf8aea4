"""Per-line profiles: :class:`Profile`, an observer counting what each instruction cost.

Pass a ``Profile()`` to :meth:`simt.Device.launch` (``observers=[profile]``) or
:meth:`simt.Device.session`; it adds up, per pc, the issues, lane-instructions,
warp-instructions and bytes of every launch it sees until :meth:`Profile.reset`,
and remembers the active lanes of every step for :meth:`Profile.plot`.
Warps are counted as the launch statistics count them (docs/semantics.md,
"Statistics"), so a profile's totals are the statistics of its launches.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from ..isa.program import Program
from ..machine.events import Event, LaunchInfo, Observer
from .stats import WARP, StatsObserver
from .trace import _texts

__all__ = ["Profile", "ProfileRow"]


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """What the instruction at one pc cost, over the launches profiled.

    ``simd_efficiency`` is ``lane_instructions / (32 * warp_instructions)``.
    """

    pc: int
    instruction: str
    source_line: int | None
    issues: int
    lane_instructions: int
    simd_efficiency: float
    bytes_loaded: int
    bytes_stored: int
    warp_instructions: int = 0


class _Table:
    """Per-pc totals of one program."""

    def __init__(self, program: Program) -> None:
        n = len(program)
        self.program = program
        self.issues = [0] * n
        self.lanes = [0] * n
        self.warps = [0] * n
        self.loaded = [0] * n
        self.stored = [0] * n

    def rows(self) -> list[ProfileRow]:
        texts = self.program.derived("observe.texts", _texts)
        out = []
        for pc, issues in enumerate(self.issues):
            if issues:
                warps = self.warps[pc]
                out.append(ProfileRow(
                    pc, texts[pc], self.program.source_line(pc), issues, self.lanes[pc],
                    self.lanes[pc] / (WARP * warps) if warps else 0.0, self.loaded[pc],
                    self.stored[pc], warps))
        return out


class Profile(Observer):
    """Per-pc issues, lane-instructions, SIMD efficiency and bytes (see the module docstring)."""

    per_instruction = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything counted."""
        self._tables: list[_Table] = []
        self._table: _Table | None = None
        self._warps = StatsObserver()
        self._active = array("q")       # active lanes of every step, launch after launch
        self._starts: list[int] = []    # where each launch's steps begin in _active

    # ------------------------------------------------------------------ observer
    def on_launch(self, launch: LaunchInfo) -> None:
        program = launch.program
        self._table = next((t for t in self._tables
                            if t.program is program or t.program == program), None)
        if self._table is None:
            self._table = _Table(program)
            self._tables.append(self._table)
        self._warps.on_launch(launch)
        self._starts.append(len(self._active))

    def after(self, event: Event) -> None:
        t = self._table
        lanes = event.lanes
        n = len(lanes)
        warps = self._warps.warp_count(lanes)
        for pc in range(event.pc, event.pc + event.count):
            t.issues[pc] += 1
            t.lanes[pc] += n
            t.warps[pc] += warps
            self._active.append(n)
        last = event.pc + event.count - 1
        t.loaded[last] += event.bytes_loaded
        t.stored[last] += event.bytes_stored

    # ------------------------------------------------------------------ reading
    def rows(self) -> list[ProfileRow]:
        """One row per pc that issued, ascending (program after program, if several)."""
        return [row for t in self._tables for row in t.rows()]

    def table(self) -> str:
        """The program's source text (else its ``to_text()``), annotated line by line."""
        if not self._tables:
            return "(no launch profiled)\n"
        return "\n".join(_annotate(t) for t in self._tables)

    def plot(self):
        """A matplotlib Figure of the active lanes of every step (launches one after another).

        Needs matplotlib (the extra ``simt[plot]``).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("Profile.plot() needs matplotlib: install the extra "
                              "simt[plot] (pip install 'simt[plot]')") from None
        fig = Figure(figsize=(8, 3), layout="constrained")
        ax = fig.add_subplot()
        steps = range(len(self._active))
        ax.fill_between(steps, self._active, step="post", alpha=0.35)
        ax.step(steps, self._active, where="post", linewidth=1)
        for start in self._starts[1:]:
            ax.axvline(start, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("step (instruction issued)")
        ax.set_ylabel("active lanes")
        ax.set_title("Active lanes per step")
        ax.set_xlim(0, max(1, len(self._active)))
        ax.set_ylim(bottom=0)
        return fig

    def __repr__(self) -> str:
        return f"<simt.Profile: {len(self._active)} steps, {len(self._starts)} launches>"


def _annotate(t: _Table) -> str:
    """A program's text with per-line totals, in the manner of ``line_profiler``."""
    program = t.program
    source = program.source
    if source is not None:
        text, lines = source, program.source_lines or ()
    else:
        from ..isa.text import assemble
        text = program.to_text()
        lines = assemble(text).source_lines
    per_line: dict[int, list[int]] = {}
    for pc, line in enumerate(lines):
        if line is None:
            continue
        acc = per_line.setdefault(line, [0, 0, 0, 0, 0])
        for k, column in enumerate((t.issues, t.lanes, t.warps, t.loaded, t.stored)):
            acc[k] += column[pc]
    total = [sum(column) for column in (t.issues, t.lanes, t.warps, t.loaded, t.stored)]
    eff = total[1] / (WARP * total[2]) if total[2] else 0.0
    out = [f"Issues: {total[0]}   lane-instructions: {total[1]}   SIMD efficiency: {eff:.3f}"
           f"   bytes loaded: {total[3]}   bytes stored: {total[4]}", "",
           f"{'Line':>6}  {'Issues':>8}  {'Lanes':>10}  {'SIMD':>6}  {'% Issues':>8}  "
           f"{'Loaded':>9}  {'Stored':>9}  Source",
           "=" * 78]
    text_lines = text.rstrip().split("\n")
    for number, source_line in enumerate(text_lines, 1):
        acc = per_line.get(number)
        if acc is None or not acc[0]:
            out.append(f"{number:>6}  {'':>8}  {'':>10}  {'':>6}  {'':>8}  {'':>9}  {'':>9}  "
                       f"{source_line}".rstrip())
            continue
        issues, lanes, warps, loaded, stored = acc
        share = 100.0 * issues / total[0] if total[0] else 0.0
        simd = lanes / (WARP * warps) if warps else 0.0
        out.append(f"{number:>6}  {issues:>8}  {lanes:>10}  {simd:>6.3f}  {share:>8.1f}  "
                   f"{loaded:>9}  {stored:>9}  {source_line}".rstrip())
    return "\n".join(out) + "\n"
