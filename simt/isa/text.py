"""Assembly text: the assembler, reading the REF Display form of instructions.

Both directions are driven by the instruction table; the writing half (the
disassembler, :func:`format_instruction`) lives in :mod:`simt.isa.display`, below the
program module, and is re-exported here.  An instruction's text is
its spec's ``head`` template (``"set{cond}.{ty}"``) with the head fields filled
in, then the fields named in ``operands``, comma-separated; every field is
written and read by the syntax of its :class:`~simt.isa.table.Kind`
(:data:`_KINDS`).  Addresses have one row per form in :data:`_ADDRESS_FORMS`.

The grammar (docs/isa.md states it for users):

* one instruction per line; ASCII whitespace around tokens is free;
* label definitions ``name:`` (``[A-Za-z_.$][A-Za-z0-9_.$]*``) alone on a line or
  before an instruction, references ``@name``;
* comments from ``;``, ``#`` or ``//`` to the end of the line;
* registers ``r0``..``r255``, predicates ``p0``..``p15``;
* integer immediates in decimal or hex (``0x...``), also inside addresses;
* ``[Φ(c, p, b)]`` may be spelled ``[phi(c, p, b)]`` or ``[PHI(c, p, b)]``;
* a u64 immediate of an instruction that has a type (MOV_IMM's ``value``) is a
  value of that type: any u64 or negative integer down to -2**63 (the raw bits,
  two's complement), or, for float types, a float literal (with ``.`` or an
  exponent), ``inf``, ``-inf`` or ``nan`` (case-insensitive, the canonical quiet
  NaN) meaning that value's bit pattern;
* UnityTest's f64 epsilon takes any integer or float literal, ``inf`` or ``nan``.

Float literals are rounded exactly once, to nearest even, from their exact
decimal value; a finite literal that rounds beyond the type's largest value is
an error.  Types, CVT pairs and conditions an instruction does not support are
still valid text: they fail only when executed.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from ..errors import AssemblyError, ProgramError
from .display import (ADDRESS_FORMATS, FORMATS, LABEL_NAME, USAGES, disassemble, format_address,
                      format_float, format_instruction, usage)
from .program import (BUILDERS, INSTRUCTIONS, BufferOffset, Instruction, PhiCoordinate, Program,
                      RegisterIndirect, RegisterIndirectComputed, Shared, SharedIndirect,
                      check_field)
from .table import SPECS, Condition, Kind, Scope, Spec
from .types import DType

__all__ = ["format_instruction", "format_address", "format_float", "usage", "disassemble",
           "assemble", "LABEL_NAME"]


_WS = " \t\r\f\v"
_INT = r"-?(?:0[xX][0-9A-Fa-f]+|[0-9]+)"
_REAL = (r"-?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
         r"|(?i:inf))|(?i:nan)")
_INT_LITERAL = re.compile(_INT, re.ASCII)
_REAL_LITERAL = re.compile(_REAL, re.ASCII)
_DECIMAL = re.compile(r"(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?")
_LABEL_DEF = re.compile(rf"(?P<name>{LABEL_NAME.pattern})[{_WS}]*:", re.ASCII)
_HEAD_TOKEN = re.compile(rf"[^{_WS}]+")
_COMMENT = re.compile(r";|#|//")
_MAX_DIGITS = 40   # longer integer literals are out of range for every field


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True, slots=True)
class _Token:
    """A piece of source text and where it starts (1-based line and column)."""

    text: str | None   # None for an optional part that is absent
    line: int
    column: int

    def error(self, message: str) -> AssemblyError:
        return AssemblyError(message, line=self.line, column=self.column)

    @property
    def shown(self) -> str:
        """The text for a message, shortened when long."""
        return self.text if len(self.text) <= 40 else self.text[:37] + "..."

    def part(self, match: re.Match[str], group: str) -> "_Token":
        """The sub-token of ``group`` of a match over this token's text."""
        return _Token(match[group], self.line, self.column + max(match.start(group), 0))


