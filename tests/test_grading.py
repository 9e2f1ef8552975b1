"""Grading a class with nbgrader 0.9: the source course that ``make nbgrader`` writes, graded for real.

The fast tests check the conversion (``scripts/make_nbgrader.py``) on small cells and on
every notebook. The slow ones (marked ``slow``; ``make unit`` skips them) run nbgrader
itself from its own environment (``.venv-grade``, ``make grade-venv``; or the ``nbgrader``
executable named by ``$DIP_TEACH_NBGRADER``): ``generate_assignment`` on two notebooks
with exercises, then ``autograde`` on two submissions of each, the solved source notebook
and the unsolved student copy nbgrader released. Without nbgrader they are skipped, except
under CI (``CI`` set), where they fail.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from dip_teach.exercises import nb01

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_nbgrader", ROOT / "scripts" / "make_nbgrader.py")
make_nbgrader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_nbgrader)
AuthoringError = make_nbgrader.AuthoringError

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# two notebooks with code exercises and choice questions; 04 runs DIP fits and live views
ASSIGNMENTS = ["01_inverse_problems", "04_deep_image_prior"]
STUDENTS = ("solved", "unsolved")
WRONG_IN, WRONG = "01_inverse_problems", nb01.truth_data_term      # the one wrong answer of student one_wrong


# ----------------------------------------------------------------------------- the conversion
def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _release(source: str) -> str:
    """What nbgrader's generate_assignment makes of an answer cell under the course's stub (a comment)."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
            out.append(line.replace("### BEGIN SOLUTION", "# YOUR CODE HERE"))
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


class _Q:
    """Records what a student's cell passes to check()."""

    def check(self, answer):
        self.answer = answer


def _run_student_cell(source: str) -> tuple[dict, _Q]:
    q = _Q()
    namespace = {"q": q, "pool": lambda x: x}
    exec(compile(_release(source), "<student cell>", "exec"), namespace)
    return namespace, q


def test_choice_answer_becomes_a_region_with_a_placeholder_and_a_graded_check():
    source, checks = make_nbgrader.grading_cells('answer = "b"\nq.check(answer)')
    assert source.splitlines() == ["answer = None  # replace None with your answer", "### BEGIN SOLUTION",
                                   'answer = "b"', "### END SOLUTION", "q.check(answer)"]
    assert checks == [("q", "answer", "answer")]
    assert _run_student_cell(source)[1].answer is None


def test_function_region_raises_after_the_answer_and_counts_as_code():
    cell = ('def A(x):\n    """Average 2x2 blocks."""\n    ### BEGIN SOLUTION\n    return pool(x)\n'
            "    ### END SOLUTION\n\nq.check(A)")
    source, checks = make_nbgrader.grading_cells(cell)
    assert checks == [("q", "A", "code")]
    namespace = {"q": _Q(), "pool": lambda x: x}
    exec(source, namespace)
    assert namespace["A"](3) == 3                       # the source (solved) version works
    namespace, q = _run_student_cell(source)
    assert q.answer is namespace["A"] and namespace["A"].__doc__ == "Average 2x2 blocks."
    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        namespace["A"](3)


def test_unmarked_cells_get_regions_and_a_literal_check_is_moved_out():
    source, checks = make_nbgrader.grading_cells(
        "def loss(x, y):\n    # the mean\n    return ((x - y) ** 2).mean()\n\nq.hint()\nq.check(loss)")
    assert source.startswith("def loss(x, y):\n    ### BEGIN SOLUTION\n    # the mean\n")
    assert checks == [("q", "loss", "code")]
    assert ".hint()" not in _release(source) and "the mean" not in _release(source)
    source, checks = make_nbgrader.grading_cells('print(nb03.why_residual)\nq.check("a")')
    assert source.startswith("print(nb03.why_residual)\nanswer = None")
    assert '### BEGIN SOLUTION\nanswer = "a"\n### END SOLUTION\nq.check(answer)' in source
    assert checks == [("q", "answer", "answer")]


def test_solution_calls_never_reach_the_student():
    for cell in ("answer = 3\nq.solution()\nq.check(answer)",
                 "answer = None\n### BEGIN SOLUTION\nanswer = 3\n### END SOLUTION\nq.solution()\nq.check(answer)"):
        source, _ = make_nbgrader.grading_cells(cell)
        assert ".solution()" not in _release(source)
        assert _run_student_cell(source)[1].answer is None


