; mse.{T}: y[i] = (p[i] - t[i])^2, the squared error of each element
; (mse then sums y with the sum kernel and divides by n with the mean kernel).
; args: r0 = n (u64), r1 = y, r2 = p, r3 = t (buffer handles, elements of {T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    ldg.{T} r10, [r2 + r9]
    ldg.{T} r11, [r3 + r9]
    sub.{T} r12, r10, r11
    mul.{T} r12, r12, r12
    stg.{T} [r1 + r9], r12
done:
    exit