def _to_int(digits: str, base: int = 10) -> int:
    """An unsigned literal's value; absurdly long ones map to a value beyond every field."""
    digits = digits.lstrip("0") or "0"
    return int(digits, base) if len(digits) <= _MAX_DIGITS else 1 << 200


def _int_value(text: str) -> int:
    """The value of a text matching ``_INT``."""
    body = text.lstrip("-")
    value = _to_int(body[2:], 16) if body[:2] in ("0x", "0X") else _to_int(body)
    return -value if text.startswith("-") else value


def _unsigned(tok: _Token, limit: int, what: str) -> int:
    """An integer immediate in ``0 .. limit - 1``."""
    if not _INT_LITERAL.fullmatch(tok.text):
        raise tok.error(f"expected an integer for {what}, got {tok.shown!r}")
    value = _int_value(tok.text)
    if not 0 <= value < limit:
        raise tok.error(f"{what} {tok.shown} out of range (0 to {limit - 1})")
    return value


# --------------------------------------------------------------------------- floats

@functools.cache
def _finfo(ty: DType):
    """Float limits of ``ty`` (bf16's from ml_dtypes, imported only when needed)."""
    if ty is DType.BF16:
        import ml_dtypes
        return ml_dtypes.finfo(ty.numpy)
    return np.finfo(ty.numpy)


def _exact(body: str) -> Fraction:
    """The exact magnitude of an unsigned integer or decimal float literal.

    Values beyond 1e400 map to 1e400 and below 1e-400 to 0 (both round the
    same in every float type); mantissas past 800 digits keep a sticky digit,
    which is exact enough to round any of them correctly.
    """
    if body[:2] in ("0x", "0X"):
        return Fraction(int(body, 16))
    m = _DECIMAL.fullmatch(body)
    frac = m["frac"] or ""
    exp_text = m["exp"] or "0"
    if len(exp_text.lstrip("+-").lstrip("0")) > 6:   # far outside every float range
        exp = -10**7 if exp_text.startswith("-") else 10**7
    else:
        exp = int(exp_text)
    digits = (m["int"] + frac).lstrip("0")
    significant = digits.rstrip("0")
    exp += len(digits) - len(significant) - len(frac)
    if not significant or len(significant) + exp < -400:
        return Fraction(0)
    if len(significant) + exp > 400:
        return Fraction(10) ** 400
    if len(significant) > 800:
        exp += len(significant) - 801
        significant = significant[:800] + "1"
    return int(significant) * Fraction(10) ** exp


def _round(q: Fraction, ty: DType) -> float:
    """``q >= 0`` rounded to nearest even in float type ``ty``; ``OverflowError`` past its max."""
    fi = _finfo(ty)
    if q == 0:
        return 0.0
    if q >= 2 ** fi.maxexp:
        raise OverflowError
    log2 = q.numerator.bit_length() - q.denominator.bit_length()
    if q < Fraction(2) ** log2:
        log2 -= 1
    ulp = Fraction(2) ** (max(log2, fi.minexp) - fi.nmant)
    value = round(q / ulp) * ulp
    if value > float(fi.max):
        raise OverflowError
    return float(value)


def _float_value(tok: _Token, ty: DType) -> float:
    """The value of an integer or float literal (or inf / nan) rounded to float type ``ty``."""
    body = tok.text.lstrip("-")
    if body.lower() in ("inf", "nan"):
        value = float(body)
    else:
        try:
            value = _round(_exact(body), ty)
        except OverflowError:
            raise tok.error(f"{tok.shown} overflows {ty.text}") from None
    return -value if tok.text.startswith("-") else value


def _bits(value: float, ty: DType) -> int:
    """The bit pattern of ``value`` (exactly representable, or inf / nan) in ``ty``."""
    return int(np.array(value, dtype=ty.numpy).view(f"u{ty.size}")[()])


# --------------------------------------------------------------------------- operand kinds

