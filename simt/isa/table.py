"""The instruction table: every Atlas instruction defined once.

Each :class:`Spec` row names the instruction's bincode opcode, serde variant
name, text form, fields (in serde order, with their operand kinds), accepted
types, category, flags and one-line doc.  The assembler, disassembler, JSON
codec, validator, executor dispatch, reference interpreter and ``docs/isa.md``
all read :data:`SPECS`; nothing else lists instructions.

Text forms (``head`` and ``operands``) use the reference backend's Display
syntax: ``head`` is the mnemonic with ``{field}`` placeholders for
the type / condition / scope parts, ``operands`` the fields printed after it,
in print order (which differs from serde order for NbrCount, NbrGet, BoundMap,
STG/STS and PoolStore).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .types import ALL, FL, INT, SINT, DType

__all__ = ["Kind", "Flag", "Category", "Field", "Spec", "SPECS", "BY_NAME", "BY_OPCODE",
           "Condition", "Scope", "BRANCHES", "CONTROL", "MEMORY", "OPCODES", "GLOBAL_ADDRESSES",
           "SHARED_ADDRESSES"]

#: How many instructions the ISA has: opcodes are ``0 .. OPCODES - 1``, one row each.
OPCODES = 60
#: Serde names of the address forms that name device (global) memory.
GLOBAL_ADDRESSES = frozenset({"BufferOffset", "RegisterIndirect", "RegisterIndirectComputed",
                              "PhiCoordinate"})
#: Serde names of the address forms that name the block's shared memory.
SHARED_ADDRESSES = frozenset({"Shared", "SharedIndirect"})


class Kind(enum.Enum):
    """Operand kinds: how a field is written, read and validated."""

    TYPE = "type"          # a DType
    REG = "reg"            # general register r0..r255
    PRED = "pred"          # predicate p0..p15
    OPT_PRED = "opt_pred"  # optional predicate (BRA)
    LABEL = "label"        # @name
    ADDR = "addr"          # an Address
    COND = "cond"          # a Condition
    SCOPE = "scope"        # a memory Scope
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    F64 = "f64"

    @property
    def limit(self) -> int | None:
        """Exclusive upper bound of an integer-valued kind."""
        return {Kind.REG: 256, Kind.PRED: 16, Kind.OPT_PRED: 16, Kind.U8: 1 << 8,
                Kind.U16: 1 << 16, Kind.U32: 1 << 32, Kind.U64: 1 << 64}.get(self)


class Condition(enum.Enum):
    """SETcc conditions; ``value`` is the bincode index."""

    EQ = 0
    NE = 1
    LT = 2
    LE = 3
    GT = 4
    GE = 5
    LTU = 6
    LEU = 7
    GTU = 8
    GEU = 9

    @property
    def text(self) -> str:
        return self.name.lower()

    @property
    def unsigned_only(self) -> bool:
        """LTU/LEU/GTU/GEU: accepted for unsigned integer types only."""
        return self.value >= 6


class Scope(enum.Enum):
    """MemFence scopes; ``value`` is the bincode index."""

    Thread = 0
    Block = 1
    Device = 2
    System = 3

    @property
    def text(self) -> str:
        return self.name.lower()


class Category(enum.Enum):
    DATA_MOVEMENT = "DataMovement"
    ARITHMETIC = "Arithmetic"
    LOGIC = "Logic"
    CONTROL_FLOW = "ControlFlow"
    SYNCHRONIZATION = "Synchronization"
    ATLAS = "AtlasSpecific"
    REDUCTION = "Reduction"
    TRANSCENDENTAL = "Transcendental"
    POOL = "PoolStorage"


class Flag(enum.Flag):
    NONE = 0
    BRANCH = enum.auto()      # may send lanes to more than one next PC (divergence counted)
    CONTROL = enum.auto()     # BRA CALL RET LOOP EXIT (is_control_flow)
    MEMORY = enum.auto()      # LDG STG LDS STS PoolLoad PoolStore (is_memory_access)
    POOL = enum.auto()        # pool operations
    BARRIER = enum.auto()
    CROSS_LANE = enum.auto()  # reads registers of other lanes (none yet; liveness keeps them)


@dataclass(frozen=True)
class Field:
    """One instruction field: Python attribute name, serde key and kind."""

    name: str
    kind: Kind

    @property
    def serde(self) -> str:
        return self.name.rstrip("_")


@dataclass(frozen=True)
class Spec:
    """One instruction of the ISA."""

    opcode: int
    name: str                     # serde variant name, e.g. "SETcc"
    head: str                     # text head with placeholders, e.g. "set{cond}.{ty}"
    fields: tuple[Field, ...]     # serde order
    operands: tuple[str, ...]     # field names in print order
    types: frozenset[DType]       # accepted types of the `ty` field (CVT: see PAIRS)
    category: Category
    doc: str
    flags: Flag = Flag.NONE
    addresses: frozenset[str] = frozenset()   # serde names of the forms the addr field takes
    register_run: tuple[str, str] | None = None   # (base, count) fields: registers read in a run

    @property
    def admits_shared(self) -> bool:
        """Whether the ``addr`` field takes shared-memory forms (``[shared ...]``)."""
        return not self.addresses.isdisjoint(SHARED_ADDRESSES)

    @property
    def mnemonic(self) -> str:
        """The head without placeholders, e.g. ``"set"``, ``"reduce.add"``."""
        return self.head.split("{")[0].rstrip(".")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def kind_of(self, name: str) -> Kind:
        for f in self.fields:
            if f.name == name:
                return f.kind
        raise KeyError(name)


def _f(spec: str) -> tuple[Field, ...]:
    """Parse ``"ty:type dst:reg addr:addr"`` into fields."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        out.append(Field(name, Kind(kind)))
    return tuple(out)


