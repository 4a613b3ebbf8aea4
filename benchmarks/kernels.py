"""The ISA text of every benchmark kernel, in one place.

The asv suites, ``report.py``, ``rss_probe.py`` and ``compare_peers.py`` all take their
ISA kernels from here (``compare_peers.py`` holds only the Numba and Triton versions); the
gallery kernels of :mod:`simt.demo` are reused as they are.

Contract §8 ("honest speed") asks for variants whose lane ids are computed with ``mul``,
``shl`` or ``cvt``: :data:`VECTOR_ADD_VARIANTS` holds the same guarded vector add with the
byte offset computed three ways, so that a fast path that serves one must serve all.

Every kernel here takes its buffers and sizes as arguments (``r0``, ``r1``, ...): nothing
data-dependent is baked into the text.
"""

from __future__ import annotations

from functools import lru_cache

import simt
from simt.demo import IF_ELSE, TREE_REDUCTION, VECTOR_ADD

__all__ = [
    "VECTOR_ADD", "IF_ELSE", "TREE_REDUCTION", "VECTOR_ADD_VARIANTS", "IF_ELSE_VARIANTS",
    "TREE_REDUCTION_VARIANTS", "DIVERGENCE", "NEIGHBOUR_EXCHANGE", "OPCODES",
    "straight_line_alu", "opcode_kernel", "program",
]

# --------------------------------------------------------------------------------------
# Guarded f32 vector add, c[i] = a[i] + b[i] for i < n; args r0=a r1=b r2=c r3=n (u64).
# The "shl" variant is the README/demo kernel (global id r255, offset = r255 << 2).
# --------------------------------------------------------------------------------------

_VECTOR_ADD_TEMPLATE = """
; c[i] = a[i] + b[i] for i < n, {how}
; args: r0=a r1=b r2=c (buffers), r3=n (u64)
{lane_id}
    setge.u64 p0, {lane}, r3
    bra.p0 @done
{offset}
    ldg.f32 r6, [r0 + r5]
    ldg.f32 r7, [r1 + r5]
    add.f32 r8, r6, r7
    stg.f32 [r2 + r5], r8
done:
    exit
"""

VECTOR_ADD_MUL = _VECTOR_ADD_TEMPLATE.format(
    how="byte offset computed with mul.u64",
    lane_id="",
    lane="r255",
    offset="""\
    mov_imm.u64 r4, 4
    mul.u64 r5, r255, r4            ; byte offset = lane id * 4""",
)

VECTOR_ADD_CVT = _VECTOR_ADD_TEMPLATE.format(
    how="lane id computed from r252/r253/r254 in u32, then cvt to u64",
    lane_id="""\
    mul.u32 r9, r253, r254          ; blockIdx.x * blockDim.x
    add.u32 r9, r9, r252            ; + threadIdx.x
    cvt.u64.u32 r10, r9             ; the global lane id, as u64""",
    lane="r10",
    offset="""\
    mov_imm.u32 r4, 2
    shl.u64 r5, r10, r4             ; byte offset = lane id << 2""",
)

#: The same guarded vector add with the lane id or byte offset computed three ways.
VECTOR_ADD_VARIANTS: dict[str, str] = {
    "shl": VECTOR_ADD,
    "mul": VECTOR_ADD_MUL,
    "cvt": VECTOR_ADD_CVT,
}

# --------------------------------------------------------------------------------------
# If/else and tree reduction written other ways: the fast paths follow properties of
# values and lane sets, so each variant must be served like the gallery kernel.
# --------------------------------------------------------------------------------------

IF_ELSE_STORES = """
; c[i] = 2 a[i] if a[i] > 0 else -a[i], each path storing its own result
; args: r0=a r1=c r2=n (u64)
    setlt.u64 p0, r255, r2
    bra.p0 @work
    exit
work:
    mov_imm.u64 r3, 4
    mul.u64 r4, r255, r3
    ldg.f32 r5, [r0 + r4]
    mov_imm.f32 r6, 0.0
    setle.f32 p1, r5, r6
    bra.p1 @negative
    add.f32 r7, r5, r5
    stg.f32 [r1 + r4], r7
    exit
negative:
    neg.f32 r8, r5
    stg.f32 [r1 + r4], r8
    exit
"""

