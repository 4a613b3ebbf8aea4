"""The ``simt`` command: ``simt run``, ``simt demo``, ``simt isa`` and ``simt debug``.

Exit status: 0 on success, 1 on a :class:`~simt.errors.SimtError` or on an
input file or output location that cannot be used (one line on stderr saying
what and where), 2 on a usage error.  ``simt run`` checks its input files and
``--out`` before the launch, so a launch's results are never lost to a bad
output path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import SimtError
from .isa import types as isa_types

__all__ = ["main"]


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class InputError(Exception):
    """An input file or output location that cannot be used (exit status 1, one line)."""


def _dims(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part, 0) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X[,Y[,Z]] integers, got {text!r}") from None
    if not 1 <= len(dims) <= 3 or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected 1-3 integers >= 1, got {text!r}")
    return dims


def _count(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _checks(text: str) -> tuple[str, ...]:
    from .observe.checks import parse_checks
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    try:
        parse_checks(names, "gpu")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="simt", description="A NumPy-vectorized SIMT "
                                     "emulator for the Atlas ISA.")
    parser.add_argument("--version", action="version", version=f"simt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a kernel (.s text or .json program)")
    run.add_argument("kernel", type=Path)
    run.add_argument("--grid", type=_dims, default=(1,), help="X[,Y[,Z]] blocks")
    run.add_argument("--block", type=_dims, default=(1,), help="X[,Y[,Z]] lanes per block")
    run.add_argument("--shared-bytes", type=_count, default=0)
    run.add_argument("--max-steps", type=_count, default=None)
    run.add_argument("--arg", action="append", default=[], metavar="SPEC",
                     help="file.npy | zeros:DTYPE:COUNT | TYPE:VALUE | int | float "
                          "(in order: r0, r1, ...)")
    run.add_argument("--out", type=Path, help="write output buffers here as .npy files")
    run.add_argument("--json", action="store_true", help="machine-readable output")
    run.add_argument("--check", type=_checks, default=None, metavar="LIST",
                     help="checks to run: race, sync, init or all (comma list)")
    run.add_argument("--race-model", choices=("gpu", "hologram"), default="gpu",
                     help="what orders accesses for --check race (default gpu)")
    run.add_argument("--progress", action="store_true",
                     help="show a progress bar of pieces and steps on stderr")
    run.add_argument("--trace", type=Path, metavar="FILE",
                     help="write a Chrome trace-event JSON of every instruction (Perfetto)")
    run.add_argument("--profile", action="store_true",
                     help="print the program annotated with per-line counts")
    demo = sub.add_parser("demo", help="run the built-in gallery, checked against NumPy")
    demo.add_argument("--size", type=_count, default=1_000_000, help="elements per kernel")
    demo.add_argument("--repeat", type=_count, default=3,
                      help="timed launches per kernel, after a warm-up (best is shown)")
    demo.add_argument("--show", metavar="NAME", help="print a gallery kernel's source and exit")
    isa = sub.add_parser("isa", help="print the instruction reference")
    isa.add_argument("--markdown", action="store_true", help="as the docs/isa.md page")
    _debug_parser(sub, run)
    return parser


def _debug_parser(sub, run: argparse.ArgumentParser) -> None:
    """``simt debug``: the launch options of ``simt run``, spelled and parsed as there."""
    debug = sub.add_parser("debug", help="step through a kernel interactively (commands "
                                         "from a terminal or a pipe)")
    debug.add_argument("kernel", type=Path)
    shared = ("grid", "block", "shared_bytes", "max_steps", "arg", "check")
    for action in run._actions:
        if action.dest in shared:
            debug._add_action(action)


# ---------------------------------------------------------------------- simt run

@dataclass
class _BufferArg:
    name: str
    dtype: np.dtype
    count: int
    source: Path | None      # .npy file it came from (written back with --out)
    buffer: object = None


def _scalar(ty_name: str, text: str):
    ty = isa_types.by_name(ty_name)
    if ty.is_int:
        value = int(text, 0)
        lo, hi = (-(1 << (ty.bits - 1)), 1 << (ty.bits - 1)) if ty.is_signed_int else (0, 1 << ty.bits)
        if not lo <= value < hi:
            raise UsageError(f"{text} does not fit in {ty_name}")
        return ty.numpy.type(value)
    return ty.numpy.type(float(text))


_NPY_MAGIC = b"\x93NUMPY"


def _check_npy(path: Path, spec: str, limit: int) -> None:
    """Check a .npy file's header against the file before loading anything.

    A header may claim any shape: the data it announces must be in the file
    (and fit the device) before ``np.load`` is asked to allocate it.
    """
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_NPY_MAGIC))
            if magic != _NPY_MAGIC:
                kind = " (it is a zip archive such as .npz)" if magic[:2] == b"PK" else ""
                raise InputError(f"--arg {spec}: not a .npy file{kind}")
            f.seek(0)
            major, _ = fmt.read_magic(f)
            read = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
            shape, _, dtype = read(f)
            have = path.stat().st_size - f.tell()
    except FileNotFoundError:
        raise UsageError(f"--arg {spec}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"--arg {spec}: cannot read the .npy header: {exc}") from None
    if dtype.hasobject:
        raise InputError(f"--arg {spec}: object arrays cannot be uploaded")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need > have:
        raise InputError(f"--arg {spec}: the header announces {need} bytes of {dtype} data "
                         f"(shape {shape}) but the file holds {have}")
    if need > limit:
        raise InputError(f"--arg {spec}: {need} bytes of data exceed the device memory "
                         f"limit of {limit} bytes")


def _parse_arg(spec: str, index: int, dev) -> tuple[object, _BufferArg | None]:
    """A launch argument from a --arg SPEC, and its buffer record if it is one."""
    if spec.endswith(".npy"):
        path = Path(spec)
        _check_npy(path, spec, dev.memory_limit)
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, MemoryError) as exc:
            raise InputError(f"--arg {spec}: cannot load: {exc}") from None
        if not isinstance(data, np.ndarray):
            raise InputError(f"--arg {spec}: not a .npy array file")
        rec = _BufferArg(path.stem, data.dtype, data.size, path)
        rec.buffer = dev.upload(data)       # in native byte order: the buffer knows its dtype
        rec.dtype = rec.buffer.dtype
        return rec.buffer, rec
    parts = spec.split(":")
    if parts[0] == "zeros" and len(parts) == 3:
        try:
            dtype = np.dtype(isa_types.by_name(parts[1]).numpy) if parts[1] in {
                t.text for t in isa_types.DType} else np.dtype(parts[1])
            count = int(parts[2], 0)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"--arg {spec}: {exc}") from None
        rec = _BufferArg(f"arg{index}", dtype, count, None)
        rec.buffer = dev.alloc(count * dtype.itemsize)
        return rec.buffer, rec
    if len(parts) == 2:
        try:
            return _scalar(parts[0], parts[1]), None
        except (KeyError, ValueError) as exc:
            raise UsageError(f"--arg {spec}: expected TYPE:VALUE with an ISA type ({exc})") \
                from None
    for convert in (lambda s: int(s, 0), float):
        try:
            return convert(spec), None
        except ValueError:
            pass
    raise UsageError(f"--arg {spec}: expected file.npy, zeros:DTYPE:COUNT, TYPE:VALUE or a number")


def _load_program(path: Path):
    from . import assemble
    from .isa.program import Program
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return Program.from_json(text) if path.suffix == ".json" else assemble(text)


def _prepare_out(out: Path) -> None:
    """Make the --out directory before the launch; a bad path is an error now, not later."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the directory: {exc}") from None


