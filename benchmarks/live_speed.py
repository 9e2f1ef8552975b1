"""Live views against headless, in a real JupyterLab: training speed and Stop latency.

Starts JupyterLab on loopback (``lab`` mode), opens a notebook in Debian's Chromium
(Playwright) and runs it with Run > Run All Cells, as a student does. The notebook
runs, in one kernel, the same fit headless (``fit.run()`` in the cell) and live
(``live.watch(fit)`` with Chromium drawing the dashboard), ``--repeats`` times each, in
balanced order (headless-live, live-headless, ...) so that a machine that speeds up or
slows down during the run favours neither; then the same for the race (four fits).
The parameter panel trains on a click of its Run button, so after Run All the script
clicks Run and a button that runs the same fit headless, in turn.
Speeds are steady-state iterations per second from each fit's own clock (its first
``SKIP`` iterations left out). Then ``--repeats`` live fits are stopped with a click on
Stop while the next cell waits in the queue; the script measures, on the machine's one
clock, the time from the click to the fit's last iteration, to the next cell starting,
and to the counter in the browser freezing.

While a timed fit trains, the script only scrolls the live view into sight once and
then watches a results file: it does not query the page, which would cost the browser
(and so the fit) CPU time that a student's browser does not spend.

Prints a Markdown table. Run it alone, on a quiet machine (or under a shared lock):

    python benchmarks/live_speed.py                   # coffee 128x128, lab net
    python benchmarks/live_speed.py --iterations 400 --repeats 4
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lab_browser import chromium, count, jupyterlab, open_notebook, queued, run_all_from_menu, until  # noqa: E402

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

HEADLESS_FIT = """t0 = time.time(); h = make({n}); h.run(); record(kind="dashboard", how="headless", rate=rate(h), t0=t0, t1=time.time())"""
LIVE_FIT = """\
t0 = time.time(); d = live.watch(make({n}), name="speed")
record(kind="dashboard", how="live", rate=rate(d.fit), display=(d.image_throttle.seconds + d.curve_throttle.seconds) / d.fit.seconds,
       frames=d.image_throttle.frames, t0=t0, t1=time.time())"""
HEADLESS_RACE = """t0 = time.time(); r = live.race("coffee", iterations={m}, headless=True, name="race-h"); record(kind="race", how="headless", rate=rate(r.fits[0]), t0=t0, t1=time.time())"""
LIVE_RACE = """t0 = time.time(); r = live.race("coffee", iterations={m}, name="race-live"); record(kind="race", how="live", rate=rate(r.fits[0]), t0=t0, t1=time.time())"""
STOP_FIT = """\
# stop test {k}
last = []
s = make(100_000)
s.add_callback(lambda f: last.append(time.time()))
d = live.watch(s, name="stop")"""
AFTER_STOP = """record(kind="stop", k={k}, next_cell=time.time(), last_iteration=last[-1], status=s.status, iteration=s.iteration)"""
# The panel trains on a click (its Run button), not in a cell, so it is timed after Run All:
# the script clicks Run, and a "headless" button of this benchmark that runs the same fit
# without a view, in balanced order; both record their rate when the fit ends.
PANEL = """\
import ipywidgets
p = live.panel("coffee", sigma=25, iterations={n})
_run_once = p._run_once
def _timed_run_once():
    t0 = time.time(); d = _run_once()
    record(kind="panel", how="live", rate=rate(d.fit), t0=t0, t1=time.time())
    return d
p._run_once = _timed_run_once
def _headless(_):
    t0 = time.time(); f = p.make_fit(); f.run()
    record(kind="panel", how="headless", rate=rate(f), t0=t0, t1=time.time())
