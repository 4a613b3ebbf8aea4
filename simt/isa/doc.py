"""The ISA reference page (``docs/isa.md``), generated from the instruction table.

``simt isa --markdown`` prints :func:`isa_markdown`; a test keeps
``docs/isa.md`` equal to it, so the page cannot drift from the table.  Every
instruction's example is built from the table, printed by the disassembler and
written by the JSON codec, so the examples are real.

The notes in :data:`NOTES` say, instruction by instruction, what the table's
one-line descriptions leave out: edge cases, errors, and where simt departs
from or extends the reference backend (the Rust CPU interpreter of the Atlas
ISA whose behaviour simt otherwise follows).
"""

from __future__ import annotations

import re
from dataclasses import fields

from .program import (ADDRESS_CLASSES, INSTRUCTIONS, SHARED_FORMS, Instruction,
                      RegisterIndirectComputed, SharedIndirect)
from .codec import _dump, _instruction_to_json
from .table import CVT_PAIRS, SPECS, Category, Condition, Kind, Scope, Spec
from .text import assemble, format_instruction, usage
from .types import DType

__all__ = ["isa_markdown", "NOTES"]

_STORAGE_ONLY = (DType.F16, DType.BF16)

_BOUNDS = ("An access with any byte outside its buffer raises `OutOfBoundsError` (offsets "
           "are checked in unbounded arithmetic, so a huge u64 offset never wraps); an "
           "unknown or freed handle raises `InvalidHandleError`. Through handle 0, the "
           "boundary pool, an access must stay inside one 12,288-byte class.")
_TRANSCENDENTAL = ("f64 is NumPy's float64 function; f32 is computed in float64 and rounded "
                   "to f32 once per step of the formula, so results are within 1 ulp and "
                   "do not depend on the platform's math library.")
_CLASS = "A class of 96 or more raises `InvalidClassError`."

