; clip.{T}: y[i] = min(max(a[i], lo), hi), one lane per element.
; MAX ignores a single NaN operand, so NaN becomes lo.
; args: r0 = n (u64), r1 = y, r2 = a (buffer handles, elements of {T}), r3 = lo, r4 = hi ({T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    ldg.{T} r10, [r2 + r9]
    max.{T} r11, r10, r3
    min.{T} r12, r11, r4
    stg.{T} [r1 + r9], r12
done:
    exit
