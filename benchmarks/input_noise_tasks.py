"""Does lab's denoising input noise (1/15) help the other tasks too? Inpainting and 4x super-resolution.

``lab`` denoises with input noise 1/15, twice the paper's 1/30, because that raised its
best averaged PSNR on every training image tried (``benchmarks/fit_table.py``'s
``lab_noise15`` rows). This script fits the two other tasks of the course with ``lab`` at
its default input noise (1/30) and at 1/15, in ``lab`` mode (its image size, iteration
budgets and output averaging, as the notebooks run them), on training images, and prints
the best averaged PSNR of each pair.

Usage::

    python benchmarks/input_noise_tasks.py                       # rocket and coins, seeds 0 and 1
    python benchmarks/input_noise_tasks.py --out benchmarks/input_noise_tasks.json
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

os.environ["DIP_TEACH_MODE"] = "lab"     # the notebooks' sizes and budgets on a CPU

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dip_teach import images, nets, operators, settings  # noqa: E402
from dip_teach.fit import Fit, FitConfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_table import config_json, machine  # noqa: E402

LAB = nets.PRESETS["lab"]
#: the preset's own two settings: the general input noise, and the one it denoises with
NOISES = {"1/30": LAB.reg_noise_std, "1/15": LAB.input_noise("denoise")}


def task(name: str, size: int, seed: int) -> tuple[operators.Operator, int]:
    """The operator and lab-mode iteration budget of one task, as notebooks 07 and 08 set them."""
    if name == "inpaint":
        return operators.Inpainting(operators.pixel_mask((size, size), missing=0.5, seed=seed)), \
            settings.iterations(2400)
    return operators.Downsampling(4), settings.iterations(2000, at_least=300)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", default="rocket,coins")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--out", type=Path, help="write the rows as JSON (refuses to overwrite a file)")
    args = p.parse_args(argv)
    if args.out is not None and args.out.exists():
        sys.exit(f"{args.out} exists; choose another --out")
    size = settings.get_mode().image_size
    rows = []
    for name in ("inpaint", "superres"):
        for image in args.images.split(","):
            clean = images.load(image, size=size)
            for seed in map(int, args.seeds.split(",")):
                op, iterations = task(name, size, seed)
                y = op.corrupt(clean, seed=seed)
                for label, noise in NOISES.items():
                    config = FitConfig(net="lab", reg_noise_std=noise, seed=seed, iterations=iterations,
                                       stopping=None)
                    r = Fit(op, y, clean=clean, config=config).run()
                    avg = r.history["psnr_clean_avg"]
                    rows.append({"task": name, "image": image, "size": size, "seed": seed, "noise": label,
                                 "iterations": iterations, "best_avg": round(max(avg), 3),
                                 "final_avg": round(avg[-1], 3), "seconds": round(r.seconds, 1)})
                    print(rows[-1], flush=True)
    print("\n| task | fits | best averaged PSNR, 1/30 | 1/15 | 1/15 - 1/30 (per pair) |\n|---|---:|---:|---:|---|")
    for name in ("inpaint", "superres"):
        a = [r for r in rows if r["task"] == name and r["noise"] == "1/30"]
        b = [r for r in rows if r["task"] == name and r["noise"] == "1/15"]
        diffs = ", ".join(f"{y['best_avg'] - x['best_avg']:+.2f}" for x, y in zip(a, b))
        ma, mb = statistics.mean(r["best_avg"] for r in a), statistics.mean(r["best_avg"] for r in b)
        print(f"| {name} | {len(a)} | {ma:.2f} | {mb:.2f} | {mb - ma:+.2f} ({diffs}) |")
    if args.out is not None:
        args.out.write_text(json.dumps({
            "about": "lab at input noise 1/30 and 1/15 on inpainting (50% pixels) and 4x super-resolution, lab mode",
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv), "machine": machine(),
            "date": time.strftime("%Y-%m-%d"), "net": config_json(LAB),
            "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
