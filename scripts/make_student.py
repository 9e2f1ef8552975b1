"""Write student copies of the course notebooks: solution cells become stubs.

The notebooks in ``notebooks/`` hold working solutions so nbval can run them. A code
cell tagged ``solution`` (cell metadata ``"tags": ["solution"]``) is turned into a stub:

* if it marks a region with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (the
  nbgrader convention), only that region is replaced by ``# YOUR CODE HERE``, so a
  function's signature and docstring can stay;
* otherwise the whole cell is replaced by ``# YOUR CODE HERE``, keeping the lines that
  call ``.check(...)``, ``.hint()`` or ``.solution()``, and each name passed to
  ``.check`` is set to ``None`` first, so the stub runs and the checker says what is
  missing instead of a ``NameError``.

Outputs are cleared everywhere. Usage::

    python scripts/make_student.py                 # notebooks/*.ipynb -> student/
    python scripts/make_student.py notebooks/02_handcrafted_priors.ipynb --out /tmp/s
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "solution"
STUB = "# YOUR CODE HERE"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_KEEP = re.compile(r"\.(check|hint|solution)\(")


def stub_source(source: str) -> str:
    """Return the student version of one solution cell's source."""
    lines = source.splitlines()
    if any(line.strip() == BEGIN for line in lines):
        out, inside = [], False
        for line in lines:
            if line.strip() == BEGIN:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}{STUB}")
                if indent:  # keep a function body valid: `pass` until the student writes one
                    out.append(f"{indent}pass")
                inside = True
            elif line.strip() == END:
                if not inside:
                    raise ValueError(f"{END!r} without {BEGIN!r} in:\n{source}")
                inside = False
            elif not inside:
                out.append(line)
        if inside:
            raise ValueError(f"{BEGIN!r} without {END!r} in:\n{source}")
        return "\n".join(out)

    kept = [line for line in lines if _KEEP.search(line) and not line.startswith((" ", "\t"))]
    placeholders = [f"{name} = None  # replace None with your answer" for name in _checked_names(source)]
    return "\n".join([STUB, *placeholders, *kept])


def _checked_names(source: str) -> list[str]:
    """Names passed to ``something.check(name)`` that the cell itself defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: no placeholders, the check line still stays
        return []
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
    names: list[str] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check"
                and node.args and isinstance(node.args[0], ast.Name)):
            name = node.args[0].id
            if name in defined and name not in names:
                names.append(name)
    return names


def make_student(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return a student copy of a notebook (solution cells stubbed, outputs cleared) and the stub count."""
    nb = nbformat.from_dict(notebook)  # deep copy
    stubs = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = stub_source(cell.source)
            stubs += 1
    return nb, stubs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks or folders (default: notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    paths = args.paths or [ROOT / "notebooks"]
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.glob("*.ipynb")))
    if not files:
        print(f"no notebooks found in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    out = args.out.resolve()
    if any(f.resolve().parent == out for f in files):
        print(f"refusing to write student copies over the originals in {out}; choose another --out",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        nb, stubs = make_student(nbformat.read(f, as_version=4))
        nbformat.write(nb, out / f.name)
        print(f"{f.name}: {stubs} solution cell(s) stubbed -> {out / f.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
