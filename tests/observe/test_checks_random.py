"""Random programs of every kind (simt.testing.programs): a checked launch either raises a
CheckError or computes exactly what the unchecked launch computes."""

from __future__ import annotations

from hypothesis import given, settings

import simt
from simt.testing.engines import Vectorized, run
from simt.testing.programs import cases


@settings(max_examples=150)
@given(cases(max_lanes=128))
def test_checked_launch_is_the_unchecked_one_or_a_check_error(case):
    plain = run(Vectorized(), case)
    for model in ("gpu", "hologram"):
        checked = run(Vectorized(), case, check="all", race_model=model)
        if isinstance(checked.exception, simt.CheckError):
            continue
        assert checked == plain
