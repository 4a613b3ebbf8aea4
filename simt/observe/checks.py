"""The ``check=`` and ``race_model=`` arguments of a launch, and the checkers they ask for.

Each check is one observer module beside this one: :mod:`.racecheck`,
:mod:`.synccheck` and :mod:`.initcheck` (what each finds: docs/semantics.md,
"Checks").
"""

from __future__ import annotations

from typing import Any

from ..errors import SimtValueError
from ..machine.events import Observer

__all__ = ["CHECKS", "RACE_MODELS", "parse_checks", "checkers"]

CHECKS = ("race", "sync", "init")
RACE_MODELS = ("gpu", "hologram")

def parse_checks(check: Any, race_model: Any) -> frozenset[str]:
    """The set of checks ``check`` names (``None``, a name, ``"all"`` or an iterable of names).

    Raises ``SimtValueError`` (a ``ValueError``) naming the argument for anything else,
    and for a ``race_model`` other than ``"gpu"`` or ``"hologram"``, whether or not a
    race check was asked for.
    """
    if not isinstance(race_model, str) or race_model not in RACE_MODELS:
        raise SimtValueError(f"race_model must be 'gpu' or 'hologram', got {race_model!r}")
    if check is None:
        return frozenset()
    names = [check] if isinstance(check, str) else check
    try:
        names = list(names)
    except TypeError:
        raise SimtValueError(f"check must be None, a check name or an iterable of names "
                             f"({', '.join(CHECKS)}, all), got {check!r}") from None
    chosen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or name not in CHECKS + ("all",):
            raise SimtValueError(f"check: unknown check {name!r}; choose from "
                                 f"{', '.join(CHECKS)} or all")
        chosen.update(CHECKS if name == "all" else (name,))
    return frozenset(chosen)

def checkers(checks: frozenset[str], race_model: str) -> list[Observer]:
    """New observers for ``checks``, in the order their hazards rank (race, then init)."""
    out: list[Observer] = []
    if "race" in checks:
        from .racecheck import RaceCheck
        out.append(RaceCheck(race_model))
    if "sync" in checks:
        from .synccheck import SyncCheck
        out.append(SyncCheck())
    if "init" in checks:
        from .initcheck import InitCheck
        out.append(InitCheck())
    return out