def _indexed(tok: _Token, prefix: str, kind: Kind, what: str) -> int:
    m = re.fullmatch(prefix + "([0-9]+)", tok.text, re.ASCII)
    if m is None:
        raise tok.error(f"expected a {what} like {prefix}0, got {tok.shown!r}")
    value = _to_int(m[1])
    if value >= kind.limit:
        raise tok.error(f"{what} {tok.shown} out of range (max {prefix}{kind.limit - 1})")
    return value


def _register(tok: _Token, values: dict[str, Any]) -> int:
    return _indexed(tok, "r", Kind.REG, "register")


def _predicate(tok: _Token, values: dict[str, Any]) -> int:
    return _indexed(tok, "p", Kind.PRED, "predicate")


def _optional_predicate(tok: _Token, values: dict[str, Any]) -> int | None:
    return None if tok.text is None else _predicate(tok, values)


def _label(tok: _Token, values: dict[str, Any]) -> str:
    if not tok.text.startswith("@") or not LABEL_NAME.fullmatch(tok.text, 1):
        raise tok.error(f"expected a label reference like @name, got {tok.shown!r}")
    return tok.text[1:]


def _immediate(kind: Kind) -> Callable[[_Token, dict[str, Any]], int]:
    def parse(tok: _Token, values: dict[str, Any]) -> int:
        return _unsigned(tok, kind.limit, f"{kind.value} immediate")
    return parse


def _u64(tok: _Token, values: dict[str, Any]) -> int:
    """A u64 immediate; in an instruction with a type (MOV_IMM), a value of that type."""
    ty = values.get("ty")
    if ty is None:
        return _unsigned(tok, Kind.U64.limit, "u64 immediate")
    if _INT_LITERAL.fullmatch(tok.text):
        value = _int_value(tok.text)
        if not -(1 << 63) <= value < (1 << 64):
            raise tok.error(f"immediate {tok.shown} out of range (-2**63 to 2**64 - 1)")
        return value % (1 << 64)
    if not _REAL_LITERAL.fullmatch(tok.text):
        raise tok.error(f"expected an integer or float immediate, got {tok.shown!r}")
    if not ty.is_float:
        raise tok.error(f"float literal {tok.shown} for integer type {ty.text}")
    return _bits(_float_value(tok, ty), ty)


def _f64(tok: _Token, values: dict[str, Any]) -> float:
    if not (_INT_LITERAL.fullmatch(tok.text) or _REAL_LITERAL.fullmatch(tok.text)):
        raise tok.error(f"expected a number, got {tok.shown!r}")
    return _float_value(tok, DType.F64)


def _enum_values(members: dict[str, Any]) -> tuple[str, Callable]:
    """Head syntax of an enum-valued kind: an alternation of its texts, and the lookup."""
    alternatives = "|".join(sorted(map(re.escape, members), key=len, reverse=True))
    return alternatives, lambda tok, values: members[tok.text]


@dataclass(frozen=True)
class _KindSyntax:
    """How a field of one kind is written (``format``) and read (``parse``).

    ``head`` is the regex of a head placeholder (``{g}`` = its group name),
    ``None`` for kinds written as operands; ``usage`` shows a field of this kind
    in :func:`usage` (``{}`` = the field's name).
    """

    format: Callable[[Any], str]
    parse: Callable[[_Token, dict[str, Any]], Any]
    usage: str
    head: str | None = None


_TYPE_RE, _type = _enum_values({t.text: t for t in DType})
_COND_RE, _cond = _enum_values({c.text: c for c in Condition})
_SCOPE_RE, _scope = _enum_values({s.text: s for s in Scope})

