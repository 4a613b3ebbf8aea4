; relu.{T}: y[i] = max(a[i], 0), one lane per element.
; MAX ignores a single NaN operand, so relu(NaN) = 0.
; args: r0 = n (u64), r1 = y, r2 = a (buffer handles, elements of {T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    mov_imm.{T} r10, {ZERO}
    ldg.{T} r11, [r2 + r9]
    max.{T} r12, r11, r10
    stg.{T} [r1 + r9], r12
done:
    exit