NOTES: dict[str, str] = {
    "LDG": _BOUNDS + " A shared-memory address is an assembly error: use `lds`.",
    "STG": _BOUNDS + " When lanes of one instruction store to the same byte, the highest "
                     "global lane id wins.",
    "LDS": "Extension: with `[shared]`, `[shared + N]` or `[shared + rO]` (rO tagged u32 or "
           "u64) it reads the block's own shared memory, which `launch(..., shared_bytes=N)` "
           "sizes and zero-fills; offsets are bounds-checked against N. With a buffer address "
           "it behaves exactly as `ldg` (as in the reference backend) and counts as global "
           "traffic.",
    "STS": "Extension: with a shared address it writes the block's own shared memory (see "
           "`lds`); with a buffer address it behaves exactly as `stg`.",
    "MOV": "Copies the bits and the type tag; the source must hold type `ty`.",
    "MOV_IMM": "In text, the immediate is any u64, a negative integer down to -2^63 (stored "
               "two's complement), or for f32 and f64 a float literal (with a `.` or an "
               "exponent), `inf`, `-inf` or `nan`, meaning that value's bit pattern; a "
               "finite literal beyond the type's range is an `AssemblyError`. Extension: "
               "float literals for f16 and bf16 too, rounded to nearest even.",
    "CVT": "Integer to integer wraps, sign-extends or zero-extends; float to integer "
           "truncates toward zero and saturates, NaN giving 0; integer to float and f64 to "
           "f32 round to nearest even. Extension: f16 and bf16 to and from f32. Any other "
           "pair assembles and raises `UnsupportedOperationError` when it runs.",
    "DIV": "Signed division truncates toward zero and `MIN / -1 = MIN`; integer division by "
           "zero raises `DivisionByZeroError`. Floats follow IEEE 754.",
    "MUL": "Integers keep the low bits of the product.",
    "MAD": "The product is rounded, then the sum: two roundings (use `fma` for one).",
    "FMA": "One rounding, f64 included (computed exactly with an error-free "
           "transformation).",
    "MIN": "When exactly one operand is NaN the other is returned; with two NaNs, the first "
           "operand's bits unchanged. `min(+0, -0)` is -0.",
    "MAX": "When exactly one operand is NaN the other is returned; with two NaNs, the first "
           "operand's bits unchanged. `max(+0, -0)` is +0.",
    "SHL": "The amount is a u32 register whatever `ty` is, taken modulo the width.",
    "SHR": "The amount is a u32 register whatever `ty` is, taken modulo the width.",
    "SETcc": "`ltu`, `leu`, `gtu` and `geu` on a signed or float type raise "
             "`UnsupportedOperationError` (after both operands are read). Comparisons "
             "with NaN are false except `ne`.",
    "BRA": "Without a predicate the branch is taken by every lane. With one, lanes that "
           "disagree go to different PCs: the warp diverges (counted in "
           "`stats.divergent_branches`) and reconverges where the paths meet. A branch to "
           "itself falls through, as every instruction that leaves the PC unchanged does.",
    "CALL": "Each lane has its own call stack of at most 256 return addresses; a deeper "
            "call raises `CallStackError` (the reference backend's stack is unbounded).",
    "RET": "`ret` on an empty call stack raises `CallStackError`.",
    "LOOP": "The count is tested, then decremented, then the jump taken: a body placed "
            "before its `loop` runs count + 1 times. The count register must hold a u32.",
    "EXIT": "Running off the end of the program (or jumping to a label at the end) also "
            "ends the lane. An exited lane counts as arrived at every later barrier of its "
            "block.",
    "BarSync": "A real block barrier in simt (the reference backend runs lanes one after "
               "another, so there `bar.sync` does nothing). A lane waits (is parked) until "
               "every non-exited lane of its block waits at a `bar.sync` with the same id, "
               "at any PC. A block whose lanes wait at different ids with none left to run "
               "raises `BarrierDeadlockError`.",
    "MemFence": "All lanes see one memory and each instruction completes before the next, "
                "so a fence has nothing to order.",
    "ClsGet": "simt returns `blockIdx.x mod 96` (the reference backend always returns 0, "
              "which agrees for one-block launches).",
    "MIRROR": _CLASS,
    "UnityTest": "True when the lane's class (as `cls.get` gives it) is 1 or 4; epsilon is "
                 "reserved and ignored.",
    "NbrCount": _CLASS,
    "NbrGet": "Neighbours are listed in ascending order (the reference backend's order "
              "changes from process to process). " + _CLASS,
    "ResAccum": "simt adds into one float64[96] accumulator per launch, in ascending lane "
                "order within a step; the host reads it as `LaunchResult.resonance` (the "
                "reference backend keeps a private accumulator per lane that nothing "
                "reads). A launch of several pieces continues the same sum. " + _CLASS +
                " The value must be an f64.",
    "PhaseGet": "Each lane's phase counter starts at 0 at every launch.",
    "PhaseAdv": "Each lane's phase counter starts at 0 at every launch.",
    "BoundMap": "The same offset a `[Φ(class, page, byte)]` address resolves to, usable with "
                "handle 0 in `[rH + rO]`. " + _CLASS + " A page of 48 or more raises "
                "`OutOfBoundsError`.",
    "ReduceAdd": "Within one lane, not across lanes: a left fold in register order from the "
                 "identity 0. A range past r255 is a `ProgramError`.",
    "ReduceMin": "Within one lane: a left fold in register order from the type's maximum "
                 "(+inf for floats), ignoring single NaNs. A range past r255 is a "
                 "`ProgramError`.",
    "ReduceMax": "Within one lane: a left fold in register order from the type's minimum "
                 "(-inf for floats), ignoring single NaNs. A range past r255 is a "
                 "`ProgramError`.",
    "ReduceMul": "Within one lane: a left fold in register order from the identity 1. A "
                 "range past r255 is a `ProgramError`.",
    "PoolAlloc": "Pools work inside launches in simt (in the reference backend any pool "
                 "instruction run by a launch hangs). Every executing lane allocates its own "
                 "pool; handles are given in ascending lane order from a counter starting "
                 "at 1. Pools persist across launches and count against the device's "
                 "`memory_limit`.",
    "PoolFree": "An unknown or already freed handle, 0 included, raises "
                "`InvalidHandleError`.",
    "PoolLoad": "The offset is a u64 register; `offset + size > pool size` raises "
                "`OutOfBoundsError`. Pool handle 0 is the boundary pool: offsets are checked "
                "against its 1,179,648 bytes and must stay inside one class.",
    "PoolStore": "As `pool.load`: bounds-checked, pool handle 0 is the boundary pool.",
}
for _name in ("EXP", "LOG", "LOG2", "LOG10", "SQRT", "RSQRT", "SIN", "COS", "TAN", "TANH",
              "SIGMOID"):
    NOTES[_name] = _TRANSCENDENTAL

_CATEGORY_TITLES = {
    Category.DATA_MOVEMENT: "Data movement",
    Category.ARITHMETIC: "Arithmetic",
    Category.LOGIC: "Logic and comparison",
    Category.CONTROL_FLOW: "Control flow",
    Category.SYNCHRONIZATION: "Synchronization",
    Category.ATLAS: "Atlas instructions",
    Category.REDUCTION: "Reductions",
    Category.TRANSCENDENTAL: "Transcendentals",
    Category.POOL: "Pools",
}