_PARSERS: dict[Kind, tuple[Callable[[_Token, dict[str, Any]], Any], str | None]] = {
    Kind.TYPE: (_type, f"(?P<{{g}}>{_TYPE_RE})"),
    Kind.COND: (_cond, f"(?P<{{g}}>{_COND_RE})"),
    Kind.SCOPE: (_scope, f"(?P<{{g}}>{_SCOPE_RE})"),
    Kind.OPT_PRED: (_optional_predicate, r"(?:\.(?P<{g}>p[0-9]+))?"),
    Kind.REG: (_register, None),
    Kind.PRED: (_predicate, None),
    Kind.LABEL: (_label, None),
    Kind.ADDR: (lambda t, v: _address(t), None),
    Kind.U8: (_immediate(Kind.U8), None),
    Kind.U16: (_immediate(Kind.U16), None),
    Kind.U32: (_immediate(Kind.U32), None),
    Kind.U64: (_u64, None),
    Kind.F64: (_f64, None),
}
_KINDS: dict[Kind, _KindSyntax] = {
    kind: _KindSyntax(FORMATS[kind], parse, USAGES.get(kind, "<{}>"), head)
    for kind, (parse, head) in _PARSERS.items()}
assert set(_KINDS) == set(Kind)


# --------------------------------------------------------------------------- addresses

_N = r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)"


@dataclass(frozen=True)
class _AddressForm:
    """One address syntax: the regex of the text between the brackets, and its printer."""

    cls: type
    pattern: re.Pattern[str]
    format: Callable[[Any], str]


def _form(cls: type, pattern: str) -> _AddressForm:
    return _AddressForm(cls, re.compile(pattern.replace(" ", r"\s*"), re.ASCII),
                        ADDRESS_FORMATS[cls.serde])


_ADDRESS_FORMS: tuple[_AddressForm, ...] = (
    _form(BufferOffset, rf"buf (?P<handle>{_N}) \+ (?P<offset>{_N})"),
    _form(PhiCoordinate,
          rf"(?:Φ|(?i:phi)) \( (?P<class_>{_N}) , (?P<page>{_N}) , (?P<byte>{_N}) \)"),
    _form(RegisterIndirectComputed, r"(?P<handle_reg>r[0-9]+) \+ (?P<offset_reg>r[0-9]+)"),
    _form(RegisterIndirect, rf"(?P<base>r[0-9]+) (?P<sign>[+-]) (?P<offset>{_N})"),
    _form(SharedIndirect, r"shared \+ (?P<offset_reg>r[0-9]+)"),
    _form(Shared, rf"shared(?: \+ (?P<offset>{_N}))?"),
)
_ADDRESS_FIELD_KINDS = {"handle": Kind.U64, "offset": Kind.U64, "class_": Kind.U8,
                        "page": Kind.U8, "byte": Kind.U8}
_BRACKETS = re.compile(rf"\[[{_WS}]*(?P<inner>.*?)[{_WS}]*\]", re.ASCII)
_ADDRESS_HINT = ("[bufH + N], [Φ(c, p, b)], [rB + N], [rB - N], [rH + rO], [shared + N] "
                 "or [shared + rO]")


def _address(tok: _Token) -> Any:
    brackets = _BRACKETS.fullmatch(tok.text)
    if brackets is not None:
        inner = tok.part(brackets, "inner")
        for form in _ADDRESS_FORMS:
            m = form.pattern.fullmatch(inner.text)
            if m is not None:
                return form.cls(**{f.name: _address_field(form.cls, f.name, inner, m)
                                   for f in fields(form.cls)})
    raise tok.error(f"expected an address {_ADDRESS_HINT}, got {tok.shown!r}")


def _address_field(cls: type, name: str, inner: _Token, m: re.Match[str]) -> int:
    if m[name] is None:   # [shared] means [shared + 0]
        return 0
    tok = inner.part(m, name)
    if name in cls.registers:
        return _register(tok, {})
    if cls is RegisterIndirect:   # a signed i32 displacement
        value = _int_value(tok.text) * (-1 if m["sign"] == "-" else 1)
        if not -(1 << 31) <= value < (1 << 31):
            raise tok.error(f"offset {m['sign']}{tok.text} out of range (i32)")
        return value
    kind = _ADDRESS_FIELD_KINDS[name]
    return _unsigned(tok, kind.limit, f"address {name.rstrip('_')}")


# --------------------------------------------------------------------------- instruction forms

