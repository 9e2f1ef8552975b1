"""How fast is DIP on this machine, and how much quality does the CPU default give up?

Two tables, in Markdown:

``--steps``
    Seconds per training step (forward, loss, backward, Adam) of the presets at one
    size, in fp32 and with the network in bf16, against the machine's conv ceiling
    (a 3x3 convolution, 128 -> 128 channels, forward and backward, in GFLOP/s).
default
    The CPU default against the paper's network on the test split. The paper
    network's fits are *not* rerun: they are read from the reference table
    ``benchmarks/reference_paper.json`` (made once by ``benchmarks/fit_table.py``,
    with the command, machine and precision in every row). The presets' fits are
    read from ``benchmarks/presets_test.json``, and the missing ones are fitted and
    added. Per image and size: the seed means of the best averaged PSNR, the target
    (paper's mean minus 0.3 dB) and how long each network needs to reach it, in fp32
    on this machine (iterations to the target, read from the seed-mean curve of the
    best-so-far averaged PSNR, times the fp32 seconds per step measured here).

Usage::

    python benchmarks/dip_speed.py                     # 128 px, lab vs the stored reference
    python benchmarks/dip_speed.py --sizes 128,256
    python benchmarks/dip_speed.py --steps --size 256  # seconds per step, fp32 and bf16

Timings are wall-clock: on a machine shared with other work they are noisy (the
script prints the load average before and after).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dip_teach import images, nets, operators, settings  # noqa: E402
from dip_teach.fit import Fit, FitConfig, dip_loop  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_table  # noqa: E402

HERE = Path(__file__).resolve().parent
MARGIN = 0.3        # dB below the paper network's mean that the CPU default must reach
SPEED_UP = 5        # ... at least this many times faster


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


def step_seconds(config: nets.NetConfig | str, size: int, precision: str = "fp32", steps: int = 8) -> float:
    """Median seconds of one training step (forward, loss, backward, Adam) of a bare net."""
    x = images.load("coffee", size=size)
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(x, seed=0), config=FitConfig(net=config, iterations=steps + 2, stopping=None,
                                                          precision=precision, ema=0.99))
    c = fit.config
    loop = dip_loop(fit.net, fit.z, fit.operator, fit.observation, fit.optimizer, reg_noise_std=c.reg_noise_std,
                    ema=c.ema, autocast=torch.bfloat16 if c.precision == "bf16" else None)
    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        next(loop)
        if i >= 2:                          # the first steps warm up the allocator and kernels
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def mean_best_so_far(rows: list[dict]) -> list[float]:
    """Seed mean of each row's best-so-far averaged PSNR, every ``curve_every`` iterations.

    A fit stopped after its peak keeps its best from then on (that is what early
    stopping at the best iteration gives), so shorter curves are padded with their best.
    """
    curves = []
    for r in rows:
        best, c = float("-inf"), []
        for v in r["curve_avg"]:
            best = max(best, v)
            c.append(best)
        curves.append(c)
    n = max(map(len, curves))
    return [statistics.mean(c[min(k, len(c) - 1)] for c in curves) for k in range(n)]


def iterations_to(curve: list[float], every: int, target: float) -> int | None:
    """First iteration at which ``curve`` (one value every ``every`` iterations) reaches ``target``."""
    for k, v in enumerate(curve):
        if v >= target:
            return (k + 1) * every
    return None


def sd(rows: list[dict]) -> float:
    """Spread of the rows' best averaged PSNR over seeds (0 for one row)."""
    return statistics.stdev(r["best_avg"] for r in rows) if len(rows) > 1 else 0.0


