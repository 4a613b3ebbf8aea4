"""Shared pytest configuration: Hypothesis settings profiles.

Select a profile with the environment variable ``HYPOTHESIS_PROFILE``:

* ``ci`` (default): derandomized (the same examples on every run), no
  deadline, no "explain" phase; property tests keep their launches small (a
  few hundred lanes, a few hundred steps) so the whole suite stays fast on 2
  cores.
* ``thorough``: random, many more examples, launches of thousands of lanes;
  for local runs, e.g. ``HYPOTHESIS_PROFILE=thorough pytest tests/test_differential.py``.

Tests that scale their own sizes read :data:`PROFILE`.

The differential suites (``test_differential*.py``, ``test_engines.py``) run in
debug mode (:mod:`simt.machine.debug`): the register file's invariants are
asserted on every write and every ALU call.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from simt.machine import debug

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", deadline=None, max_examples=1000, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)

_DEBUGGED = ("test_differential", "test_engines")


@pytest.fixture(autouse=True, scope="module")
def _debug_mode(request):
    """Debug mode on for the differential suites (module-scoped: Hypothesis-friendly)."""
    name = request.module.__name__.rpartition(".")[2]
    with debug.enabled_mode(name.startswith(_DEBUGGED) or debug.enabled):
        yield
