"""The docs stay true: every file they name exists, and nothing points outside the repository."""
import re
import subprocess
from pathlib import Path

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
