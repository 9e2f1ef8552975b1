"""Write an nbgrader source course from the course notebooks.

The notebooks already mark their answers the way ``make student`` needs them (cells
tagged ``solution``, ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions, one
``q.check(answer)`` per exercise; see ``scripts/make_student.py``). This script turns
them into the layout nbgrader 0.9 works on::

    grading/
        nbgrader_config.py                       # the course's nbgrader settings (below)
        source/04_deep_image_prior/04_deep_image_prior.ipynb
        ...                                      # one assignment per notebook with exercises

In each notebook:

* every ``solution`` code cell becomes an nbgrader *autograded answer* cell (metadata
  ``nbgrader: {solution: true, grade: false, ...}``) whose answer sits in a solution
  region; what a student gets in its place is what ``make student`` gives: a function
  keeps its signature and raises ``NotImplementedError`` until written, a top-level
  answer is set to ``None``, and the ``q.check(...)`` line stays so the student still
  gets the kit's verdict;
* after it comes one locked, graded *test* cell per ``q.check(x)`` (``grade: true,
  locked: true, points: N``) running ``q.grade(x)``, which raises unless the answer is
  right. The call sits in a ``### BEGIN HIDDEN TESTS`` region: the student sees what is
  graded and for how many points, but a wrong or missing answer never stops their Run
  All; nbgrader puts the hidden call back when it autogrades;
* a function the student writes earns ``CODE_POINTS``, any other answer (a choice, a
  number) ``ANSWER_POINTS``;
* a markdown cell tagged ``solution`` (a discussion answer) becomes a manually graded
  answer worth ``ANSWER_POINTS``; cells tagged ``teacher`` are left out (``make
  instructor`` has them); outputs are cleared.

The course's ``nbgrader_config.py`` sets what these notebooks need: a solution stub
without ``raise`` (the kit's stubs above carry their own), a per-cell timeout, and the
kit's ``test`` run mode with live views off inside the kernels nbgrader starts to
autograde or validate, so grading a notebook takes seconds and never waits for a
front end (a teacher's ``DIP_TEACH_MODE`` / ``DIP_TEACH_HEADLESS`` in the environment
still win).

Usage::

    python scripts/make_nbgrader.py                      # notebooks/*.ipynb -> grading/
    python scripts/make_nbgrader.py notebooks/04_deep_image_prior.ipynb --out /tmp/course
    cd grading && nbgrader generate_assignment 04_deep_image_prior
"""
from __future__ import annotations

import argparse
import ast
import sys
import textwrap
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_student import (BEGIN, END, NOT_DONE, PLACEHOLDER, STUB, TAG, TEACHER,  # noqa: E402
                          AuthoringError, _assigned, _calls, _check_call, _shows_a_question, _tags,
                          _with_answer, _write, find_notebooks)

ROOT = Path(__file__).resolve().parent.parent
CODE_POINTS = 2
ANSWER_POINTS = 1
SCHEMA_VERSION = 3
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

CONFIG = '''\
"""nbgrader settings of the dip-teach course (written by scripts/make_nbgrader.py; run nbgrader from this folder)."""
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "dip-teach"

# The answer cells carry the kit's own stubs (a function raises NotImplementedError until
# written, a top-level answer is None), so a student's Run All goes through unanswered
# exercises; nbgrader's default stub would add a `raise` at the top level of a cell.
c.ClearSolutions.code_stub = {"python": "%(stub)s"}

# Autograding and validating run each notebook in the kit's `test` mode (small crops, short
# fits) with live views off: a notebook takes seconds, not the lesson's minutes, and no cell
# waits for a front end. Set DIP_TEACH_MODE / DIP_TEACH_HEADLESS before running nbgrader to
# choose otherwise.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=import os; os.environ.setdefault('DIP_TEACH_MODE', 'test'); "
    "os.environ.setdefault('DIP_TEACH_HEADLESS', '1')",
]
# the longest cell of a notebook in test mode takes seconds; a busy Hub node may be far slower
c.Execute.timeout = 600
'''


