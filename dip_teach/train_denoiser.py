"""Train the small DnCNN denoiser of notebook 03 and save its weights.

The shipped weights were made with (see data/README.md)::

    python -m dip_teach.train_denoiser --sigma 25 --steps 2000 --batch-size 16 --threads 1 \
        --out data/dncnn_sigma25.pt

It trains on random patches of the ``train`` images in ``data/``, prints the train
and test PSNR as it goes (a progress bar on stderr counts the steps in between), and
never replaces an existing file unless ``--overwrite`` is given. The command line, the
training history and the timing are stored inside the weights file, so a notebook can
plot the curves without retraining.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch

from . import denoiser, images, settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m dip_teach.train_denoiser",
                                description="Train a small DnCNN-style denoiser on the kit's train images.")
    p.add_argument("--sigma", type=float, default=25, help="noise level on the 0-255 scale (default 25)")
    p.add_argument("--steps", type=int, default=2000, help="optimiser steps (default 2000)")
    p.add_argument("--out", type=Path, required=True, help="where to write the weights (.pt)")
    p.add_argument("--width", type=int, default=32, help="feature channels (default 32)")
    p.add_argument("--depth", type=int, default=6, help="middle conv+BN+ReLU blocks (default 6)")
    p.add_argument("--batch-size", type=int, default=16, help="patches per step (default 16)")
    p.add_argument("--patch-size", type=int, default=40, help="side of a training patch (default 40)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate, cosine-decayed (default 1e-3)")
    p.add_argument("--eval-every", type=int, default=100, help="steps between test evaluations (default 100)")
    p.add_argument("--eval-size", type=int, default=128, help="side of the test crops (default 128)")
    p.add_argument("--no-jitter", action="store_true",
                   help="no random colour shuffle/contrast/brightness of the patches")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, patches and noise (default 0)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: all cores; 1 is faster when other jobs share the cores)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.expanduser()
    if out.suffix != ".pt":
        print(f"error: --out should end in .pt, got {str(out)!r}", file=sys.stderr)
        return 2
    if out.exists() and not args.overwrite:
        # check before training, not after ten minutes of it
        print(f"error: {str(out)!r} already exists; pass --overwrite to replace it or choose another --out",
              file=sys.stderr)
        return 1
    threads = settings.configure_threads(args.threads)
    settings.seed_everything(args.seed)
    net = denoiser.DnCNN(channels=3, width=args.width, depth=args.depth)
    print(f"DnCNN width {args.width}, depth {args.depth}: {denoiser.count_parameters(net):,} parameters, "
          f"receptive field {net.receptive_field} px; sigma {args.sigma:g}; {threads} CPU threads", flush=True)
    pool = images.training_images()
    pairs = denoiser.test_set(args.sigma, size=args.eval_size)
    print(f"training on {len(pool)} images ({', '.join(n for n in images.catalogue_names('train'))}); "
          f"testing on {len(pairs)} crops of {args.eval_size} px", flush=True)
    start = time.perf_counter()
    history = denoiser.train(net, sigma=args.sigma, steps=args.steps, batch_size=args.batch_size,
                             patch_size=args.patch_size, lr=args.lr, eval_every=args.eval_every,
                             test_pairs=pairs, pool=pool, seed=args.seed, jitter=not args.no_jitter,
                             log=lambda line: print(line, flush=True), progress=True)
    history.update(wall_seconds=time.perf_counter() - start, threads=threads, eval_size=args.eval_size,
                   train_images=len(pool), torch=str(torch.__version__))
    command = "python -m dip_teach.train_denoiser " + " ".join(shlex.quote(a) for a in
                                                               (sys.argv[1:] if argv is None else argv))
    denoiser.save(net, out, sigma=args.sigma, history=history, command=command, overwrite=args.overwrite)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB) after {history['wall_seconds']:.0f} s; "
          f"test PSNR {history['test_psnr'][-1]:.2f} dB (noisy input {history['noisy_psnr']:.2f} dB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