@pytest.mark.parametrize("cell, says", [
    ("def f(x):\n    ### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n\nq.check(f)", "must end with its `return`"),
    ("def f(x): return x\n\nq.check(f)", "own lines"),
    ("answer = 1\n### END SOLUTION\nq.check(answer)", "without"),
])
def test_authoring_mistakes_are_named(cell, says):
    with pytest.raises(AuthoringError, match=says):
        make_nbgrader.grading_cells(cell)


def test_markdown_and_teacher_cells():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Why?", metadata={"tags": ["solution"]}),
                nbformat.v4.new_markdown_cell("Teacher: demo it.", metadata={"tags": ["teacher"]}),
                nbformat.v4.new_code_cell('answer = "a"\nq.check(answer)', metadata={"tags": ["solution"]})]
    out, points = make_nbgrader.make_source(nb)
    assert [c.source for c in out.cells if "Teacher" in c.source] == []
    assert _meta(out.cells[0]) == {"grade": True, "solution": True, "locked": False, "points": 1,
                                   "grade_id": "discussion_0", "schema_version": 3}
    assert points == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_notebook_converts_with_one_graded_test_per_check(path):
    original = nbformat.read(path, as_version=4)
    nb, points = make_nbgrader.make_source(original)
    nbformat.validate(nb)
    solutions = [c for c in original.cells if "solution" in c.metadata.get("tags", []) and c.cell_type == "code"]
    tests = [c for c in nb.cells if _meta(c).get("grade")]
    assert len(tests) >= len(solutions) > 0
    assert points == sum(_meta(c)["points"] for c in tests)
    ids = [_meta(c)["grade_id"] for c in nb.cells if _meta(c)]
    assert len(ids) == len(set(ids)), "grade ids must be unique in a notebook"
    for cell in tests:
        assert _meta(cell)["locked"] and not _meta(cell)["solution"] and cell.cell_type == "code"
        assert ".grade(" in cell.source.split("### BEGIN HIDDEN TESTS")[1]
    assert not any("teacher" in c.metadata.get("tags", []) for c in nb.cells)


def test_a_second_run_writes_the_same_files_and_keeps_edited_ones(tmp_path, capsys):
    args = [str(ROOT / "notebooks" / "04_deep_image_prior.ipynb"), "--out", str(tmp_path)]
    assert make_nbgrader.main(args) == 0
    notebook = tmp_path / "source" / "04_deep_image_prior" / "04_deep_image_prior.ipynb"
    first = notebook.read_text(encoding="utf-8")
    assert make_nbgrader.main(args) == 0 and "(unchanged)" in capsys.readouterr().out
    notebook.write_text(first.replace("Graded:", "Graded by hand:"), encoding="utf-8")
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    assert make_nbgrader.main(args) == 0
    out = capsys.readouterr().out
    assert out.count("kept") == 2 and "Graded by hand" in notebook.read_text(encoding="utf-8")
    assert make_nbgrader.main(args + ["--overwrite"]) == 0 and notebook.read_text(encoding="utf-8") == first


def test_grade_raises_unless_right():
    q = nb01.ill_posed
    q.grade(q.right)
    for wrong in (None, q.mistakes[0].answer()):
        with pytest.raises(AssertionError, match="ill_posed"):
            q.grade(wrong)


# ----------------------------------------------------------------------------- nbgrader, for real
def _nbgrader() -> Path:
    exe = Path(os.environ.get("DIP_TEACH_NBGRADER") or ROOT / ".venv-grade" / "bin" / "nbgrader")
    if not exe.exists():
        message = f"nbgrader not found at {exe}: run `make grade-venv` (or set DIP_TEACH_NBGRADER)"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)
    return exe


