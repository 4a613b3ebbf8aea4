; fill.{T}: y[i] = value, one lane per element.
; args: r0 = n (u64), r1 = y (buffer handle, elements of {T}), r2 = value ({T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    stg.{T} [r1 + r9], r2
done:
    exit