C = Category
F = Flag
_ROWS: list[Spec] = []


def _row(opcode, name, head, fields, operands, types, category, doc, flags=F.NONE,
         addresses=frozenset(), register_run=None):
    _ROWS.append(Spec(opcode, name, head, _f(fields), tuple(operands.split()), frozenset(types),
                      category, doc, flags, frozenset(addresses), register_run))


NUM = INT | FL
NONE: frozenset = frozenset()

_row(0, "LDG", "ldg.{ty}", "ty:type dst:reg addr:addr", "dst addr", ALL, C.DATA_MOVEMENT,
     "Load a value of type ty from global memory.", F.MEMORY, GLOBAL_ADDRESSES)
_row(1, "STG", "stg.{ty}", "ty:type src:reg addr:addr", "addr src", ALL, C.DATA_MOVEMENT,
     "Store a register to global memory.", F.MEMORY, GLOBAL_ADDRESSES)
_row(2, "LDS", "lds.{ty}", "ty:type dst:reg addr:addr", "dst addr", ALL, C.DATA_MOVEMENT,
     "Load from per-block shared memory ([shared ...]) or, with a buffer address, as LDG.",
     F.MEMORY, GLOBAL_ADDRESSES | SHARED_ADDRESSES)
_row(3, "STS", "sts.{ty}", "ty:type src:reg addr:addr", "addr src", ALL, C.DATA_MOVEMENT,
     "Store to per-block shared memory ([shared ...]) or, with a buffer address, as STG.",
     F.MEMORY, GLOBAL_ADDRESSES | SHARED_ADDRESSES)
_row(4, "MOV", "mov.{ty}", "ty:type dst:reg src:reg", "dst src", ALL, C.DATA_MOVEMENT,
     "Copy a register bit-exactly.")
_row(5, "MOV_IMM", "mov_imm.{ty}", "ty:type dst:reg value:u64", "dst value", ALL,
     C.DATA_MOVEMENT, "Load an immediate: the low bits of a u64 (floats as IEEE bits).")
_row(6, "CVT", "cvt.{dst_ty}.{src_ty}", "src_ty:type dst_ty:type dst:reg src:reg", "dst src",
     NONE, C.DATA_MOVEMENT, "Convert between types (52 pairs; f16/bf16<->f32 as an extension).")
for _op, (_n, _d) in enumerate((("ADD", "Add (integers wrap)."), ("SUB", "Subtract src2 from src1."),
                                ("MUL", "Multiply (integers keep the low bits)."),
                                ("DIV", "Divide; integers truncate, divisor 0 faults.")), 7):
    _row(_op, _n, _n.lower() + ".{ty}", "ty:type dst:reg src1:reg src2:reg", "dst src1 src2",
         NUM, C.ARITHMETIC, _d)
_row(11, "MAD", "mad.{ty}", "ty:type dst:reg a:reg b:reg c:reg", "dst a b c",
     {DType.I32, DType.I64, DType.F32, DType.F64}, C.ARITHMETIC, "a*b + c, rounded twice.")
_row(12, "FMA", "fma.{ty}", "ty:type dst:reg a:reg b:reg c:reg", "dst a b c", FL, C.ARITHMETIC,
     "Fused a*b + c, rounded once.")
