"""What a program is: types, the instruction table, programs, text and JSON forms."""

from .program import (Address, BufferOffset, INSTRUCTIONS, Instruction, PhiCoordinate, Program,
                      RegisterIndirect, RegisterIndirectComputed, Shared, SharedIndirect, make)
from .serde import program_from_json, program_to_json
from .table import BY_NAME, SPECS, Condition, Scope, Spec
from .text import assemble, disassemble, format_instruction
from .types import DType

__all__ = ["Address", "BufferOffset", "INSTRUCTIONS", "Instruction", "PhiCoordinate", "Program",
           "RegisterIndirect", "RegisterIndirectComputed", "Shared", "SharedIndirect", "make",
           "BY_NAME", "SPECS", "Condition", "Scope", "Spec", "DType", "assemble", "disassemble",
           "format_instruction", "program_from_json", "program_to_json"]
