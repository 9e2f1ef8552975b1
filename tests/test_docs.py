"""The docs stay true: every file they name exists, and nothing points outside the repository."""
import re
import subprocess
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "teaching.md"


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    suffixes = {".py", ".md", ".ipynb", ".txt", ".toml", ".cfg", ".json", ""}
    return [ROOT / n for n in names.splitlines() if Path(n).suffix in suffixes and (ROOT / n).is_file()]


def test_no_reference_to_a_design_file_outside_the_repository():
    needle = "DESIGN" + ".md"          # spelled in two parts so this file does not match itself
    offenders = [str(p.relative_to(ROOT)) for p in _tracked_text_files()
                 if needle in p.read_text(encoding="utf-8", errors="replace")]
    assert not offenders, f"these files refer to a {needle} that is not in the repository: {offenders}"


def test_the_teaching_guide_is_linked_and_names_only_notebooks_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    assert "docs/teaching.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"notebooks/(\d\d_[A-Za-z0-9_]+\.ipynb)", text))
    existing = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    # an entry may be written before its notebook lands, but only as a marked placeholder
    for name in sorted(named - existing):
        entry = text.split(f"notebooks/{name}", 1)[1].split("\n### ", 1)[0]
        assert "To be completed" in entry, f"docs/teaching.md describes {name}, which does not exist"
    assert {"00", "01", "02", "03"} <= {n[:2] for n in named & existing}


def test_every_notebook_has_an_entry_in_the_teaching_guide():
    text = GUIDE.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{path.name}" in text, f"docs/teaching.md has no entry for {path.name}"


def test_every_notebook_is_valid_nbformat_with_cell_ids_and_no_outputs():
    """JupyterLab and nbval read the notebooks as nbformat 4.5: every cell has its own id (a 4.4 file
    gets fresh random ids on each save, so diffs churn), and no outputs are committed."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        version = (nb.nbformat, nb.nbformat_minor)
        assert version >= (4, 5), f"{path.name} is nbformat {version}; cell ids need 4.5"
        ids = [c.get("id") for c in nb.cells]
        assert None not in ids and len(set(ids)) == len(ids), f"{path.name}: missing or repeated cell ids"
        stale = [c.id for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not stale, f"{path.name}: cells {stale} hold outputs; clear them before committing"
