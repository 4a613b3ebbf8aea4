"""``simt debug``: an interactive debugger over a :class:`~simt.Session`.

Commands (one per line; from a terminal or a pipe, so sessions can be scripted)::

    step [N]            issue N instructions (default 1)
    break PC|LABEL|:LINE   stop before that pc (a label's pc; the first instruction
                        on or after source line LINE)
    continue            run to the next breakpoint or the end
    print rN|pN [LANE]  a register or predicate of one lane (a global lane id) or
                        of every lane of the piece
    lanes               the lanes of the next instruction, and every lane's pc
    quit                leave (so does the end of the input)

After each command the debugger prints the next instruction, as
``pc 7 (line 12): add.f32 r6, r6, r6``.  A kernel error is printed and the
debugger goes on, stopped before the failing instruction.
"""

from __future__ import annotations

import cmd
import sys
from typing import TextIO

import numpy as np

from .errors import SimtError
from .isa.types import DType
from .session import Session

__all__ = ["Debugger", "debug", "ranges"]

_ISA_NAMES = {np.dtype(t.numpy): t.text for t in DType}
_SHOW_RANGES = 8


def ranges(ids: np.ndarray) -> str:
    """Ascending lane ids as runs: ``"0-3, 8, 10-12"`` (long lists shortened)."""
    ids = np.asarray(ids, np.int64)
    if ids.size == 0:
        return "none"
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts = np.r_[ids[0], ids[breaks + 1]]
    ends = np.r_[ids[breaks], ids[-1]]
    parts = [f"{a}" if a == b else f"{a}-{b}"
             for a, b in zip(starts[:_SHOW_RANGES].tolist(), ends[:_SHOW_RANGES].tolist())]
    if starts.size > _SHOW_RANGES:
        parts.append(f"... ({starts.size - _SHOW_RANGES} more runs)")
    return ", ".join(parts)


