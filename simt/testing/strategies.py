"""Hypothesis strategies for syntax-level Atlas programs.

Built from the instruction table's kinds: any spec, any field value in range,
including types, CVT pairs and conditions the spec does not support (those are
valid programs that fail only when run), every address form an instruction
accepts, and floats with NaN, ±inf and -0.0.  These programs are for text and
JSON round trips; they are not meant to run.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence

from hypothesis import strategies as st

from ..errors import ProgramError
from ..isa.program import (INSTRUCTIONS, BufferOffset, Instruction, PhiCoordinate, Program,
                           RegisterIndirect, RegisterIndirectComputed, Shared, SharedIndirect)
from ..isa.table import SPECS, Condition, Kind, Scope
from ..isa.types import DType

__all__ = ["label_names", "addresses", "field_values", "instructions", "programs"]

_U64 = st.integers(0, (1 << 64) - 1)
_U8 = st.integers(0, 255)
_REG = st.integers(0, 255)


def label_names() -> st.SearchStrategy[str]:
    """Label names as assembly text writes them: ``[A-Za-z_.$][A-Za-z0-9_.$]*``."""
    first = string.ascii_letters + "_.$"
    return st.builds(str.__add__, st.sampled_from(first),
                     st.text(first + string.digits, max_size=8))


def addresses() -> st.SearchStrategy:
    """Every address form with any field values in range (shared forms included)."""
    return st.one_of(
        st.builds(BufferOffset, _U64, _U64),
        st.builds(PhiCoordinate, _U8, _U8, _U8),
        st.builds(RegisterIndirect, _REG, st.integers(-(1 << 31), (1 << 31) - 1)),
        st.builds(RegisterIndirectComputed, _REG, _REG),
        st.builds(Shared, _U64),
        st.builds(SharedIndirect, _REG),
    )


def field_values(kind: Kind, labels: Sequence[str]) -> st.SearchStrategy:
    """Any value of one field kind; label fields draw from ``labels``."""
    if kind.limit is not None:   # small values often: reductions must stay within r0..r255
        values = st.integers(0, min(kind.limit, 257) - 1) | st.integers(0, kind.limit - 1)
        return st.none() | values if kind is Kind.OPT_PRED else values
    return {
        Kind.TYPE: st.sampled_from(DType),
        Kind.COND: st.sampled_from(Condition),
        Kind.SCOPE: st.sampled_from(Scope),
        Kind.LABEL: st.sampled_from(list(labels)),
        Kind.ADDR: addresses(),
        Kind.F64: st.floats(allow_nan=False) | st.just(math.nan),
    }[kind]


def _valid(ins: Instruction, labels: Sequence[str]) -> bool:
    """Whether ``ins`` meets Program.validate's rules across fields (e.g. shared forms)."""
    try:
        Program([ins], dict.fromkeys(labels, 0)).validate()
    except ProgramError:
        return False
    return True


def instructions(labels: Sequence[str] = ("start", "end")) -> st.SearchStrategy[Instruction]:
    """Any valid instruction; branch targets are drawn from ``labels``.

    With no labels, instructions with label fields are left out.
    """
    specs = [s for s in SPECS if labels or all(f.kind is not Kind.LABEL for f in s.fields)]

    def build(spec):
        return st.builds(INSTRUCTIONS[spec.name],
                         **{f.name: field_values(f.kind, labels) for f in spec.fields})

    return st.sampled_from(specs).flatmap(build).filter(lambda ins: _valid(ins, labels))


@st.composite
def programs(draw: st.DrawFn, max_size: int = 12) -> Program:
    """A valid program of up to ``max_size`` instructions with 0 to 4 labels.

    Labels point anywhere in ``0 .. len`` (a label at ``len`` is the end of the
    program); several may share an index.
    """
    names = draw(st.lists(label_names(), max_size=4, unique=True))
    body = draw(st.lists(instructions(names), max_size=max_size))
    labels = {name: draw(st.integers(0, len(body))) for name in names}
    return Program(body, labels)
