"""Colab: every notebook's first code cell fetches the course on Colab only, keeping Colab's torch;
the README has a Colab badge per notebook, all pointing at one repository."""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("hosting", ROOT / "scripts" / "hosting.py")
hosting = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hosting)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


class FakeShell:
    """Records the shell commands and magics a cell would run."""

    def __init__(self):
        self.calls = []

    def system(self, cmd):
        self.calls.append(("!", cmd))

    def run_line_magic(self, name, line, *args, **kwargs):
        self.calls.append(("%" + name, line))


def run_cell(source: str, colab: bool, monkeypatch) -> list:
    shell = FakeShell()
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr("os.path.isdir", lambda p: False)
    code = TransformerManager().transform_cell(source)
    exec(code, {"get_ipython": lambda: shell})
    return shell.calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_colab_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == hosting.CELL.format(repo=hosting.current_repo()), \
        f"{path.name}: run python scripts/hosting.py to add or refresh the Colab cell"
    copies = sum(c.cell_type == "code" and c.source.startswith(hosting.MARKER) for c in nb.cells)
    assert copies == 1, f"{path.name} has {copies} Colab cells (a merge can leave two); keep the first"


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    assert run_cell(hosting.CELL.format(repo="me/dip-teach"), colab=False, monkeypatch=monkeypatch) == []


def test_colab_cell_clones_and_keeps_colabs_torch(monkeypatch):
    calls = run_cell(hosting.CELL.format(repo="me/dip-teach"), colab=True, monkeypatch=monkeypatch)
    kinds = [k for k, _ in calls]
    assert kinds == ["!", "%pip", "%cd"]
    assert "git clone" in calls[0][1] and "https://github.com/me/dip-teach" in calls[0][1]
    assert "torch" not in calls[1][1] and "requirements" not in calls[1][1]
    assert calls[2][1].endswith("/dip-teach/notebooks")


def test_readme_has_one_colab_badge_per_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    repos = set(hosting.BADGE.findall(readme))
    assert len(repos) == 1, f"Colab badges point at several repositories: {repos}"
    for path in NOTEBOOKS:
        assert f"/blob/main/notebooks/{path.name})" in readme, f"no Colab badge for {path.name} in README.md"
