"""The serde JSON form of programs (docs/isa.md), driven by the instruction table.

:func:`write_program` and :func:`read_program` work on instructions and labels; the
public entry points are ``Program.to_json`` / ``Program.from_json`` and
:mod:`simt.isa.serde`.  This module sits below :mod:`simt.isa.program`.

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
from .instruction import (ADDRESS_CLASSES, BUILDERS, INSTRUCTIONS, BufferOffset, Instruction,
                          RegisterIndirect, RegisterIndirectComputed, Shared, SharedIndirect)
from .table import BY_NAME, SPECS, Condition, Kind, Scope, Spec
from .types import DType

__all__ = ["write_program", "read_program"]


# --------------------------------------------------------------------------- writing

_ADDRESS_KEYS = {cls: tuple((f.name.rstrip("_"), f.name) for f in fields(cls))
                 for cls in ADDRESS_CLASSES}


def _address_to_json(addr: Any) -> dict[str, dict[str, int]]:
    return {addr.serde: {key: getattr(addr, name) for key, name in _ADDRESS_KEYS[type(addr)]}}


_TO_JSON: dict[Kind, Callable[[Any], Any]] = {
    Kind.TYPE: lambda t: t.serde,
    Kind.COND: lambda c: c.name,
    Kind.SCOPE: lambda s: s.name,
    Kind.ADDR: _address_to_json,
}


def _same(value: Any) -> Any:
    """Registers, predicates, immediates, floats and labels are written as they are."""
    return value


_WRITE_PLAN = {spec.name: tuple((f.serde, f.name, _TO_JSON.get(f.kind, _same))
                                for f in spec.fields) for spec in SPECS}


def _instruction_to_json(ins: Instruction) -> Any:
    name = ins.spec.name
    plan = _WRITE_PLAN[name]
    if not plan:
        return name
    return {name: {key: write(getattr(ins, attr)) for key, attr, write in plan}}


_ENCODE = json.JSONEncoder().encode   # the separators of _dump; no NaN or inf reaches it
_FINITE_ONLY = {spec.name: all(f.kind is not Kind.F64 for f in spec.fields) for spec in SPECS}


def _instruction_text(ins: Instruction) -> str:
    """``_dump(_instruction_to_json(ins))``, through the C encoder when no float can occur."""
    obj = _instruction_to_json(ins)
    return _ENCODE(obj) if _FINITE_ONLY[ins.spec.name] else _dump(obj)


def _dump(value: Any) -> str:
    """Compact JSON with ``", "`` / ``": "`` separators; NaN as null, ±inf as ±1e999."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float) and not math.isfinite(value):
        return "null" if math.isnan(value) else ("1e999" if value > 0 else "-1e999")
    return json.dumps(value)


def write_program(program: Any) -> str:
    """A program (validated first) as serde JSON text, one instruction per line.

    Raises
    ------
    ProgramError
        If the program is invalid.
    """
    program.validate()
    items = ",\n  ".join(map(_instruction_text, program))
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


# --------------------------------------------------------------------------- quick reading
#
# The usual document (every value of the expected Python type and in range, keys in
# place, no duplicate keys) is read by decoders made from the table once per spec, and
# the result is already valid.  Anything else falls back to the full reader above,
# which says exactly what is wrong.

class _Fallback(Exception):
    """The quick reader cannot vouch for this document: read it in full."""


_TYPES_BY_SERDE = {t.serde: t for t in DType}
_CONDITIONS = dict(Condition.__members__)
_SCOPES = dict(Scope.__members__)
_U64 = 1 << 64
_I32 = 1 << 31


def _quick_address(value: Any, shared_ok: bool) -> tuple[Any, int]:
    """An address and the number of object keys it holds."""
    if value.__class__ is not dict or len(value) != 1:
        raise _Fallback
    ((name, body),) = value.items()
    if body.__class__ is not dict:
        raise _Fallback
    if name == "BufferOffset" and len(body) == 2:
        h, o = body["handle"], body["offset"]
        if h.__class__ is int and o.__class__ is int and 0 <= h < _U64 and 0 <= o < _U64:
            return BufferOffset(h, o), 3
    elif name == "RegisterIndirect" and len(body) == 2:
        b, o = body["base"], body["offset"]
        if b.__class__ is int and o.__class__ is int and 0 <= b < 256 and -_I32 <= o < _I32:
            return RegisterIndirect(b, o), 3
    elif name == "RegisterIndirectComputed" and len(body) == 2:
        h, o = body["handle_reg"], body["offset_reg"]
        if h.__class__ is int and o.__class__ is int and 0 <= h < 256 and 0 <= o < 256:
            return RegisterIndirectComputed(h, o), 3
    elif name == "Shared" and shared_ok and len(body) == 1:
        o = body["offset"]
        if o.__class__ is int and 0 <= o < _U64:
            return Shared(o), 2
    elif name == "SharedIndirect" and shared_ok and len(body) == 1:
        o = body["offset_reg"]
        if o.__class__ is int and 0 <= o < 256:
            return SharedIndirect(o), 2
    raise _Fallback