def _slug(title: str) -> str:
    """The anchor Markdown renderers (GitHub, MyST) give a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower().replace(" ", "-"))


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
    return " ".join(f"`{t.text}`" for t in sorted(names, key=lambda t: t.value))


def _title(spec: Spec) -> str:
    """Section title: the mnemonic as written, ``set<cc>`` spelled ``setcc``."""
    return spec.mnemonic + ("cc" if spec.name == "SETcc" else "")


def _accepted(spec: Spec) -> str:
    if spec.types:
        return _types(spec.types)
    if any(f.kind is Kind.TYPE for f in spec.fields):
        return "see [CVT pairs](#cvt-pairs)"
    return "—"


def _example_type(spec: Spec) -> DType:
    for t in (DType.F32, DType.U32, DType.I32, DType.U64):
        if t in spec.types:
            return t
    return min(spec.types, key=lambda t: t.value)


def _example(spec: Spec) -> Instruction:
    """A valid instruction of ``spec`` with plausible operands."""
    registers = iter(range(1, 10))
    values = {}
    for f in spec.fields:
        kind = f.kind
        if kind is Kind.TYPE:
            values[f.name] = ({"src_ty": DType.U32, "dst_ty": DType.F32}[f.name]
                              if spec.name == "CVT" else _example_type(spec))
        elif kind is Kind.REG:
            values[f.name] = next(registers)
        elif kind in (Kind.PRED, Kind.OPT_PRED):
            values[f.name] = 0
        elif kind is Kind.LABEL:
            values[f.name] = "body" if spec.name == "LOOP" else "done"
        elif kind is Kind.COND:
            values[f.name] = Condition.LT
        elif kind is Kind.SCOPE:
            values[f.name] = Scope.Block
        elif kind is Kind.ADDR:
            values[f.name] = (SharedIndirect(5) if spec.admits_shared
                              else RegisterIndirectComputed(0, 5))
        elif kind is Kind.F64:
            values[f.name] = 1e-10
        elif spec.name == "MOV_IMM":
            values[f.name] = 0x3FC00000          # 1.5 as f32
        else:
            values[f.name] = {"PoolAlloc": 64, "PhaseAdv": 3, "NbrGet": 2}.get(spec.name, 4) \
                if spec.name != "BarSync" else 0
    return INSTRUCTIONS[spec.name](**values)


def _example_text(spec: Spec, ins: Instruction) -> str:
    printed = f"`{format_instruction(ins)}`"
    if spec.name != "MOV_IMM":
        return printed
    written = "mov_imm.f32 r1, 1.5"
    assert assemble(written)[0] == ins
    return f"`{written}`, which prints back as {printed} (the bit pattern of 1.5)"


def _instruction_section(spec: Spec) -> list[str]:
    ins = _example(spec)
    fields_text = ", ".join(f"`{f.serde}` ({f.kind.value})" for f in spec.fields) or "none"
    lines = [
        f"### {_title(spec)}",
        "",
        f"`{usage(spec)}`",
        "",
        spec.doc,
        "",
        f"- Types: {_accepted(spec)}",
        f"- Example: {_example_text(spec, ins)}",
        f"- JSON: `{_dump(_instruction_to_json(ins))}` (fields in order: {fields_text})",
        f"- Opcode {spec.opcode}, serde name `{spec.name}`",
    ]
    if spec.name in NOTES:
        lines.append(f"- Notes: {NOTES[spec.name]}")
    return lines + [""]


def _addresses() -> list[str]:
    rows = [(cls.__doc__.split(":")[0].replace("``", "`"),
             cls.__doc__.split(":", 1)[1].strip().replace("``", "`")
             + (" `lds`/`sts` only." if cls in SHARED_FORMS else ""),
             f"`{cls.serde}`", ", ".join(f"`{f.name.rstrip('_')}`" for f in fields(cls)))
            for cls in ADDRESS_CLASSES]
    return _table(("text", "meaning", "JSON variant", "JSON fields"), rows)


def _ref_pairs() -> int:
    return sum(1 for pair in CVT_PAIRS if not set(pair) & set(_STORAGE_ONLY))


def _cvt_pairs() -> list[str]:
    rows = []
    for src in DType:
        targets = sorted((dst for s, dst in CVT_PAIRS if s is src), key=lambda t: t.value)
        if targets:
            rows.append((f"`{src.text}`", " ".join(f"`{t.text}`" for t in targets)))
    return _table(("from", "to"), rows)


def _summary() -> list[str]:
    rows = [(spec.opcode, f"[{_title(spec)}](#{_slug(_title(spec))})", f"`{usage(spec)}`",
             spec.doc) for spec in SPECS]
    return _table(("#", "instruction", "text form", "what it does"), rows)


def _instructions() -> list[str]:
    lines = []
    for category in Category:
        specs = [s for s in SPECS if s.category is category]
        lines += [f"## {_CATEGORY_TITLES[category]}", ""]
        for spec in specs:
            lines += _instruction_section(spec)
    return lines


_INTRO = """\
Every instruction of the Atlas ISA, generated from simt's instruction table
(`simt/isa/table.py`). simt follows the reference backend (the Rust CPU interpreter of
the Atlas ISA) instruction by instruction; the notes below say where simt fixes one of
its defects or extends it, and [What simt guarantees](semantics.md) states the execution
rules every instruction shares.

