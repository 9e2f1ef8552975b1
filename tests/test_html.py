"""`make html`: every notebook runs and becomes a page with its pictures, linked from a contents page."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_html", ROOT / "scripts" / "build_html.py")
build_html = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_html)

PICTURE = re.compile(r"<img[^>]+src=\"data:image/(png|jpeg|gif|svg\+xml)")
LOCAL_LINK = re.compile(r"href=\"(?![a-z]+:|#)([^\"#]+)")


def test_links_between_notebooks_become_links_between_pages():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "See [the priors](02_handcrafted_priors.ipynb), [its TV part](02_handcrafted_priors.ipynb#tv), "
        "<a href=\"03_learned_priors.ipynb\">03</a> and [the paper](https://example.org/dip.ipynb)."),
        nbformat.v4.new_code_cell("path = '01_inverse_problems.ipynb'")]
    build_html.link_pages(nb)
    md = nb.cells[0].source
    assert "](02_handcrafted_priors.html)" in md and "](02_handcrafted_priors.html#tv)" in md
    assert 'href="03_learned_priors.html"' in md
    assert "https://example.org/dip.ipynb" in md, "links to other sites stay as they are"
    assert nb.cells[1].source == "path = '01_inverse_problems.ipynb'", "code is never rewritten"


@pytest.mark.slow
@pytest.mark.notebook
def test_site_builds_in_test_mode_with_every_page_and_its_pictures(tmp_path):
    out = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_html.py"), "--mode", "test", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    notebooks = build_html.course_notebooks()
    assert notebooks, "no notebooks found"
    index = (out / "index.html").read_text(encoding="utf-8")
    for nb in notebooks:
        page = out / f"{nb.stem}.html"
        assert page.is_file(), f"no page for {nb.name}"
        html = page.read_text(encoding="utf-8")
        assert PICTURE.search(html), f"{page.name} shows no picture"
        assert f'href="{page.name}"' in index, f"the contents page does not link to {page.name}"
    for page in out.glob("*.html"):
        for target in LOCAL_LINK.findall(page.read_text(encoding="utf-8")):
            if target.endswith(".html"):
                assert (out / target).is_file(), f"{page.name} links to {target}, which does not exist"