def _run(args: list, cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return time.perf_counter() - start


SCORES = """
import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for assignment in sys.argv[1:]:
        for sub in gb.assignment_submissions(assignment):
            out.setdefault(assignment, {})[sub.student.id] = {
                g.name: [g.auto_score, g.max_score] for nb in sub.notebooks for g in nb.grades}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course for ASSIGNMENTS, generated, submitted twice each and autograded; returns scores and times."""
    exe = _nbgrader()
    course = tmp_path_factory.mktemp("course")
    assert make_nbgrader.main([str(ROOT / "notebooks" / f"{a}.ipynb") for a in ASSIGNMENTS] + ["--out", str(course)]) == 0
    env = dict(os.environ)
    env["PATH"] = f"{exe.parent}{os.pathsep}{env.get('PATH', '')}"       # nbgrader runs alembic from its venv
    for name in ("DIP_TEACH_MODE", "DIP_TEACH_HEADLESS", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)                 # the course's nbgrader_config.py must choose test mode and headless
    env["JPY_SESSION_NAME"] = "autograde-run-from-a-notebook"   # a sign of a front end, which it must override
    times = {}
    for a in ASSIGNMENTS:
        _run([exe, "generate_assignment", a, "--force"], course, env)
        for student, folder in zip(STUDENTS, ("source", "release")):
            (course / "submitted" / student / a).mkdir(parents=True)
            shutil.copy(course / folder / a / f"{a}.ipynb", course / "submitted" / student / a)
        for student in STUDENTS:
            times[a, student] = _run([exe, "autograde", a, "--create", "--student", student], course, env)
    # a third student answers everything right but one choice question: that exercise alone scores zero
    nb = nbformat.read(course / "source" / WRONG_IN / f"{WRONG_IN}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if _meta(c).get("grade_id") == f"{WRONG.name}_answer")
    right = f'answer = "{WRONG.correct}"'
    assert right in cell.source
    cell.source = cell.source.replace(right, f'answer = "{WRONG.mistakes[0].value}"')
    (course / "submitted" / "one_wrong" / WRONG_IN).mkdir(parents=True)
    nbformat.write(nb, course / "submitted" / "one_wrong" / WRONG_IN / f"{WRONG_IN}.ipynb")
    _run([exe, "autograde", WRONG_IN, "--create", "--student", "one_wrong"], course, env)
    python = exe.parent / "python"
    scores = json.loads(subprocess.run([str(python), "-c", SCORES, *ASSIGNMENTS], cwd=course, env=env,
                                       capture_output=True, text=True, check=True).stdout)
    print("\nautograde wall time per notebook (s):",
          ", ".join(f"{a} {s} {t:.1f}" for (a, s), t in times.items()))
    return course, scores, times


def _autograded(course: Path, student: str, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_copy_gets_full_marks(graded, assignment):
    course, scores, _ = graded
    grades = scores[assignment]["solved"]
    assert len(grades) >= 3
    assert {name: got for name, (got, most) in grades.items() if got != most} == {}
    nb = _autograded(course, "solved", assignment)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == [], f"the solved notebook raised: {[(e.ename, e.evalue) for e in errors]}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unsolved_copy_gets_zero_and_runs_to_the_end(graded, assignment):
    course, scores, _ = graded
    grades = scores[assignment]["unsolved"]
    assert set(grades) == set(scores[assignment]["solved"])
    assert {name: got for name, (got, _) in grades.items() if got != 0} == {}
    nb = _autograded(course, "unsolved", assignment)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "a cell was not run"
    for cell in code:
        for out in cell.outputs:
            if out.output_type == "error":      # only the graded checks fail, each with the kit's verdict
                assert _meta(cell).get("grade") and out.ename == "AssertionError", (cell.source, out.evalue)
                assert "not answered yet" in out.evalue


@pytest.mark.slow
def test_a_wrong_answer_loses_its_points_only(graded):
    _, scores, _ = graded
    grades = scores[WRONG_IN]["one_wrong"]
    assert {name: got for name, (got, most) in grades.items() if got != most} == {WRONG.name: 0}


@pytest.mark.slow
def test_grading_runs_headless_in_test_mode(graded):
    course, _, _ = graded
    nb = _autograded(course, "unsolved", "04_deep_image_prior")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets == [], "a live view was shown while grading: DIP_TEACH_HEADLESS=1 did not reach the kernel"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "'test'" in text and "'lab'" not in text, "the notebook did not run in the kit's test mode"


@pytest.mark.slow
def test_student_copy_has_no_answers(graded):
    course, _, _ = graded
    release = nbformat.read(course / "release" / "01_inverse_problems" / "01_inverse_problems.ipynb", as_version=4)
    source = "\n".join(c.source for c in release.cells)
    for secret in ("avg_pool2d", "BEGIN SOLUTION", "HIDDEN TESTS", ".grade(", "Teacher note"):
        assert secret not in source
    assert "answer = None  # replace None with your answer" in source