_row(13, "MIN", "min.{ty}", "ty:type dst:reg src1:reg src2:reg", "dst src1 src2", NUM,
     C.ARITHMETIC, "Minimum; a single NaN operand is ignored.")
_row(14, "MAX", "max.{ty}", "ty:type dst:reg src1:reg src2:reg", "dst src1 src2", NUM,
     C.ARITHMETIC, "Maximum; a single NaN operand is ignored.")
_row(15, "ABS", "abs.{ty}", "ty:type dst:reg src:reg", "dst src", SINT | FL, C.ARITHMETIC,
     "Absolute value (abs(MIN) = MIN; floats clear the sign bit).")
_row(16, "NEG", "neg.{ty}", "ty:type dst:reg src:reg", "dst src", SINT | FL, C.ARITHMETIC,
     "Negate (integers wrap; floats flip the sign bit).")
for _op, (_n, _d) in enumerate((("AND", "Bitwise and."), ("OR", "Bitwise or."),
                                ("XOR", "Bitwise exclusive or.")), 17):
    _row(_op, _n, _n.lower() + ".{ty}", "ty:type dst:reg src1:reg src2:reg", "dst src1 src2",
         INT, C.LOGIC, _d)
_row(20, "NOT", "not.{ty}", "ty:type dst:reg src:reg", "dst src", INT, C.LOGIC,
     "Bitwise complement.")
_row(21, "SHL", "shl.{ty}", "ty:type dst:reg src:reg amount:reg", "dst src amount", INT, C.LOGIC,
     "Shift left by a u32 amount modulo the width.")
_row(22, "SHR", "shr.{ty}", "ty:type dst:reg src:reg amount:reg", "dst src amount", INT, C.LOGIC,
     "Shift right (arithmetic for signed types) by a u32 amount modulo the width.")
_row(23, "SETcc", "set{cond}.{ty}", "ty:type cond:cond dst:pred src1:reg src2:reg",
     "dst src1 src2", NUM, C.LOGIC, "Compare into a predicate (ltu/leu/gtu/geu: unsigned only).")
_row(24, "SEL", "sel.{ty}", "ty:type dst:reg pred:pred src_true:reg src_false:reg",
     "dst pred src_true src_false", NUM, C.LOGIC, "Select src_true where pred, else src_false.")
_row(25, "BRA", "bra{pred}", "target:label pred:opt_pred", "target", NONE, C.CONTROL_FLOW,
     "Branch to a label, if the predicate (when given) is true.", F.BRANCH | F.CONTROL)
_row(26, "CALL", "call", "target:label", "target", NONE, C.CONTROL_FLOW,
     "Push the return PC and jump to a label (depth limit 256).", F.CONTROL)
_row(27, "RET", "ret", "", "", NONE, C.CONTROL_FLOW, "Return to the PC on top of the call stack.",
     F.BRANCH | F.CONTROL)
_row(28, "LOOP", "loop", "count:reg body:label", "count body", NONE, C.CONTROL_FLOW,
     "If the u32 count > 0: decrement it and jump to body; else fall through.",
     F.BRANCH | F.CONTROL)
_row(29, "EXIT", "exit", "", "", NONE, C.CONTROL_FLOW, "End this lane.", F.CONTROL)
_row(30, "BarSync", "bar.sync", "id:u8", "id", NONE, C.SYNCHRONIZATION,
     "Wait until every non-exited lane of the block reaches a bar.sync with this id.", F.BARRIER)
_row(31, "MemFence", "memfence.{scope}", "scope:scope", "", NONE, C.SYNCHRONIZATION,
     "Memory fence; no effect under lockstep execution.")
_row(32, "ClsGet", "cls.get", "dst:reg", "dst", NONE, C.ATLAS,
     "The lane's resonance class, blockIdx.x mod 96, as u8.")
_row(33, "MIRROR", "mirror", "dst:reg src:reg", "dst src", NONE, C.ATLAS,
     "The mirror class of a u8 class.")
_row(34, "UnityTest", "unity.test", "dst:pred epsilon:f64", "dst epsilon", NONE, C.ATLAS,
     "Predicate: is the lane's class a unity class (1 or 4); epsilon is reserved.")
_row(35, "NbrCount", "nbr.count", "class_:reg dst:reg", "dst class_", NONE, C.ATLAS,
     "Number of neighbours (5 or 6) of a u8 class, as u32.")
_row(36, "NbrGet", "nbr.get", "class_:reg index:u8 dst:reg", "dst class_ index", NONE, C.ATLAS,
     "The index-th neighbour (ascending) of a u8 class, 0 past the degree.")
