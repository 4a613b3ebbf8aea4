"""serde JSON <-> Program: the form of docs/isa.md (the codec is :mod:`simt.isa.codec`).

The form is what serde_json writes for the Rust reference's ``Program``; see
:mod:`simt.isa.codec` for the details of reading and writing.
"""

from __future__ import annotations

from typing import Any, Mapping

from .codec import write_program
from .program import Program

__all__ = ["program_to_json", "program_from_json"]


def program_to_json(program: Program) -> str:
    """The program as serde JSON text, one instruction per line.

    Raises
    ------
    ProgramError
        If the program is invalid.
    """
    return write_program(program)


def program_from_json(data: str | bytes | bytearray | Mapping[str, Any]) -> Program:
    """Load a program from serde JSON text (str or bytes) or the parsed object; validated.

    Raises
    ------
    ProgramError
        For invalid JSON or anything that is not a valid program, naming the
        instruction index (``at pc N``) where it applies.
    """
    return Program.from_json(data)
