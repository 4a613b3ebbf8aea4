"""serde JSON <-> Program (the form of docs/isa.md), driven by the instruction table.

The form is what serde_json writes for the Rust reference's ``Program``:
``{"instructions": [...], "labels": {name: index}}`` with externally tagged
enums — ``{"ADD": {"ty": "F32", "dst": 0, "src1": 1, "src2": 2}}``, unit
variants as bare strings (``"EXIT"``), registers, predicates and immediates as
bare integers, labels as strings, ``BRA.pred`` ``null`` when unconditional.
Fields are written in the table's serde order under :attr:`Field.serde` names
(``class_`` -> ``class``).  The extension addresses are the variants
``{"Shared": {"offset": N}}`` and ``{"SharedIndirect": {"offset_reg": R}}``.

Non-finite floats (UnityTest's epsilon): NaN is written as ``null`` like
serde_json does, and ``null`` reads as the canonical NaN (NaN payloads and signs
are not kept).  serde_json would also write ±inf as ``null``; we write
``1e999`` / ``-1e999`` instead, valid JSON that Python and JavaScript read back
as ±inf, so infinities survive a round trip.  (serde_json itself rejects both
``null`` and ``1e999`` for an f64, so no choice is readable by the reference.)

Reading accepts exactly this form: unknown variants, missing or extra fields
(``BRA.pred`` may be omitted, as serde allows for an ``Option``), wrong types,
booleans for integers, out-of-range values, duplicate keys and non-standard
JSON constants (``NaN``, ``Infinity``) all raise :class:`ProgramError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any, Callable, Mapping

from ..errors import ProgramError
from .program import ADDRESS_CLASSES, INSTRUCTIONS, Instruction, Program
from .table import BY_NAME, Condition, Kind, Scope, Spec
from .types import DType

__all__ = ["program_to_json", "program_from_json"]


# --------------------------------------------------------------------------- writing

def _address_to_json(addr: Any) -> dict[str, dict[str, int]]:
    return {addr.serde: {f.name.rstrip("_"): getattr(addr, f.name) for f in fields(addr)}}


_TO_JSON: dict[Kind, Callable[[Any], Any]] = {
    Kind.TYPE: lambda t: t.serde,
    Kind.COND: lambda c: c.name,
    Kind.SCOPE: lambda s: s.name,
    Kind.ADDR: _address_to_json,
}


def _same(value: Any) -> Any:
    """Registers, predicates, immediates, floats and labels are written as they are."""
    return value


def _instruction_to_json(ins: Instruction) -> Any:
    spec = ins.spec
    if not spec.fields:
        return spec.name
    return {spec.name: {f.serde: _TO_JSON.get(f.kind, _same)(getattr(ins, f.name))
                        for f in spec.fields}}


def _dump(value: Any) -> str:
    """Compact JSON with ``", "`` / ``": "`` separators; NaN as null, ±inf as ±1e999."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return "null" if math.isnan(value) else ("1e999" if value > 0 else "-1e999")
    return json.dumps(value)


def program_to_json(program: Program) -> str:
    """The program as serde JSON text, one instruction per line.

    Raises
    ------
    ProgramError
        If the program is invalid.
    """
    program.validate()
    items = ",\n  ".join(_dump(_instruction_to_json(ins)) for ins in program)
    instructions = f"[\n  {items}]" if items else "[]"
    return f'{{"instructions": {instructions},\n "labels": {_dump(dict(program.labels))}}}'


# --------------------------------------------------------------------------- reading

class _Where:
    """Where in the document a value sits, for error messages."""

    def __init__(self, pc: int | None, path: str) -> None:
        self.pc = pc
        self.path = path

    def __truediv__(self, key: str) -> "_Where":
        return _Where(self.pc, f"{self.path}.{key}")

    def error(self, problem: str) -> ProgramError:
        return ProgramError(f"{self.path}: {problem}", pc=self.pc)


def _fields(obj: Any, where: _Where, required: list[str], optional: tuple[str, ...] = ()
            ) -> Mapping[str, Any]:
    """Check ``obj`` is an object with the required keys, optional ones and no others."""
    if not isinstance(obj, Mapping):
        raise where.error(f"expected an object, got {_show(obj)}")
    missing = [key for key in required if key not in obj]
    extra = [key for key in obj if key not in required and key not in optional]
    if missing:
        raise where.error(f"missing field {missing[0]!r}")
    if extra:
        raise where.error(f"unknown field {extra[0]!r}")
    return obj