# ----------------------------------------------------------------------------- one answer cell
def grading_cells(source: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Split one solution code cell into its nbgrader answer source and what it checks.

    Returns the answer cell's source (every answer inside a solution region, with the
    stub a student gets around it: placeholders before a top-level region, a ``raise``
    after a region inside a function) and, for each ``q.check(x)`` line, the triple
    ``(question expression, argument, kind)`` with kind ``"code"`` when ``x`` is a
    function the cell defines, else ``"answer"``.
    """
    lines = source.splitlines()
    if not any(line.strip() == BEGIN for line in lines):
        lines = _mark_regions(source)
    out: list[str] = []
    checks: list[tuple[str, str, str]] = []
    functions = _functions(source)
    region: list[str] | None = None
    for line in lines:
        stripped, indent = line.strip(), line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            region = []
            continue
        if stripped == END:
            if region is None:
                raise AuthoringError(f"{END!r} without {BEGIN!r} in:\n{source}")
            out += _region(region, indent, source)
            region = None
            continue
        if region is not None:
            region.append(line)
            continue
        statement = _statement(line) if line[:1] not in (" ", "\t") else None
        if _calls(statement, "solution"):       # it would print the answer in the student's copy
            continue
        call = _check_call(statement)
        if call is not None:
            arg = call.args[0] if call.args else None
            if not isinstance(arg, ast.Name):   # the answer is written inside check(...): move it out
                if arg is None:
                    raise AuthoringError(f"a .check() call without the answer in:\n{source}")
                out += _region([f"answer = {ast.get_source_segment(line, arg)}"], "", source)
                line = _with_answer(call)
                arg = ast.Name("answer")
            checks.append((ast.unparse(call.func.value), arg.id, "code" if arg.id in functions else "answer"))
        out.append(line)
    if region is not None:
        raise AuthoringError(f"{BEGIN!r} without {END!r} in:\n{source}")
    return "\n".join(out).strip("\n"), checks


def _region(region: list[str], indent: str, source: str) -> list[str]:
    """A solution region with the student's stub next to it (nbgrader replaces the region by ``# YOUR CODE HERE``)."""
    body = [f"{indent}{BEGIN}", *region, f"{indent}{END}"]
    if indent:                                   # inside a function: it raises until written
        code = textwrap.dedent("\n".join(region))
        last = _parse(code, source).body[-1:]
        if not last or not isinstance(last[0], (ast.Return, ast.Raise)):
            raise AuthoringError("a solution region inside a function must end with its `return` (the student's "
                                 f"stub raises NotImplementedError after it):\n{source}")
        return body + [f"{indent}{NOT_DONE}"]
    # top level: every name the answer assigns stays defined, as None
    return [f"{name} = {PLACEHOLDER}" for name in _assigned(textwrap.dedent("\n".join(region)))] + body


def _mark_regions(source: str) -> list[str]:
    """Put solution markers into a cell written without them (the layout ``make student`` reads).

    A function's body (after its docstring) becomes a region; a ``q.check(...)`` line, a
    printed prompt (``print(nb03.question)``) and a blank line stay outside; every other
    run of statements is the answer and becomes one region.
    """
    tree = _parse(source, source)
    lines = source.splitlines()
    defined = {name for node in tree.body for name in _assigned(ast.get_source_segment(source, node) or "")}
    out: list[str] = []
    answer: list[str] = []

    def flush() -> None:
        if answer:
            out.extend([BEGIN, *answer, END])
            answer.clear()

    end = 0                                      # lines before a statement (blank, comments) go with it
    for node in tree.body:
        start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno]) - 1
        gap, segment, end = lines[end:start], lines[end:node.end_lineno], node.end_lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            flush()
            out += gap + _mark_function(node, lines, source)
        elif _check_call(node) is not None or _shows_a_question(node, defined):
            flush()
            out += segment
        else:                                    # the answer (a .solution() or .hint() call goes with it)
            answer += segment
    flush()
    return out


def _mark_function(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], source: str) -> list[str]:
    """A function's lines with its body (after the docstring) inside a solution region."""
    first = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    body = node.body
    if body[0].lineno == node.lineno:
        raise AuthoringError(f"write the body of {node.name}() on its own lines, not after the colon:\n{source}")
    if ast.get_docstring(node, clean=False) is not None:
        body = body[1:]
        head_end = node.body[0].end_lineno
    else:
        head_end = body[0].lineno - 1
        while not lines[head_end - 1].split("#")[0].rstrip().endswith(":"):   # comments after the colon
            head_end -= 1                                                      # belong to the answer
    if not body:
        raise AuthoringError(f"{node.name}() has only a docstring: nothing to grade in:\n{source}")
    indent = " " * body[0].col_offset
    return lines[first:head_end] + [f"{indent}{BEGIN}"] + lines[head_end:node.end_lineno] + [f"{indent}{END}"]


def _functions(source: str) -> set[str]:
    tree = _parse(source, source)
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _statement(line: str) -> ast.stmt | None:
    try:
        body = ast.parse(line).body
    except SyntaxError:
        return None
    return body[0] if len(body) == 1 else None


