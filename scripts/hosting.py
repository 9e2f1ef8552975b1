"""Keep the Colab first cell in every notebook, and set the repository address in all links.

::

    python scripts/hosting.py                                          # add/refresh the Colab cells
    python scripts/hosting.py --repo https://github.com/YOU/dip-teach  # a fork: new address everywhere

The Colab cell is the first code cell of each ``notebooks/NN_*.ipynb``. Outside Colab it
does nothing; on Colab it clones the repository, installs the two packages Colab lacks and
works from the clone's ``notebooks/`` folder, leaving Colab's own torch alone. ``--repo``
also rewrites the address in the README's Colab badges, Binder and nbgitpuller links.
Only the Colab cells and those links change; every other cell and line stays as it is.
"""
from __future__ import annotations

import argparse
import re
import sys
import urllib.parse
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = "# Colab only"
#: where the README's Colab badges say the notebooks live: github.com/<owner/name>
BADGE = re.compile(r"colab\.research\.google\.com/github/([^/\s)]+/[^/\s)]+)/blob/")

CELL = """\
# Colab only (does nothing elsewhere): fetch the course, then work from its notebooks/ folder.
# Colab's own torch is kept; it lacks PyWavelets, and jupyter-ui-poll (live views' buttons on its kernel).
import os, sys
if "google.colab" in sys.modules:
    if not os.path.isdir("/content/dip-teach"):
        !git clone -q --depth 1 https://github.com/{repo} /content/dip-teach
        %pip install -q "PyWavelets>=1.5,<2" "jupyter-ui-poll>=1.1,<2"
    sys.path.insert(0, "/content/dip-teach")
    %cd /content/dip-teach/notebooks"""


def current_repo() -> str:
    """``owner/name`` as the README's Colab badges give it."""
    found = BADGE.search(README.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit("no Colab badge in README.md to read the repository address from")
    return found.group(1)


def colab_cell(repo: str):
    return nbformat.v4.new_code_cell(CELL.format(repo=repo))


def set_colab_cell(path: Path, repo: str) -> bool:
    """Make the notebook's first code cell the Colab cell; return whether the file changed."""
    nb = nbformat.read(path, as_version=4)
    new = CELL.format(repo=repo)
    codes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = codes[0] if codes else len(nb.cells)
    if codes and nb.cells[first].source.startswith(MARKER):
        if nb.cells[first].source == new:
            return False
        nb.cells[first].source = new
    else:
        nb.cells.insert(first, colab_cell(repo))
    nbformat.write(nb, path)
    return True


def set_readme_repo(old: str, new: str) -> bool:
    """Replace ``old`` (owner/name) by ``new`` in the README's links, plain and URL-encoded."""
    text = README.read_text(encoding="utf-8")
    quoted = (urllib.parse.quote(f"https://github.com/{old}", safe=""),
              urllib.parse.quote(f"https://github.com/{new}", safe=""))
    updated = text.replace(quoted[0], quoted[1])
    for prefix in ("colab.research.google.com/github/", "mybinder.org/v2/gh/", "github.com/"):
        updated = updated.replace(prefix + old, prefix + new)
    if updated != text:
        README.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", help="the repository's GitHub address, e.g. https://github.com/YOU/dip-teach")
    args = parser.parse_args(argv)
    repo = old = current_repo()
    if args.repo:
        match = re.fullmatch(r"(?:https?://)?(?:www\.)?github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", args.repo.strip())
        if not match:
            parser.error(f"--repo {args.repo!r} is not a GitHub repository address (https://github.com/OWNER/NAME)")
        repo = match.group(1)
        if set_readme_repo(old, repo):
            print(f"README.md: links now point at github.com/{repo}")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    changed = [p.name for p in notebooks if set_colab_cell(p, repo)]
    print(f"Colab cell up to date in {len(notebooks)} notebooks" + (f" (changed: {', '.join(changed)})" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
