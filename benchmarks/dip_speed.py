"""How fast is DIP on this machine, and how much quality does the CPU default give up?

Runs, on the same machine in one go, DIP denoising (sigma 25) of three course images
with the ``paper`` preset and the CPU default ``lab`` preset, and prints Markdown tables:

* the machine's conv ceiling: a 3x3 convolution, 128 -> 128 channels, forward and
  backward, in GFLOP/s (what a DIP step could reach at best);
* per preset and image: seconds per step, achieved GFLOP/s (and % of the ceiling),
  best PSNR of the raw and of the averaged output, and the iteration and wall time
  at which the averaged output is best;
* the issue's targets: ``lab`` within 0.3 dB of ``paper``'s best averaged PSNR, in at
  most a fifth of the time ``paper`` needs to reach its own best.

Usage::

    python benchmarks/dip_speed.py                    # 128x128 crops
    python benchmarks/dip_speed.py --size 256         # the larger table
    python benchmarks/dip_speed.py --steps-only       # only seconds per step of some variants
    python benchmarks/dip_speed.py --presets lab      # one preset only (paper takes ~15 min)

Each fit runs until its averaged PSNR has not improved for ``--patience`` iterations
(or its budget ends): ``paper`` on coffee and astronaut is still improving after
1000 iterations at 128x128, so a fixed short budget would understate its time to best.

Timings are wall-clock: on a machine shared with other work they are noisy (the
script prints the load average before and after).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dip_teach import images, nets, operators, settings  # noqa: E402
from dip_teach.fit import Fit, FitConfig, dip_loop  # noqa: E402
from dip_teach.metrics import psnr  # noqa: E402
from dip_teach.progress import log_line, new_bar  # noqa: E402


def conv_ceiling(size: int, channels: int = 128, repeats: int = 5) -> float:
    """GFLOP/s of a 3x3 conv (forward + both backward passes), channels-last, best of ``repeats``."""
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(memory_format=torch.channels_last)
    x = torch.randn(1, channels, size, size).contiguous(memory_format=torch.channels_last).requires_grad_()
    flops = 3 * 2 * channels * channels * 9 * size * size     # forward + grad input + grad weight
    times = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        conv(x).sum().backward()
        if i:
            times.append(time.perf_counter() - t)
    return flops / min(times) / 1e9


def step_seconds(config: nets.NetConfig, size: int, steps: int = 8, channels_last: bool = True) -> float:
    """Median seconds of one training step (forward, loss, backward, Adam) of a bare net."""
    x = images.load("coffee", size=size)
    fit = Fit(operators.Denoising(25), operators.Denoising(25).corrupt(x, seed=0),
              config=FitConfig(net=config, iterations=steps + 2, stopping=None, channels_last=channels_last))
    c = fit.config
    loop = dip_loop(fit.net, fit.z, fit.operator, fit.observation, fit.optimizer, reg_noise_std=c.reg_noise_std,
                    ema=c.ema)
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        next(loop)
        if i >= 2:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def stop_after_peak(patience: int):
    """A fit callback that stops once the averaged PSNR has not improved for ``patience`` iterations.

    The averaged (EMA) curve is smooth, so its peak is past once it has fallen for a
    while; stopping there saves most of the budget without changing the measurement.
    """
    def callback(fit: Fit) -> None:
        h = fit.history["psnr_clean_avg"]
        if len(h) - 1 - max(range(len(h)), key=h.__getitem__) >= patience:
            fit.stop()
    return callback


def run_fit(preset: str, image: str, size: int, iterations: int, seed: int = 0, patience: int = 0) -> dict:
    clean = images.load(image, size=size)
    op = operators.Denoising(25)
    y = op.corrupt(clean, seed=seed)
    fit = Fit(op, y, clean=clean, config=FitConfig(net=preset, iterations=iterations, seed=seed, ema=0.99))
    if patience > 0:
        fit.add_callback(stop_after_peak(patience))
    r = fit.run()
    h = r.history
    i_raw = max(range(len(h["psnr_clean"])), key=h["psnr_clean"].__getitem__)
    i_avg = max(range(len(h["psnr_clean_avg"])), key=h["psnr_clean_avg"].__getitem__)
    macs = nets.count_macs(fit.net, size)
    return {"preset": preset, "image": image, "noisy": psnr(y, clean), "s_step": r.seconds / r.iterations,
            "gflops": 3 * 2 * macs / (r.seconds / r.iterations) / 1e9,
            "raw_best": h["psnr_clean"][i_raw], "raw_iter": i_raw + 1,
            "avg_best": h["psnr_clean_avg"][i_avg], "avg_iter": i_avg + 1, "avg_seconds": h["seconds"][i_avg],
            "stopped_iter": r.iter_picked, "stopped_psnr": r.psnr_picked,
            "peak_inside": (r.iterations - i_avg - 1 >= patience if patience > 0
                            else i_avg + 1 < 0.95 * r.iterations), "iterations": r.iterations}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--images", default="coffee,astronaut,chelsea")
    p.add_argument("--presets", default="paper,lab")
    p.add_argument("--iterations", default="paper=3000,lab=2000",
                   help="budget per preset, e.g. paper=3000,lab=2000 (run past the peak)")
    p.add_argument("--patience", type=int, default=300,
                   help="stop a fit once its averaged PSNR has not improved for this many "
                        "iterations (0 = run the whole budget)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--steps-only", action="store_true", help="only time steps of preset variants")
    args = p.parse_args(argv)
    threads = settings.configure_threads(args.threads)
    settings.set_mode("lab")
    load0 = os.getloadavg()
    print(f"# DIP speed, {args.size}x{args.size}, sigma 25\n")
    print(f"torch {torch.__version__}, {threads} threads, {os.cpu_count()} CPUs, "
          f"load average at start {load0[0]:.1f}\n")
    ceiling = conv_ceiling(args.size)
    print(f"conv ceiling (3x3, 128 ch, fwd+bwd, channels_last): **{ceiling:.0f} GFLOP/s**\n")

    if args.steps_only:
        print("| variant | params | GMAC/fwd | s/step | GFLOP/s | % ceiling |\n|---|---|---|---|---|---|")
        variants = {name: nets.PRESETS[name] for name in ("tiny", "lab", "paper", "deep_decoder")}
        base = nets.PRESETS["lab"]
        for w in (32, 64):
            variants[f"lab, {w} ch"] = nets.NetConfig(down=(w,) * 5, up=(w,) * 5, skip=base.skip,
                                                      upsample=base.upsample)
        other = "bilinear" if base.upsample == "nearest" else "nearest"
        variants[f"lab, {other}"] = nets.NetConfig(down=base.down, up=base.up, skip=base.skip, upsample=other)
        for name, cfg in variants.items():
            for cl in (True, False):
                if not cl and name not in ("lab", "paper"):
                    continue
                net = nets.build(cfg)
                macs = nets.count_macs(net, args.size)
                s = step_seconds(cfg, args.size, channels_last=cl)
                label = name + ("" if cl else ", no channels_last")
                print(f"| {label} | {nets.count_parameters(net):,} | {macs / 1e9:.2f} | {s:.3f} | "
                      f"{6 * macs / s / 1e9:.0f} | {600 * macs / s / 1e9 / ceiling:.0f}% |", flush=True)
        return

    budgets = dict(kv.split("=") for kv in args.iterations.split(","))
    rows = []
    print("| preset | image | noisy dB | s/step | GFLOP/s (% ceiling) | best raw dB @ it | best avg dB @ it | "
          "time to best avg | ES-WMV dB @ it |\n|---|---|---|---|---|---|---|---|---|")
    # presets side by side per image, so load changes hit both; the bar goes to stderr
    cases = [(image, preset) for image in args.images.split(",") for preset in args.presets.split(",")]
    for image, preset in (bar := new_bar(cases, desc="fits", unit="fit")):
        bar.set_postfix_str(f"{preset} on {image}")
        r = run_fit(preset, image, args.size, int(budgets.get(preset, 1000)), patience=args.patience)
        rows.append(r)
        flag = "" if r["peak_inside"] else " (still rising)"
        log_line(print, f"| {preset} | {image} | {r['noisy']:.2f} | {r['s_step']:.3f} | {r['gflops']:.0f} "
                        f"({100 * r['gflops'] / ceiling:.0f}%) | {r['raw_best']:.2f} @ {r['raw_iter']} | "
                        f"{r['avg_best']:.2f} @ {r['avg_iter']}{flag} | {r['avg_seconds']:.0f} s | "
                        f"{r['stopped_psnr']:.2f} @ {r['stopped_iter']} |")

    print("\n| preset | mean best avg dB | mean time to best avg | mean s/step |\n|---|---|---|---|")
    means = {}
    for preset in args.presets.split(","):
        rs = [r for r in rows if r["preset"] == preset]
        means[preset] = {k: statistics.mean(r[k] for r in rs) for k in ("avg_best", "avg_seconds", "s_step")}
        m = means[preset]
        print(f"| {preset} | {m['avg_best']:.2f} | {m['avg_seconds']:.0f} s | {m['s_step']:.3f} |")
    if "paper" in means and "lab" in means:
        pr, lb = means["paper"], means["lab"]
        per_image = [(a, b) for a in rows for b in rows
                     if a["preset"] == "lab" and b["preset"] == "paper" and a["image"] == b["image"]]
        q_ok = all(a["avg_best"] >= b["avg_best"] - 0.3 for a, b in per_image)
        t_ok = all(a["avg_seconds"] <= b["avg_seconds"] / 5 for a, b in per_image)
        print(f"\nTarget, quality: lab >= paper - 0.3 dB on every image: {'met' if q_ok else 'NOT met'} "
              f"(mean {lb['avg_best']:.2f} vs {pr['avg_best']:.2f} dB)")
        print(f"Target, time: lab reaches its best in <= 1/5 of paper's time on every image: "
              f"{'met' if t_ok else 'NOT met'} (mean {lb['avg_seconds']:.0f} s vs {pr['avg_seconds']:.0f} s, "
              f"ratio {lb['avg_seconds'] / pr['avg_seconds']:.2f})")
    load1 = os.getloadavg()
    print(f"\nload average at end {load1[0]:.1f} (above {threads} means other work shared the cores)")


if __name__ == "__main__":
    main()
