"""Installation: what a Binder/Hub image or a student does, checked in a fresh venv.

``pip install -r requirements.txt`` alone (run from the repository root, as repo2docker
does) must give an environment where ``import dip_teach`` works from ``notebooks/``
and finds the course images; CI pins it with ``.ci/constraints.txt``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _names(lines) -> set[str]:
    """Normalised project names of requirement lines (options and comments skipped)."""
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_constraints_pin_every_requirement_exactly():
    reqs = _names((ROOT / "requirements.txt").read_text().splitlines())
    pins = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraint {line!r} is not an exact pin (name==version)"
            pins[name.lower().replace("_", "-")] = version
    missing = sorted(reqs - set(pins))
    assert not missing, f"requirements without an exact pin in .ci/constraints.txt: {missing} (run make constraints)"
    assert pins["torch"] == "2.13.0"
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines(), "requirements.txt must install the kit"


def _project_files() -> list[str]:
    """The files a clone holds (tracked, plus new ones not ignored when run in a work tree)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        return [f for f in out.splitlines() if (ROOT / f).is_file()]
    skip = {".venv", "build", "student", "runs", "__pycache__", ".pytest_cache"}
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]


@pytest.mark.slow
@pytest.mark.network          # pip installs requirements.txt from the package index
def test_requirements_alone_make_the_kit_importable(tmp_path):
    clone = tmp_path / "dip-teach"
    for rel in _project_files():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, clone / rel)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    # a clean environment: nothing may leak in from the venv that runs the tests
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              "-r", "requirements.txt", "-c", ".ci/constraints.txt"],
                             cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, f"pip install -r requirements.txt failed:\n{install.stderr[-3000:]}"

    probe = ("import dip_teach, torch, tqdm, voila\n"
             "from dip_teach import images\n"
             "x = images.load('coffee', size=32)\n"
             "print(dip_teach.__file__); print(torch.__version__); print(x.shape)")
    run = subprocess.run([str(python), "-c", probe], cwd=clone / "notebooks", env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"import from notebooks/ failed:\n{run.stderr[-3000:]}"
    where, torch_version, shape = run.stdout.split("\n")[:3]
    assert Path(where).resolve().is_relative_to(clone.resolve()), f"dip_teach came from {where}, not the clone"
    assert torch_version.startswith("2.13.0")
    assert shape == "(32, 32, 3)"
