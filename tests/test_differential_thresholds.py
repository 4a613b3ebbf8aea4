"""The fast paths that wait for large launches, taken by small ones.

Masked lane sets (spans of 1,024 lanes and more), periodic Tiles found in masks (spans
of 4,096), lent loads and forwarding (rows of 64 KiB) start at sizes the random
programs of :mod:`simt.testing.programs` (a few hundred lanes) never reach.  Here those
thresholds are set to their smallest, so the same programs take every one of these
paths, and must still agree with the scalar reference bit for bit, with the tools
counting what the statistics count.  Running the whole suite this way found a crash of
``Trace`` on a mask whose span outran its last lane (``Masked._block_counts``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import simt
from simt.machine import lanes
from simt.machine.kernels import forward, memory as memory_kernels
from simt.testing.engines import Vectorized, assert_agree, run
from simt.testing.programs import Case, cases


@pytest.fixture(autouse=True, scope="module")
def smallest_thresholds():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lanes, "MASK_MIN_SPAN", 1)
        patch.setattr(lanes, "PERIODIC_MIN_SPAN", 1)
        patch.setattr(forward, "LEND_MIN_BYTES", 0)
        patch.setattr(memory_kernels, "LEND_MIN_BYTES", 0)
        yield


@settings(max_examples=300)
@given(cases(max_lanes=256, max_statements=20))
def test_executor_agrees_with_reference(case: Case) -> None:
    assert_agree(case)


@settings(max_examples=100)
@given(cases(max_lanes=256, max_statements=20, chaotic=False))
def test_trace_and_profile_count_what_the_statistics_count(case: Case) -> None:
    trace, profile = simt.Trace(), simt.Profile()
    outcome = run(Vectorized(), case, observers=[trace, profile])
    if outcome.error is None:
        assert len(trace) == outcome.stats["steps"]
        assert sum(r.lanes for r in trace) == outcome.stats["lane_instructions"]
        assert sum(row.warp_instructions for row in profile.rows()) == \
            outcome.stats["warp_instructions"]