def _show(value: Any) -> str:
    """A value as short JSON text for a message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):   # not JSON: a parsed object built by hand
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _variant(obj: Any, where: _Where, names: Mapping[str, Any], what: str) -> tuple[str, Any]:
    """An externally tagged enum value: ``(name, body)``; unit variants have body ``None``."""
    if isinstance(obj, str):
        name, body = obj, None
    elif isinstance(obj, Mapping) and len(obj) == 1:
        ((name, body),) = obj.items()
    else:
        raise where.error(f"expected {what} like {{\"Name\": {{...}}}}, got {_show(obj)}")
    if not isinstance(name, str) or name not in names:
        raise where.error(f"unknown {what} {_show(name)}")
    return name, body


def _enum(members: Mapping[str, Any], what: str) -> Callable[[Any, _Where], Any]:
    def read(value: Any, where: _Where) -> Any:
        if not isinstance(value, str) or value not in members:
            raise where.error(f"unknown {what} {_show(value)}")
        return members[value]
    return read


_ADDRESSES = {cls.serde: cls for cls in ADDRESS_CLASSES}


def _address_from_json(value: Any, where: _Where) -> Any:
    name, body = _variant(value, where, _ADDRESSES, "address")
    cls = _ADDRESSES[name]
    keys = {f.name.rstrip("_"): f.name for f in fields(cls)}
    where = where / name
    body = _fields(body, where, list(keys))
    return cls(**{attr: _plain(body[key], where / key) for key, attr in keys.items()})


def _float_from_json(value: Any, where: _Where) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"expected a number or null, got {_show(value)}")
    try:
        return float(value)
    except OverflowError:
        raise where.error(f"{_show(value)} is out of range for f64") from None


def _plain(value: Any, where: _Where) -> Any:
    """Integers and label names pass as they are; ``Program.validate`` checks them.

    Integers far beyond every field's range (possible in a parsed object built
    by hand) are refused here, so that no message has to print them.
    """
    if isinstance(value, int) and value.bit_length() > 64:
        raise where.error(f"integer of {value.bit_length()} bits is out of range")
    return value


_FROM_JSON: dict[Kind, Callable[[Any, _Where], Any]] = {
    Kind.TYPE: _enum({t.serde: t for t in DType}, "type"),
    Kind.COND: _enum(Condition.__members__, "condition"),
    Kind.SCOPE: _enum(Scope.__members__, "memory scope"),
    Kind.ADDR: _address_from_json,
    Kind.F64: _float_from_json,
}


def _instruction_from_json(item: Any, pc: int) -> Instruction:
    where = _Where(pc, f"instructions[{pc}]")
    name, body = _variant(item, where, BY_NAME, "instruction")
    spec: Spec = BY_NAME[name]
    where = where / name
    if not spec.fields:
        if body is not None:
            raise where.error(f"{name} has no fields; write it as \"{name}\"")
        return INSTRUCTIONS[name]()
    required = [f.serde for f in spec.fields if f.kind is not Kind.OPT_PRED]
    optional = tuple(f.serde for f in spec.fields if f.kind is Kind.OPT_PRED)
    body = _fields(body, where, required, optional)
    return INSTRUCTIONS[name](**{
        f.name: _FROM_JSON.get(f.kind, _plain)(body[f.serde], where / f.serde)
        for f in spec.fields if f.serde in body})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def program_from_json(data: str | bytes | bytearray | Mapping[str, Any]) -> Program:
    """Load a program from serde JSON text (str or bytes) or the parsed object; validated.

    Raises
    ------
    ProgramError
        For invalid JSON or anything that is not a valid program, naming the
        instruction index (``at pc N``) where it applies.
    """
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data, object_pairs_hook=_no_duplicates,
                              parse_constant=_no_constant)
        except (ValueError, RecursionError) as error:
            raise ProgramError(f"invalid JSON: {error}") from None
    top = _Where(None, "program")
    data = _fields(data, top, ["instructions", "labels"])
    instructions, labels = data["instructions"], data["labels"]
    if not isinstance(instructions, (list, tuple)):
        raise (top / "instructions").error(f"expected a list, got {_show(instructions)}")
    if not isinstance(labels, Mapping):
        raise (top / "labels").error(f"expected an object, got {_show(labels)}")
    labels = {name: _plain(index, top / "labels") for name, index in labels.items()}
    return Program([_instruction_from_json(item, pc) for pc, item in enumerate(instructions)],
                   labels).validate()