@dataclass(frozen=True)
class _Form:
    """The text form of one spec: the regex of its head and the fields the head holds."""

    spec: Spec
    head: re.Pattern[str]
    head_fields: tuple[str, ...]

    @classmethod
    def of(cls, spec: Spec) -> "_Form":
        pattern, names = [], []
        for literal, name, _, _ in string.Formatter().parse(spec.head):
            pattern.append(re.escape(literal))
            if name is not None:
                names.append(name)
                pattern.append(_KINDS[spec.kind_of(name)].head.replace("{g}", name))
        return cls(spec, re.compile("".join(pattern), re.ASCII), tuple(names))


_FORMS: dict[str, _Form] = {spec.name: _Form.of(spec) for spec in SPECS}


# --------------------------------------------------------------------------- assembler

@dataclass(frozen=True)
class _Parsed:
    """One assembled instruction and where its pieces were."""

    ins: Instruction
    line: int
    column: int                 # of the mnemonic
    columns: dict[str, int]     # field name -> column of its text


# --------------------------------------------------------------------------- quick lines
#
# The usual line (a canonical head, decimal operands in range, the common address forms,
# no label or comment) is read by one regex per spec made from the table once; every
# other line, and every line whose values are out of range, goes through
# _parse_instruction, which gives the exact error.

_QWS = "[ \t]*"
_QUICK_LINE = re.compile(r"[ \t]*([a-z0-9_.]+)(?:[ \t]+([^;#/:]*?))?[ \t\r]*", re.ASCII)
_QUICK_ADDRESS = (r"\[(?:buf([0-9]{1,20}) \+ ([0-9]{1,20})|r([0-9]{1,3}) ([+-]) ([0-9]{1,10})"
                  r"|r([0-9]{1,3}) \+ r([0-9]{1,3})|shared \+ ([0-9]{1,20})|shared \+ r([0-9]{1,3})"
                  r"|(shared))\]").replace(" ", _QWS)
_QUICK_OPERANDS = {Kind.REG: (r"r([0-9]{1,3})", 1), Kind.PRED: (r"p([0-9]{1,2})", 1),
                   Kind.LABEL: (rf"@({LABEL_NAME.pattern})", 1),
                   Kind.U8: (r"([0-9]{1,10})", 1), Kind.U16: (r"([0-9]{1,10})", 1),
                   Kind.U32: (r"([0-9]{1,10})", 1), Kind.U64: (r"([0-9]{1,20})", 1),
                   Kind.ADDR: (_QUICK_ADDRESS, 10)}


class _Slow(Exception):
    """The quick reader cannot take this line."""


def _quick_address(g: tuple, i: int, shared_ok: bool) -> Any:
    if g[i] is not None:
        handle, offset = int(g[i]), int(g[i + 1])
        if handle >= 1 << 64 or offset >= 1 << 64:
            raise _Slow
        return BufferOffset(handle, offset)
    if g[i + 2] is not None:
        base, offset = int(g[i + 2]), int(g[i + 4])
        offset = -offset if g[i + 3] == "-" else offset
        if base > 255 or not -(1 << 31) <= offset < (1 << 31):
            raise _Slow
        return RegisterIndirect(base, offset)
    if g[i + 5] is not None:
        handle, offset = int(g[i + 5]), int(g[i + 6])
        if handle > 255 or offset > 255:
            raise _Slow
        return RegisterIndirectComputed(handle, offset)
    if not shared_ok:   # shared addresses outside LDS/STS: the full path reports it
        raise _Slow
    if g[i + 7] is not None:
        offset = int(g[i + 7])
        if offset >= 1 << 64:
            raise _Slow
        return Shared(offset)
    if g[i + 8] is not None:
        offset = int(g[i + 8])
        if offset > 255:
            raise _Slow
        return SharedIndirect(offset)
    return Shared(0)


