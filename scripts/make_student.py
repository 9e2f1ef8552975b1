"""Write student and instructor copies of the course notebooks.

The notebooks in ``notebooks/`` hold working solutions, so nbval can run them. A cell
tagged ``solution`` (cell metadata ``"tags": ["solution"]``) holds an answer; the
student copy removes every answer and keeps everything a student needs to give one:

* A code cell with a ``### BEGIN SOLUTION`` / ``### END SOLUTION`` region (the nbgrader
  convention) loses only that region. Inside a function it becomes
  ``# YOUR CODE HERE`` and ``raise NotImplementedError(...)``, so the signature and the
  docstring stay; at the top level it becomes ``# YOUR CODE HERE`` and every name the
  region assigned is set to ``None``.
* A code cell without markers is read statement by statement: a function keeps its
  signature and docstring and gets the stub body above; ``print(nb01.question)`` (a
  prompt or its options) stays; each ``q.check(...)`` line stays, its argument set to
  ``None`` first (a literal argument, as in ``q.check("a")``, is replaced by a
  placeholder variable); everything else, the answer, goes.
* ``.solution()`` calls are removed, and a markdown cell tagged ``solution`` (the
  answer to a discussion question) becomes "*Your answer:*".
* A cell tagged ``teacher`` (notes for the instructor) is removed.

So every stub runs, and its ``check`` line says "not answered yet" until the student
writes an answer. The instructor copy keeps every cell, solutions and teacher notes
included, under a banner. Outputs are cleared in both. An existing copy is never
overwritten when it differs from the new one (a student may have worked in it):
it is kept and reported, unless ``--overwrite`` is given.

Usage::

    python scripts/make_student.py                              # notebooks/*.ipynb -> student/
    python scripts/make_student.py --instructor                 # -> instructor/
    python scripts/make_student.py notebooks/02_handcrafted_priors.ipynb --out /tmp/s
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "solution"
TEACHER = "teacher"
STUB = "# YOUR CODE HERE"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PLACEHOLDER = "None  # replace None with your answer"
NOT_DONE = 'raise NotImplementedError("write this function where it says YOUR CODE HERE, then run the cell")'
ANSWER_MD = "*Your answer:* "
BANNER = ("**Instructor copy.** Solutions are filled in and teacher notes are included; "
          "students get the copy made by `make student`.")


class AuthoringError(ValueError):
    """A solution cell that cannot be turned into a stub safely: the message says how to fix it."""


def stub_source(source: str) -> str:
    """Return the student version of one solution code cell's source."""
    lines = source.splitlines()
    if any(line.strip() == BEGIN for line in lines):
        return _check_lines("\n".join(_strip_regions(lines, source)), source)
    return _stub_statements(source)


# ----------------------------------------------------------------------------- marked regions
def _strip_regions(lines: list[str], source: str) -> list[str]:
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in lines:
        if line.strip() == BEGIN:
            if region is not None:
                raise AuthoringError(f"{BEGIN!r} inside another solution region in:\n{source}")
            indent, region = line[: len(line) - len(line.lstrip())], []
        elif line.strip() == END:
            if region is None:
                raise AuthoringError(f"{END!r} without {BEGIN!r} in:\n{source}")
            out.append(f"{indent}{STUB}")
            if indent:                 # a function body: make it fail loudly until written
                out.append(f"{indent}{NOT_DONE}")
            else:                      # top level: names the region made stay defined, as None
                out += [f"{name} = {PLACEHOLDER}" for name in _assigned(textwrap.dedent("\n".join(region)))]
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise AuthoringError(f"{BEGIN!r} without {END!r} in:\n{source}")
    return out


