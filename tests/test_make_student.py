"""Student copies: solution cells become runnable stubs, everything else stays."""
import ast
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)

WHOLE = "import math\nanswer = 10 * math.log10(1 / (25 / 255) ** 2)\nq.check(answer)"
REGION = ("def tv(x, eps=1e-3):\n    \"\"\"Total variation.\"\"\"\n    ### BEGIN SOLUTION\n"
          "    return secret(x)\n    ### END SOLUTION\n\nq.check(tv)")


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="hi")]),
        nbformat.v4.new_code_cell(WHOLE, metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell(REGION, metadata={"tags": ["solution"]}),
    ]
    return nb


def test_whole_cell_becomes_a_stub_that_keeps_the_check():
    src = make_student.stub_source(WHOLE)
    assert "math.log10" not in src and make_student.STUB in src
    assert src.splitlines()[-1] == "q.check(answer)"
    assert "answer = None" in src
    ast.parse(src)


def test_marked_region_keeps_the_signature():
    src = make_student.stub_source(REGION)
    assert "secret" not in src and "def tv(x, eps=1e-3):" in src and "q.check(tv)" in src
    ns = {}
    exec(compile(src.replace("q.check(tv)", ""), "<stub>", "exec"), ns)   # the stub still runs
    assert ns["tv"](0) is None


def test_stub_runs_and_the_checker_explains(capsys):
    from dip_teach.exercises import nb01

    src = make_student.stub_source("answer = 1 / 16\nnb01.known_fraction.check(answer)")
    exec(src, {"nb01": nb01})
    assert "None" in capsys.readouterr().out


def test_notebook_copy(tmp_path):
    src = tmp_path / "nb"
    src.mkdir()
    nbformat.write(_notebook(), src / "01_x.ipynb")
    assert make_student.main([str(src), "--out", str(tmp_path / "student")]) == 0
    nb = nbformat.read(tmp_path / "student" / "01_x.ipynb", as_version=4)
    assert nb.cells[0].source == "# Title" and nb.cells[1].source == "x = 1"
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert make_student.STUB in nb.cells[2].source and make_student.STUB in nb.cells[3].source
    assert "solution" in nb.cells[2].metadata["tags"]
    nbformat.validate(nb)


def test_refuses_to_overwrite_the_originals(tmp_path):
    nbformat.write(_notebook(), tmp_path / "01_x.ipynb")
    assert make_student.main([str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "log10" in (tmp_path / "01_x.ipynb").read_text()


def test_unbalanced_markers_are_reported():
    with pytest.raises(ValueError, match="without"):
        make_student.stub_source("### BEGIN SOLUTION\nx = 1")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_course_notebooks_stub_cleanly(path):
    nb, stubs = make_student.make_student(nbformat.read(path, as_version=4))
    for cell in nb.cells:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            assert make_student.STUB in cell.source
            if not cell.source.lstrip().startswith(("%", "!")):
                ast.parse(cell.source)