#: The if/else kernel as in the gallery (paths join, then one store) and with a store
#: in each path (the lanes of each path store through a mask).
IF_ELSE_VARIANTS: dict[str, str] = {"join": IF_ELSE, "stores": IF_ELSE_STORES}

TREE_REDUCTION_CUDA = """
; partials[block] = sum of the block's a[i] (0 past n), written as in CUDA:
;   s[tid] = i < n ? a[i] : 0; for (k = blockDim/2; k > 0; k >>= 1) {
;     if (tid < k) s[tid] += s[tid + k]; sync }   if (tid == 0) partials[bid] = s[0]
; args: r0=a r1=partials r2=n (u64); block size a power of two; shared = 4 * block
    cvt.u64.u32 r3, r252            ; tid
    mov_imm.u64 r4, 4
    mul.u64 r5, r3, r4              ; tid * 4
    mov_imm.f32 r6, 0.0
    setlt.u64 p0, r255, r2
    bra.p0 @load
    bra @stored
load:
    mul.u64 r7, r255, r4
    ldg.f32 r6, [r0 + r7]
stored:
    sts.f32 [shared + r5], r6
    bar.sync 0
    cvt.u64.u32 r8, r254
    mov_imm.u32 r9, 1               ; shift amounts are u32
    shr.u64 r8, r8, r9              ; k = blockDim / 2
    mov_imm.u64 r10, 0
level:
    setlt.u64 p1, r3, r8
    bra.p1 @add
    bra @sync
add:
    add.u64 r11, r3, r8
    mul.u64 r11, r11, r4
    lds.f32 r12, [shared + r11]
    lds.f32 r13, [shared + r5]
    add.f32 r13, r13, r12
    sts.f32 [shared + r5], r13
sync:
    bar.sync 0
    shr.u64 r8, r8, r9
    setne.u64 p2, r8, r10
    bra.p2 @level
    seteq.u64 p3, r3, r10
    bra.p3 @write
    exit
write:
    lds.f32 r14, [shared]
    cvt.u64.u32 r15, r253
    mul.u64 r15, r15, r4
    stg.f32 [r1 + r15], r14
    exit
"""

#: The tree reduction as in the gallery and written CUDA-style (u64 lane index, the
#: adding lanes branch into the level's body, ``tid == 0`` writes).
TREE_REDUCTION_VARIANTS: dict[str, str] = {"gallery": TREE_REDUCTION, "cuda": TREE_REDUCTION_CUDA}

# --------------------------------------------------------------------------------------
# Divergence: the same two-path kernel; which path a lane takes comes from the data, so
# one program serves the "none", "parity" and "random" patterns.
# --------------------------------------------------------------------------------------

DIVERGENCE = """
; y[i] = path_a(x[i]) if flag[i] == 0 else path_b(x[i])   (8 ALU instructions per path)
; args: r0=x (f32) r1=flag (u32) r2=y (f32) r3=n (u64)
    setge.u64 p0, r255, r3
    bra.p0 @done
    mov_imm.u32 r4, 2
    shl.u64 r5, r255, r4
    ldg.f32 r6, [r0 + r5]
    ldg.u32 r7, [r1 + r5]
    mov_imm.u32 r8, 0
    mov_imm.f32 r11, 0.5
    setne.u32 p1, r7, r8
    bra.p1 @path_b
    mul.f32 r9, r6, r11
    add.f32 r9, r9, r6
    mul.f32 r9, r9, r11
    add.f32 r9, r9, r6
    mul.f32 r9, r9, r11
    add.f32 r9, r9, r6
    mul.f32 r9, r9, r11
    add.f32 r9, r9, r6
    bra @join
path_b:
    sub.f32 r9, r6, r11
    mul.f32 r9, r9, r6
    sub.f32 r9, r9, r11
    mul.f32 r9, r9, r6
    sub.f32 r9, r9, r11
    mul.f32 r9, r9, r6
    sub.f32 r9, r9, r11
    mul.f32 r9, r9, r6
join:
    stg.f32 [r2 + r5], r9
done:
    exit
"""

