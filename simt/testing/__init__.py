"""Reusable test helpers: hypothesis strategies for programs and launches.

:mod:`simt.testing.strategies` draws syntax-level programs (for text and JSON
round trips); :mod:`simt.testing.programs` draws valid, terminating programs with
their launches and runs them on the scalar reference interpreter, for
differential tests of an engine against it; :mod:`simt.testing.engines` gives
the vectorized executor and the reference one host API and runs a case on both
(``assert_agree``), comparing everything each left behind.

All three build on hypothesis, which ``pip install 'simt[testing]'`` installs.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:      # say which extra provides it, not just the missing module
    raise ImportError("simt.testing needs hypothesis, which is not installed; install it "
                      "with: pip install 'simt[testing]'", name=exc.name) from exc
