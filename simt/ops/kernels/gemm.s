; gemm.{T}: C = A @ B for row-major A (M x K), B (K x N), C (M x N).
; Each block of 256 lanes computes one 16 x 16 tile of C; lane t is (ty, tx) = (t >> 4, t & 15).
; K is walked in 16-wide steps: the block stages a 16 x 16 tile of A and one of B in shared
; memory (zeros outside the matrices), syncs, and every lane accumulates its dot product.
; Blocks are numbered row-major over the tiles of C: block = tile_row * tiles_across + tile_col.
; args: r0 = M (u64), r1 = C, r2 = A, r3 = B (buffer handles, elements of {T}),
;       r4 = K (u64), r5 = N (u64)
; shared memory: 512 * {S} bytes (A tile, then B tile)
    cvt.u64.u32 r8, r252            ; t = lane index in the block
    mov_imm.u64 r9, 15
    mov_imm.u32 r10, 4
    and.u64 r11, r8, r9             ; tx
    shr.u64 r12, r8, r10            ; ty
    add.u64 r13, r5, r9
    shr.u64 r13, r13, r10           ; tiles across = (N + 15) / 16
    cvt.u64.u32 r14, r253           ; block index
    div.u64 r15, r14, r13           ; tile row
    mul.u64 r16, r15, r13
    sub.u64 r16, r14, r16           ; tile column
    shl.u64 r15, r15, r10
    add.u64 r17, r15, r12           ; row = 16 * tile row + ty
    shl.u64 r16, r16, r10
    add.u64 r18, r16, r11           ; col = 16 * tile column + tx
    mov_imm.u64 r19, {S}
    mov_imm.u64 r20, 16
    mul.u64 r21, r8, r19            ; my slot in the A tile: As[ty][tx]
    mov_imm.u64 r22, {BTILE}         ; byte offset of the B tile (256 * {S})
    add.u64 r23, r21, r22           ; my slot in the B tile: Bs[ty][tx]
    mul.u64 r24, r20, r19           ; a B tile row: 16 * {S} bytes
    mov_imm.{T} r25, {ZERO}         ; acc
    mov_imm.u64 r26, 0              ; k0 = first column of A / row of B of this step
tile:
; As[ty][tx] = A[row, k0 + tx], or 0 outside A
    mov_imm.{T} r27, {ZERO}
    setge.u64 p0, r17, r0
    bra.p0 @store_a
    add.u64 r28, r26, r11
    setge.u64 p0, r28, r4
    bra.p0 @store_a
    mul.u64 r29, r17, r4
    add.u64 r29, r29, r28
    mul.u64 r29, r29, r19
    ldg.{T} r27, [r2 + r29]
store_a:
    sts.{T} [shared + r21], r27
; Bs[ty][tx] = B[k0 + ty, col], or 0 outside B
    mov_imm.{T} r30, {ZERO}
    setge.u64 p0, r18, r5
    bra.p0 @store_b
    add.u64 r28, r26, r12
    setge.u64 p0, r28, r4
    bra.p0 @store_b
    mul.u64 r29, r28, r5
    add.u64 r29, r29, r18
    mul.u64 r29, r29, r19
    ldg.{T} r30, [r3 + r29]
store_b:
    sts.{T} [shared + r23], r30
    bar.sync 0                      ; both tiles are staged
; acc += As[ty][k] * Bs[k][tx] for k = 0 .. 15
    shl.u64 r31, r12, r10
    mul.u64 r31, r31, r19           ; &As[ty][0]
    mul.u64 r32, r11, r19
    add.u64 r32, r32, r22           ; &Bs[0][tx]
    mov_imm.u32 r33, 15             ; loop tests, then decrements: 16 passes
dot:
    lds.{T} r34, [shared + r31]
    lds.{T} r35, [shared + r32]
    mul.{T} r34, r34, r35
    add.{T} r25, r25, r34
    add.u64 r31, r31, r19
    add.u64 r32, r32, r24
    loop r33, @dot
    bar.sync 0                      ; everyone is done with the tiles before they are reused
    add.u64 r26, r26, r20
    setlt.u64 p1, r26, r4
    bra.p1 @tile
; C[row, col] = acc, inside C only
    setge.u64 p0, r17, r0
    bra.p0 @done
    setge.u64 p0, r18, r5
    bra.p0 @done
    mul.u64 r29, r17, r5
    add.u64 r29, r29, r18
    mul.u64 r29, r29, r19
    stg.{T} [r1 + r29], r25
done:
    exit
