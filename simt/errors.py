"""The ``SimtError`` tree (contract §5).

Every error a user can cause is a :class:`SimtError`.  Each carries where it
happened: ``pc``, ``instruction`` (REF Display text), ``source_line`` (1-based,
when the program came from text), ``lane`` (global lane id), ``block`` and
``thread`` ((x, y, z) tuples) and ``lanes_faulting`` (how many executing lanes
failed); attributes that do not apply are ``None``.
"""

from __future__ import annotations

__all__ = [
    "SimtError", "ProgramError", "AssemblyError", "TypeMismatchError",
    "UninitializedRegisterError", "OutOfBoundsError", "InvalidHandleError",
    "InvalidClassError", "DivisionByZeroError", "UnsupportedOperationError",
    "CallStackError", "BarrierDeadlockError", "StepLimitError",
    "DeviceMemoryError", "SimtTypeError", "SimtValueError", "CheckError", "DataRaceError",
    "BarrierDivergenceError", "UninitializedMemoryError", "WorkerError",
]

_WHERE = ("pc", "instruction", "source_line", "lane", "block", "thread", "lanes_faulting")


class SimtError(Exception):
    """Base class of every error raised by simt.

    Parameters
    ----------
    message
        What went wrong, in one line.  Location details given as keyword
        arguments are appended to it (``at pc 3 (line 4) `add.f32 ...`, lane 7``).
    pc, instruction, source_line, lane, block, thread, lanes_faulting
        Where it happened; ``None`` when not applicable.
    """

    def __init__(self, message: str, *, pc: int | None = None,
                 instruction: str | None = None, source_line: int | None = None,
                 lane: int | None = None, block: tuple[int, int, int] | None = None,
                 thread: tuple[int, int, int] | None = None,
                 lanes_faulting: int | None = None) -> None:
        self.reason = message
        self.pc = pc
        self.instruction = instruction
        self.source_line = source_line
        self.lane = lane
        self.block = block
        self.thread = thread
        self.lanes_faulting = lanes_faulting
        super().__init__(self._compose())

    # Errors cross process boundaries (pickle, copy.deepcopy) whole: an exception
    # pickles as ``cls(*args)`` by default, which loses the attributes and cannot
    # rebuild subclasses whose constructors take more than the message.
    def __reduce__(self):
        return _rebuild, (type(self), self.args, dict(self.__dict__))

    def _key(self) -> tuple:
        return (type(self), self.args, tuple(sorted(self.__dict__.items(), key=lambda kv: kv[0])))

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with the same message and attributes."""
        if not isinstance(other, SimtError):
            return NotImplemented
        if self is other:
            return True
        try:
            return bool(self._key() == other._key())
        except (TypeError, ValueError):     # an attribute without a plain truth value
            return False

    def __hash__(self) -> int:
        try:
            return hash(self._key())
        except TypeError:                   # an unhashable attribute: hash what is left
            return hash((type(self), self.args))

    def _compose(self) -> str:
        parts = [self.reason]
        if self.pc is not None:
            where = f"at pc {self.pc}"
            if self.source_line is not None:
                where += f" (line {self.source_line})"
            if self.instruction is not None:
                where += f" `{self.instruction}`"
            parts.append(where)
        if self.lane is not None:
            who = f"lane {self.lane}"
            if self.block is not None and self.thread is not None:
                who += f" (block {self.block}, thread {self.thread})"
            if self.lanes_faulting is not None and self.lanes_faulting > 1:
                who += f", {self.lanes_faulting} lanes faulting"
            parts.append(who)
        return ", ".join(parts)

    def located(self, **where) -> "SimtError":
        """Fill in location attributes that are still ``None`` and refresh the message."""
        for key, value in where.items():
            if key not in _WHERE:
                raise KeyError(key)
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.args = (self._compose(),)
        return self


def _rebuild(cls: type, args: tuple, state: dict) -> SimtError:
    """Unpickle a :class:`SimtError`: its class, message and attributes, no constructor call."""
    error = BaseException.__new__(cls)   # cls.__new__ may be a base such as MemoryError's
    error.args = args
    error.__dict__.update(state)
    return error


class ProgramError(SimtError):
    """An invalid program (from JSON, built by hand, or failing validation)."""


class AssemblyError(ProgramError):
    """Something wrong in assembly text; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, *, line: int, column: int, **where) -> None:
        self.line = line
        self.column = column
        where.setdefault("source_line", line)
        super().__init__(message, **where)

    def _compose(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class TypeMismatchError(SimtError):
    """A register read with another type than its tag."""


class UninitializedRegisterError(SimtError):
    """A register or predicate read before it was ever written."""


class OutOfBoundsError(SimtError, IndexError):
    """Any bounds failure: buffers, boundary classes, pools, shared memory, host copies."""


class InvalidHandleError(SimtError):
    """An unknown or freed buffer or pool handle."""


class InvalidClassError(SimtError):
    """A resonance class >= 96."""


class DivisionByZeroError(SimtError, ZeroDivisionError):
    """Integer division by zero."""


class UnsupportedOperationError(SimtError, TypeError):
    """A type, CVT pair or condition an instruction does not support."""


class CallStackError(SimtError):
    """Call depth above 256, or RET on an empty call stack."""


class BarrierDeadlockError(SimtError):
    """A block can neither run nor release its barrier."""


class StepLimitError(SimtError):
    """The launch issued more instructions than ``max_steps``."""


class DeviceMemoryError(SimtError, MemoryError):
    """An allocation would exceed the device's ``memory_limit``."""


class SimtTypeError(SimtError, TypeError):
    """A wrong Python argument type at the API."""


class SimtValueError(SimtError, ValueError):
    """A wrong Python argument value at the API."""


class CheckError(SimtError):
    """A hazard found by a check a launch asked for (``check=``); see docs/semantics.md.

    Besides the usual location it has ``space`` (``"global"``, ``"shared"``,
    ``"pool"`` or ``"boundary"``), ``buffer`` (buffer or pool handle, 0 for the
    boundary pool, ``None`` for shared memory), ``address`` (the lowest byte
    offset concerned in that buffer, pool or block's shared memory) and, for the
    other access of a race or a barrier, ``other_pc``, ``other_lane``,
    ``other_block`` and ``other_instruction``; ``kind`` is ``"RAW"``, ``"WAR"``
    or ``"WAW"`` for races.  Those that do not apply are ``None``.
    """

    DETAILS = ("space", "buffer", "address", "kind", "other_pc", "other_lane", "other_block",
               "other_instruction")

    def __init__(self, message: str, *, space: str | None = None, buffer: int | None = None,
                 address: int | None = None, kind: str | None = None,
                 other_pc: int | None = None, other_lane: int | None = None,
                 other_block: tuple[int, int, int] | None = None,
                 other_instruction: str | None = None, **where) -> None:
        self.space = space
        self.buffer = buffer
        self.address = address
        self.kind = kind
        self.other_pc = other_pc
        self.other_lane = other_lane
        self.other_block = other_block
        self.other_instruction = other_instruction
        super().__init__(message, **where)


class DataRaceError(CheckError):
    """Two accesses of different lanes to one byte, one a store, that nothing orders."""


class BarrierDivergenceError(CheckError):
    """A barrier released with its block's lanes at different pcs, or after a lane exited."""


class UninitializedMemoryError(CheckError):
    """A load of a byte never written since it was allocated (or since the block began)."""


class WorkerError(SimtError):
    """A worker process or executor task of a parallel launch died or failed."""