def compare(reference: dict, presets: dict, preset: str, size: int, s_step: dict) -> tuple[list[str], bool]:
    """Markdown rows comparing ``preset`` with the reference at ``size``; and whether every image meets the goal."""
    lines, ok = [], True
    images_ = sorted({r["image"] for r in reference["rows"] if r["size"] == size})
    for image in images_:
        ref = [r for r in reference["rows"] if r["size"] == size and r["image"] == image and r["preset"] == "paper"]
        mine = [r for r in presets["rows"] if r["size"] == size and r["image"] == image and r["preset"] == preset
                and r["net"] == fit_table.net_json(preset)
                and r.get("ema", fit_table.EMA) == fit_table.ema_for(preset, size)]   # the preset as it is now
        if not ref or not mine:
            continue
        p_mean = statistics.mean(r["best_avg"] for r in ref)
        m_mean = statistics.mean(r["best_avg"] for r in mine)
        target = p_mean - MARGIN
        it_p = iterations_to(mean_best_so_far(ref), ref[0]["curve_every"], target)
        it_m = iterations_to(mean_best_so_far(mine), mine[0]["curve_every"], target)
        t_p = it_p * s_step[("paper", size)] if it_p else None
        t_m = it_m * s_step[(preset, size)] if it_m else None
        speed = t_p / t_m if t_p and t_m else None
        met = t_m is not None and speed is not None and speed >= SPEED_UP
        ok &= met

        lines.append(
            f"| {size} | {image} | {p_mean:.2f} ± {sd(ref):.2f} ({len(ref)}, {ref[0]['precision']}) | "
            f"{m_mean:.2f} ± {sd(mine):.2f} ({len(mine)}) | {m_mean - p_mean:+.2f} | {target:.2f} | "
            f"{'never' if t_p is None else f'{t_p:.0f} s ({it_p} it)'} | "
            f"{'never' if t_m is None else f'{t_m:.0f} s ({it_m} it)'} | "
            f"{'-' if speed is None else f'{speed:.1f}x'} | {'met' if met else 'NOT met'} |")
    return lines, ok


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", action="store_true", help="only the seconds-per-step table")
    p.add_argument("--size", type=int, default=128, help="image side for --steps")
    p.add_argument("--sizes", default="128", help="sizes to compare, e.g. 128,256")
    p.add_argument("--presets", default="lab")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--reference", type=Path, default=HERE / "reference_paper.json")
    p.add_argument("--table", type=Path, default=HERE / "presets_test.json",
                   help="where the presets' fits are kept (missing ones are fitted)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    args = p.parse_args(argv)
    threads = settings.configure_threads(args.threads)
    settings.set_mode("lab")
    print(f"torch {torch.__version__}, {threads} threads, {fit_table.machine()}, "
          f"load average at start {os.getloadavg()[0]:.1f}\n")

    if args.steps:
        ceiling = conv_ceiling(args.size)
        print(f"# Seconds per step, {args.size}x{args.size}\n\nconv ceiling (3x3, 128 ch, fwd+bwd, "
              f"channels_last): **{ceiling:.0f} GFLOP/s**\n")
        print("| preset | params | GMAC/fwd | fp32 s/step | GFLOP/s (% ceiling) | bf16 s/step | bf16 speed-up |\n"
              "|---|---:|---:|---:|---:|---:|---:|")
        for name in ("tiny", "lab", "paper", "deep_decoder"):
            net = nets.build(name)
            macs = nets.count_macs(net, args.size)
            s32, s16 = step_seconds(name, args.size, "fp32"), step_seconds(name, args.size, "bf16")
            print(f"| {name} | {nets.count_parameters(net):,} | {macs / 1e9:.2f} | {s32:.3f} | "
                  f"{6 * macs / s32 / 1e9:.0f} ({600 * macs / s32 / 1e9 / ceiling:.0f}%) | {s16:.3f} | "
                  f"{s32 / s16:.2f}x |", flush=True)
        return

    if not args.reference.exists():
        sys.exit(f"no reference table at {args.reference}: make it with benchmarks/fit_table.py "
                 f"(see its docstring), or pass --reference")
    reference = json.loads(args.reference.read_text())
    sizes = [int(s) for s in args.sizes.split(",")]
    test_images = sorted({r["image"] for r in reference["rows"]})
    for size in sizes:       # fit what the presets' table lacks (the reference is never refitted)
        fit_table.main([str(args.table), "--presets", args.presets, "--images", ",".join(test_images),
                        "--sizes", str(size), "--seeds", args.seeds, "--precisions", "fp32"]
                       + ([] if args.threads is None else ["--threads", str(args.threads)]))
    presets = fit_table.load_table(args.table)
    s_step = {(name, size): step_seconds(name, size) for size in sizes
              for name in ["paper"] + args.presets.split(",")}
    print("fp32 seconds per step here: " + ", ".join(f"{n} {s} px {v:.3f}" for (n, s), v in s_step.items()) + "\n")
    for preset in args.presets.split(","):
        print(f"# {preset} vs the paper network (reference: {args.reference.name}), denoising sigma 25\n")
        print(f"| size | image | paper best avg dB (seeds, precision) | {preset} best avg dB (seeds) | "
              f"difference | target (paper - {MARGIN}) | paper time to target | {preset} time to target | "
              f"speed-up | goal (target, >= {SPEED_UP}x) |\n|---|---|---|---|---:|---:|---:|---:|---:|---|")
        all_ok = True
        for size in sizes:
            lines, ok = compare(reference, presets, preset, size, s_step)
            all_ok &= ok and bool(lines)
            print("\n".join(lines))
        print(f"\nGoal on every image and size: **{'met' if all_ok else 'NOT met'}**\n")
    print(f"load average at end {os.getloadavg()[0]:.1f} (above {threads} means other work shared the cores)")


if __name__ == "__main__":
    main()