def _assigned(code: str) -> list[str]:
    """Top-level names a piece of code assigns, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise AuthoringError(f"a solution region must be valid Python on its own ({err}):\n{code}") from None
    names: list[str] = []
    for node in tree.body:
        for name in _targets(node):
            if name not in names:
                names.append(name)
    return names


def _targets(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, (ast.For, ast.With)):
        return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    return []


_CHECK_LINE = re.compile(r"\.check\(")


def _check_lines(text: str, source: str) -> str:
    """In the kept lines of a marked cell: give each ``.check(<literal>)`` a placeholder, drop ``.solution()``."""
    out = []
    for line in text.splitlines():
        if re.search(r"\.solution\(\s*\)", line) and not line.startswith((" ", "\t")):
            continue
        if _CHECK_LINE.search(line):
            indent = line[: len(line) - len(line.lstrip())]
            try:
                node = ast.parse(line.strip()).body[0]
            except SyntaxError:
                raise AuthoringError(f"write each .check(...) call on one line:\n{source}") from None
            call = _check_call(node)
            if call is not None and call.args and not isinstance(call.args[0], ast.Name):
                out += [f"{indent}answer = {PLACEHOLDER}", f"{indent}{_with_answer(call)}"]
                continue
        out.append(line)
    return "\n".join(out)


# ----------------------------------------------------------------------------- whole cells
def _stub_statements(source: str) -> str:
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise AuthoringError("a solution cell without ### BEGIN/END SOLUTION markers must be plain Python "
                             f"({err}); mark the answer with the markers instead:\n{source}") from None
    lines = source.splitlines()
    defined = {name for node in tree.body for name in _targets(node)}
    functions = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out: list[str] = []
    placed: set[str] = set()

    def stub_marker() -> None:
        if not out or out[-1] != STUB:
            out.append(STUB)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out += _function_stub(node, lines) + [""]
            continue
        if _calls(node, "solution", "hint"):
            continue               # a student calls these when they choose to
        call = _check_call(node)
        if call is not None:
            arg = call.args[0] if call.args else None
            if isinstance(arg, ast.Name) and (arg.id in functions or arg.id not in defined):
                out.append(ast.get_source_segment(source, node))
            elif isinstance(arg, ast.Name):
                stub_marker()
                if arg.id not in placed:
                    out.append(f"{arg.id} = {PLACEHOLDER}")
                    placed.add(arg.id)
                out.append(ast.get_source_segment(source, node))
            else:               # a literal or an expression: the answer itself, so it goes
                stub_marker()
                out += [f"answer = {PLACEHOLDER}", _with_answer(call)]
            continue
        if _shows_a_question(node, defined):
            out.append(ast.get_source_segment(source, node))
            continue
        stub_marker()              # anything else is the answer
    return "\n".join(out).strip("\n")


def _function_stub(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> list[str]:
    """The signature (with decorators) and docstring of a function, and a body that raises.

    Comments between the signature and the body go too: they are part of the answer.
    """
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    body = node.body
    one_line = body[0].lineno == node.lineno                     # `def f(x): return x`
    end = node.lineno - 1                                        # 0-based: the line with the colon
    while not one_line and not lines[end].split("#")[0].rstrip().endswith(":"):
        end += 1
    head = lines[first:end + 1]
    if one_line:
        head[-1] = lines[node.lineno - 1][: body[0].col_offset].rstrip()
    elif ast.get_docstring(node, clean=False) is not None:
        head += lines[body[0].lineno - 1:body[0].end_lineno]
    indent = " " * (node.col_offset + 4 if one_line else body[0].col_offset)
    return head + [f"{indent}{STUB}", f"{indent}{NOT_DONE}"]


def _calls(node: ast.stmt, *methods: str) -> ast.Call | None:
    """The call if the statement is ``something.<method>(...)`` for one of ``methods``."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and func.attr in methods:
            return node.value
    return None


def _check_call(node: ast.stmt) -> ast.Call | None:
    """The call if the statement is ``something.check(...)``."""
    return _calls(node, "check")


def _with_answer(call: ast.Call) -> str:
    """``q.check(<anything>)`` rewritten as ``q.check(answer)``."""
    new = ast.Call(func=call.func, args=[ast.Name("answer", ast.Load())] + call.args[1:], keywords=call.keywords)
    return ast.unparse(new)


def _shows_a_question(node: ast.stmt, defined: set[str]) -> bool:
    """``print(nb03.why_residual)`` or ``print(q.prompt)``: a prompt or its options, no answer."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    call = node.value
    if not (isinstance(call.func, ast.Name) and call.func.id == "print" and len(call.args) == 1):
        return False
    arg = call.args[0]
    while isinstance(arg, ast.Attribute):
        arg = arg.value
    return isinstance(arg, ast.Name) and arg.id not in defined and call.args[0] is not arg


# ----------------------------------------------------------------------------- notebooks
def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def make_student(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return a student copy of a notebook (answers removed, outputs cleared) and the number of stubs."""
    nb = nbformat.from_dict(notebook)  # deep copy
    cells, stubs = [], 0
    for cell in nb.cells:
        tags = _tags(cell)
        if TEACHER in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if TAG in tags:
            stubs += 1
            cell.source = stub_source(cell.source) if cell.cell_type == "code" else ANSWER_MD
        cells.append(cell)
    nb.cells = cells
    return nb, stubs


def make_instructor(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return an instructor copy: every cell kept, outputs cleared, a banner on top."""
    nb = nbformat.from_dict(notebook)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(BANNER, metadata={"tags": [TEACHER]}))
    return nb


def _write(nb: nbformat.NotebookNode, path: Path, overwrite: bool) -> str:
    text = nbformat.writes(nb) + "\n"
    if path.exists() and not overwrite:
        old = path.read_text(encoding="utf-8")
        if old == text:
            return "unchanged"
        return "kept (it differs from a fresh copy, maybe someone's work: delete it or pass --overwrite)"
    path.write_text(text, encoding="utf-8")
    return "written"


def find_notebooks(paths: list[Path]) -> list[Path]:
    """The notebooks given, or in the folders given (default: notebooks/), sorted; says so when none."""
    paths = paths or [ROOT / "notebooks"]
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.glob("*.ipynb")))
    if not files:
        print(f"no notebooks found in {', '.join(map(str, paths))}", file=sys.stderr)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks or folders (default: notebooks/)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: student/ or instructor/)")
    parser.add_argument("--instructor", action="store_true", help="write instructor copies (solutions kept)")
    parser.add_argument("--overwrite", action="store_true", help="replace copies that differ from fresh ones")
    args = parser.parse_args(argv)
    files = find_notebooks(args.paths)
    if not files:
        return 1
    out = (args.out or ROOT / ("instructor" if args.instructor else "student")).resolve()
    if any(f.resolve().parent == out for f in files):
        print(f"refusing to write copies over the originals in {out}; choose another --out", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        original = nbformat.read(f, as_version=4)
        try:
            if args.instructor:
                nb, what = make_instructor(original), "instructor copy"
            else:
                nb, stubs = make_student(original)
                what = f"{stubs} answer(s) removed"
        except AuthoringError as err:
            print(f"{f.name}: {err}", file=sys.stderr)
            return 3
        status = _write(nb, out / f.name, args.overwrite)
        print(f"{f.name}: {what} -> {out / f.name} ({status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