def _cmd_run(args) -> int:
    from .device import Device
    program = _load_program(args.kernel)
    dev = Device()
    launch_args, buffers = [], []
    for i, spec in enumerate(args.arg):
        value, rec = _parse_arg(spec, i, dev)
        launch_args.append(value)
        if rec is not None:
            buffers.append(rec)
    if args.out is not None:
        _prepare_out(args.out)
    tools = _run_tools(args)
    res = dev.launch(program, grid=args.grid, block=args.block, args=launch_args,
                     shared_bytes=args.shared_bytes, max_steps=args.max_steps,
                     check=args.check, race_model=args.race_model,
                     observers=list(tools.values()), progress=args.progress)
    if "trace" in tools:
        tools["trace"].to_chrome(args.trace)
    outputs = {rec.name: dev.download(rec.buffer) if rec.source is not None
               else dev.download(rec.buffer, rec.dtype, rec.count) for rec in buffers}
    if args.out is not None:
        for name, data in outputs.items():
            try:
                np.save(args.out / f"{name}.npy", data)
            except OSError as exc:
                raise InputError(f"--out {args.out}: cannot write {name}.npy: {exc}") from None
    resonance = res.resonance if res.resonance.any() else None
    if args.json:
        doc = {"stats": res.stats.as_dict(),
               "resonance": None if resonance is None else resonance.tolist()}
        if args.out is None:
            doc["buffers"] = {k: v.tolist() for k, v in outputs.items()}
        else:
            doc["written"] = [str(args.out / f"{k}.npy") for k in outputs]
        if "profile" in tools:
            doc["profile"] = tools["profile"].table()
        print(json.dumps(doc, default=float))
        return 0
    if args.out is None:
        for name, data in outputs.items():
            print(f"{name} ({data.dtype}[{data.size}]): {np.array2string(data, threshold=64)}")
    else:
        print(f"wrote {', '.join(f'{k}.npy' for k in outputs) or 'nothing'} to {args.out}")
    if resonance is not None:
        print(f"resonance: {np.array2string(resonance, threshold=96)}")
    stats = res.stats
    print(f"steps {stats.steps}, lane instructions {stats.lane_instructions}, "
          f"SIMD efficiency {stats.simd_efficiency:.3f}, divergent branches "
          f"{stats.divergent_branches}, barriers {stats.barriers}, "
          f"bytes loaded {stats.bytes_loaded}, stored {stats.bytes_stored}")
    if "profile" in tools:
        print()
        print(tools["profile"].table(), end="")
    return 0


