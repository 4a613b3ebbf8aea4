"""Measure how much a launch raises the process's resident memory (RSS).

The memory target (docs/performance.md) bounds the peak RSS *increase during the
launch* of the guarded f32 vector add over 1e8 lanes (three 400 MB buffers, 1.2 GB) to
1 GiB.  asv's ``peakmem`` reports the peak of the whole process instead, so this script
measures the increase directly:

1. in a fresh Python process, allocate the three buffers, write the inputs chunk by
   chunk (no host copy of 1.2 GB is ever held) and zeros into the output, so all 1.2 GB
   are resident before anything runs; note the RSS;
2. reset the kernel's peak-RSS mark (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0),
   launch, and read the peak (``VmHWM``);
3. reset the mark again, launch a second time (the first launch is the issue's warm-up)
   and read the peak;
4. the increase is the larger peak minus the RSS of step 1, so memory the first launch
   keeps counts against the second.

Where ``clear_refs`` is unavailable (not Linux), the increase is ``ru_maxrss`` after the
launches minus ``ru_maxrss`` before them.

Usage::

    python benchmarks/rss_probe.py                 # 1e8 lanes, in a fresh subprocess
    python benchmarks/rss_probe.py --lanes 1e7 --json

Prints the RSS before the launch, its peak, the increase, and the launch time.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

__all__ = ["measure", "probe", "GIB", "TARGET_BYTES"]

GIB = 1 << 30
#: The target: the RSS increase during the 1e8-lane launch must stay within 1 GiB.
TARGET_BYTES = GIB


def _status_bytes(field: str) -> int | None:
    """Return a ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in bytes, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _maxrss_bytes() -> int:
    """``ru_maxrss`` in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _reset_peak() -> bool:
    """Reset the peak-RSS mark to the current RSS; return False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def measure(lanes: int) -> dict:
    """Measure, in this process, the RSS increase of a vector-add launch over ``lanes``.

    The three buffers are made resident first (inputs written, output zero-filled by
    writes), then the program is launched twice: the first (warm-up) launch and the
    second (timed) one are each measured against the RSS before the first, so memory
    kept from the first launch counts against the second.

    Returns
    -------
    dict
        ``lanes``, ``buffer_bytes``, ``rss_before`` (buffers resident, nothing launched),
        ``peak``, ``increase`` = the larger of ``increase_first`` and ``increase_second``
        (bytes), ``launch_seconds`` (the second launch), ``method`` ("clear_refs" or
        "ru_maxrss") and ``ok`` (the first and last 4096 results checked).
    """
    import numpy as np

    import simt
    from benchmarks import workloads as w

    dev = simt.Device()
    work = w.vector_add(dev, lanes, host_copy=False)
    w.fill_buffer(dev, work.buffers[2], lanes, lambda s: np.zeros(s.stop - s.start, np.float32))
    gc.collect()
    rss_before = _status_bytes("VmRSS")
    method = "clear_refs" if rss_before is not None and _reset_peak() else "ru_maxrss"
    if method == "ru_maxrss":
        rss_before = _maxrss_bytes()
    peaks = []
    for _ in range(2):
        start = time.perf_counter()
        work.run()
        seconds = time.perf_counter() - start
        peaks.append(_status_bytes("VmHWM") if method == "clear_refs" else _maxrss_bytes())
        gc.collect()
        if method == "clear_refs":
            _reset_peak()
    return {"lanes": lanes, "buffer_bytes": 12 * lanes, "rss_before": rss_before,
            "peak": max(peaks), "increase": max(peaks) - rss_before,
            "increase_first": peaks[0] - rss_before, "increase_second": peaks[1] - rss_before,
            "launch_seconds": seconds, "method": method, "ok": work.check()}


def probe(lanes: int = 100_000_000, timeout: float = 900) -> dict:
    """Run :func:`measure` in a fresh Python process and return its result.

    Raises
    ------
    RuntimeError
        If the subprocess fails or prints no result.
    subprocess.TimeoutExpired
        If it takes longer than ``timeout`` seconds.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--here", "--json",
           "--lanes", str(lanes)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"rss_probe failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mib(nbytes: int) -> str:
    return f"{nbytes / (1 << 20):,.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=lambda s: int(float(s)), default=100_000_000,
                        help="lanes of the vector add (default 1e8)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--here", action="store_true",
                        help="measure in this process instead of a fresh subprocess")
    args = parser.parse_args(argv)
    result = measure(args.lanes) if args.here else probe(args.lanes)
    if args.json:
        print(json.dumps(result))
    else:
        verdict = "pass" if result["increase"] <= TARGET_BYTES else "FAIL"
        print(f"guarded f32 vector add, {result['lanes']:,} lanes, buffers "
              f"{_mib(result['buffer_bytes'])}\n"
              f"  RSS before the launch {_mib(result['rss_before'])}, peak during it "
              f"{_mib(result['peak'])}\n"
              f"  increase {_mib(result['increase'])} (first launch "
              f"{_mib(result['increase_first'])}, second {_mib(result['increase_second'])}; "
              f"target <= 1 GiB: {verdict})\n"
              f"  second launch {result['launch_seconds']:.3f} s, "
              f"method {result['method']}, "
              f"result {'ok' if result['ok'] else 'WRONG'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
