"""Shared pytest configuration: Hypothesis settings profiles.

Select a profile with the environment variable ``HYPOTHESIS_PROFILE``:

* ``ci`` (default): derandomized (the same examples on every run), no
  deadline, no "explain" phase; property tests keep their launches small (a
  few hundred lanes, a few hundred steps) so the whole suite stays fast on 2
  cores.
* ``thorough``: random, many more examples, launches of thousands of lanes;
  for local runs, e.g. ``HYPOTHESIS_PROFILE=thorough pytest tests/test_differential.py``.

Tests that scale their own sizes read :data:`PROFILE`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", deadline=None, max_examples=1000, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