# --------------------------------------------------------------------------------------
# Barrier-heavy: neighbour exchange through shared memory, two barriers per round.
# --------------------------------------------------------------------------------------

NEIGHBOUR_EXCHANGE = """
; v = x[i] (0 past n); rounds times: s[t] = v; bar; v += s[(t + 1) mod block]; bar
; y[i] = v for i < n.  args: r0=x r1=y r2=n (u64) r3=rounds (u32, >= 1)
; block size a power of two; shared = 4 * block
    mov_imm.u32 r4, 2
    mov_imm.u32 r5, 1
    mov_imm.f32 r6, 0.0
    setge.u64 p0, r255, r2
    bra.p0 @have
    shl.u64 r7, r255, r4
    ldg.f32 r6, [r0 + r7]
have:
    cvt.u64.u32 r8, r252
    shl.u64 r8, r8, r4              ; this lane's slot
    add.u32 r9, r252, r5
    sub.u32 r10, r254, r5
    and.u32 r9, r9, r10             ; (t + 1) mod block
    cvt.u64.u32 r9, r9
    shl.u64 r9, r9, r4              ; the neighbour's slot
    sub.u32 r11, r3, r5             ; LOOP runs count + 1 times
round:
    sts.f32 [shared + r8], r6
    bar.sync 0
    lds.f32 r12, [shared + r9]
    add.f32 r6, r6, r12
    bar.sync 0
    loop r11, @round
    bra.p0 @done
    stg.f32 [r1 + r7], r6
done:
    exit
"""

# --------------------------------------------------------------------------------------
# Straight-line ALU kernel: dispatch cost per instruction on few lanes.
# --------------------------------------------------------------------------------------

_ALU_PROLOGUE = (
    "mov_imm.f32 r1, 1.0001",
    "mov_imm.f32 r2, 0.5",
    "mov_imm.u32 r3, 0x9e3779b9",
    "mov_imm.u32 r4, 7",
)
# The same registers, but holding a different value in every lane (r1 = 1 + lane * 1e-6,
# r3 = lane xor 7): every instruction then computes on arrays.
_ALU_PROLOGUE_LANES = (
    "cvt.u32.u64 r3, r255",
    "cvt.f32.u32 r1, r3",
    "mov_imm.f32 r2, 0.000001",
    "mul.f32 r1, r1, r2",
    "mov_imm.f32 r2, 1.0",
    "add.f32 r1, r1, r2",
    "mov_imm.f32 r2, 0.5",
    "mov_imm.u32 r4, 7",
    "xor.u32 r3, r3, r4",
)
_ALU_CYCLE = (
    "add.f32 r2, r2, r1",
    "mul.f32 r5, r2, r1",
    "add.u32 r3, r3, r4",
    "xor.u32 r6, r3, r4",
    "sub.f32 r2, r5, r1",
    "shl.u32 r7, r3, r4",
    "and.u32 r6, r6, r7",
    "max.f32 r5, r5, r2",
)