_row(37, "ResAccum", "res.accum", "class_:reg value:reg", "class_ value", NONE, C.ATLAS,
     "Add an f64 value into the launch's resonance accumulator at a u8 class.")
_row(38, "PhaseGet", "phase.get", "dst:reg", "dst", NONE, C.ATLAS,
     "The lane's phase counter, as u32.")
_row(39, "PhaseAdv", "phase.adv", "delta:u16", "delta", NONE, C.ATLAS,
     "Advance the lane's phase counter by delta, mod 768.")
_row(40, "BoundMap", "bound.map", "class_:reg page:reg byte:reg dst:reg", "dst class_ page byte",
     NONE, C.ATLAS, "Boundary-pool offset class*12288 + page*256 + byte, as u64.")
for _op, _n in enumerate(("Add", "Min", "Max", "Mul"), 41):
    _row(_op, "Reduce" + _n, f"reduce.{_n.lower()}.{{ty}}", "ty:type dst:reg src_base:reg count:u32",
         "dst src_base count", {DType.I32, DType.I64, DType.F32, DType.F64}, C.REDUCTION,
         f"Fold {_n.lower()} over count consecutive registers of the lane.",
         register_run=("src_base", "count"))
for _op, (_n, _d) in enumerate((("EXP", "e**x."), ("LOG", "Natural logarithm."),
                                ("LOG2", "Base-2 logarithm."), ("LOG10", "Base-10 logarithm."),
                                ("SQRT", "Square root."), ("RSQRT", "1 / sqrt(x), rounded twice."),
                                ("SIN", "Sine."), ("COS", "Cosine."), ("TAN", "Tangent."),
                                ("TANH", "Hyperbolic tangent."),
                                ("SIGMOID", "1 / (1 + exp(-x)), step by step.")), 45):
    _row(_op, _n, _n.lower() + ".{ty}", "ty:type dst:reg src:reg", "dst src", FL,
         C.TRANSCENDENTAL, _d)
_row(56, "PoolAlloc", "pool.alloc", "size:u64 dst:reg", "dst size", NONE, C.POOL,
     "Allocate a zero-filled pool of size bytes per lane; its u64 handle into dst.", F.POOL)
_row(57, "PoolFree", "pool.free", "handle:reg", "handle", NONE, C.POOL, "Free a pool.", F.POOL)
_row(58, "PoolLoad", "pool.load.{ty}", "ty:type pool:reg offset:reg dst:reg", "dst pool offset",
     NUM, C.POOL, "Load from a pool at a u64 offset.", F.POOL | F.MEMORY)
_row(59, "PoolStore", "pool.store.{ty}", "ty:type pool:reg offset:reg src:reg",
     "pool offset src", NUM, C.POOL, "Store into a pool at a u64 offset.", F.POOL | F.MEMORY)

SPECS: tuple[Spec, ...] = tuple(_ROWS)
BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}
BY_OPCODE: dict[int, Spec] = {s.opcode: s for s in SPECS}
assert [s.opcode for s in SPECS] == list(range(OPCODES))

BRANCHES = frozenset(s.name for s in SPECS if s.flags & Flag.BRANCH)
CONTROL = frozenset(s.name for s in SPECS if s.flags & Flag.CONTROL)
MEMORY = frozenset(s.name for s in SPECS if s.flags & Flag.MEMORY)


def _cvt_pairs() -> frozenset[tuple[DType, DType]]:
    """The CVT (src, dst) pairs: the reference backend's 52 plus f16/bf16 <-> f32 (extension)."""
    T = DType
    pairs = {(t, t) for t in DType if t not in (T.F16, T.BF16)}
    signed = (T.I8, T.I16, T.I32, T.I64)
    unsigned = (T.U8, T.U16, T.U32, T.U64)
    for group in (signed, unsigned):
        pairs |= {(a, b) for a in group for b in group if a != b}
    pairs |= set(zip(signed, unsigned)) | set(zip(unsigned, signed))
    pairs |= {(T.I32, T.F32), (T.I64, T.F64), (T.U32, T.F32), (T.U64, T.F64)}
    pairs |= {(T.F32, T.I32), (T.F64, T.I64), (T.F32, T.U32), (T.F64, T.U64)}
    pairs |= {(T.F32, T.F64), (T.F64, T.F32)}
    assert len(pairs) == 52
    pairs |= {(T.F16, T.F32), (T.F32, T.F16), (T.BF16, T.F32), (T.F32, T.BF16)}
    return frozenset(pairs)


CVT_PAIRS = _cvt_pairs()
__all__.append("CVT_PAIRS")
