"""The documentation tells the truth: its code runs, its outputs are current, its API
reference is complete, and it cites nothing outside the repository.

Every ```` ```python ```` block of a page under ``docs/`` runs, in order, in one
namespace per page, in a fresh working directory.  A ```` ```text ```` block that
directly follows a Python block is that block's expected output: what the block
prints must equal it (trailing whitespace aside).
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import pkgutil
import re
from pathlib import Path

import pytest

import simt
import simt.ops

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_SKIP = ("_build", "generated", "_templates")
PAGES = sorted(p for p in DOCS.rglob("*.md") if not set(_SKIP) & set(p.relative_to(DOCS).parts))
_FENCE = re.compile(r"^(?P<fence>```+)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.S | re.M)


def code_blocks(text: str) -> list[tuple[str, str | None]]:
    """(python source, expected output or None) for each Python block of a page."""
    blocks = list(_FENCE.finditer(text))
    out = []
    for i, block in enumerate(blocks):
        if block.group("info").strip() != "python":
            continue
        expected = None
        if i + 1 < len(blocks):
            after = blocks[i + 1]
            if after.group("info").strip() == "text" and \
                    not text[block.end():after.start()].strip():
                expected = after.group("body")
        out.append((block.group("body"), expected))
    return out


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _page_id(page: Path) -> str:
    return str(page.relative_to(DOCS))


RUNNABLE = [p for p in PAGES if code_blocks(p.read_text(encoding="utf-8"))]


def test_tutorial_and_how_to_pages_have_code():
    for folder in ("tutorial", "howto"):
        pages = [p for p in PAGES if p.parent.name == folder and p.name != "index.md"]
        assert pages
        assert all(p in RUNNABLE for p in pages if p.name != "track-speed.md"), folder


@pytest.mark.parametrize("page", RUNNABLE, ids=_page_id)
def test_page_code_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    for n, (source, expected) in enumerate(code_blocks(page.read_text(encoding="utf-8")), 1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(source, f"{_page_id(page)}, python block {n}", "exec"), namespace)
        if expected is not None:
            assert _normal(printed.getvalue()) == _normal(expected), (
                f"{_page_id(page)}, python block {n}: output differs from the page")
    with contextlib.suppress(ImportError):
        import matplotlib.pyplot as plt
        plt.close("all")


def test_docstring_examples_run():
    modules = [simt] + [importlib.import_module(info.name)
                        for info in pkgutil.walk_packages(simt.__path__, "simt.")
                        if not info.name.endswith("__main__")]
    attempted = 0
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 0


def _api_entries() -> set[tuple[str, str]]:
    """(module, name) of everything docs/reference/api.md documents."""
    entries, module, in_summary = set(), None, False
    for line in (DOCS / "reference" / "api.md").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\.\. (?:currentmodule|automodule|module):: ([\w.]+)", line):
            module = m.group(1)
            entries.add((module.rpartition(".")[0], module.rpartition(".")[2]))
            in_summary = False
        elif line.startswith(".. autosummary::"):
            in_summary = True
        elif m := re.match(r"\.\. (?:data|autofunction|autoclass|autodata):: (\w+)", line):
            entries.add((module, m.group(1)))
            in_summary = False
        elif in_summary and (m := re.fullmatch(r"   (\w+)", line)):
            entries.add((module, m.group(1)))
        elif line.startswith("```"):
            in_summary = False
    return entries


@pytest.mark.parametrize("module", ["simt", "simt.ops", "simt.testing.strategies",
                                    "simt.testing.programs", "simt.testing.engines"])
def test_api_reference_lists_every_public_name(module):
    documented = _api_entries()
    missing = [name for name in importlib.import_module(module).__all__
               if (module, name) not in documented]
    assert not missing, f"docs/reference/api.md does not document {module}: {missing}"


# References to documents that are not in the repository (design notes, issue threads,
# the ISA background notes): a reader cannot follow them.
OUTSIDE = re.compile(r"contract[ \t]*§|\bREC[ \t]*[0-9]|\bissue[ \t]*#?[0-9]|\bissue-[0-9]|"
                     r"atlas-isa|hologram-ops|hologram-parallel|peers\.md|decisions\.md|"
                     r"style\.md|shared/reference|shared/spec")


def _repository_text_files():
    yield ROOT / "README.md"
    for folder in (DOCS, ROOT / "simt"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".md", ".py", ".rst", ".s", ".txt"} and \
                    not set(_SKIP) & set(path.relative_to(ROOT).parts):
                yield path


def test_nothing_cites_documents_outside_the_repository():
    found = []
    for path in _repository_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "state the rule itself, or cite a page of docs/:\n" + "\n".join(found)


def test_readme_names_the_extras_and_the_docs_build():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for extra in ("test", "docs", "dask", "plot", "bench", "testing"):
        assert f"[{extra}]" in readme or f",{extra}]" in readme or f"[{extra}," in readme, extra
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in readme
    assert "pip install . && simt demo" in readme
    assert "pip install '.[test]' && python -m pytest" in readme


def test_readme_python_block_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = code_blocks(readme)
    assert blocks
    namespace: dict = {"__name__": "__readme__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for source, _ in blocks:
            exec(compile(source, "README.md", "exec"), namespace)



def test_readme_demo_table_matches_what_the_demo_prints(capsys):
    """Lanes, checks and SIMD efficiencies are exact; times are a snapshot of one run."""
    from simt.cli import main
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = next(body for info, body in re.findall(r"```(\w*)\n(.*?)```", readme, re.S)
                 if info == "text" and body.startswith("kernel "))
    assert main(["demo", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = table.strip().splitlines()
    assert rows[:2] == printed[:2]

    def stable(line: str) -> tuple[str, ...]:
        cells = line.split()
        return (*cells[:3], cells[-1])      # kernel, lanes, check, SIMD efficiency
    assert [stable(r) for r in rows[2:]] == [stable(r) for r in printed[2:len(rows)]]
