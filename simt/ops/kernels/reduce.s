; {NAME}.{T}: one pass of a block-tree reduction ({OP}), accumulated as {A}.
; Block b covers the B * {F} elements from b * B * {F} (B = block size, a power of two):
; lane t first folds its elements t, t + B, ..., t + ({F} - 1) B sequentially, then the
; block folds the B lane values pairwise in shared memory, a barrier between levels, and
; lane 0 writes partials[base + b].  Elements at or past n count as the identity {ID}.
; Run it again over the partials (as {NAME}.{A}) until one value is left.
; args: r0 = n (u64), r1 = partials ({A}), r2 = x ({T}) (buffer handles),
;       r3 = base (u64): index of this launch's first partial
; shared memory: B * {AS} bytes, one {A} slot per lane
    mov_imm.{A} r8, {ID}
    cvt.u64.u32 r12, r252           ; t = lane index in the block
    cvt.u64.u32 r9, r253
    cvt.u64.u32 r10, r254           ; B
    mul.u64 r9, r9, r10
    mov_imm.u64 r11, {F}
    mul.u64 r9, r9, r11
    add.u64 r9, r9, r12             ; i = b * B * {F} + t, my first element
    mov_imm.u64 r11, {S}
    mov_imm.u32 r23, {F1}           ; loop tests, then decrements: {F} passes at most
fold:
    setge.u64 p0, r9, r0            ; elements at or past n: keep what we have
    bra.p0 @stash
    mul.u64 r24, r9, r11            ; byte offset of element i
    ldg.{T} r25, [r2 + r24]
    cvt.{A}.{T} r25, r25
    {OP}.{A} r8, r8, r25
    add.u64 r9, r9, r10             ; i = i + B
    loop r23, @fold
; Lane t's own slot always holds its r8 (only lane t writes it, and a lane folding at
; a level folded at every level before), so a level reads one slot, not two.
stash:
    mov_imm.u64 r13, {AS}
    mul.u64 r14, r12, r13           ; my slot: shared[t], in bytes
    sts.{A} [shared + r14], r8
    mov_imm.u64 r15, 0
    mov_imm.u32 r16, 1
    cvt.u64.u32 r17, r254
    shr.u64 r17, r17, r16
    mul.u64 r17, r17, r13           ; s = B / 2 slots, in bytes
level:
    bar.sync 0                      ; the level's inputs are all in shared memory
    setge.u64 p1, r14, r17          ; lanes t < s fold shared[t + s] into r8 = shared[t]
    bra.p1 @next
    add.u64 r18, r14, r17
    lds.{A} r19, [shared + r18]
    {OP}.{A} r8, r8, r19
    sts.{A} [shared + r14], r8
next:
    shr.u64 r17, r17, r16           ; s = s / 2
    setge.u64 p2, r17, r13          ; while s is at least one slot
    bra.p2 @level
    setne.u64 p3, r12, r15          ; lane 0 writes the block's result
    bra.p3 @done
    cvt.u64.u32 r22, r253           ; b = block index
    add.u64 r22, r22, r3
    mul.u64 r22, r22, r13
    stg.{A} [r1 + r22], r8
done:
    exit
