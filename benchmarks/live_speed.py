"""Live views against headless, in a real JupyterLab: training speed and Stop latency.

Starts JupyterLab on loopback (``lab`` mode), opens a notebook in Debian's Chromium
(Playwright) and runs it with Run > Run All Cells, as a student does. The notebook
alternates, in one kernel, the same fit run headless (``fit.run()`` in the cell) and
live (``live.watch(fit)`` with Chromium drawing the dashboard), ``--repeats`` times
each; then the same for the race (four fits). Speeds are steady-state iterations per
second from each fit's own clock (its first ``SKIP`` iterations left out). Then
``--repeats`` live fits are stopped with a click on Stop while the next cell waits in
the queue; the script measures, on the machine's one clock, the time from the click
to the fit's last iteration, to the next cell starting, and to the counter in the
browser freezing.

Prints a Markdown table. Run it alone, on a quiet machine (or under a shared lock):

    python benchmarks/live_speed.py                   # coffee 128x128, lab net
    python benchmarks/live_speed.py --iterations 200 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lab_browser import chromium, code_cell, count, jupyterlab, open_notebook, run_all_from_menu, until  # noqa: E402

SKIP = 10      # warm-up iterations left out of every rate

SETUP = """\
import json, time
from dip_teach import images, live, operators, settings
from dip_teach.fit import Fit, FitConfig
settings.configure_threads()
x = images.load("coffee", size=settings.image_size())
op = operators.Denoising(25)
y = op.corrupt(x, seed=0)
make = lambda n: Fit(op, y, clean=x, config=FitConfig(iterations=n, seed=0))

def rate(fit, skip={skip}):
    its, secs = fit.history["iteration"], fit.history["seconds"]
    return (its[-1] - its[skip]) / (secs[-1] - secs[skip])

def record(**row):
    with open("results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\\n")
print(settings.format_report())"""

HEADLESS_FIT = """h = make({n}); h.run(); record(kind="dashboard", how="headless", rate=rate(h))"""
LIVE_FIT = """\
d = live.watch(make({n}), name="speed")
record(kind="dashboard", how="live", rate=rate(d.fit), display=(d.frames.seconds + d.curves.seconds) / d.fit.seconds,
       frames=d.frames.frames)"""
HEADLESS_RACE = """r = live.race("coffee", iterations={m}, headless=True, name="race-h"); record(kind="race", how="headless", rate=rate(r.fits[0]))"""
LIVE_RACE = """r = live.race("coffee", iterations={m}, name="race-live"); record(kind="race", how="live", rate=rate(r.fits[0]))"""
STOP_FIT = """\
# stop test {k}
last = []
s = make(100_000)
s.add_callback(lambda f: last.append(time.time()))
d = live.watch(s, name="stop")"""
AFTER_STOP = """record(kind="stop", k={k}, next_cell=time.time(), last_iteration=last[-1], status=s.status, iteration=s.iteration)"""


def notebook(args):
    import nbformat

    cells = [SETUP.format(skip=SKIP)]
    for _ in range(args.repeats):
        cells += [HEADLESS_FIT.format(n=args.iterations), LIVE_FIT.format(n=args.iterations)]
    for _ in range(args.repeats):
        cells += [HEADLESS_RACE.format(m=args.race_iterations), LIVE_RACE.format(m=args.race_iterations)]
    for k in range(1, args.repeats + 1):
        cells += [STOP_FIT.format(k=k), AFTER_STOP.format(k=k)]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def drive(args) -> tuple[list[dict], list[float]]:
    """Run the notebook in the browser; click Stop in each stop test. Returns (rows, click times)."""
    clicks, frozen = [], []
    with tempfile.TemporaryDirectory() as tmp, \
            jupyterlab(Path(tmp), {"speed.ipynb": notebook(args)}, mode="lab") as lab, chromium() as page:
        open_notebook(page, lab, "speed.ipynb")
        run_all_from_menu(page)
        for k in range(1, args.repeats + 1):
            cell = code_cell(page, f"# stop test {k}")
            until(lambda: count(cell) >= 30, 1800, f"stop test {k} to train", step=0.1)
            button = cell.locator("button.dip-stop")
            button.scroll_into_view_if_needed()
            before = count(cell)
            clicked = time.time()
            button.click()
            # the browser's view: when did the counter stop changing?
            changed, value = clicked, before
            end = clicked + 3.0
            while time.time() < end:
                now = count(cell)
                if now != value:
                    changed, value = time.time(), now
                time.sleep(0.02)
            clicks.append(clicked)
            frozen.append(changed - clicked)
        results = Path(lab["root"]) / "results.jsonl"
        until(lambda: results.exists() and sum(1 for _ in results.open()) >= 4 * args.repeats + args.repeats,
              300, "the last results")
        rows = [json.loads(line) for line in results.open()]
    for row in (r for r in rows if r["kind"] == "stop"):
        row["click"] = clicks[row["k"] - 1]
        row["frozen"] = frozen[row["k"] - 1]
    return rows, clicks


def table(rows) -> str:
    def rates(kind, how):
        return [r["rate"] for r in rows if r["kind"] == kind and r["how"] == how]

    lines = ["| view | headless it/s | live it/s | live / headless |", "|---|---|---|---|"]
    for kind in ("dashboard", "race"):
        h, lv = rates(kind, "headless"), rates(kind, "live")
        ratios = [b / a for a, b in zip(h, lv)]
        lines.append(f"| {kind} | {statistics.mean(h):.1f} ({', '.join(f'{v:.1f}' for v in h)}) "
                     f"| {statistics.mean(lv):.1f} ({', '.join(f'{v:.1f}' for v in lv)}) "
                     f"| {statistics.mean(ratios):.2f} ({', '.join(f'{v:.2f}' for v in ratios)}) |")
    live_rows = [r for r in rows if r["kind"] == "dashboard" and r["how"] == "live"]
    display = [r["display"] for r in live_rows]
    lines.append("")
    lines.append(f"Dashboard drawing: {100 * statistics.mean(display):.1f}% of the fit's time "
                 f"(runs: {', '.join(f'{100 * v:.1f}%' for v in display)}); "
                 f"{statistics.mean(r['frames'] for r in live_rows):.0f} image frames per fit.")
    stops = [r for r in rows if r["kind"] == "stop"]
    lines += ["", "| Stop under Run All | " + " | ".join(f"run {r['k']}" for r in stops) + " | mean |",
              "|---|" + "---|" * (len(stops) + 1)]
    for name, values in (
            ("click -> last iteration ends (s)", [r["last_iteration"] - r["click"] for r in stops]),
            ("click -> counter frozen in the browser (s)", [r["frozen"] for r in stops]),
            ("click -> queued next cell starts (s)", [r["next_cell"] - r["click"] for r in stops])):
        lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + f" | {statistics.mean(values):.2f} |")
    lines.append(f"| fit status after Stop | " + " | ".join(r["status"] for r in stops) + " | |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=300, help="iterations of each dashboard fit")
    parser.add_argument("--race-iterations", type=int, default=100, help="iterations of each race fit")
    parser.add_argument("--repeats", type=int, default=3, help="headless/live pairs and stop tests")
    args = parser.parse_args(argv)
    t0 = time.time()
    rows, _ = drive(args)
    print(f"coffee {128}x{128}, lab mode, JupyterLab + Chromium on this machine; "
          f"{args.repeats} alternating headless/live pairs in one kernel ({time.time() - t0:.0f} s in all)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
