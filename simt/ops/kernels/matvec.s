; matvec.{T}: y[i] = sum_k a[i, k] x[k], one lane per row i of the row-major M x K matrix a.
; args: r0 = M (u64), r1 = y, r2 = a, r3 = x (buffer handles, elements of {T}), r4 = K (u64)
    setge.u64 p0, r255, r0          ; lanes at or past M have nothing to do
    bra.p0 @done
    mov_imm.u64 r8, {S}
    mul.u64 r9, r255, r4
    mul.u64 r9, r9, r8              ; byte offset of a[i, 0]
    mov_imm.u64 r10, 0              ; byte offset of x[k], k = 0
    mul.u64 r11, r4, r8             ; byte size of x
    mov_imm.{T} r12, {ZERO}         ; the dot product so far
dot:
    setge.u64 p1, r10, r11
    bra.p1 @store
    ldg.{T} r13, [r2 + r9]
    ldg.{T} r14, [r3 + r10]
    mul.{T} r13, r13, r14
    add.{T} r12, r12, r13
    add.u64 r9, r9, r8
    add.u64 r10, r10, r8
    bra @dot
store:
    mul.u64 r15, r255, r8
    stg.{T} [r1 + r15], r12
done:
    exit
