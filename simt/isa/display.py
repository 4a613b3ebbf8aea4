"""The REF Display text of instructions, addresses and programs, driven by the instruction table.

An instruction's text is its spec's ``head`` template (``"set{cond}.{ty}"``) with the
head fields filled in, then the fields named in ``operands``, comma-separated; every
field is written by the syntax of its :class:`~simt.isa.table.Kind` (:data:`FORMATS`).
Addresses are written by the form named by their ``serde`` variant
(:data:`ADDRESS_FORMATS`).  The assembler (:mod:`simt.isa.text`) reads the same syntax.

This module sits below the instruction classes: it reads instructions and addresses
through their ``spec`` / ``serde`` and attributes only, so :mod:`simt.isa.program` can
print with it and the assembler can import the program module.
"""

from __future__ import annotations

import math
import re
import string
from decimal import Decimal
from typing import Any, Callable

from ..errors import ProgramError
from .table import SPECS, Kind, Spec

__all__ = ["LABEL_NAME", "FORMATS", "USAGES", "ADDRESS_FORMATS", "HEAD_FIELDS", "format_float",
           "format_address", "format_instruction", "usage", "disassemble"]

LABEL_NAME = re.compile(r"[A-Za-z_.$][A-Za-z0-9_.$]*")
"""The syntax of a label name."""


def format_float(x: float) -> str:
    """``x`` as Rust's ``{}`` Display prints an f64.

    Shortest round-trip digits, never an exponent: ``1e-10`` -> ``0.0000000001``,
    ``1.0`` -> ``1``, ``-0.0`` -> ``-0``; ``NaN``, ``inf`` and ``-inf``.
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = format(Decimal(repr(abs(x))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("-" if math.copysign(1.0, x) < 0 else "") + text


ADDRESS_FORMATS: dict[str, Callable[[Any], str]] = {
    "BufferOffset": lambda a: f"[buf{a.handle} + {a.offset}]",
    "PhiCoordinate": lambda a: f"[Φ({a.class_}, {a.page}, {a.byte})]",
    "RegisterIndirectComputed": lambda a: f"[r{a.handle_reg} + r{a.offset_reg}]",
    "RegisterIndirect": lambda a: f"[r{a.base} {'-' if a.offset < 0 else '+'} {abs(a.offset)}]",
    "SharedIndirect": lambda a: f"[shared + r{a.offset_reg}]",
    "Shared": lambda a: f"[shared + {a.offset}]" if a.offset else "[shared]",
}
"""Address variant (``addr.serde``) -> its text."""


def format_address(addr: Any) -> str:
    """The REF Display text of an address, e.g. ``[r1 + r0]`` or ``[Φ(5, 12, 200)]``."""
    return ADDRESS_FORMATS[addr.serde](addr)


FORMATS: dict[Kind, Callable[[Any], str]] = {
    Kind.TYPE: lambda t: t.text,
    Kind.COND: lambda c: c.text,
    Kind.SCOPE: lambda s: s.text,
    Kind.OPT_PRED: lambda p: "" if p is None else f".p{p}",
    Kind.REG: lambda r: f"r{r}",
    Kind.PRED: lambda p: f"p{p}",
    Kind.LABEL: lambda name: f"@{name}",
    Kind.ADDR: format_address,
    Kind.U8: str,
    Kind.U16: str,
    Kind.U32: str,
    Kind.U64: str,
    Kind.F64: format_float,
}
"""How a field of each kind is written."""

USAGES: dict[Kind, str] = {Kind.OPT_PRED: "[.p<{}>]", Kind.REG: "r<{}>", Kind.PRED: "p<{}>",
                           Kind.LABEL: "@<{}>"}
"""How :func:`usage` shows a field of a kind (``{}`` = the field's name); others ``<{}>``."""
assert set(FORMATS) == set(Kind)

HEAD_FIELDS: dict[str, tuple[str, ...]] = {
    spec.name: tuple(name for _, name, _, _ in string.Formatter().parse(spec.head)
                     if name is not None) for spec in SPECS}
"""Serde name -> the fields written in the head, in order (``("cond", "ty")`` for SETcc)."""


def _template(spec: Spec) -> str:
    operands = ", ".join(f"{{{name}}}" for name in spec.operands)
    return f"{spec.head} {operands}" if operands else spec.head


_PLANS: dict[str, tuple[str, tuple[tuple[str, Callable[[Any], str]], ...]]] = {
    spec.name: (_template(spec), tuple((name, FORMATS[spec.kind_of(name)])
                                       for name in (*HEAD_FIELDS[spec.name], *spec.operands)))
    for spec in SPECS}


def usage(spec: Spec) -> str:
    """The text form of a spec with placeholders, e.g. ``add.<ty> r<dst>, r<src1>, r<src2>``."""

    def show(name: str) -> str:
        return USAGES.get(spec.kind_of(name), "<{}>").format(name.rstrip("_"))

    head = spec.head.format(**{name: show(name) for name in HEAD_FIELDS[spec.name]})
    operands = ", ".join(map(show, spec.operands))
    return f"{head} {operands}" if operands else head


def format_instruction(ins: Any) -> str:
    """The REF Display text of one instruction, e.g. ``setlt.f32 p0, r1, r2``."""
    template, plan = _PLANS[ins.spec.name]
    if not plan:
        return template
    return template.format_map({name: write(getattr(ins, name)) for name, write in plan})


def disassemble(program: Any) -> str:
    """The program as assembly text that :func:`simt.assemble` reads back to an equal program.

    One instruction per line, each label as ``name:`` on its own line before the
    instruction it points at (labels sharing an index in name order; labels at
    ``len(program)`` at the end).

    Raises
    ------
    ProgramError
        If the program is invalid or a label name cannot be written as text.
    """
    program.validate()
    at: dict[int, list[str]] = {}
    for name, index in sorted(program.labels.items()):
        if not LABEL_NAME.fullmatch(name):
            raise ProgramError(f"label {name!r} is not a valid label name for assembly text")
        at.setdefault(index, []).append(name)
    lines: list[str] = []
    for pc in range(len(program) + 1):
        lines += [f"{name}:" for name in at.get(pc, ())]
        if pc < len(program):
            lines.append(format_instruction(program[pc]))
    return "".join(line + "\n" for line in lines)
