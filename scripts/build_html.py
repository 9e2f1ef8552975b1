"""Run every course notebook and render the results as a static web site (``make html``).

::

    python scripts/build_html.py --mode lab --out build/html      # what `make html` runs
    python scripts/build_html.py --mode test --out /tmp/site       # quick: `make html MODE=test`

Each notebook in ``notebooks/`` is executed top to bottom in a fresh kernel (in the
given run mode, with the live widgets in their headless form, so every fit ends with
a static figure), then converted by nbconvert's HTML exporter with its pictures
embedded. Links between notebooks (``02_handcrafted_priors.ipynb``) become links
between pages, every page gets "contents / previous / next" links, and ``index.html``
(the contents page) is a generated notebook converted by the same exporter. The
source notebooks are never modified. Math is typeset by MathJax, which the page loads
from a CDN when it is viewed (everything else works offline).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: a relative link to a notebook, in Markdown ``](x.ipynb#part)`` or HTML ``href="x.ipynb"``
NOTEBOOK_LINK = re.compile(r"(\]\(|href=[\"'])(?![a-z]+://)([^)\"'#\s]*?)\.ipynb(?=[#)\"'])")


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered lessons, in order (``NN_topic.ipynb``)."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def title_of(nb) -> str:
    """The first Markdown heading of a notebook (its title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "untitled"


def page_name(path: Path) -> str:
    return path.stem + ".html"


def link_pages(nb) -> None:
    """Point links to other notebooks at their pages (``x.ipynb`` -> ``x.html``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(lambda m: f"{m.group(1)}{m.group(2)}.html", cell.source)


def navigation(pages: list[Path], i: int) -> str:
    """Markdown for "contents / previous / next" around page ``i``."""
    parts = ["[Contents](index.html)"]
    if i > 0:
        parts.append(f"[&larr; {pages[i - 1].stem}]({page_name(pages[i - 1])})")
    if i + 1 < len(pages):
        parts.append(f"[{pages[i + 1].stem} &rarr;]({page_name(pages[i + 1])})")
    return " &middot; ".join(parts)


def execute(path: Path, timeout: int) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook in a fresh kernel in its own folder; return it with outputs, and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - start


def exporter() -> HTMLExporter:
    # pictures inside the page (no image files to copy), no In[]/Out[] prompts on a course page
    return HTMLExporter(template_name="lab", embed_images=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


def index_notebook(entries: list[tuple[Path, str, float]], mode: str) -> nbformat.NotebookNode:
    """The contents page, as a notebook of Markdown cells."""
    import torch

    rows = "\n".join(f"| {p.stem[:2]} | [{title}]({page_name(p)}) | {seconds / 60:.1f} min |"
                     for p, title, seconds in entries)
    cpu = platform.processor() or platform.machine()
    intro = ("A hands-on course on the Deep Image Prior (Ulyanov, Vedaldi & Lempitsky, CVPR 2018): from "
             "handcrafted image priors through a prior learned from data to a randomly initialised network "
             "whose structure alone is the prior. Each page is a notebook of the course, run top to bottom; "
             "open the notebooks themselves in Jupyter to run them and do the exercises.")
    made = (f"Built {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in the `{mode}` run mode "
            f"on {os.cpu_count()} CPU cores ({cpu}), Python {platform.python_version()}, torch {torch.__version__}. "
            "The times are what each notebook took to run in that build.")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# dip-teach: the Deep Image Prior, hands on\n\n{intro}"),
                nbformat.v4.new_markdown_cell(f"## Contents\n\n| # | notebook | run time |\n|---|---|---|\n{rows}"),
                nbformat.v4.new_markdown_cell(made)]
    return nb


def build(out: Path, mode: str, notebooks: list[Path], timeout: int = 3600) -> list[Path]:
    """Execute and render ``notebooks`` into ``out``; return the pages written (index first)."""
    from tqdm.auto import tqdm

    os.environ["DIP_TEACH_MODE"] = mode         # the kernels inherit the environment
    os.environ["DIP_TEACH_HEADLESS"] = "1"      # a page is static: every live view ends with its figure
    out.mkdir(parents=True, exist_ok=True)
    html = exporter()
    entries, written = [], []
    for i, path in enumerate(bar := tqdm(notebooks, unit="notebook", desc=f"html ({mode})")):
        bar.set_postfix_str(path.stem)
        try:
            nb, seconds = execute(path, timeout)
        except CellExecutionError as err:
            raise SystemExit(f"{path.name} failed while running; fix it (or run it in Jupyter to see):\n{err}")
        title = title_of(nb)
        link_pages(nb)
        nav = navigation(notebooks, i)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(nav))
        nb.cells.append(nbformat.v4.new_markdown_cell(nav))
        body, _ = html.from_notebook_node(nb, resources={"metadata": {"name": title, "path": str(path.parent)}})
        (out / page_name(path)).write_text(body, encoding="utf-8")
        written.append(out / page_name(path))
        entries.append((path, title, seconds))
    body, _ = html.from_notebook_node(index_notebook(entries, mode), resources={"metadata": {"name": "dip-teach"}})
    (out / "index.html").write_text(body, encoding="utf-8")
    return [out / "index.html", *written]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("test", "lab", "full"), default="lab", help="run mode (default lab)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "html", help="folder for the site")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds one cell may run (default 3600)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or course_notebooks()
    if not notebooks:
        parser.error(f"no notebooks found in {NOTEBOOKS}")
    pages = build(args.out, args.mode, notebooks, args.timeout)
    print(f"{len(pages) - 1} notebook pages and the contents page in {args.out}; open {pages[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
