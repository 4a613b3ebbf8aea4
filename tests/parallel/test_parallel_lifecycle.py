"""Workers of parallel launches: arguments, lazy start, reuse, stop, Ctrl-C, a dying worker.

Process checks use psutil; waiting for a process to end has a generous bound (never a
speed assertion: a process that does not end within it is an orphan).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import simt

from simt.parallel import runner

psutil = pytest.importorskip("psutil")


@pytest.fixture(autouse=True)
def no_cost_threshold(monkeypatch):
    """Short launches go to the workers too (the cost rule would keep them in-process)."""
    monkeypatch.setattr(runner, "MIN_PIECE_SECONDS", 0.0)

PIECE = 65_536

# Every lane spins ``r2`` times, then stores its id: four pieces of 65,536 lanes.
SPIN = simt.assemble("""
    cvt.u32.u64 r6, r2
again:
    add.u64 r7, r255, r255
    loop r6, @again
    mov_imm.u32 r9, 3
    shl.u64 r3, r255, r9
    stg.u64 [r1 + r3], r255
    exit
""")
LANES = 4 * PIECE


def spin(dev: simt.Device, rounds: int) -> np.ndarray:
    out = dev.alloc(8 * LANES)
    dev.launch(SPIN, grid=LANES // 256, block=256, args=(out, out, np.uint64(rounds)))
    data = dev.download(out, np.uint64)
    dev.free(out)
    return data


def gone(pids: list[int]) -> bool:
    """Whether every process of ``pids`` has ended (waiting up to 30 s for them)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=30)
    return not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def workers_of(dev: simt.Device) -> list[int]:
    return [] if dev._parallel is None else dev._parallel.processes


@pytest.mark.parametrize("kw, error, word", [
    ({"workers": "2"}, TypeError, "workers"),
    ({"workers": True}, TypeError, "workers"),
    ({"workers": 2.0}, TypeError, "workers"),
    ({"workers": 0}, ValueError, "workers"),
    ({"workers": -1}, ValueError, "workers"),
    ({"executor": object()}, TypeError, "executor"),
    ({"executor": "dask"}, TypeError, "executor"),
])
def test_wrong_arguments_name_the_argument(kw, error, word) -> None:
    with pytest.raises(error, match=word) as info:
        simt.Device(**kw)
    assert isinstance(info.value, simt.SimtError)


def test_defaults() -> None:
    assert simt.Device().workers == 1
    with cf.ThreadPoolExecutor(1) as ex:
        assert simt.Device(executor=ex).workers == 2
        assert simt.Device(executor=ex, workers=3).workers == 3


def test_workers_start_lazily_are_reused_and_stop_on_close() -> None:
    dev = simt.Device(piece_lanes=PIECE, workers=2)
    assert workers_of(dev) == []
    small = dev.alloc(8 * 256)
    dev.launch(SPIN, grid=1, block=256, args=(small, small, np.uint64(3)))     # one piece
    assert workers_of(dev) == []
    expected = np.arange(LANES, dtype=np.uint64)
    assert (spin(dev, 3) == expected).all()
    first = workers_of(dev)
    assert len(first) == 2 and all(psutil.pid_exists(p) for p in first)
    assert (spin(dev, 3) == expected).all()
    assert workers_of(dev) == first                                 # reused
    dev.close()
    assert gone(first)
    assert dev.download(small, np.uint64)[5] == 5                   # buffers stay valid
    assert (spin(dev, 3) == expected).all()                         # started afresh
    again = workers_of(dev)
    assert again and not set(again) & set(first)
    dev.close()
    assert gone(again)


def test_leaving_a_with_block_stops_workers() -> None:
    with simt.Device(piece_lanes=PIECE, workers=2) as dev:
        spin(dev, 3)
        pids = workers_of(dev)
        assert pids
    assert gone(pids)


def test_interpreter_exit_stops_workers(tmp_path) -> None:
    script = tmp_path / "run.py"          # no __main__ guard, no close()
    script.write_text(textwrap.dedent(f"""
        import numpy as np, simt
        from simt.parallel import runner
        runner.MIN_PIECE_SECONDS = 0.0
        dev = simt.Device(piece_lanes={PIECE}, workers=2)
        prog = simt.assemble({SPIN.to_text()!r})
        out = dev.alloc(8 * {LANES})
        dev.launch(prog, grid={LANES // 256}, block=256, args=(out, out, np.uint64(3)))
        print(*dev._parallel.processes, flush=True)
    """))
    root = os.path.dirname(os.path.dirname(simt.__file__))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2 and gone(pids)


def _after(delay_until, action) -> threading.Thread:
    def go() -> None:
        delay_until()
        action()
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def _busy(dev: simt.Device):
    def wait() -> None:
        while not workers_of(dev):
            time.sleep(0.02)
        time.sleep(0.5)
    return wait


def test_ctrl_c_stops_busy_workers_and_the_device_stays_usable() -> None:
    dev = simt.Device(piece_lanes=PIECE, workers=2)
    pids: list[int] = []
    t = _after(_busy(dev), lambda: (pids.extend(workers_of(dev)),
                                    os.kill(os.getpid(), signal.SIGINT)))
    with pytest.raises(KeyboardInterrupt):
        spin(dev, 100_000)
    t.join()
    assert pids and gone(pids)                  # no worker left busy
    assert (spin(dev, 3) == np.arange(LANES, dtype=np.uint64)).all()
    dev.close()


def test_a_killed_worker_is_a_worker_error_and_the_next_launch_works() -> None:
    dev = simt.Device(piece_lanes=PIECE, workers=2)
    spin(dev, 3)
    victim = workers_of(dev)[0]
    t = _after(_busy(dev), lambda: psutil.Process(victim).kill())
    with pytest.raises(simt.WorkerError):
        spin(dev, 100_000)
    t.join()
    assert (spin(dev, 3) == np.arange(LANES, dtype=np.uint64)).all()
    dev.close()


def test_close_leaves_a_users_executor_running() -> None:
    with cf.ProcessPoolExecutor(2) as ex:
        dev = simt.Device(piece_lanes=PIECE, executor=ex)
        assert (spin(dev, 3) == np.arange(LANES, dtype=np.uint64)).all()
        assert dev._parallel.last == (4, 0)
        dev.close()
        assert ex.submit(int, "7").result() == 7
        assert (spin(dev, 3) == np.arange(LANES, dtype=np.uint64)).all()
