"""Headless runs never hang: every notebook executed many times in a row, as a grader would.

::

    python benchmarks/headless_stress.py                         # every notebook and student copy, 3 times
    python benchmarks/headless_stress.py --repeats 8 --student notebooks/02_handcrafted_priors.ipynb

Each run is a fresh kernel driven by nbclient (what nbconvert, nbval and the HTML build
use) in the ``test`` mode. A cell that gives no answer within ``--hang-after`` seconds
counts as a hang: the kernel is shut down and the next run starts. Prints one Markdown row
per notebook (runs, hangs, errors, fastest and slowest run) and exits non-zero on any hang.
Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_student", ROOT / "scripts" / "make_student.py")
make_student = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_student)


def run_once(nb, hang_after: float) -> tuple[str, float]:
    """Execute ``nb`` in a fresh kernel; return ("ok" | "hang" | "error: ...", seconds)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        client = NotebookClient(nb, timeout=hang_after, kernel_name="python3",
                                resources={"metadata": {"path": tmp}})
        try:
            client.execute()
            outcome = "ok"
        except (CellTimeoutError, TimeoutError):
            outcome = "hang"
        except (CellExecutionError, DeadKernelError) as err:
            outcome = f"error: {str(err).strip().splitlines()[-1][:80]}"
    return outcome, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each notebook")
    parser.add_argument("--hang-after", type=float, default=300, help="seconds a cell may take before it counts as a hang")
    parser.add_argument("--student", action="store_true", help="run the student copies only")
    parser.add_argument("--both", action="store_true", help="run the notebooks and their student copies")
    args = parser.parse_args()
    os.environ["DIP_TEACH_MODE"] = "test"
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print("| notebook | copy | runs | hangs | errors | fastest (s) | slowest (s) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    hangs = 0
    for path in paths:
        master = nbformat.read(path, as_version=4)
        copies = [("student", make_student.make_student(master)[0])] if args.student else [("master", master)]
        if args.both:
            copies.append(("student", make_student.make_student(master)[0]))
        for label, nb in copies:
            results = [run_once(nbformat.from_dict(nb), args.hang_after) for _ in range(args.repeats)]
            times = [t for _, t in results]
            n_hang = sum(o == "hang" for o, _ in results)
            errors = [o for o, _ in results if o.startswith("error")]
            hangs += n_hang
            print(f"| {path.stem} | {label} | {len(results)} | {n_hang} | {len(errors)} | {min(times):.1f} | "
                  f"{max(times):.1f} |", flush=True)
            for e in sorted(set(errors)):
                print(f"|  | {e} | | | | | |")
    return 1 if hangs else 0


if __name__ == "__main__":
    sys.exit(main())
