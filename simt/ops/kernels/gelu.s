; gelu.{T}: y[i] = 0.5 x (1 + tanh(c (x + 0.044715 x^3))), x = a[i], c = sqrt(2/pi)
; (the tanh form of GELU), one lane per element.
; args: r0 = n (u64), r1 = y, r2 = a (buffer handles, elements of {T})
    setge.u64 p0, r255, r0          ; lanes at or past n have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r8            ; byte offset of element i
    mov_imm.{T} r10, 0.044715
    mov_imm.{T} r11, 0.7978845608028654     ; sqrt(2/pi)
    mov_imm.{T} r12, 1.0
    mov_imm.{T} r13, 0.5
    ldg.{T} r14, [r2 + r9]          ; x
    mul.{T} r15, r14, r14           ; x^2
    mul.{T} r15, r15, r14           ; x^3
    mul.{T} r15, r10, r15           ; 0.044715 x^3
    add.{T} r15, r14, r15           ; x + 0.044715 x^3
    mul.{T} r15, r11, r15           ; c (x + 0.044715 x^3)
    tanh.{T} r15, r15
    add.{T} r15, r12, r15           ; 1 + tanh(...)
    mul.{T} r16, r13, r14           ; 0.5 x
    mul.{T} r16, r16, r15
    stg.{T} [r1 + r9], r16
done:
    exit