def _quick_reader(kind: Kind, i: int, shared_ok: bool) -> Callable[[tuple], Any]:
    """Reads the value of one operand from the groups of the quick regex, from group i."""
    if kind is Kind.ADDR:
        return lambda g: _quick_address(g, i, shared_ok)
    if kind is Kind.LABEL:
        return lambda g: g[i]
    limit = kind.limit

    def integer(g: tuple) -> int:
        value = int(g[i])
        if value >= limit:
            raise _Slow
        return value
    return integer


@dataclass(frozen=True)
class _QuickForm:
    """A spec's operands as one regex, and their readers by serde position."""

    operands: re.Pattern[str]
    readers: tuple[tuple[int, Callable[[tuple], Any]], ...]
    build: Callable[..., Instruction]

    @classmethod
    def of(cls, spec: Spec) -> "_QuickForm | None":
        parts, readers, group = [], [], 0
        shared_ok = spec.admits_shared
        for name in spec.operands:
            kind = spec.kind_of(name)
            if kind not in _QUICK_OPERANDS:
                return None
            pattern, groups = _QUICK_OPERANDS[kind]
            parts.append(pattern)
            readers.append((spec.field_names.index(name), _quick_reader(kind, group, shared_ok)))
            group += groups
        regex = re.compile(f"{_QWS},{_QWS}".join(parts), re.ASCII)
        return cls(regex, tuple(readers), BUILDERS[spec.name])


@functools.cache
def _quick_heads() -> dict[str, tuple[Spec, tuple, _QuickForm]]:
    """Every head text of every spec with a quick form -> the spec and its head's values.

    The values are in serde order, ``None`` where an operand goes.
    """
    choices = {Kind.TYPE: list(DType), Kind.COND: list(Condition), Kind.SCOPE: list(Scope),
               Kind.OPT_PRED: [None, *range(16)]}
    heads: dict[str, tuple[Spec, tuple, _QuickForm]] = {}
    for spec in SPECS:
        quick = _QuickForm.of(spec)
        if quick is None or spec.register_run is not None:
            continue
        names = _FORMS[spec.name].head_fields
        for combo in itertools.product(*(choices[spec.kind_of(n)] for n in names)):
            values = dict(zip(names, combo))
            text = spec.head.format(**{n: _KINDS[spec.kind_of(n)].format(v)
                                       for n, v in values.items()})
            heads.setdefault(text, (spec, tuple(values.get(n) for n in spec.field_names), quick))
    return heads


def _quick_instruction(raw: str) -> Instruction | None:
    """The instruction on a usual line, or None when the line needs the full reader."""
    m = _QUICK_LINE.fullmatch(raw)
    if m is None:
        return None
    entry = _quick_heads().get(m[1])
    if entry is None:
        return None
    spec, values, quick = entry
    operands = quick.operands.fullmatch(m[2] or "")
    if operands is None:
        return None
    groups = operands.groups()
    values = list(values)
    try:
        for index, read in quick.readers:
            values[index] = read(groups)
    except _Slow:
        return None
    return quick.build(*values)


