"""What a program is: types, the instruction table, programs, text and JSON forms."""

from .program import (Address, BufferOffset, INSTRUCTIONS, Instruction, PhiCoordinate, Program,
                      RegisterIndirect, RegisterIndirectComputed, Shared, SharedIndirect, make)
from .table import BY_NAME, SPECS, Condition, Scope, Spec
from .types import DType

__all__ = ["Address", "BufferOffset", "INSTRUCTIONS", "Instruction", "PhiCoordinate", "Program",
           "RegisterIndirect", "RegisterIndirectComputed", "Shared", "SharedIndirect", "make",
           "BY_NAME", "SPECS", "Condition", "Scope", "Spec", "DType"]
