; mean.{T}: y[0] = s[0] / n, one lane (the final division of the losses).
; n goes u64 -> f64 (exact below 2^53) -> {T} (one rounding), like NumPy's mean.
; args: r0 = n (u64), r1 = y, r2 = s (buffer handles, one element of {T})
    ldg.{T} r8, [r2 + 0]
    cvt.f64.u64 r9, r0
    cvt.{T}.f64 r10, r9
    div.{T} r11, r8, r10
    stg.{T} [r1 + 0], r11