def assemble(text: str) -> Program:
    """Assemble Atlas text (syntax: docs/isa.md) into a validated :class:`Program`.

    ``Program.source_lines`` holds each instruction's 1-based line.

    Raises
    ------
    AssemblyError
        For anything wrong in the text, with 1-based ``line`` and ``column`` of
        the offending token.
    TypeError
        If ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"assemble() takes a str, not {type(text).__name__}")
    parsed: list[Instruction] = []
    lines: list[int] = []
    raws: list[str] = []
    labels: dict[str, int] = {}
    defined_on: dict[str, int] = {}
    quick = _quick_instruction
    for number, raw in enumerate(text.split("\n"), 1):
        ins = quick(raw)
        if ins is not None:
            parsed.append(ins)
            lines.append(number)
            raws.append(raw)
            continue
        comment = _COMMENT.search(raw)
        code = raw[:comment.start()] if comment else raw
        pos = _skip_space(code, 0)
        while (m := _LABEL_DEF.match(code, pos)) is not None:
            name = m["name"]
            if name in labels:
                raise AssemblyError(f"duplicate label {name!r} (first defined on line "
                                    f"{defined_on[name]})", line=number, column=pos + 1)
            labels[name], defined_on[name] = len(parsed), number
            pos = _skip_space(code, m.end())
        if pos < len(code):
            parsed.append(_parse_instruction(code, pos, number).ins)
            lines.append(number)
            raws.append(raw)
    for pc, ins in enumerate(parsed):
        for name in _LABEL_FIELDS[ins.spec.name]:
            target = getattr(ins, name)
            if target not in labels:
                p = _reparse(raws[pc], lines[pc])
                raise AssemblyError(f"undefined label {target!r}", line=p.line,
                                    column=p.columns[name])
    program = Program(parsed, labels, lines, source=text)
    try:
        return program.validate()
    except ProgramError as error:   # rules across fields, e.g. shared addresses in LDG/STG
        p = _reparse(raws[error.pc], lines[error.pc])
        column = next((p.columns[f.name] for f in p.ins.spec.fields
                       if check_field(p.ins, f.name, f.kind, getattr(p.ins, f.name), labels)),
                      p.column)
        raise AssemblyError(error.reason, line=p.line, column=column, pc=error.pc,
                            instruction=error.instruction) from None


_LABEL_FIELDS = {spec.name: tuple(f.name for f in spec.fields if f.kind is Kind.LABEL)
                 for spec in SPECS}


def _reparse(raw: str, line: int) -> _Parsed:
    """The instruction on a line that has one, with the columns of its pieces."""
    comment = _COMMENT.search(raw)
    code = raw[:comment.start()] if comment else raw
    pos = _skip_space(code, 0)
    while (m := _LABEL_DEF.match(code, pos)) is not None:
        pos = _skip_space(code, m.end())
    return _parse_instruction(code, pos, line)


def _skip_space(code: str, pos: int) -> int:
    while pos < len(code) and code[pos] in _WS:
        pos += 1
    return pos


def _parse_instruction(code: str, pos: int, line: int) -> _Parsed:
    head = _Token(_HEAD_TOKEN.match(code, pos).group(), line, pos + 1)
    for form in _FORMS.values():
        if (m := form.head.fullmatch(head.text)) is not None:
            break
    else:
        raise head.error(f"unknown instruction {head.shown!r}")
    spec = form.spec
    values: dict[str, Any] = {}
    columns: dict[str, int] = {}
    for name in form.head_fields:
        tok = head.part(m, name)
        values[name] = _KINDS[spec.kind_of(name)].parse(tok, values)
        columns[name] = tok.column
    operands = _split_operands(code, pos + len(head.text), line)
    if len(operands) != len(spec.operands):
        where = (operands[len(spec.operands)] if len(operands) > len(spec.operands)
                 else _Token("", line, len(code.rstrip(_WS)) + 1))
        raise where.error(f"{head.text} takes {len(spec.operands) or 'no'} operand(s), got "
                          f"{len(operands)}: {usage(spec)}")
    for name, tok in zip(spec.operands, operands):
        values[name] = _KINDS[spec.kind_of(name)].parse(tok, values)
        columns[name] = tok.column
    return _Parsed(INSTRUCTIONS[spec.name](**values), line, head.column, columns)


def _split_operands(code: str, start: int, line: int) -> list[_Token]:
    """The comma-separated operands after the mnemonic (commas inside [...] or (...) kept)."""
    if not code[start:].strip(_WS):
        return []
    bounds, depth, begin = [], 0, start
    for i in range(start, len(code)):
        depth += (code[i] in "[(") - (code[i] in "])")
        if code[i] == "," and depth <= 0:
            bounds.append((begin, i))
            begin = i + 1
    bounds.append((begin, len(code)))
    tokens = []
    for begin, end in bounds:
        first = _skip_space(code, begin)
        tok = _Token(code[first:end].rstrip(_WS), line, first + 1)
        if not tok.text:
            raise tok.error("expected an operand")
        tokens.append(tok)
    return tokens
