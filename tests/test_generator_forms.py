"""The random program generator reaches the compressed value forms it is meant to test.

The differential suite only covers a value form if the generated programs make
register rows take that form.  A fixed, derandomized sample of generated cases
(no example database, generation only: the same programs on every run) is run
on the executor while counting the form of every value written to a register
row; each form of :mod:`simt.machine.values` must appear, and the programs
must agree with the reference interpreter.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import Phase, given, settings

from simt.machine import state
from simt.testing.engines import Vectorized, assert_agree, run
from simt.testing.programs import cases

SAMPLE = 60


@pytest.fixture
def forms(monkeypatch) -> Counter:
    """Counts, by class name, the values written to register and predicate rows."""
    seen: Counter = Counter()
    write, write_all = state.Row.write, state.Row.write_all

    def counting_write(self, lanes, tag, dtype, values, *args, **kwargs):
        seen[type(values).__name__] += 1
        return write(self, lanes, tag, dtype, values, *args, **kwargs)

    def counting_write_all(self, tag, dtype, values):
        seen[type(values).__name__] += 1
        return write_all(self, tag, dtype, values)

    monkeypatch.setattr(state.Row, "write", counting_write)
    monkeypatch.setattr(state.Row, "write_all", counting_write_all)
    return seen


def test_generated_programs_hold_every_value_form(forms) -> None:
    checked = []

    @settings(max_examples=SAMPLE, derandomize=True, database=None, phases=[Phase.generate],
              deadline=None)
    @given(cases(max_lanes=256, max_statements=20, chaotic=False))
    def sample(case) -> None:
        checked.append(case.block[1] * case.block[2] > 1 or case.grid[1] * case.grid[2] > 1)
        run(Vectorized(), case)

    sample()
    assert sum(checked) >= 5        # launches in 2 or 3 dimensions
    for name in ("Affine", "Tiled", "Digits", "Cut"):
        assert forms[name] > 0, (name, dict(forms))


@settings(max_examples=15, derandomize=True, database=None, phases=[Phase.generate],
          deadline=None)
@given(cases(max_lanes=256, max_statements=20, chaotic=False))
def test_sampled_tile_programs_agree_with_the_reference(case) -> None:
    assert_agree(case)
