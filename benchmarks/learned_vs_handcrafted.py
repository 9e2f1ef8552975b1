"""The learned denoiser of notebook 03 against the handcrafted baselines of notebook 02.

Prints a Markdown table: mean PSNR (dB) over the natural test photos and over the kit's
drawn images (cartoon, texture), at sigma 10, 25 and 50, each a mean over three noise
draws. TV gets its oracle weight (the best of a grid by PSNR to the clean image),
non-local means estimates the noise level; the net was trained at sigma 25 only.

    python benchmarks/learned_vs_handcrafted.py                 # 128x128 crops (lab mode's size)
    python benchmarks/learned_vs_handcrafted.py --size 256 --weights my_dncnn.pt
"""
from __future__ import annotations

import argparse
import time

import torch

from dip_teach import baselines, denoiser
from dip_teach.progress import log_line, new_bar


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=128, help="side of the centre crops (default 128)")
    p.add_argument("--weights", default=None, help="a weights file (default: the shipped one)")
    p.add_argument("--sigmas", type=float, nargs="+", default=[10, 25, 50])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    net = denoiser.load_pretrained(args.weights)
    label = f"DnCNN-{net.sigma:g}"
    start = time.perf_counter()
    print(f"{label}, {denoiser.count_parameters(net):,} parameters; {args.size}x{args.size} crops; "
          f"mean PSNR (dB) over 3 noise draws\n")
    print(f"| images | sigma | noisy | TV (oracle weight) | NLM | {label} | lead over the best handcrafted |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for sigma in new_bar(args.sigmas, desc="noise levels", unit="sigma"):     # the bar goes to stderr
        rows = baselines.compare_denoiser(net, sigma, size=args.size, label=label)
        for group, names in (("4 photos", baselines.PHOTOS), ("cartoon+texture", baselines.DRAWN)):
            m = baselines.mean_over(rows, names)
            lead = m[label] - max(m["TV"], m["NLM"])
            log_line(print, f"| {group} | {sigma:g} | {m['noisy']:.2f} | {m['TV']:.2f} | {m['NLM']:.2f} "
                            f"| {m[label]:.2f} | {lead:+.2f} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
