"""How much does drawing a dashboard slow its fit down? And how fast does Stop stop it?

Runs the same DIP fit in this thread (as a notebook cell does) two ways, interleaved
and repeated to spread the noise of a shared machine:

* ``none``  no dashboard (``fit.run()``);
* ``live``  a live dashboard (``live.watch(fit)``), drawing between iterations;

and prints a Markdown table: wall time, overhead against ``none``, frames drawn and
the frame rate held. Then it measures the latency from ``stop()`` (what the Stop
button calls, from another thread as the kernel's subshell does) to the fit halting
and to the final frame reaching the widgets.

The widgets are real ``ipywidgets`` objects without a front end: their PNG bytes are
made but not sent over a socket (sending a few kB per frame is cheap next to
encoding them). ``benchmarks/live_speed.py`` measures the same in JupyterLab.

    python benchmarks/live_overhead.py                      # lab mode defaults
    DIP_TEACH_MODE=test python benchmarks/live_overhead.py --iterations 100
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

from dip_teach import images, live, operators, settings
from dip_teach.fit import Fit, FitConfig


def make_fit(args) -> Fit:
    x = images.load(args.image, size=args.size)
    op = operators.Denoising(25)
    return Fit(op, op.corrupt(x, seed=0), clean=x,
               config=FitConfig(net=args.net, iterations=args.iterations, seed=0))


def timed(args, how: str) -> dict:
    fit = make_fit(args)
    t0, cpu0 = time.perf_counter(), time.process_time()
    if how == "none":
        fit.run()
        dash = None
        setup = 0.0
    else:
        dash = live.watch(fit, headless=False, spectral=args.spectral, name=f"bench-{how}", start=False)
        setup = time.perf_counter() - t0          # building the widgets and figures
        dash.start()
    wall = time.perf_counter() - t0
    train = fit.history["seconds"][-1]            # the fit's own clock: training only
    cpu = time.process_time() - cpu0
    row = {"how": how, "wall": wall, "train": train, "setup": setup, "it/s": fit.iteration / train}
    if dash is not None:
        row.update(frames=dash.image_throttle.frames, frame_s=dash.image_throttle.seconds, curves=dash.curve_throttle.frames,
                   curve_s=dash.curve_throttle.seconds, fps=dash.image_throttle.frames / wall,
                   cpu_share=dash.render_cpu / cpu)   # drawing's share of all CPU time the process used
        dash.close()
    return row


def stop_latency(args, after: float = 2.0) -> dict:
    fit = make_fit(args)
    fit.config.iterations = 10 ** 6           # runs until stopped
    dash = live.watch(fit, headless=False, name="bench-stop", start=False)
    times = {}

    def click():                               # in a second thread, like the kernel's subshell
        time.sleep(after)
        times["t0"] = time.perf_counter()
        dash.stop()                            # what the Stop button's click handler calls
        while fit.status not in ("stopped", "finished", "failed"):
            time.sleep(0.001)
        times["halted"] = time.perf_counter()

    clicker = threading.Thread(target=click)
    clicker.start()
    dash.start()                               # trains here until stopped, then draws the final frame
    shown = time.perf_counter() - times["t0"]
    clicker.join()
    halted = times["halted"] - times["t0"]
    step = fit.history["seconds"][-1] / max(1, fit.iteration)
    dash.close()
    return {"halted": halted, "shown": shown, "step": step}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", default="coffee")
    p.add_argument("--size", type=int, default=settings.image_size())
    p.add_argument("--net", default=settings.get_mode().net)
    p.add_argument("--iterations", type=int, default=settings.iterations(600))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--spectral", action="store_true", help="add the spectral heat map to the dashboard")
    args = p.parse_args()
    settings.configure_threads()

    timed(args, "none")                                       # warm-up: imports, first allocations
    rows = {h: [] for h in ("none", "live")}
    for _ in range(args.repeats):
        for how in rows:
            rows[how].append(timed(args, how))

    base = statistics.median(r["wall"] for r in rows["none"])
    base_train = statistics.median(r["train"] for r in rows["none"])
    print(f"\n### Dashboard overhead ({args.net} net, {args.size}x{args.size}, {args.iterations} iterations, "
          f"{torch_threads()} threads, median of {args.repeats}, mode {settings.get_mode().name})\n")
    print("| drawing | wall (s) | wall overhead | training (s) | training overhead | setup (s) | it/s "
          "| image frames/s | curve frames | drawing time | drawing CPU share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for how, rs in rows.items():
        med = lambda key: statistics.median(r[key] for r in rs)
        wall, train = med("wall"), med("train")
        if how == "none":
            print(f"| none | {wall:.2f} | - | {train:.2f} | - | - | {med('it/s'):.1f} | - | - | - | - |")
            continue
        draw = statistics.median((r["frame_s"] + r["curve_s"]) / r["wall"] for r in rs)
        print(f"| {how} | {wall:.2f} | {100 * (wall / base - 1):+.1f}% | {train:.2f} | "
              f"{100 * (train / base_train - 1):+.1f}% | {med('setup'):.2f} | {med('it/s'):.1f} | "
              f"{med('fps'):.1f} | {med('curves'):.0f} | {100 * draw:.1f}% of wall | "
              f"{100 * med('cpu_share'):.1f}% |")
    print("\nWall-clock overheads on a shared machine are noisy; the drawing CPU share (CPU time of")
    print("the drawing code / all CPU time of the process) is the steadier estimate of the slowdown.")
    print("Each run's training overhead (%):",
          {h: [round(100 * (r["train"] / base_train - 1), 1) for r in rs] for h, rs in rows.items()})

    lat = [stop_latency(args) for _ in range(args.repeats)]
    print("\n### Stop latency\n")
    print("| | median (ms) | max (ms) |")
    print("|---|---|---|")
    for key, name in (("halted", "stop() -> fit halted"), ("shown", "stop() -> final counter in the widget"),
                      ("step", "one training step (for scale)")):
        vals = [1000 * r[key] for r in lat]
        print(f"| {name} | {statistics.median(vals):.0f} | {max(vals):.0f} |")


def torch_threads() -> int:
    import torch
    return torch.get_num_threads()


if __name__ == "__main__":
    main()
