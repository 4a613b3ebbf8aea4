"""The package as a user installs and starts it: metadata, entry points, import cost."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import simt

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_import_simt_leaves_heavy_modules_unimported():
    """``import simt`` imports neither ml_dtypes (most of a second) nor the optional extras."""
    done = _python("-X", "importtime", "-c", "import simt")
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "simt" in imported and "simt.ops" in imported
    for heavy in ("ml_dtypes", "hypothesis", "matplotlib", "dask", "distributed"):
        assert heavy not in imported


def test_bf16_still_works_after_the_lazy_import():
    done = _python("-c", "import numpy as np, simt; d = simt.Device(); "
                         "b = d.upload(np.array([1.5], np.float32)); "
                         "p = simt.assemble('ldg.f32 r1, [r0 + 0]\\ncvt.bf16.f32 r2, r1\\n"
                         "stg.bf16 [r0 + 0], r2'); d.launch(p, args=(b,)); "
                         "print(d.download(b, 'bf16', count=1)[0])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.5"


def test_python_dash_m_simt_runs_the_command():
    done = _python("-m", "simt", "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"simt {simt.__version__}"


def test_version_matches_the_metadata():
    assert simt.__version__ == PYPROJECT["version"]


def test_license_file_matches_the_declared_license():
    assert PYPROJECT["license"] == "MIT"
    assert PYPROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_extras_cover_the_optional_features():
    extras = PYPROJECT["optional-dependencies"]
    assert {"testing", "test", "docs", "dask", "plot", "bench"} <= set(extras)

    def names(extra: str) -> set[str]:
        return {req.split("[")[0].split(">")[0].split("=")[0].strip().lower()
                for req in extras[extra]}
    assert {"sphinx", "pydata-sphinx-theme", "numpydoc", "myst-parser"} <= names("docs")
    assert {"pytest", "hypothesis", "matplotlib", "psutil"} <= names("test")
    assert names("testing") <= names("test")
    assert extras["dask"] == ["dask[distributed]>=2023.1"]


def test_simt_testing_names_its_extra_when_hypothesis_is_missing():
    done = _python("-c", "import sys; sys.modules['hypothesis'] = None\n"
                         "try:\n    import simt.testing.programs\n"
                         "except ImportError as exc:\n    print(exc)")
    assert done.returncode == 0, done.stderr
    assert "pip install 'simt[testing]'" in done.stdout
