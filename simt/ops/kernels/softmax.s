; softmax.{T}: y[r, :] = e / sum(e) with e = exp(x[r, :] - max(x[r, :])), one block per row.
; Lane t of block r handles the row's elements t, t + B, t + 2B, ... (B = block size, a
; power of two); the row's max and sum are block trees in shared memory.  The sum of e
; accumulates in f64 and is rounded once to {T}.
; args: r0 = L (u64, row length), r1 = y, r2 = x (buffer handles, rows of L elements of {T})
; shared memory: B * 8 bytes
    cvt.u64.u32 r8, r252            ; t = lane index in the block
    cvt.u64.u32 r9, r254            ; B = block size
    cvt.u64.u32 r10, r253           ; r = row = block index
    mov_imm.u64 r11, {S}
    mov_imm.u64 r12, 8
    mov_imm.u64 r13, 0
    mov_imm.u32 r14, 1
    mul.u64 r15, r10, r0
    mul.u64 r15, r15, r11           ; byte offset of the row
    mul.u64 r16, r0, r11
    add.u64 r16, r16, r15           ; byte offset of the row's end
    mul.u64 r17, r8, r11
    add.u64 r17, r17, r15           ; byte offset of my first element
    mul.u64 r18, r9, r11            ; stride: B elements
    mul.u64 r19, r8, r11            ; my {T} slot in shared memory
    mul.u64 r20, r8, r12            ; my f64 slot in shared memory
; 1. m = max of the row (nan = nothing yet: MAX ignores a single NaN operand)
    mov_imm.{T} r21, nan
    mov.u64 r22, r17
max_elems:
    setge.u64 p0, r22, r16
    bra.p0 @max_tree
    ldg.{T} r23, [r2 + r22]
    max.{T} r21, r21, r23
    add.u64 r22, r22, r18
    bra @max_elems
max_tree:
    sts.{T} [shared + r19], r21
    shr.u64 r24, r9, r14            ; s = B / 2
max_level:
    bar.sync 0
    setge.u64 p1, r8, r24           ; lanes t < s fold shared[t + s] into shared[t]
    bra.p1 @max_next
    add.u64 r25, r8, r24
    mul.u64 r25, r25, r11
    lds.{T} r26, [shared + r25]
    lds.{T} r27, [shared + r19]
    max.{T} r27, r27, r26
    sts.{T} [shared + r19], r27
max_next:
    shr.u64 r24, r24, r14
    setne.u64 p2, r24, r13
    bra.p2 @max_level
    bar.sync 0
    lds.{T} r28, [shared]           ; m, in every lane
    bar.sync 0                      ; everyone has m before shared memory is reused
; 2. e = exp(x - m) into y, and the sum of e
    mov_imm.f64 r29, 0.0
    mov.u64 r22, r17
sum_elems:
    setge.u64 p0, r22, r16
    bra.p0 @sum_tree
    ldg.{T} r23, [r2 + r22]
    sub.{T} r23, r23, r28
    exp.{T} r23, r23
    stg.{T} [r1 + r22], r23
    cvt.f64.{T} r30, r23
    add.f64 r29, r29, r30
    add.u64 r22, r22, r18
    bra @sum_elems
sum_tree:
    sts.f64 [shared + r20], r29
    shr.u64 r24, r9, r14            ; s = B / 2
sum_level:
    bar.sync 0
    setge.u64 p1, r8, r24
    bra.p1 @sum_next
    add.u64 r25, r8, r24
    mul.u64 r25, r25, r12
    lds.f64 r26, [shared + r25]
    lds.f64 r27, [shared + r20]
    add.f64 r27, r27, r26
    sts.f64 [shared + r20], r27
sum_next:
    shr.u64 r24, r24, r14
    setne.u64 p2, r24, r13
    bra.p2 @sum_level
    bar.sync 0
    lds.f64 r31, [shared]
    cvt.{T}.f64 r31, r31            ; the row's sum, rounded once to {T}
; 3. y = e / sum
    mov.u64 r22, r17
div_elems:
    setge.u64 p0, r22, r16
    bra.p0 @done
    ldg.{T} r23, [r1 + r22]
    div.{T} r23, r23, r31
    stg.{T} [r1 + r22], r23
    add.u64 r22, r22, r18
    bra @div_elems
done:
    exit
