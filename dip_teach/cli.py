"""Command line: run a DIP fit on one image and write a small report folder.

::

    python -m dip_teach denoise  IMAGE --sigma 25 --size 128 --seed 0 --out DIR
    python -m dip_teach denoise  --noisy NOISY.png --out DIR          # no ground truth
    python -m dip_teach inpaint  IMAGE --mask pixel --missing 0.5 --out DIR
    python -m dip_teach inpaint  --observed HOLES.png --mask-file MASK.png --out DIR
    python -m dip_teach superres IMAGE --factor 4 --out DIR
    python -m dip_teach superres --lowres SMALL.png --factor 4 --out DIR

``IMAGE`` is a clean image (a path or a course image name such as ``coffee``); it is
centre-cropped to ``--size`` and corrupted with the chosen operator, so the report can
compare against the truth. ``DIR`` receives ``report.json``, ``result.png``,
``observation.png``, ``curve.png`` and ``fit.gif``; existing files are never replaced
unless ``--overwrite`` is given. Ctrl-C stops the fit early and still writes the report.

Exit codes: 0 done, 2 bad input (one-line message, no traceback).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from . import images, nets, operators, settings
from .fit import Fit, FitConfig
from .progress import FitBar
from .images import ImageError
from .metrics import psnr

OUTPUT_FILES = ("report.json", "result.png", "observation.png", "curve.png", "fit.gif")
#: The paper's iteration budgets per task (scaled by the run mode).
FULL_BUDGET = {"denoise": 3000, "inpaint": 5000, "superres": 2000}
#: The option that replaces IMAGE when there is no ground truth, per task.
TRUTHLESS = {"denoise": "noisy", "inpaint": "observed", "superres": "lowres"}


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


# ----------------------------------------------------------------- arguments
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dip_teach",
                                     description="Restore one image with the Deep Image Prior.")
    sub = parser.add_subparsers(dest="task", required=True, metavar="{denoise,inpaint,superres}")

    def common(p: argparse.ArgumentParser, truthless: str, truthless_help: str) -> None:
        p.add_argument("image", nargs="?", help="clean image (path or course image name); it gets corrupted")
        p.add_argument(truthless, metavar="IMAGE", help=truthless_help)
        p.add_argument("--out", required=True, metavar="DIR", help="folder for the report and pictures")
        p.add_argument("--size", type=int, default=None,
                       help="side of the centre crop (multiple of 32); default: the run mode's")
        p.add_argument("--seed", type=int, default=0, help="seed of the corruption and the fit")
        p.add_argument("--iterations", type=int, default=None, help="default: the paper's budget scaled by the mode")
        p.add_argument("--net", choices=list(nets.PRESETS), default=None, help="generator preset")
        p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the preset's)")
        p.add_argument("--mode", choices=list(settings.MODES), default=None, help="run mode (default: $DIP_TEACH_MODE)")
        p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
        p.add_argument("--overwrite", action="store_true", help="replace existing files in DIR")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    d = sub.add_parser("denoise", help="remove Gaussian noise")
    common(d, "--noisy", "an already noisy image (no ground truth); replaces IMAGE")
    d.add_argument("--sigma", type=float, default=25.0, help="noise level on the 0-255 scale (default 25)")

    i = sub.add_parser("inpaint", help="fill in missing pixels")
    common(i, "--observed", "an image with holes (no ground truth); needs --mask-file")
    i.add_argument("--mask", choices=("pixel", "text", "hole"), default="pixel", help="kind of mask to apply")
    i.add_argument("--missing", type=float, default=0.5, help="fraction of missing pixels for --mask pixel")
    i.add_argument("--mask-file", metavar="MASK", help="mask image for --observed: white = known, black = missing")

    s = sub.add_parser("superres", help="4x (or --factor) super-resolution")
    common(s, "--lowres", "an already low-resolution image (no ground truth); replaces IMAGE")
    s.add_argument("--factor", type=int, default=4, help="upscaling factor (default 4)")
    return parser


# -------------------------------------------------------------- the problem
def make_problem(args) -> tuple[operators.Operator, torch.Tensor, np.ndarray | None, float, dict]:
    """Operator, observation, clean image (or None), PSNR of the input, extra report fields."""
    truthless = getattr(args, TRUTHLESS[args.task])
    if (args.image is None) == (truthless is None):
        raise UsageError(f"give either a clean IMAGE to corrupt or --{TRUTHLESS[args.task]} IMAGE, "
                         "not both or neither")
    size = args.size if args.size is not None else (settings.image_size() if args.image else None)
    extra: dict = {}

    if args.task == "denoise":
        op = operators.Denoising(args.sigma)
        extra["sigma"] = args.sigma
        if args.image:
            clean = images.load(args.image, size=size)
            return op, op.corrupt(clean, seed=args.seed), clean, None, extra
        return op, images.to_tensor(images.load(truthless, size=size)), None, None, extra

    if args.task == "inpaint":
        if args.image:
            clean = images.load(args.image, size=size)
            shape = clean.shape[:2]
            mask = {"pixel": lambda: operators.pixel_mask(shape, args.missing, seed=args.seed),
                    "text": lambda: operators.text_mask(shape, seed=args.seed),
                    "hole": lambda: operators.hole_mask(shape, seed=args.seed)}[args.mask]()
            op = operators.Inpainting(mask)
            extra.update(mask=args.mask, missing=op.missing_fraction)
            return op, op.corrupt(clean), clean, None, extra
        if not args.mask_file:
            raise UsageError("--observed needs --mask-file MASK (white = known pixels, black = missing)")
        observed = images.load(truthless, size=size)
        mask = images.load(args.mask_file, size=size, grey=True)[..., 0] > 0.5
        if mask.shape != observed.shape[:2]:
            raise UsageError(f"the mask is {mask.shape} but the image is {observed.shape[:2]}; give them the same size")
        op = operators.Inpainting(mask)
        extra.update(mask="file", missing=op.missing_fraction)
        return op, op.forward(images.to_tensor(observed)), None, None, extra

    op = operators.Downsampling(args.factor)
    extra["factor"] = args.factor
    if args.image:
        clean = images.load(args.image, size=size)
        if clean.shape[0] % args.factor:
            raise UsageError(f"--size {clean.shape[0]} must divide by --factor {args.factor}")
        y = op.corrupt(clean)
        extra["psnr_bicubic"] = psnr(operators.upsample_bicubic(y, args.factor), clean)
        return op, y, clean, extra["psnr_bicubic"], extra
    low = images.as_image(images.load_image(truthless))
    low = images.center_crop(low, *[(s * args.factor // 32) * 32 // args.factor for s in low.shape[:2]])
    if min(low.shape[:2]) * args.factor < 32:
        raise UsageError(f"the low-resolution image is too small: at least {32 // args.factor} pixels a side")
    return op, images.to_tensor(low), None, None, extra


# ------------------------------------------------------------------ outputs
def check_out_dir(out: Path, overwrite: bool) -> None:
    """Fail early (before a long fit) if DIR cannot be written or already holds results."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".dip_teach_write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise UsageError(f"cannot write to --out {str(out)!r}: {err.strerror or err}") from None
    existing = [name for name in OUTPUT_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise UsageError(f"{str(out)!r} already holds {', '.join(existing)}; choose another --out or pass --overwrite")


def _clean_number(v):
    """JSON has no NaN: report unknown PSNRs as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_report(out: Path, fit: Fit, args, psnr_input: float | None, extra: dict) -> dict:
    r = fit.result
    c = fit.config
    report = {
        "task": args.task,
        "image": args.image or getattr(args, TRUTHLESS[args.task]),
        "ground_truth": fit.clean is not None,
        "psnr_noisy": psnr_input,
        "psnr_best": r.psnr_best if fit.clean is not None else None,
        "iter_best": r.iter_best if fit.clean is not None else None,
        "seconds_best": r.seconds_best if fit.clean is not None else None,
        "psnr_final": r.psnr_final,
        "psnr_stopped": r.psnr_stopped,
        "iter_stopped": r.iter_stopped,
        "stop_fired_at": fit.stop_iteration,
        "iterations": r.iterations,
        "seconds": r.seconds,
        "diverged": r.diverged,
        "status": fit.status,
        "device": str(fit.device),
        "mode": settings.get_mode().name,
        "threads": torch.get_num_threads(),
        "net_parameters": nets.count_parameters(fit.net),
        "size": list(fit.observation.shape[-2:]) if fit.clean is None else list(fit.clean.shape[-2:]),
        "seed": args.seed,
        **extra,
        "config": c.to_dict(),
    }
    report = {k: _clean_number(v) for k, v in report.items()}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    return report


def save_curve(path: Path, fit: Fit, psnr_input: float | None) -> None:
    """PSNR curves with the best point and the blind stopping point marked."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    h, r = fit.get_history(), fit.result
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    its = h["iteration"]
    if fit.clean is not None:
        ax.plot(its, h["psnr_clean"], lw=0.8, alpha=0.6, label="output vs clean")
        ax.plot(its, h["psnr_clean_avg"], lw=1.5, label="averaged output vs clean")
        ax.plot([r.iter_best], [r.psnr_best], "k*", ms=12, label=f"best (oracle) @ {r.iter_best}")
        if r.iter_stopped:
            ax.plot([r.iter_stopped], [r.psnr_stopped], "rv", ms=9, label=f"ES-WMV stop @ {r.iter_stopped}")
        if psnr_input is not None:
            ax.axhline(psnr_input, color="grey", ls="--", lw=1, label="input")
        ax.set_ylabel("PSNR to the clean image (dB)")
    else:
        ax.plot(its, h["psnr_obs"], lw=0.8, label="output vs observation")
        if r.iter_stopped:
            ax.axvline(r.iter_stopped, color="r", ls=":", label=f"ES-WMV stop @ {r.iter_stopped}")
        ax.set_ylabel("PSNR to the observation (dB)")
    ax.set_xlabel("iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"DIP {fit.operator!r}: {r.iterations} iterations, {r.seconds:.0f} s")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_gif(path: Path, fit: Fit, min_side: int = 256) -> None:
    """The log-spaced snapshots as an animation: structure first, noise later."""
    from PIL import Image, ImageDraw

    frames = []
    for snap in fit.snapshots:
        img = Image.fromarray(images.to_uint8(snap.image))
        scale = max(1, math.ceil(min_side / min(img.size)))
        img = img.convert("RGB").resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
        ImageDraw.Draw(img).text((4, 4), f"iteration {snap.iteration}", fill=(255, 255, 0))
        frames.append(img)
    if not frames:
        raise UsageError("the fit made no snapshots (did it run at all?)")
    durations = [300] * (len(frames) - 1) + [1500]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)


# -------------------------------------------------------------------- run
def run(args) -> dict:
    if args.mode:
        settings.set_mode(args.mode)
    settings.configure_threads(args.threads)
    out = Path(args.out).expanduser()
    check_out_dir(out, args.overwrite)
    op, y, clean, psnr_input, extra = make_problem(args)
    if psnr_input is None and clean is not None:
        psnr_input = psnr(y, clean)         # the observation itself (noisy, or with holes)
    config = FitConfig(net=args.net, lr=args.lr, seed=args.seed,
                       iterations=args.iterations or settings.iterations(FULL_BUDGET[args.task]),
                       snapshots=max(settings.get_mode().snapshots, 24))
    fit = Fit(op, y, clean=clean, config=config)
    bar = None if args.quiet else FitBar(fit.config.iterations)
    if bar:
        fit.add_callback(bar)
    fit.start()
    try:
        try:
            while fit.status in ("running", "paused"):
                try:
                    fit.wait(timeout=0.2)
                except TimeoutError:
                    pass
        except KeyboardInterrupt:          # Ctrl-C: stop early, keep what was learned
            fit.stop()
        result = fit.wait()
    finally:                               # the bar ends on its last count, also after an error
        if bar:
            bar.close()
    if result is None:
        raise UsageError("stopped before the first iteration; nothing to write")
    best = fit.best.image if fit.best is not None else result.image
    images.save_image(out / "result.png", best, overwrite=args.overwrite)
    obs = y if not isinstance(op, operators.Downsampling) else torch.nn.functional.interpolate(
        y, scale_factor=op.factor, mode="nearest")
    images.save_image(out / "observation.png", obs, overwrite=args.overwrite)
    save_curve(out / "curve.png", fit, psnr_input)
    save_gif(out / "fit.gif", fit)
    return write_report(out, fit, args, psnr_input, extra)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except (UsageError, ImageError, FileNotFoundError, FileExistsError, PermissionError, ValueError) as err:
        message = " ".join(str(err).split())         # one line, whatever the message held
        print(f"error: {message}", file=sys.stderr)
        return 2
    summary = (f"best {report['psnr_best']:.2f} dB at iteration {report['iter_best']}"
               if report["psnr_best"] is not None else f"stopped at iteration {report['iter_stopped']}")
    print(f"done: {summary}; results in {args.out}")
    return 0