def _parse(code: str, source: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError as err:
        raise AuthoringError(f"a solution cell must be valid Python ({err}):\n{source}") from None


# ----------------------------------------------------------------------------- notebooks
def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, points: int = 0) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": grade and not solution, "grade_id": grade_id,
            "schema_version": SCHEMA_VERSION}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def test_source(question: str, arg: str, points: int) -> str:
    """The locked test cell of one check: a note the student sees and the hidden call that grades."""
    unit = "point" if points == 1 else "points"
    return (f"# Graded: {question} ({points} {unit}). `.check()` above tells you if your answer is right;\n"
            f"# when grading, this cell runs the same check and fails unless it is.\n"
            f"{HIDDEN_BEGIN}\n{question}.grade({arg})\n{HIDDEN_END}")


def make_source(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return the nbgrader source version of a notebook and its total points."""
    nb = nbformat.from_dict(notebook)
    if nb.nbformat_minor < 5:          # cell ids (nbformat 4.5) for every cell, the new test cells included
        nb.nbformat_minor = 5
        for k, cell in enumerate(nb.cells):
            cell.setdefault("id", f"cell-{k}")          # fixed ids: a second run writes the same file
    cells, total, ids = [], 0, set()

    def unique(name: str) -> str:
        grade_id, k = name, 2
        while grade_id in ids:
            grade_id, k = f"{name}_{k}", k + 1
        ids.add(grade_id)
        return grade_id

    for cell in nb.cells:
        tags = _tags(cell)
        if TEACHER in tags:
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if TAG not in tags:
            cells.append(cell)
            continue
        if cell.cell_type == "markdown":        # a discussion answer: graded by hand
            cell.metadata.update(_meta(unique(f"discussion_{len(cells)}"), solution=True, grade=True,
                                       points=ANSWER_POINTS))
            total += ANSWER_POINTS
            cells.append(cell)
            continue
        source, checks = grading_cells(cell.source)
        if not checks:
            raise AuthoringError(f"a solution cell without a .check(...) line: nothing would be graded:\n{cell.source}")
        name = checks[0][0].rsplit(".", 1)[-1]
        cell.source = source
        cell.metadata.update(_meta(unique(f"{name}_answer"), solution=True))
        cells.append(cell)
        for question, arg, kind in checks:
            points = CODE_POINTS if kind == "code" else ANSWER_POINTS
            grade_id = unique(question.rsplit(".", 1)[-1])
            test = nbformat.v4.new_code_cell(test_source(question, arg, points), id=f"test-{grade_id}"[:64])
            test.metadata.update(_meta(grade_id, grade=True, points=points))
            cells.append(test)
            total += points
    for cell in cells:                 # nbgrader reads a solution marker in any other cell as a mistake
        if "nbgrader" not in cell.metadata and ("BEGIN SOLUTION" in cell.source or "BEGIN HIDDEN TESTS" in cell.source):
            raise AuthoringError(f"a cell outside the exercises mentions a solution or hidden-test marker, which "
                                 f"nbgrader would try to strip; reword it:\n{cell.source}")
    nb.cells = cells
    return nb, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks or folders (default: notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "grading", help="the course folder (default: grading/)")
    parser.add_argument("--overwrite", action="store_true", help="replace files that differ from fresh ones")
    args = parser.parse_args(argv)
    files = find_notebooks(args.paths)
    if not files:
        return 1
    out = args.out.resolve()
    (out / "source").mkdir(parents=True, exist_ok=True)
    config = out / "nbgrader_config.py"
    if config.exists() and config.read_text(encoding="utf-8") != CONFIG % {"stub": STUB} and not args.overwrite:
        print(f"{config}: kept (it differs from a fresh one, maybe your settings: delete it or pass --overwrite)")
    else:
        config.write_text(CONFIG % {"stub": STUB}, encoding="utf-8")
    for f in files:
        try:
            nb, points = make_source(nbformat.read(f, as_version=4))
        except AuthoringError as err:
            print(f"{f.name}: {err}", file=sys.stderr)
            return 3
        if not points:
            print(f"{f.name}: no exercises, no assignment")
            continue
        folder = out / "source" / f.stem
        folder.mkdir(exist_ok=True)
        status = _write(nb, folder / f.name, args.overwrite)
        print(f"{f.name}: {points} points -> {folder / f.name} ({status})")
    print(f"course written to {out}; there: nbgrader generate_assignment <name>, then nbgrader autograde <name>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