headless_button = ipywidgets.Button(description="same fit, headless")
headless_button.add_class("bench-headless")
headless_button.on_click(_headless)
display(headless_button)"""


def notebook(args):
    """The benchmark notebook, and what each of its cells is (``setup``, ``headless``, ``live``, ``stop``, ``after``)."""
    import nbformat

    cells = [("setup", SETUP.format(skip=SKIP))]
    views = [(args.repeats, HEADLESS_FIT.format(n=args.iterations), LIVE_FIT.format(n=args.iterations)),
             (args.race_repeats, HEADLESS_RACE.format(m=args.race_iterations),
              LIVE_RACE.format(m=args.race_iterations))]
    for repeats, headless, live in views:
        for r in range(repeats):
            pair = [("headless", headless), ("live", live)]
            cells += pair if r % 2 == 0 else pair[::-1]     # balanced order: drift favours neither
    for k in range(1, args.stops + 1):
        cells += [("stop", STOP_FIT.format(k=k)), ("after", AFTER_STOP.format(k=k))]
    if args.panel_repeats:
        cells.append(("panel", PANEL.format(n=args.iterations)))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(code) for _, code in cells]
    return nb, [kind for kind, _ in cells]


def progress(what: str) -> None:
    """One line on stderr per step, so a long run shows where it is (the table goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


class CpuSampler:
    """CPU seconds used so far by the kernel, the Jupyter server and the browser, sampled
    every ``interval`` seconds in a thread: how many cores each took during a fit says
    where a live view's cost goes, whatever the machine's speed did meanwhile."""

    def __init__(self, interval: float = 0.25):
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def group(proc) -> str:
        cmd = " ".join(proc.info["cmdline"] or [])
        if "ipykernel" in cmd:
            return "kernel"
        if "jupyter" in cmd and "lab" in cmd:
            return "server"
        if "chrom" in (proc.info["name"] or "") or "chrom" in cmd:
            return "browser"
        return "other"

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            now, used = time.time(), {}       # pid -> (group, CPU seconds so far)
            for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
                times = proc.info["cpu_times"]
                if times is not None:
                    used[proc.pid] = (self.group(proc), times.user + times.system)
            self.samples.append((now, used))
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def cores(self, t0: float, t1: float) -> dict[str, float]:
        """Cores used by each group between two times (the samples just inside them).

        Only processes alive at both samples count, so one that starts or ends meanwhile
        (a browser helper, the kernel at shutdown) cannot make a total jump.
        """
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {}
        (ta, a), (tb, b) = inside[0], inside[-1]
        cores = {"kernel": 0.0, "server": 0.0, "browser": 0.0}
        for pid, (group, seconds) in b.items():
            if pid in a and group in cores:
                cores[group] += (seconds - a[pid][1]) / (tb - ta)
        return cores


def drive(args) -> list[dict]:
    """Run the notebook in the browser, keeping each live view on screen as a student
    would; click Stop in each stop test. Returns the rows the kernel recorded."""
    nb, plan = notebook(args)
    stops = []
    with tempfile.TemporaryDirectory() as tmp, CpuSampler() as cpu, \
            jupyterlab(Path(tmp), {"speed.ipynb": nb}, mode="lab") as lab, chromium() as page:
        results = Path(lab["root"]) / "results.jsonl"

        def recorded() -> int:
            return sum(1 for _ in results.open()) if results.exists() else 0

        open_notebook(page, lab, "speed.ipynb")
        run_all_from_menu(page)
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        rows_due = 0         # rows results.jsonl holds once the cells so far have run
        for i, kind in enumerate(plan):
            cell = cells.nth(i)
            progress(f"cell {i} ({kind})")
            if kind == "live":
                until(lambda: cell.locator(".dip-iteration").count() > 0, 1800, f"live cell {i} to start")
                cell.locator(".dip-iteration").first.scroll_into_view_if_needed()
            elif kind == "stop":
                until(lambda: cell.locator(".dip-iteration").count() > 0, 1800, f"stop cell {i} to start")
                cell.locator(".dip-iteration").first.scroll_into_view_if_needed()
                until(lambda: count(cell) >= 30, 600, f"stop cell {i} to train", step=0.1)
                before = count(cell)
                clicked = time.time()
                cell.locator("button.dip-stop").click()
                # the browser's view: when did the counter stop changing?
                changed, value = clicked, before
                while time.time() < clicked + 3.0:
                    now = count(cell)
                    if now != value:
                        changed, value = time.time(), now
                    time.sleep(0.02)
                stops.append((clicked, changed - clicked))
            if kind in ("headless", "live", "after"):
                rows_due += 1    # timed cells: wait on the results file, not on the page
                until(lambda: recorded() >= rows_due, 1800, f"cell {i} to record its result", step=0.5)
        if args.panel_repeats:      # Run All is over: click the panel's Run and the headless button in turn
            panel = cells.nth(plan.index("panel"))
            until(lambda: panel.locator("button.dip-run").is_visible(), 60, "the panel")
            for r in range(args.panel_repeats):
                for how in ("headless", "live") if r % 2 == 0 else ("live", "headless"):
                    progress(f"panel, {how} fit {r + 1}")
                    panel.locator("button.bench-headless" if how == "headless" else "button.dip-run").click()
                    if how == "live":
                        until(lambda: panel.locator(".dip-iteration").count() > 0, 120, "the panel's fit to start")
                        panel.locator(".dip-iteration").first.scroll_into_view_if_needed()
                    rows_due += 1
                    until(lambda: recorded() >= rows_due, 1800, f"the panel's {how} fit", step=0.5)
        rows = [json.loads(line) for line in results.open()]
    for row in rows:
        if "t0" in row:    # the first second (widgets made, first frame) is left out, as SKIP does for rates
            row["cores"] = cpu.cores(row["t0"] + 1.0, row["t1"])
    for row in (r for r in rows if r["kind"] == "stop"):
        row["click"], row["frozen"] = stops[row["k"] - 1]
    return rows


def table(rows) -> str:
    def rates(kind, how):
        return [r["rate"] for r in rows if r["kind"] == kind and r["how"] == how]

    lines = ["| view | headless it/s | live it/s | live / headless (mean, median) |", "|---|---|---|---|"]
    for kind in [k for k in ("dashboard", "race", "panel") if rates(k, "live")]:
        h, lv = rates(kind, "headless"), rates(kind, "live")
        ratios = [b / a for a, b in zip(h, lv)]
        lines.append(f"| {kind} | {statistics.mean(h):.1f} ({', '.join(f'{v:.1f}' for v in h)}) "
                     f"| {statistics.mean(lv):.1f} ({', '.join(f'{v:.1f}' for v in lv)}) "
                     f"| {statistics.mean(ratios):.2f}, {statistics.median(ratios):.2f} "
                     f"({', '.join(f'{v:.2f}' for v in ratios)}) |")
    lines += ["", "Cores used while the fits train (mean over the runs; 2 cores in all):", "",
              "| view | run | kernel | Jupyter server | browser |", "|---|---|---|---|---|"]
    for kind in [k for k in ("dashboard", "race", "panel") if rates(k, "live")]:
        for how in ("headless", "live"):
            cores = [r["cores"] for r in rows if r["kind"] == kind and r["how"] == how and r.get("cores")]
            lines.append(f"| {kind} | {how} | " + " | ".join(
                f"{statistics.mean(c[k] for c in cores):.2f}" for k in ("kernel", "server", "browser")) + " |")
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
    parser.add_argument("--iterations", type=int, default=200, help="iterations of each dashboard fit")
    parser.add_argument("--race-iterations", type=int, default=100, help="iterations of each race fit")
    parser.add_argument("--repeats", type=int, default=8, help="headless/live pairs of dashboard fits")
    parser.add_argument("--race-repeats", type=int, default=8, help="headless/live pairs of races")
    parser.add_argument("--stops", type=int, default=3, help="Stop clicks timed under Run All")
    parser.add_argument("--panel-repeats", type=int, default=2, help="headless/live pairs of the panel's fit")
    args = parser.parse_args(argv)
    t0 = time.time()
    rows = drive(args)
    print(f"coffee, lab mode (dashboard 128x128, race 64x64, lab net), JupyterLab + Chromium on this machine; "
          f"{args.repeats} dashboard, {args.race_repeats} race and {args.panel_repeats} panel headless/live pairs in balanced order in one kernel ({time.time() - t0:.0f} s in all)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
