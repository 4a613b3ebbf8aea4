"""Behaviours both engines must show, written once and run on each.

Every test here takes an ``engine`` (:data:`simt.testing.engines.ENGINES`: the
vectorized executor behind ``simt.Device`` and the scalar reference interpreter)
and checks literal expectations through the one API both provide
(:mod:`simt.testing.engines`).  Differences between the engines on random
programs are the business of tests/test_differential.py; this file also pins
that those random programs exercise every instruction of the table.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import simt
from simt.isa.table import SPECS
from simt.testing.engines import ENGINES, Engine, Launched
from simt.testing.programs import Case, cases

# Instructions the random programs may leave out, each with the reason it cannot be emitted.
NOT_GENERATED: dict[str, str] = {}


# --------------------------------------------------------------------------- coverage pin

_EMITTED: set[str] = set()


@settings(max_examples=200, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(cases(max_lanes=4, max_statements=20))
def _draw_programs(case: Case) -> None:
    _EMITTED.update(ins.spec.name for ins in case.program)


def test_random_programs_emit_every_instruction_of_the_table():
    _EMITTED.clear()
    _draw_programs()
    missing = sorted({s.name for s in SPECS} - _EMITTED - set(NOT_GENERATED))
    assert not missing, f"simt.testing.programs never emits {missing}"
    assert not set(NOT_GENERATED) & _EMITTED, "an instruction in NOT_GENERATED is emitted"