## Assembly text

- One instruction per line; whitespace around tokens is free. Comments run from `;`,
  `#` or `//` to the end of the line.
- A label is defined by `name:`, alone on its line or before an instruction, and used as
  `@name`. Names match `[A-Za-z_.$][A-Za-z0-9_.$]*`.
- Registers are `r0`..`r255`, predicates `p0`..`p15`. r252..r255 are the special
  registers below.
- Integer immediates are decimal or hexadecimal (`0x...`).
- A type, CVT pair or condition an instruction does not support still assembles; it
  raises `UnsupportedOperationError` when it runs.
- Anything wrong in the text raises `AssemblyError` with its 1-based `line` and `column`.

## Registers

Every register and predicate belongs to one lane. Registers are type-tagged: an
instruction that reads `r5` as f32 needs r5 to have been written as f32
(`TypeMismatchError` otherwise, with no implicit conversion); reading a register or
predicate that was never written raises `UninitializedRegisterError`. Before the first
instruction, the kernel arguments are in r0, r1, ... and the special registers hold:

| register | type | value | CUDA name |
|---|---|---|---|
| r252 | u32 | the lane's index in its block, x component | `threadIdx.x` |
| r253 | u32 | the block's index in the grid, x component | `blockIdx.x` |
| r254 | u32 | lanes per block, x component | `blockDim.x` |
| r255 | u64 | the global lane id: `block_linear * lanes_per_block + lane_linear` | — |

There are no special registers for y and z: compute them from r255 (see
[Port a CUDA kernel](howto/port-cuda.md)).
"""

_JSON = """\
## JSON form

`Program.to_json()` writes, and `Program.from_json()` reads, the serde JSON of the
reference backend's programs: `{"instructions": [...], "labels": {"name": index}}`. Each
instruction is `{"<serde name>": {<fields in the order above>}}` (an instruction without
fields is the bare string, e.g. `"EXIT"`); types, conditions and scopes are written by
their serde names (`"F32"`, `"LT"`, `"Block"`), addresses as `{"<variant>": {<fields>}}`,
labels by name, and a NaN epsilon as `null`. See
[Load a hologram JSON program](howto/load-json.md).
"""


def isa_markdown() -> str:
    """The ISA reference page in Markdown, generated from :data:`simt.isa.table.SPECS`."""
    lines = [
        "# ISA reference",
        "",
        "<!-- Generated from simt/isa/table.py by `simt isa --markdown`; do not edit. -->",
        "",
        _INTRO,
        "## Types",
        "",
        "f16 and bf16 are storage-only: loads, stores, `mov`, `mov_imm` and their `cvt`s to "
        "and from f32 accept them, and registers keep their bit patterns.",
        "",
        *_table(("text", "bytes", "class", "JSON", "index"),
                [(f"`{t.text}`", t.size, _type_class(t), f"`{t.serde}`", t.value)
                 for t in DType]),
        "## Conditions",
        "",
        "`set<cc>.<ty>` compares two registers into a predicate.",
        "",
        *_table(("text", "JSON", "index", "types"),
                [(f"`{c.text}`", f"`{c.name}`", c.value,
                  "unsigned integers only" if c.unsigned_only else "integers and floats")
                 for c in Condition]),
        "## Memory scopes",
        "",
        "Scopes of `memfence.<scope>`.",
        "",
        *_table(("text", "JSON", "index"),
                [(f"`{s.text}`", f"`{s.name}`", s.value) for s in Scope]),
        "## Addresses",
        "",
        "Loads and stores name their memory with one of these forms. Buffers are addressed "
        "by their handle (`Buffer.handle`, passed as a u64 kernel argument); handle 0 is "
        "the boundary pool of 96 classes × 48 pages × 256 bytes.",
        "",
        *_addresses(),
        "## Instructions at a glance",
        "",
        *_summary(),
        *_instructions(),
        "## CVT pairs",
        "",
        f"`cvt.<dst_ty>.<src_ty>` converts these (source, destination) pairs: the "
        f"{_ref_pairs()} of the reference backend plus f16 and bf16 to and from f32 "
        "(extension, round to nearest even).",
        "",
        *_cvt_pairs(),
        _JSON,
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
