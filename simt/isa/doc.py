"""The ISA reference page (``docs/isa.md``), generated from the instruction table.

``simt isa --markdown`` prints :func:`isa_markdown`; a test keeps
``docs/isa.md`` equal to it, so the page cannot drift from the table.
"""

from __future__ import annotations

from dataclasses import fields

from .program import ADDRESS_CLASSES, SHARED_FORMS
from .table import CVT_PAIRS, SPECS, Condition, Flag, Kind, Scope
from .types import DType
from .text import usage

__all__ = ["isa_markdown"]

_STORAGE_ONLY = (DType.F16, DType.BF16)


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return lines + [""]


def _type_class(t: DType) -> str:
    if t.is_signed_int:
        return "signed integer"
    if t.is_int:
        return "unsigned integer"
    return "float" + (" (storage only)" if t in _STORAGE_ONLY else "")


def _types(names: frozenset[DType]) -> str:
    return " ".join(t.text for t in sorted(names, key=lambda t: t.value))


def _accepted(spec) -> str:
    if spec.types:
        return _types(spec.types)
    if any(f.kind is Kind.TYPE for f in spec.fields):
        return "[pairs](#cvt-pairs)"
    return "—"


def _flags(flags: Flag) -> str:
    return ", ".join(f.name.lower() for f in Flag if f and f in flags) or "—"


def _instructions() -> list[str]:
    rows = [(spec.opcode, f"`{usage(spec)}`", f"`{spec.name}`",
             ", ".join(f"{f.serde}: {f.kind.value}" for f in spec.fields) or "—",
             _accepted(spec), spec.category.value, _flags(spec.flags), spec.doc)
            for spec in SPECS]
    return _table(("#", "text", "serde", "fields (serde order)", "types", "category", "flags",
                   "description"), rows)


def _addresses() -> list[str]:
    rows = [(f"`{cls.serde}`", ", ".join(f.name.rstrip("_") for f in fields(cls)),
             cls.__doc__.replace("``", "`") + (" LDS/STS only." if cls in SHARED_FORMS else ""))
            for cls in ADDRESS_CLASSES]
    return _table(("serde", "fields", "text and meaning"), rows)


def _ref_pairs() -> int:
    return sum(1 for pair in CVT_PAIRS if not set(pair) & set(_STORAGE_ONLY))


def _cvt_pairs() -> list[str]:
    rows = []
    for src in DType:
        targets = sorted((dst for s, dst in CVT_PAIRS if s is src), key=lambda t: t.value)
        if targets:
            rows.append((src.text, " ".join(t.text for t in targets)))
    return _table(("from", "to"), rows)


def isa_markdown() -> str:
    """The ISA reference page in Markdown, generated from :data:`simt.isa.table.SPECS`."""
    lines = [
        "# Atlas ISA reference",
        "",
        "<!-- Generated from simt/isa/table.py by `simt isa --markdown`; do not edit. -->",
        "",
        "Text syntax (contract §3): one instruction per line; `name:` defines a label, "
        "`@name` refers to one; comments start with `;`, `#` or `//`. Registers are `r0`..`r255` "
        "(r252..r255 are the special registers), predicates `p0`..`p15`. Integer immediates "
        "are decimal or hex (`0x...`). `mov_imm` takes any u64, negative integers down to "
        "-2^63, and for float types float literals, `inf`, `-inf` and `nan` (their bit "
        "pattern). A type, CVT pair or condition an instruction does not support assembles "
        "fine and raises `UnsupportedOperationError` when executed.",
        "",
        "JSON (atlas-isa.md §11.3): `{\"instructions\": [...], \"labels\": {name: index}}`, "
        "each instruction `{\"<serde>\": {<fields in serde order>}}` (instructions without "
        "fields as the bare string), types, conditions and scopes by serde name, addresses "
        "as `{\"<serde>\": {<fields>}}`.",
        "",
        "## Types",
        "",
        *_table(("text", "serde", "bincode", "bytes", "class"),
                [(f"`{t.text}`", f"`{t.serde}`", t.value, t.size, _type_class(t))
                 for t in DType]),
        "## Conditions",
        "",
        *_table(("text", "serde", "bincode", "types"),
                [(f"`{c.text}`", f"`{c.name}`", c.value,
                  "unsigned integers only" if c.unsigned_only else "integers and floats")
                 for c in Condition]),
        "## Memory scopes",
        "",
        *_table(("text", "serde", "bincode"),
                [(f"`{s.text}`", f"`{s.name}`", s.value) for s in Scope]),
        "## Addresses",
        "",
        *_addresses(),
        "## Instructions",
        "",
        *_instructions(),
        "## CVT pairs",
        "",
        f"`cvt.<dst_ty>.<src_ty>` converts these (src, dst) pairs: the {_ref_pairs()} of "
        "the reference plus f16 and bf16 to and from f32 (extension, round to nearest even).",
        "",
        *_cvt_pairs(),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
