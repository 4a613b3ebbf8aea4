"""Tuned constants live in ``simt.machine.thresholds``, each with its measurement; the
modules that use one import it from there."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import simt.machine
from simt.machine import thresholds

#: where each threshold is used, under the name it has there
USERS = {
    "LEND_MIN_BYTES": ("simt.machine.kernels.memory", "LEND_MIN_BYTES"),
    "MASK_MIN_SPAN": ("simt.machine.lanes", "MASK_MIN_SPAN"),
    "MASK_MIN_DENSITY": ("simt.machine.lanes", "MASK_MIN_DENSITY"),
    "COMPACT_LOAD_DENSITY": ("simt.machine.kernels.memory", "COMPACT_LOAD_DENSITY"),
    "PERIODIC_MIN_SPAN": ("simt.machine.lanes", "PERIODIC_MIN_SPAN"),
    "COMPRESS_MIN_LANES": ("simt.machine.affine", "COMPRESS_MIN_LANES"),
    "NAN_COUNT_MAX": ("simt.machine.alu._common", "_SHORT"),
    "FMA_CHUNK": ("simt.machine.alu.fused", "_CHUNK"),
    "FMA_DENSE": ("simt.machine.alu.fused", "_DENSE"),
    "MARK_SPAN": ("simt.machine.memory", "_MARK_SPAN"),
    "RAMP_CACHE_LIMIT": ("simt.machine.values", "_RAMP_CACHE_LIMIT"),
    "SHARED_GRID_MEMO": ("simt.machine.kernels.memory", "_GRIDS_MAX"),
    "MMAP_THRESHOLD": ("simt.machine.allocator", "MMAP_THRESHOLD"),
    "TRIM_THRESHOLD": ("simt.machine.allocator", "TRIM_THRESHOLD"),
    "MIN_PIECE_SECONDS": ("simt.parallel.runner", "MIN_PIECE_SECONDS"),
    "OPS_CHUNK": ("simt.ops._launch", "CHUNK"),
    "OPS_REDUCE_CHUNK": ("simt.ops._launch", "REDUCE_CHUNK"),
    "OPS_GEMM_CHUNK": ("simt.ops.linalg", "GEMM_CHUNK"),
}

#: module-level numbers under simt/machine that are not tuned: they define behaviour
NOT_TUNED = {
    "executor.py": {"DEFAULT_MAX_STEPS", "_STACK_BYTES"},   # documented budget; a size
    "kernels/control.py": {"MAX_CALL_DEPTH"},                  # the ISA's call depth
    "kernels/memory.py": {"_PAGES"},                           # the ISA's Phi pages
    "memory.py": {"CLASS_BYTES", "BOUNDARY_BYTES", "CLASS_HANDLE_BASE",   # the ISA's pools
                  "BUFFER_SLACK"},                          # room past a buffer: a size
    "allocator.py": {"_M_TRIM_THRESHOLD", "_M_MMAP_THRESHOLD"},   # glibc parameter numbers
    "values.py": {"_M64"},
    "state.py": {"UNSET", "PRED_TAG"},
    "scheduler.py": {"_NOT_PARKED"},
    "alu/intervals.py": {"_EPS", "_TINY",      # exactness margins of rounded bounds
                         "PLUS", "MINUS", "ZEROS", "_SMALLEST"},   # zero bits; f64's least
    "alu/fused.py": {"_SPLITTER", "_NO_EXPONENT", "_BIG", "_TINY", "_DOWN", "_UP",
                     "_SUBNORMAL_ULP_EXP", "_TINY_PRODUCT", "_F32_MIDPOINT", "_F32_LOW_BITS"},
}


def test_every_threshold_is_imported_by_the_module_that_uses_it():
    assert set(USERS) == set(thresholds.__all__)
    for name, (module, alias) in USERS.items():
        used = getattr(importlib.import_module(module), alias)
        assert used is getattr(thresholds, name), (name, module)
        source = Path(importlib.import_module(module).__file__).read_text()
        assert re.search(rf"^from \.+(machine\.)?thresholds import .*\b{name}\b", source, re.M), \
            f"{module} should import {name} from simt.machine.thresholds"


def test_every_threshold_states_its_measurement():
    source = Path(thresholds.__file__).read_text()
    for name in thresholds.__all__:
        comment = re.search(rf"((?:^#:.*\n)+)(?:.*\n)?{name} = ", source, re.M)
        assert comment is not None and len(comment.group(1)) > 80, name


def _numbers(tree: ast.Module):
    """Module-level names bound to a number written in the source (literals and
    arithmetic on them)."""
    def numeric(node) -> bool:
        if isinstance(node, ast.Constant):
            return type(node.value) in (int, float)
        if isinstance(node, ast.UnaryOp):
            return numeric(node.operand)
        if isinstance(node, ast.BinOp):
            return numeric(node.left) and numeric(node.right) or (
                numeric(node.left) and isinstance(node.right, ast.Name)) or (
                isinstance(node.left, ast.Name) and numeric(node.right))
        return False
    for node in tree.body:
        targets, value = (node.targets, node.value) if isinstance(node, ast.Assign) else (
            ([node.target], node.value) if isinstance(node, ast.AnnAssign) else ((), None))
        if isinstance(value, ast.Tuple):
            pairs = zip(targets[0].elts, value.elts) if isinstance(targets[0], ast.Tuple) \
                else ()
        else:
            pairs = ((t, value) for t in targets)
        for target, v in pairs:
            if isinstance(target, ast.Name) and v is not None and numeric(v):
                yield target.id


def test_no_other_module_under_machine_defines_a_tuned_number():
    root = Path(simt.machine.__file__).parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "thresholds.py":
            continue
        names = set(_numbers(ast.parse(path.read_text()))) - NOT_TUNED.get(rel, set())
        if names:
            found[rel] = sorted(names)
    assert not found, (f"module-level numbers outside simt/machine/thresholds.py: {found}; "
                       "a tuned one moves there with its measurement, a defining one is "
                       "listed in NOT_TUNED")


def test_the_list_of_defining_numbers_names_only_numbers_that_exist():
    root = Path(simt.machine.__file__).parent
    for rel, names in NOT_TUNED.items():
        assert names <= set(_numbers(ast.parse((root / rel).read_text()))), rel
