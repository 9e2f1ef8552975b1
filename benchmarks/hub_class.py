"""A class on a real JupyterHub: N students running the same DIP fit at once, each in their own server.

::

    make test-hub                                    # once: builds .venv-hub (JupyterHub, nbgitpuller, the proxy)
    .venv-hub/bin/python benchmarks/hub_class.py     # 1, 2, 4 and 8 students; 1 thread per kernel, then all cores
    .venv-hub/bin/python benchmarks/hub_class.py --students 1 4 --threads 1 --steps 300

The Hub is ``tests/local_hub.py``'s: JupyterHub 6.1 started from ``deploy/jupyterhub_config.py``
on loopback, one local server per student. For each class size N, N students open the same
notebook at the same moment through their own server's REST and kernel websocket API, as
JupyterLab would: the course's DIP fit in ``lab`` mode (the kit's lab network on a 128-pixel
crop, denoising, sigma 25) for a fixed number of steps. Each kernel reports its fit's steps
per second, its peak memory and its server's (``VmHWM``, Linux); the wall time per student
runs from opening the notebook (a new kernel) to the end of its last cell.

Threads per kernel: ``1`` is what ``deploy/`` sets (``DIP_TEACH_THREADS=1``); ``all`` leaves it
unset, so each kernel takes every core it may use: on this machine, without a CPU quota,
all of them, as a Zero to JupyterHub pod with ``cpu.limit`` equal to the node's free cores
would. Run it on an otherwise idle machine; it prints a Markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import local_hub  # noqa: E402

NOTEBOOK = "dip_fit.ipynb"
SETUP = """\
import json, os, resource, time
from dip_teach import images, operators, settings
from dip_teach.fit import Fit, FitConfig
settings.set_mode("lab")
threads = settings.configure_threads()
clean = images.load("coffee", size=settings.image_size())
op = operators.Denoising(sigma=25)
noisy = op.corrupt(clean, seed=0)"""
FIT = """\
fit = Fit(op, noisy, clean=clean, config=FitConfig(iterations={steps}, seed=0))
start = time.perf_counter()
result = fit.run()
fit_s = time.perf_counter() - start
print(f"best PSNR {{result.psnr_best:.2f}} dB after {{result.iterations}} steps in {{fit_s:.1f}} s")"""
REPORT = """\
def _peak_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return None
print(json.dumps({"threads": threads, "steps": result.iterations, "fit_s": fit_s,
                  "kernel_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "server_mib": _peak_mib(os.getppid())}))"""


def notebook(steps: int) -> dict:
    """The notebook every student runs (nbformat 4 JSON)."""
    cells = [SETUP, FIT.format(steps=steps), REPORT]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3",
                                                                             "display_name": "Python 3",
                                                                             "language": "python"}},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": src, "outputs": [],
                       "execution_count": None} for i, src in enumerate(cells)]}


async def one_student(student: local_hub.Student) -> dict:
    start = time.perf_counter()
    run = await student.run_notebook(NOTEBOOK)
    wall = time.perf_counter() - start
    if not run["ok"]:
        raise RuntimeError(f"{student.name}: {run['error']}")
    return {"user": student.name, "wall_s": wall, **json.loads(run["outputs"][-1])}


async def class_sizes(hub: local_hub.Hub, sizes: list[int], steps: int, budget: float, report) -> list[dict]:
    """Run each class size in turn; stop before a size whose run would take over ``budget`` seconds,
    judged from the last one (a class twice as large takes at least twice as long on the same cores)."""
    students: list[local_hub.Student] = []
    rows = []
    for n in sizes:
        if rows:
            last = rows[-1]
            projected = max(r["wall_s"] for r in last["results"]) * n / last["students"]
            if projected > budget:
                rows.append({"students": n, "skipped": f"not run: {last['students']} students took "
                             f"{max(r['wall_s'] for r in last['results']):.0f} s each, {n} would take "
                             f"{projected:.0f} s or more (--budget {budget:.0f})"})
                report(rows[-1])
                break
        new = await asyncio.gather(*(hub.add_student(f"student{i}") for i in range(len(students), n)))
        for s in new:
            await s.api("PUT", f"/contents/{NOTEBOOK}", {"type": "notebook", "format": "json",
                                                        "content": notebook(steps)})
        students += new
        results = await asyncio.gather(*(one_student(s) for s in students[:n]))
        rows.append({"students": n, "results": results})
        report(rows[-1])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 2, 4, 8], help="class sizes, in order")
    parser.add_argument("--threads", nargs="+", default=["1", "all"],
                        help="torch threads per kernel: a number, or 'all' (every core the kernel may use)")
    parser.add_argument("--steps", type=int, default=100, help="Adam steps of each student's fit")
    parser.add_argument("--budget", type=float, default=300,
                        help="skip a larger class when it would take longer than this many seconds")
    args = parser.parse_args(argv)
    why = local_hub.missing()
    if why:
        parser.error(why)

    import torch

    print(f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), torch {torch.__version__}, "
          f"Python {platform.python_version()}; each student: the lab-mode DIP fit (128 px, lab net), "
          f"{args.steps} steps, in a fresh kernel of their own server on one JupyterHub\n")
    print("| students at once | threads per kernel | wall time per student (s) | fit steps/s per student "
          "| steps/s, whole class | peak memory per student: kernel + server (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|", flush=True)
    for threads in args.threads:
        env = {"DIP_TEACH_THREADS": "" if threads == "all" else threads}
        print(f"threads per kernel: {threads}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="hub_class_") as tmp, local_hub.Hub(Path(tmp), env=env) as hub:
            asyncio.run(class_sizes(hub, sorted(args.students), args.steps, args.budget,
                                    report=lambda row: print(table_row(threads, row), flush=True)))
    return 0


def table_row(threads: str, row: dict) -> str:
    """One line of the Markdown table."""
    if "skipped" in row:
        return f"| {row['students']} | {threads} | {row['skipped']} | | | |"
    r = row["results"]
    walls = [x["wall_s"] for x in r]
    speeds = [x["steps"] / x["fit_s"] for x in r]
    mem = [x["kernel_mib"] + (x["server_mib"] or 0) for x in r]

    def spread(values, fmt):
        return f"{fmt(min(values))}-{fmt(max(values))}" if len(values) > 1 else fmt(values[0])

    return (f"| {row['students']} | {r[0]['threads']} | {spread(walls, lambda v: f'{v:.0f}')} | "
            f"{statistics.mean(speeds):.1f} ({spread(speeds, lambda v: f'{v:.1f}')}) | {sum(speeds):.1f} | "
            f"{spread(mem, lambda v: f'{v:.0f}')} |")


if __name__ == "__main__":
    sys.exit(main())
