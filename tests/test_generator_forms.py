"""The random program generator reaches the compressed value forms it is meant to test.

The differential suite only covers a value form if the generated programs make
register rows take that form.  A fixed, derandomized sample of generated cases
(no example database, generation only: the same programs on every run) is run
on the executor while counting the form of every value written to a register
or predicate row (and the loads that leave a row viewing device memory), and the
comparisons made on digits values and on two varying values (a partner
``lane.x ^ 2^j`` against ``lane.x``); each form of
:mod:`simt.machine.values` must appear, and rows kept packed (``Row.packed``) over
tiles and over index arrays.  Tile programs (2-D and 3-D launches
computing tile coordinates) then run on both engines, which must agree.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import Phase, given, settings

from simt.machine import affine, state
from simt.machine.kernels import memory as memory_kernels
from simt.machine.values import Digits
from simt.testing.engines import Vectorized, assert_agree, run
from simt.testing.programs import cases

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "thorough"
#: Derandomized samples still depend on what Hypothesis generated earlier in the process
#: (after tests/test_differential_shapes.py the same 40 draws held no digits-to-Cut
#: comparison); 80 draws hold every form in either order.
SAMPLE = 80


@pytest.fixture
def forms(monkeypatch) -> Counter:
    """Counts, by class name, the values written to register and predicate rows, and
    (``"Digits to Cut"``, ...) what comparisons of digits values answered."""
    seen: Counter = Counter()
    # comparisons of digits values and of two varying values take affine's general path
    write, write_all, compare = state.Row.write, state.Row.write_all, affine._compare

    def counting_write(self, lanes, tag, dtype, values, *args, **kwargs):
        seen[type(values).__name__] += 1
        write(self, lanes, tag, dtype, values, *args, **kwargs)
        if self.packed:
            seen[f"packed over {type(lanes).__name__}"] += 1

    def counting_write_all(self, tag, dtype, values, *args):
        seen[type(values).__name__] += 1
        return write_all(self, tag, dtype, values, *args)

    def counting_compare(ty, cond, a, b, *bounds):
        got = compare(ty, cond, a, b, *bounds)
        if Digits in (type(a), type(b)):
            seen[f"Digits to {type(got).__name__}"] += 1
        if all(getattr(x, "parts", None) and x.parts() and any(x.parts()[1]) for x in (a, b)):
            seen[f"two varying to {type(got).__name__}"] += 1
        return got

    lend = state.Row.lend

    def counting_lend(self, lanes, tag, view, waiting):
        done = lend(self, lanes, tag, view, waiting)
        seen["lent view"] += done
        return done

    monkeypatch.setattr(state.Row, "lend", counting_lend)
    monkeypatch.setattr(memory_kernels, "LEND_MIN_BYTES", 0)   # small launches lend too
    monkeypatch.setattr(state.Row, "write", counting_write)
    monkeypatch.setattr(state.Row, "write_all", counting_write_all)
    monkeypatch.setattr(affine, "_compare", counting_compare)
    return seen


def test_generated_programs_hold_every_value_form(forms) -> None:
    @settings(max_examples=SAMPLE, derandomize=True, database=None, phases=[Phase.generate],
              deadline=None)
    @given(cases(max_lanes=256, max_statements=20, chaotic=False, tiles=True))
    def sample(case) -> None:
        assert case.lanes >= 64 and case.block[0] > 1 and case.block[1] > 1
        run(Vectorized(), case)

    sample()
    for name in ("Affine", "Tiled", "Digits", "Const", "Cut", "Digits to Cut", "Digits to Const",
                 "two varying to Cut", "packed over Tiles", "packed over LaneSet",
                 "lent view"):
        assert forms[name] > 0, (name, dict(forms))


@settings(max_examples=400 if THOROUGH else 40)
@given(cases(max_lanes=256, max_statements=20, tiles=True))
def test_tile_programs_agree_with_the_reference(case) -> None:
    assert_agree(case)