class Debugger(cmd.Cmd):
    """The ``simt debug`` command loop over ``session`` (see the module docstring)."""

    doc_header = "Commands (help COMMAND for more):"

    def __init__(self, session: Session, stdin: TextIO | None = None,
                 stdout: TextIO | None = None) -> None:
        stdin = sys.stdin if stdin is None else stdin
        super().__init__(stdin=stdin, stdout=sys.stdout if stdout is None else stdout)
        interactive = stdin.isatty() if hasattr(stdin, "isatty") else False
        self.use_rawinput = interactive and stdin is sys.stdin
        self.prompt = "(simt) " if interactive else ""
        self.session = session
        self.breakpoints: set[int] = set()

    # ------------------------------------------------------------------ the loop
    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")

    def preloop(self) -> None:
        self.show()

    def postcmd(self, stop: bool, line: str) -> bool:
        if not stop:
            self.show()
        self.stdout.flush()
        return stop

    def emptyline(self) -> bool:
        return False            # an empty line repeats nothing

    def default(self, line: str) -> bool:
        self.say(f"unknown command {line.split()[0]!r}; commands: step, break, continue, "
                 "print, lanes, quit (help for more)")
        return False

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except SimtError as error:      # kernel errors and bad arguments alike
            self.say(f"error: {type(error).__name__}: {error}")
            return False
        except KeyboardInterrupt:
            self.say("interrupted: the launch cannot go on")
            return False

    def show(self) -> None:
        """Print the next instruction (or that the launch ended)."""
        s = self.session
        if s.finished:
            self.say(f"finished after {s.issued} instructions")
            return
        pc = s.pc
        line = s.program.source_line(pc)
        where = f"pc {pc}" if line is None else f"pc {pc} (line {line})"
        self.say(f"{where}: {s.program[pc]}")

    # ------------------------------------------------------------------ commands
    def do_step(self, arg: str) -> bool:
        """step [N]: issue N instructions (default 1)."""
        n = self._int(arg, 1, "step")
        if n is not None:
            self.session.step(n)
        return False

    def do_continue(self, arg: str) -> bool:
        """continue: run to the next breakpoint, or to the end."""
        self.session.run(self.breakpoints)
        return False

    def do_break(self, arg: str) -> bool:
        """break PC|LABEL|:LINE: stop before that instruction (no argument: list them)."""
        arg = arg.strip()
        program = self.session.program
        if not arg:
            self.say("breakpoints: " + (", ".join(map(str, sorted(self.breakpoints)))
                                         or "none"))
            return False
        if arg.startswith(":"):
            line = self._int(arg[1:], None, "break :LINE")
            if line is None:
                return False
            lines = program.source_lines or ()
            pc = next((pc for pc, at in enumerate(lines) if at is not None and at >= line),
                      None)
            if pc is None:
                self.say(f"no instruction on or after line {line}")
                return False
        elif arg in program.labels:
            pc = program.labels[arg]
        elif arg.isdigit():
            pc = int(arg)
        else:
            self.say(f"break: {arg!r} is neither a pc nor a label of the program")
            return False
        if not 0 <= pc < len(program):
            self.say(f"no instruction at pc {pc} (the program has {len(program)})")
            return False
        self.breakpoints.add(pc)
        line = program.source_line(pc)
        self.say(f"breakpoint at pc {pc}" + ("" if line is None else f" (line {line})"))
        return False

    def do_print(self, arg: str) -> bool:
        """print rN|pN [LANE]: register or predicate N of global lane LANE, or of every lane."""
        words = arg.split()
        if not 1 <= len(words) <= 2 or words[0][:1].lower() not in ("r", "p") \
                or not words[0][1:].isdigit():
            self.say("usage: print rN|pN [LANE]")
            return False
        name = words[0].lower()
        s = self.session
        values = s.register(name) if name[0] == "r" else s.predicate(name)
        kind = "bool" if name[0] == "p" else _ISA_NAMES.get(values.dtype, str(values.dtype))
        if values.mask.all():
            kind = "never written"
        ids = s.lane_ids
        if len(words) == 2:
            lane = self._int(words[1], None, "print LANE")
            if lane is None:
                return False
            if not ids[0] <= lane <= ids[-1]:
                self.say(f"lane {lane} is not in the piece being run (lanes {ranges(ids)})")
                return False
            k = lane - int(ids[0])
            value = "--" if values.mask[k] else repr(values.data[k].item())
            self.say(f"{name} lane {lane}: {value} ({kind})")
            return False
        with np.printoptions(threshold=64, linewidth=100):
            shown = str(values)
        self.say(f"{name} ({kind}) lanes {ranges(ids)}: {shown}")
        return False

    def do_lanes(self, arg: str) -> bool:
        """lanes: the lanes of the next instruction, and the lanes at each pc."""
        s = self.session
        if not s.finished:
            self.say(f"next: pc {s.pc}, {len(s.lanes)} lanes: {ranges(s.lanes)}")
        ids, pcs = s.lane_ids, s.lane_pcs
        for pc in np.unique(pcs).tolist():
            at = ids[pcs == pc]
            if pc < 0:
                self.say(f"exited: {at.size} lanes: {ranges(at)}")
            else:
                self.say(f"pc {pc} ({s.program[pc]}): {at.size} lanes: {ranges(at)}")
        return False

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger."""
        return True

    def do_EOF(self, arg: str) -> bool:
        """End of input: quit."""
        return True

    do_s, do_b, do_c, do_p, do_q, do_exit = do_step, do_break, do_continue, do_print, do_quit, \
        do_quit

    def _int(self, text: str, default: int | None, what: str) -> int | None:
        text = text.strip()
        if not text and default is not None:
            return default
        try:
            value = int(text, 0)
        except ValueError:
            self.say(f"{what}: expected a number, got {text!r}")
            return None
        if value < 0:
            self.say(f"{what}: expected a number >= 0, got {value}")
            return None
        return value


def debug(session: Session, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the debugger on ``session`` until ``quit`` or the end of input; return 0."""
    Debugger(session, stdin, stdout).cmdloop()
    return 0