def _quick_field(kind: Kind) -> Callable[[Any, Mapping[str, int]], Any]:
    """Reads one field value (not an address), or raises ``_Fallback``."""
    if kind is Kind.TYPE:
        return lambda v, labels: _TYPES_BY_SERDE[v]
    if kind is Kind.COND:
        return lambda v, labels: _CONDITIONS[v]
    if kind is Kind.SCOPE:
        return lambda v, labels: _SCOPES[v]
    if kind is Kind.LABEL:
        def label(v: Any, labels: Mapping[str, int]) -> Any:
            if v.__class__ is str and v in labels:
                return v
            raise _Fallback
        return label
    if kind is Kind.F64:
        def real(v: Any, labels: Mapping[str, int]) -> Any:
            if v is None:
                return math.nan
            if v.__class__ is float:
                return v
            if v.__class__ is int:
                return float(v)   # OverflowError falls back
            raise _Fallback
        return real
    limit = kind.limit

    def integer(v: Any, labels: Mapping[str, int]) -> Any:
        if v.__class__ is int and 0 <= v < limit:
            return v
        raise _Fallback
    return integer


def _quick_decoder(spec: Spec) -> Callable[[Any, Mapping[str, int]], tuple[Instruction, int]]:
    """Reads the body of one instruction of ``spec``: ``(instruction, object keys)``."""
    build = BUILDERS[spec.name]
    shared_ok = spec.admits_shared
    keys = tuple(f.serde for f in spec.fields)
    readers = tuple(None if f.kind is Kind.ADDR else _quick_field(f.kind) for f in spec.fields)
    plan = tuple(zip(keys, readers))
    size = len(plan)
    reduce = spec.register_run is not None
    if spec.name == "BRA":
        def decode_bra(body: Any, labels: Mapping[str, int]) -> tuple[Instruction, int]:
            if body.__class__ is not dict or not 1 <= len(body) <= 2 or (
                    (len(body) == 1) == ("pred" in body)):
                raise _Fallback
            pred = body.get("pred")
            return build(readers[0](body["target"], labels),
                         None if pred is None else readers[1](pred, labels)), len(body)
        return decode_bra

    # one function per spec, its reads written out from the table
    lines = ["def decode(body, labels):",
             f"    if body.__class__ is not dict or len(body) != {size}:",
             "        raise Fallback",
             "    inner = 0"]
    env: dict[str, Any] = {"Fallback": _Fallback, "address": _quick_address, "new": object.__new__,
                           "cls": INSTRUCTIONS[spec.name]}
    for i, f in enumerate(spec.fields):
        get = f"body[{f.serde!r}]"
        if f.kind is Kind.ADDR:
            lines.append(f"    v{i}, inner = address({get}, {shared_ok})")
        elif f.kind.limit is not None:
            lines += [f"    v{i} = {get}",
                      f"    if v{i}.__class__ is not int or not 0 <= v{i} < {f.kind.limit}:",
                      "        raise Fallback"]
        else:
            env[f"read{i}"] = readers[i]
            lines.append(f"    v{i} = read{i}({get}, labels)")
    if reduce:   # base + count past r255
        base, count = (spec.field_names.index(f) for f in spec.register_run)
        lines += [f"    if v{base} + v{count} > 256:", "        raise Fallback"]
    lines.append("    ins = new(cls)")
    for i, f in enumerate(spec.fields):
        env[f"set{i}"] = getattr(INSTRUCTIONS[spec.name], f.name).__set__
        lines.append(f"    set{i}(ins, v{i})")
    lines.append(f"    return ins, {size} + inner")
    exec("\n".join(lines), env)
    return env["decode"]


_QUICK = {spec.name: _quick_decoder(spec) for spec in SPECS if spec.fields}
_UNITS = {spec.name: spec for spec in SPECS if not spec.fields}


def _quick_from_json(data: Any) -> tuple[list[Instruction], dict[str, int]]:
    """Instructions and labels of a usual document, valid; ``_Fallback`` (or any error) otherwise."""
    colons = None
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
    if isinstance(data, str):
        colons = data.count(":")   # every key is followed by one; more means look closer
        data = json.loads(data, parse_constant=_no_constant)
    if data.__class__ is not dict or len(data) != 2:
        raise _Fallback
    instructions, labels = data["instructions"], data["labels"]
    if instructions.__class__ is not list or labels.__class__ is not dict:
        raise _Fallback
    n = len(instructions)
    for name, index in labels.items():
        if name.__class__ is not str or not name or index.__class__ is not int or not (
                0 <= index <= n):
            raise _Fallback
    keys = 2 + len(labels)
    decoded = []
    append = decoded.append
    quick = _QUICK
    for item in instructions:
        if item.__class__ is dict and len(item) == 1:
            ((name, body),) = item.items()
            ins, inner = quick[name](body, labels)
            keys += 1 + inner
            append(ins)
        elif item.__class__ is str and item in _UNITS:
            append(INSTRUCTIONS[item]())
        else:
            raise _Fallback
    if colons is not None and colons != keys:   # a duplicate key, or a colon inside a string
        raise _Fallback
    return decoded, labels   # every check of Program.validate was made above


def read_program(data: str | bytes | bytearray | Mapping[str, Any]
                 ) -> tuple[list[Instruction], dict[str, int], bool]:
    """Instructions and labels of serde JSON text (str or bytes) or the parsed object.

    The flag says whether the program they make is known to be valid (the usual
    document, read by the quick decoders); when False, ``Program.validate`` must
    still run.

    Raises
    ------
    ProgramError
        For invalid JSON or anything that is not a program's structure, naming the
        instruction index (``at pc N``) where it applies.
    """
    try:
        return (*_quick_from_json(data), True)
    except Exception:   # anything unusual: the full reader says exactly what is wrong
        pass
    return (*_full_from_json(data), False)


def _full_from_json(data: str | bytes | bytearray | Mapping[str, Any]
                    ) -> tuple[list[Instruction], dict[str, Any]]:
    """Every value read with its checks and messages (validation still to do)."""
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
    return [_instruction_from_json(item, pc) for pc, item in enumerate(instructions)], labels
