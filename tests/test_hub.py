"""A class on a real JupyterHub, on loopback: ``make test-hub`` (it builds .venv-hub first).

JupyterHub 6.1 starts from ``deploy/jupyterhub_config.py`` (with the dummy login and one
folder per student, ``tests/local_hub.py``). Three students log in; each follows the
nbgitpuller link to the *student copy*, published as a git repository; the three run
notebook 00 at the same time, each in their own server and kernel (test mode), through
the server's REST and kernel websocket API. Then a student edits the notebook, the teacher
commits an update to it and a new notebook, and a second click on the same link merges
the update without overwriting the student's edit, as nbgitpuller promises.

Without JupyterHub, nbgitpuller or configurable-http-proxy the test is skipped with a
message, except under CI (``CI`` or ``DIP_TEACH_REQUIRE_HUB`` set), where it fails.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_hub  # noqa: E402

pytestmark = [pytest.mark.hub, pytest.mark.slow]

ROOT = local_hub.ROOT
STUDENTS = ("ada", "alan", "grace")
NOTEBOOK = "00_welcome.ipynb"
#: run after the notebook in each student's kernel: where and how it ran
WHERE = """\
import json, os, time, torch
from dip_teach import settings
print(json.dumps({"cwd": os.getcwd(), "user": os.environ.get("JUPYTERHUB_USER"), "mode": settings.get_mode().name,
                  "threads": torch.get_num_threads(), "end": time.time()}))"""
STARTED = "import time; print(time.time())"
NOTE = "My own note: sigma 25 is about 0.1 of the range."
UPDATE = "*(Updated by your teacher for week 2.)*"


@pytest.fixture(scope="module", autouse=True)
def _hub_can_run():
    why = local_hub.missing()
    if why:
        if os.environ.get("CI") or os.environ.get("DIP_TEACH_REQUIRE_HUB"):
            pytest.fail(why)
        pytest.skip(why)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


def student_copy(notebooks: list[str], out: Path) -> None:
    """The student copies of ``notebooks``, as ``make student`` writes them."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_student.py"),
                    *[str(ROOT / "notebooks" / n) for n in notebooks], "--out", str(out)],
                   check=True, capture_output=True, text=True)


def teacher_repository(path: Path) -> Path:
    """The teacher's student-copy repository (notebook 00 only, for now), committed on ``main``."""
    student_copy([NOTEBOOK], path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "week 1: the welcome notebook")
    return path


def teacher_update(repo: Path) -> None:
    """Week 2: a line added to notebook 00's title cell, and notebook 01 handed out."""
    path = repo / NOTEBOOK
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"].append("\n\n" + UPDATE)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    student_copy(["01_inverse_problems.ipynb"], repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "week 2: notebook 01, a note in 00")


def test_a_class_pulls_runs_and_keeps_its_work(tmp_path):
    repo = teacher_repository(tmp_path / "dip-teach-student")
    link = {"repo": repo.as_uri(), "branch": "main", "urlpath": f"lab/tree/{repo.name}/{NOTEBOOK}"}
    folder = f"{repo.name}/{NOTEBOOK}"
    (tmp_path / "hub").mkdir()
    with local_hub.Hub(tmp_path / "hub", env={"DIP_TEACH_MODE": "test"}) as hub:
        def fail(msg: str):
            pytest.fail(f"{msg}\n--- hub log (tail) ---\n{hub.log_tail()}")

        async def scenario():
            students = await asyncio.gather(*(hub.add_student(name) for name in STUDENTS))
            services = await hub.api("GET", "/services")         # name -> model
            if "jupyterhub-idle-culler-service" not in services:
                fail(f"the deploy config's idle culler is not a Hub service: {sorted(services)}")

            # 1. the nbgitpuller link: a clone of the student copy in each home
            pulls = await asyncio.gather(*(s.pull(**link) for s in students))
            for s, events in zip(students, pulls):
                if not events or events[-1].get("phase") != "finished":
                    fail(f"{s.name}'s first pull did not finish: {events[-3:]}")
                if not (s.home / folder).exists():
                    fail(f"{s.name}'s home has no {folder} after the pull: {sorted(p.name for p in s.home.iterdir())}")

            # 2. the same notebook at the same time, each in the student's own server and kernel
            runs = await asyncio.gather(*(s.run_notebook(folder, extra_cells=(WHERE,), first_cells=(STARTED,))
                                          for s in students))
            for s, run in zip(students, runs):
                if not run["ok"]:
                    fail(f"{s.name}'s run of {NOTEBOOK} stopped after {run['cells']} cells: {run['error']}")
                where = json.loads(run["outputs"][-1])
                assert where["user"] == s.name
                assert Path(where["cwd"]) == s.home / repo.name      # the student's own copy, in their home
                assert where["mode"] == "test"                        # the Hub's environment reached the kernel
                assert where["threads"] == 1                           # DIP_TEACH_THREADS from the deploy config
                assert any("best output" in text for text in run["outputs"]), "notebook 00's fit printed no result"
            starts = [float(run["outputs"][0]) for run in runs]
            ends = [json.loads(run["outputs"][-1])["end"] for run in runs]
            assert max(starts) < min(ends), f"the three runs did not overlap: started {starts}, ended {ends}"

            # 3. a student's edit, saved through her server as JupyterLab saves it
            ada, alan = students[0], students[1]
            model = await ada.api("GET", f"/contents/{folder}?content=1")
            model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "source": NOTE,
                                              "id": "ada-note"})
            await ada.api("PUT", f"/contents/{folder}", {"type": "notebook", "format": "json",
                                                         "content": model["content"]})
            for other in students[1:]:
                assert NOTE not in (other.home / folder).read_text(), f"ada's edit reached {other.name}'s copy"

            # 4. the teacher's update, then the same link again: merged, her edit kept
            teacher_update(repo)
            again = await asyncio.gather(ada.pull(**link), alan.pull(**link))
            for s, events in zip((ada, alan), again):
                if not events or events[-1].get("phase") != "finished":
                    fail(f"{s.name}'s second pull did not finish: {events[-3:]}")
                nb = (await s.api("GET", f"/contents/{folder}?content=1"))["content"]
                text = json.dumps(nb)
                assert UPDATE in text, f"the teacher's update did not reach {s.name}"
                assert (NOTE in text) == (s is ada), f"{s.name}'s copy after the merge: note present = {NOTE in text}"
                assert (s.home / repo.name / "01_inverse_problems.ipynb").exists()

        asyncio.run(scenario())