def straight_line_alu(length: int = 1000, operands: str = "uniform") -> str:
    """Return a branch-free kernel of exactly ``length`` instructions.

    A prologue sets up f32 and u32 operands, a cycle of eight f32/u32 ALU instructions
    (add, mul, sub, max, xor, shl, and) fills the middle, and ``exit`` ends it, so every
    lane issues ``length`` instructions and time per instruction is the launch time
    divided by ``length``.

    Parameters
    ----------
    length : int
        Number of instructions, at least 11.
    operands : {"uniform", "lanes"}
        Operands equal in every lane (immediates), or different in every lane (derived
        from the lane id), so that instructions compute on arrays.

    Returns
    -------
    str
        Assembly text with one instruction per line.
    """
    prologue = {"uniform": _ALU_PROLOGUE, "lanes": _ALU_PROLOGUE_LANES}[operands]
    if length < len(_ALU_PROLOGUE_LANES) + 2:
        raise ValueError(f"length must be >= {len(_ALU_PROLOGUE_LANES) + 2}, got {length}")
    body = length - len(prologue) - 1
    lines = [f"; straight-line ALU kernel ({operands} operands), no arguments", *prologue]
    lines += [_ALU_CYCLE[i % len(_ALU_CYCLE)] for i in range(body)]
    lines.append("exit")
    return "\n".join("    " + line if not line.startswith(";") else line for line in lines) + "\n"


# --------------------------------------------------------------------------------------
# Per-opcode throughput: a common guarded prologue, an op-specific set-up, then REPEAT
# instructions of one kind (one representative type per instruction category).
# --------------------------------------------------------------------------------------

_OPCODE_PROLOGUE = """
; per-opcode throughput: {op}, {count} instructions after the prologue
; args: r0=x (f32, in [0.5, 1)) r1=y (f32) r2=n (u64)
    setge.u64 p0, r255, r2
    bra.p0 @done
    mov_imm.u32 r3, 2
    shl.u64 r4, r255, r3            ; byte offset
    ldg.f32 r5, [r0 + r4]           ; x
    cvt.u32.u64 r6, r255            ; lane id, u32
"""

#: op name -> (set-up lines, group of instructions repeated until the count is reached).
OPCODES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "none": ((), ()),
    "add.f32": (("mov.f32 r10, r5",), ("add.f32 r10, r10, r5",)),
    "and.u32": (("mov_imm.u32 r11, 0xffffffff",), ("and.u32 r11, r11, r6",)),
    "setlt.f32+sel": (("mov.f32 r10, r5",),
                      ("setlt.f32 p1, r10, r5", "sel.f32 r10, p1, r5, r10")),
    "cvt.f32.i32": (("cvt.i32.u32 r7, r6",), ("cvt.f32.i32 r12, r7",)),
    "exp.f32": ((), ("exp.f32 r13, r5",)),
    "ldg+stg": ((), ("ldg.f32 r14, [r0 + r4]", "stg.f32 [r1 + r4], r14")),
    "reduce.add.f32": (("mov.f32 r16, r5", "mov.f32 r17, r5", "mov.f32 r18, r5",
                        "mov.f32 r19, r5"),
                       ("reduce.add.f32 r15, r16, 4",)),
    "res.accum": (("mov_imm.u32 r20, 63", "and.u32 r20, r6, r20", "cvt.u8.u32 r21, r20",
                   "cvt.f64.f32 r22, r5"),
                  ("res.accum r21, r22",)),
}


def opcode_kernel(op: str, count: int = 32) -> str:
    """Return the per-opcode throughput kernel for ``op``.

    Parameters
    ----------
    op : str
        A key of :data:`OPCODES`; ``"none"`` is the prologue alone, the baseline to
        subtract (cost per instruction ~= (t(op) - t("none")) / count).
    count : int
        Number of instructions of the measured kind (a multiple of the group length).

    Returns
    -------
    str
        Assembly text.
    """
    setup, group = OPCODES[op]
    lines = list(setup)
    if group:
        if count % len(group):
            raise ValueError(f"count must be a multiple of {len(group)} for {op}")
        lines += list(group) * (count // len(group))
    text = _OPCODE_PROLOGUE.format(op=op, count=count if group else 0)
    text += "".join(f"    {line}\n" for line in lines)
    return text + "done:\n    exit\n"


@lru_cache(maxsize=None)
def program(text: str) -> simt.Program:
    """Assemble ``text`` once per process (programs are immutable)."""
    return simt.assemble(text)