def _run_tools(args) -> dict:
    """The observers ``--trace`` and ``--profile`` ask for, by option name."""
    from .observe.profile import Profile
    from .observe.trace import Trace
    tools: dict = {}
    if args.trace is not None:
        tools["trace"] = Trace()
    if args.profile:
        tools["profile"] = Profile()
    return tools


# ---------------------------------------------------------------------- simt debug

def _cmd_debug(args) -> int:
    from .debug import debug
    from .device import Device
    program = _load_program(args.kernel)
    dev = Device()
    launch_args = [_parse_arg(spec, i, dev)[0] for i, spec in enumerate(args.arg)]
    session = dev.session(program, grid=args.grid, block=args.block, args=launch_args,
                          shared_bytes=args.shared_bytes, max_steps=args.max_steps,
                          check=args.check or None)
    return debug(session)


# ---------------------------------------------------------------------- simt demo

def _cmd_demo(args) -> int:
    from .demo import GALLERY, run_gallery
    names = ", ".join(d.name for d in GALLERY)
    if args.show:
        for demo in GALLERY:
            if demo.name == args.show:
                print(demo.source.strip())
                return 0
        raise UsageError(f"no gallery kernel {args.show!r}; have {names}")
    if args.size < 1:
        raise UsageError("--size must be >= 1")
    if args.repeat < 1:
        raise UsageError("--repeat must be >= 1")
    results = run_gallery(args.size, repeat=args.repeat)
    header = (f"{'kernel':<16}{'lanes':>10}  {'check':<6}{'simt':>11}{'NumPy':>11}"
              f"{'ratio':>9}{'SIMD eff':>10}")
    print(header)
    print("-" * len(header))
    for r in results:
        numpy_time = "-" if r.numpy_seconds is None else f"{r.numpy_seconds * 1e3:.3f} ms"
        ratio = "-" if r.ratio is None else f"{r.ratio:.1f}x"
        print(f"{r.name:<16}{r.lanes:>10}  {'ok' if r.ok else 'FAIL':<6}"
              f"{r.seconds * 1e3:>8.3f} ms{numpy_time:>11}{ratio:>9}"
              f"{r.stats.simd_efficiency:>10.3f}")
    print(f"simt: best of {args.repeat} warm launches (after one untimed launch); NumPy: "
          "the same result\ncomputed with NumPy directly, best of the same; ratio = simt / "
          f"NumPy.\nSee a kernel's source: simt demo --show NAME  (NAME: {names})")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(results)} kernels agree with NumPy")
    return 0


def _cmd_isa(args) -> int:
    from .isa.doc import isa_markdown
    from .isa.table import SPECS
    if args.markdown:
        print(isa_markdown(), end="")
        return 0
    for spec in SPECS:
        types = ", ".join(sorted(t.text for t in spec.types)) or "-"
        operands = ", ".join(spec.operands)
        print(f"{spec.opcode:>2}  {spec.head:<22} {operands:<28} {types:<40} {spec.doc}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simt`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = {"run": _cmd_run, "demo": _cmd_demo, "isa": _cmd_isa,
               "debug": _cmd_debug}[args.command]
    try:
        return command(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"simt: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"simt: error: {exc}", file=sys.stderr)
        return 1
    except SimtError as exc:
        print(f"simt: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``simt isa | head``): stop quietly, and point stdout at
        # devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
