"""The host API of contract §4: buffers, copies, the boundary pool, kernel arguments."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import simt


def test_handles_start_at_one_and_are_never_reused():
    dev = simt.Device()
    a, b = dev.alloc(4), dev.alloc(0)
    assert (a.handle, b.handle) == (1, 2) and (a.nbytes, b.nbytes) == (4, 0)
    dev.free(a)
    assert dev.alloc(4).handle == 3
    assert dev.boundary.handle == 0 and dev.boundary.nbytes == 1_179_648


def test_upload_download_write_roundtrip():
    dev = simt.Device()
    x = np.arange(12, dtype=np.int16).reshape(3, 4)
    buf = dev.upload(x)
    assert buf.nbytes == 24
    got = dev.download(buf, np.int16)
    np.testing.assert_array_equal(got, x.ravel())
    got[0] = 99                                   # a new writable array
    assert dev.download(buf, "i16")[0] == 0
    dev.write(buf, np.array([7, 8], np.int16), offset=4)
    np.testing.assert_array_equal(dev.download(buf, np.int16, count=3, offset=2), [1, 7, 8])
    assert dev.upload([1.5, 2.5]).nbytes == 16    # anything np.asarray accepts
    np.testing.assert_array_equal(dev.download(buf, np.uint8, count=0, offset=24), [])


def test_download_bounds_and_whole_elements():
    dev = simt.Device()
    buf = dev.alloc(10)
    for kwargs in ({"count": 3}, {"offset": -1}, {"offset": 11}, {"count": -1}):
        with pytest.raises(simt.OutOfBoundsError):
            dev.download(buf, np.float32, **kwargs)
    with pytest.raises(ValueError):
        dev.download(buf, np.float32)            # 10 bytes are not whole f32 elements
    with pytest.raises(simt.OutOfBoundsError):
        dev.write(buf, np.zeros(3, np.float32), offset=0)
    with pytest.raises(simt.OutOfBoundsError):
        dev.write(buf, np.zeros(1, np.uint8), offset=-1)


def test_boundary_pool_host_access_and_classes():
    dev = simt.Device()
    dev.write(dev.boundary, np.arange(4, dtype=np.uint8), offset=12286)   # spans classes 0/1
    cls1 = dev.boundary_class(1)
    assert cls1.handle == 2**64 - 95 and cls1.nbytes == 12288
    np.testing.assert_array_equal(dev.download(cls1, np.uint8, count=2), [2, 3])
    prog = simt.assemble("ldg.u16 r1, [Φ(1, 0, 0)]\nstg.u16 [phi(2, 3, 4)], r1")
    dev.launch(prog)
    assert dev.download(dev.boundary, np.uint16, count=1, offset=2 * 12288 + 3 * 256 + 4)[0] \
        == 2 + 3 * 256
    with pytest.raises(ValueError):
        dev.boundary_class(96)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
def test_f16_bf16_bits_survive_ldg_mov_stg(dtype):
    bits = np.arange(65536, dtype=np.uint16)           # every pattern, NaN payloads included
    dev = simt.Device()
    src, dst = dev.upload(bits), dev.alloc(2 * 65536)
    ty = "f16" if dtype is np.float16 else "bf16"
    prog = simt.assemble(f"""
    mov_imm.u32 r2, 1
    shl.u64 r3, r255, r2
    ldg.{ty} r4, [r0 + r3]
    mov.{ty} r5, r4
    stg.{ty} [r1 + r3], r5
""")
    dev.launch(prog, grid=256, block=256, args=(src, dst))
    np.testing.assert_array_equal(dev.download(dst, np.uint16), bits)
    assert dev.download(dst, ty).dtype == np.dtype(dtype)


def test_kernel_argument_types():
    dev = simt.Device()
    buf = dev.alloc(64)
    args = (np.int8(-3), np.uint16(65535), np.float32(1.5), np.float16(2.0),
            ml_dtypes.bfloat16(3.0), np.array(np.uint64(2**63)), 5, -2.25, buf)
    types = ("i8", "u16", "f32", "f16", "bf16", "u64", "i64", "f64", "u64")
    body = "\n".join(f"mov.{t} r{100 + i}, r{i}" for i, t in enumerate(types))
    dev.launch(simt.assemble(body), args=args)          # every tag is as documented
    with pytest.raises(simt.TypeMismatchError):
        dev.launch(simt.assemble("mov.i64 r9, r2"), args=args)
    with pytest.raises(simt.UninitializedRegisterError):
        dev.launch(simt.assemble("mov.i64 r9, r9"), args=args)   # past the last argument
    with pytest.raises(ValueError, match="uint64"):
        dev.launch(simt.assemble("exit"), args=(2**63,))
    other = simt.Device().alloc(4)
    with pytest.raises(ValueError):
        dev.launch(simt.assemble("exit"), args=(other,))


def test_pools_persist_across_launches():
    dev = simt.Device()
    out = dev.alloc(8 * 4)
    store = simt.assemble("""
    pool.alloc r1, 16
    mov_imm.u64 r2, 8
    cvt.u64.u32 r3, r252
    pool.store.u64 r1, r2, r3
    mov_imm.u32 r4, 3
    shl.u64 r5, r255, r4
    stg.u64 [r0 + r5], r1
""")
    dev.launch(store, block=4, args=(out,))
    handles = dev.download(out, np.uint64)
    np.testing.assert_array_equal(handles, [1, 2, 3, 4])     # ascending lane order
    load = simt.assemble("""
    mov_imm.u32 r4, 3
    shl.u64 r5, r255, r4
    ldg.u64 r1, [r0 + r5]
    mov_imm.u64 r2, 8
    pool.load.u64 r6, r1, r2
    stg.u64 [r0 + r5], r6
    pool.free r1
""")
    dev.launch(load, block=4, args=(out,))
    np.testing.assert_array_equal(dev.download(out, np.uint64), [0, 1, 2, 3])
