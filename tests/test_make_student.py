"""Student and instructor copies, built from the real notebooks: no answer survives in a student
copy, every prompt, option list and signature does, and each stub fails its check helpfully."""
import ast
import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

WHOLE = "import math\nanswer = 10 * math.log10(1 / (25 / 255) ** 2)\nq.check(answer)"
REGION = ("def tv(x, eps=1e-3):\n    \"\"\"Total variation.\"\"\"\n    ### BEGIN SOLUTION\n"
          "    return secret(x)\n    ### END SOLUTION\n\nq.check(tv)")


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="hi")]),
        nbformat.v4.new_code_cell(WHOLE, metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell(REGION, metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("Teacher: demo this live.", metadata={"tags": ["teacher"]}),
        nbformat.v4.new_markdown_cell("Because the gradient is zero.", metadata={"tags": ["solution"]}),
    ]
    return nb


# ------------------------------------------------------------------------ one cell at a time
def test_whole_cell_becomes_a_stub_that_keeps_the_check():
    src = make_student.stub_source(WHOLE)
    assert "math.log10" not in src and make_student.STUB in src
    assert src.splitlines()[-1] == "q.check(answer)" and "answer = None" in src
    ast.parse(src)


def test_marked_region_keeps_the_signature_and_raises():
    src = make_student.stub_source(REGION)
    assert "secret" not in src and "def tv(x, eps=1e-3):" in src and '"""Total variation."""' in src
    assert "q.check(tv)" in src
    ns = {}
    exec(compile(src.replace("q.check(tv)", ""), "<stub>", "exec"), ns)   # the stub still runs
    with pytest.raises(NotImplementedError):
        ns["tv"](0)


def test_unmarked_function_keeps_signature_and_docstring_but_not_comments():
    src = make_student.stub_source('@dec\ndef f(a,\n      b: int = 2) -> int:\n    """Doc."""\n'
                                   '    # the trick\n    return a * b\n\nq.check(f)\nq.solution()')
    assert "@dec\ndef f(a,\n      b: int = 2) -> int:" in src and '"""Doc."""' in src
    assert "the trick" not in src and "a * b" not in src and "solution()" not in src
    assert src.rstrip().endswith("q.check(f)")
    one = make_student.stub_source("def g(x): return x * 2\nq.check(g)")
    assert "x * 2" not in one and "def g(x):" in one and "NotImplementedError" in one


def test_literal_check_argument_and_option_print():
    src = make_student.stub_source('print(nb03.why_residual)\nnb03.why_residual.check("a")')
    assert src.splitlines()[0] == "print(nb03.why_residual)"
    assert '"a"' not in src and "nb03.why_residual.check(answer)" in src and "answer = None" in src
    marked = make_student.stub_source('### BEGIN SOLUTION\nx = 3\n### END SOLUTION\nq.check("b")')
    assert '"b"' not in marked and "x = None" in marked and "q.check(answer)" in marked


def test_stub_runs_and_the_checker_explains(capsys):
    from dip_teach.exercises import nb01

    src = make_student.stub_source("answer = 1 / 16\nnb01.known_fraction.check(answer)")
    exec(src, {"nb01": nb01})
    assert "not answered yet" in capsys.readouterr().out
    src = make_student.stub_source("def A(x):\n    return x[..., ::2, ::2]\nnb01.forward_operator.check(A)")
    exec(src, {"nb01": nb01})
    out = capsys.readouterr().out
    assert "Not yet" in out and "not answered yet" in out and "YOUR CODE HERE" in out


def test_authoring_mistakes_are_reported():
    with pytest.raises(make_student.AuthoringError, match="without"):
        make_student.stub_source("### BEGIN SOLUTION\nx = 1")
    with pytest.raises(make_student.AuthoringError, match="markers"):
        make_student.stub_source("%time answer = 3\nq.check(answer)")


def test_notebook_copies(tmp_path):
    src = tmp_path / "nb"
    src.mkdir()
    nbformat.write(_notebook(), src / "01_x.ipynb")
    assert make_student.main([str(src), "--out", str(tmp_path / "student")]) == 0
    nb = nbformat.read(tmp_path / "student" / "01_x.ipynb", as_version=4)
    assert [c.source for c in nb.cells[:2]] == ["# Title", "x = 1"]
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert make_student.STUB in nb.cells[2].source and make_student.STUB in nb.cells[3].source
    assert not any("Teacher" in c.source for c in nb.cells)               # teacher notes removed
    assert nb.cells[-1].source == make_student.ANSWER_MD                    # written answers removed
    nbformat.validate(nb)
    assert make_student.main([str(src), "--instructor", "--out", str(tmp_path / "inst")]) == 0
    inst = nbformat.read(tmp_path / "inst" / "01_x.ipynb", as_version=4)
    assert inst.cells[0].source == make_student.BANNER
    assert [c.source for c in inst.cells[1:]] == [c.source for c in _notebook().cells]
    assert all(c.outputs == [] for c in inst.cells if c.cell_type == "code")


def test_never_overwrites_work_or_the_originals(tmp_path, capsys):
    nbformat.write(_notebook(), tmp_path / "01_x.ipynb")
    assert make_student.main([str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "log10" in (tmp_path / "01_x.ipynb").read_text()
    out = tmp_path / "student"
    assert make_student.main([str(tmp_path / "01_x.ipynb"), "--out", str(out)]) == 0
    copy = out / "01_x.ipynb"
    copy.write_text(copy.read_text().replace("x = 1", "x = 2  # my work"))
    assert make_student.main([str(tmp_path / "01_x.ipynb"), "--out", str(out)]) == 0
    assert "my work" in copy.read_text() and "kept" in capsys.readouterr().out
    assert make_student.main([str(tmp_path / "01_x.ipynb"), "--out", str(out), "--overwrite"]) == 0
    assert "my work" not in copy.read_text()


# ------------------------------------------------------------------------ the real notebooks
def _answer_lines(source: str) -> set[str]:
    """Lines of a solution cell that are the answer (independent of how make_student finds them).

    Marked cells: the lines between the markers. Unmarked cells: every line except a
    function's signature and docstring, ``print(nbXX.question...)`` and ``q.check(name)``.
    """
    lines = source.splitlines()
    if any(line.strip() == make_student.BEGIN for line in lines):
        answer, inside = set(), False
        for line in lines:
            if line.strip() in (make_student.BEGIN, make_student.END):
                inside = line.strip() == make_student.BEGIN
            elif inside:
                answer.add(line.strip())
    else:
        allowed = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                doc_end = node.body[0].end_lineno if ast.get_docstring(node) else node.body[0].lineno - 1
                allowed.update(range(node.lineno, max(doc_end, node.lineno) + 1))
        answer = {line.strip() for i, line in enumerate(lines, 1) if i not in allowed
                  and not re.fullmatch(r"\s*print\(nb\d\d\.\w+(\.prompt)?\)\s*", line)
                  and not re.fullmatch(r"\s*[\w.]+\.check\(\w+\)\s*", line)}
        for i in allowed:                       # a one-line def keeps its signature, not its body
            line = lines[i - 1]
            if re.match(r"\s*def .*\):\s*\S", line):
                answer.add(line.split("):", 1)[1].strip())
    # only lines with real content; lines the student sees elsewhere anyway are not a leak
    return {a for a in answer if len(re.sub(r"\W", "", a)) >= 3 and not a.startswith("#")}


def _lines(nb, keep=lambda c: True) -> set[str]:
    return {line.strip() for c in nb.cells if keep(c) for line in c.source.splitlines()}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_removes_every_answer_and_keeps_the_rest(path):
    original = nbformat.read(path, as_version=4)
    student, stubs = make_student.make_student(original)
    solutions = [c for c in original.cells if "solution" in _tags(c)]
    assert stubs == len(solutions)
    given = _lines(original, lambda c: "solution" not in _tags(c) and "teacher" not in _tags(c))
    visible = _lines(student)
    for cell in solutions:
        if cell.cell_type != "code":
            continue
        leaked = {a for a in _answer_lines(cell.source) - given if a in visible}
        assert not leaked, f"{path.name}: answer lines survive in the student copy: {leaked}"
        for node in ast.parse(cell.source).body:     # a function to write keeps its signature
            if isinstance(node, ast.FunctionDef):
                signature = cell.source.splitlines()[node.lineno - 1].split("):")[0]
                assert signature.strip() in {v.split("):")[0] for v in visible}, signature
    # every other cell (prompts, option lists, the lesson) is there unchanged
    assert [c.source for c in original.cells if not set(_tags(c)) & {"solution", "teacher"}] == \
           [c.source for c in student.cells if "solution" not in _tags(c)]
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in student.cells if c.cell_type == "code")


def _placeholders(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names set to None, and functions whose body raises NotImplementedError, in a stub."""
    nones = {t.id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
             and n.value.value is None for t in n.targets if isinstance(t, ast.Name)}
    raising = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
               and any(isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s) for s in n.body)}
    return nones, raising


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_stub_fails_its_check_until_answered(path):
    student, _ = make_student.make_student(nbformat.read(path, as_version=4))
    for cell in student.cells:
        if "solution" not in _tags(cell) or cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        nones, raising = _placeholders(tree)
        checks = [n.value for n in tree.body if make_student._check_call(n) is not None]
        assert checks, f"{path.name}: a solution cell without a .check(...) line:\n{cell.source}"
        for call in checks:
            arg = call.args[0]
            assert isinstance(arg, ast.Name) and arg.id in nones | raising, \
                f"{path.name}: this stub's check could pass without an answer:\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_instructor_copy_keeps_every_solution(path):
    original = nbformat.read(path, as_version=4)
    inst = make_student.make_instructor(original)
    assert [c.source for c in inst.cells[1:]] == [c.source for c in original.cells]
    assert all(not c.get("outputs") for c in inst.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
@pytest.mark.slow
@pytest.mark.notebook
def test_student_notebook_runs_whole(path, tmp_path):
    """Run All on the student copy, in the test mode, exercises unanswered: every cell runs without an
    exception (cells that need an answer fall back or are guarded), and the first stub says "not yet"."""
    from nbclient import NotebookClient

    student, _ = make_student.make_student(nbformat.read(path, as_version=4))
    first = next((i for i, c in enumerate(student.cells) if "solution" in _tags(c) and c.cell_type == "code"),
                 None)
    assert first is not None, f"{path.name} has no exercise"
    env = {"DIP_TEACH_MODE": "test", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:      # raises CellExecutionError, naming the cell, at the first cell that fails
        NotebookClient(student, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert all(c.execution_count for c in student.cells if c.cell_type == "code"), "a cell did not run"
    out = "".join(o.get("text", "") for o in student.cells[first].outputs)
    assert "Not yet" in out and "not answered yet" in out, out
