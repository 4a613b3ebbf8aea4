"""simt: a NumPy-vectorized SIMT emulator for the Atlas ISA.

>>> import simt, numpy as np
>>> dev = simt.Device()
>>> prog = simt.assemble('''
...     mov_imm.u32 r4, 2
...     cvt.u64.u32 r5, r252
...     shl.u64 r5, r5, r4
...     ldg.f32 r6, [r0 + r5]
...     add.f32 r6, r6, r6
...     stg.f32 [r0 + r5], r6
... ''')
>>> buf = dev.upload(np.arange(4, dtype=np.float32))
>>> _ = dev.launch(prog, block=4, args=(buf,))
>>> dev.download(buf, np.float32)
array([0., 2., 4., 6.], dtype=float32)
"""

from .errors import (AssemblyError, BarrierDeadlockError, BarrierDivergenceError,
                     CallStackError, CheckError, DataRaceError, DeviceMemoryError,
                     DivisionByZeroError, InvalidClassError, InvalidHandleError,
                     OutOfBoundsError, ProgramError, SimtError, StepLimitError,
                     TypeMismatchError, UninitializedMemoryError, UninitializedRegisterError,
                     UnsupportedOperationError, WorkerError)
from .isa.program import Instruction, Program
from .isa.types import DType
from .device import Buffer, Device, LaunchResult
from .machine.executor import DEFAULT_MAX_STEPS
from .observe.stats import Stats
from .observe.profile import Profile
from .observe.trace import Trace
from .session import Session

__all__ = [
    "assemble", "Program", "Instruction", "DType", "Device", "Buffer", "LaunchResult", "Stats",
    "DEFAULT_MAX_STEPS", "SimtError", "ProgramError", "AssemblyError", "TypeMismatchError",
    "UninitializedRegisterError", "OutOfBoundsError", "InvalidHandleError", "InvalidClassError",
    "DivisionByZeroError", "UnsupportedOperationError", "CallStackError", "BarrierDeadlockError",
    "StepLimitError", "DeviceMemoryError", "CheckError", "DataRaceError",
    "BarrierDivergenceError", "UninitializedMemoryError", "WorkerError", "ops",
    "Session", "Trace", "Profile",
]

__version__ = "0.1.0"


def assemble(text: str) -> Program:
    """Assemble Atlas assembly text into a :class:`Program`.

    The syntax is described in the ISA reference (``docs/isa.md``): one instruction per
    line, ``name:`` labels and ``@name`` references, comments from ``;``, ``#`` or
    ``//``.  The program is validated.

    Parameters
    ----------
    text : str
        The assembly source.

    Returns
    -------
    Program
        Its instructions and labels, with each instruction's source line.

    Raises
    ------
    AssemblyError
        With 1-based ``line`` and ``column`` for anything wrong in the text.

    Examples
    --------
    >>> import simt
    >>> print(simt.assemble("mov_imm.f32 r1, 1.5   ; a comment").to_text(), end="")
    mov_imm.f32 r1, 1069547520
    """
    from .isa.text import assemble as _assemble
    return _assemble(text)

from . import ops  # noqa: E402  (the operations library builds on everything above)
