; binary_cross_entropy.{T}: y[i] = -(t ln p + (1 - t) ln(1 - p)) with p = p[i], t = t[i],
; the loss of each element, no clamping
; (binary_cross_entropy then sums y with the sum kernel and divides by n with the mean kernel).
; args: r0 = n (u64), r1 = y, r2 = p, r3 = t (buffer handles, elements of {T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    mov_imm.{T} r10, 1.0
    ldg.{T} r11, [r2 + r9]          ; p
    ldg.{T} r12, [r3 + r9]          ; t
    log.{T} r13, r11
    mul.{T} r13, r12, r13           ; t ln p
    sub.{T} r14, r10, r11           ; 1 - p
    log.{T} r14, r14
    sub.{T} r15, r10, r12           ; 1 - t
    mul.{T} r14, r15, r14           ; (1 - t) ln(1 - p)
    add.{T} r13, r13, r14
    neg.{T} r13, r13
    stg.{T} [r1 + r9], r13
done:
    exit
