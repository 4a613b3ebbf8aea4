; {NAME}.{T}: y[i] = {OP}(a[i]), one lane per element.
; args: r0 = n (u64), r1 = y, r2 = a (buffer handles, elements of {T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    ldg.{T} r10, [r2 + r9]
    {OP}.{T} r11, r10
    stg.{T} [r1 + r9], r11
done:
    exit
