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
unless ``--overwrite`` is given, and each file is written whole or not at all.
With ``--lowres``, ``--size`` is the side of the high-resolution crop to make (the
output may not exceed the run mode's ``max_image_size``).

Faults: Ctrl-C stops the fit early and still writes everything (a second Ctrl-C while
the files are written is noted and waited out; a third abandons them). A fit that fails
(divergence, out of memory, a device error) writes what it has: its best image, the
curve, and ``report.json`` with ``status`` and ``reason``.

Exit codes: 0 done; 1 the fit failed (outputs written when it got past its first
iteration); 2 bad input (one-line message, no traceback); 130 interrupted by Ctrl-C.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from . import files, images, nets, operators, settings
from .fit import Fit, FitConfig
from .progress import FitBar
from .images import ImageError
from .metrics import psnr

OUTPUT_FILES = ("report.json", "result.png", "observation.png", "curve.png", "fit.gif")
#: The option that replaces IMAGE when there is no ground truth, per task.
TRUTHLESS = {"denoise": "noisy", "inpaint": "observed", "superres": "lowres"}


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


class FitFailed(Exception):
    """The fit failed or was interrupted; ``code`` is the exit code (1 or 130), the message one line."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------- arguments
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dip_teach",
                                     description="Restore one image with the Deep Image Prior.")
    sub = parser.add_subparsers(dest="task", required=True, metavar="{" + ",".join(operators.TASKS) + "}")

    def common(p: argparse.ArgumentParser, truthless: str, truthless_help: str) -> None:
        p.add_argument("image", nargs="?", help="clean image (path or course image name); it gets corrupted")
        p.add_argument(truthless, metavar="IMAGE", help=truthless_help)
        p.add_argument("--out", required=True, metavar="DIR", help="folder for the report and pictures")
        p.add_argument("--size", type=int, default=None,
                       help="side of the centre crop (multiple of 32; at least 64 for the networks); "
                            "default: the run mode's")
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
    d.add_argument("--sigma", type=float, default=None, help="noise level on the 0-255 scale (default 25)")

    i = sub.add_parser("inpaint", help="fill in missing pixels")
    common(i, "--observed", "an image with holes (no ground truth); needs --mask-file")
    i.add_argument("--mask", choices=("pixel", "text", "hole"), default=None,
                   help="kind of mask to apply (default pixel)")
    i.add_argument("--missing", type=float, default=None, help="fraction of missing pixels for --mask pixel (0.5)")
    i.add_argument("--mask-file", metavar="MASK",
                   help="mask image (white = known, black = missing): applied to IMAGE, or the holes of --observed")

    s = sub.add_parser("superres", help="4x (or --factor) super-resolution")
    common(s, "--lowres", "an already low-resolution image (no ground truth); replaces IMAGE")
    s.add_argument("--factor", type=int, default=4, help="upscaling factor (default 4)")
    return parser


def check_options(args) -> None:
    """One-line errors for values no fit can use and for options that would be silently ignored."""
    if args.iterations is not None and args.iterations < 1:
        raise UsageError(f"--iterations must be at least 1, got {args.iterations}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive number (the presets use 0.01), got {args.lr}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    if not str(args.out).strip():
        raise UsageError("--out is empty; give a folder name (--out . for the current folder)")
    if args.task == "denoise" and args.noisy and args.sigma is not None:
        raise UsageError("--sigma only applies to a clean IMAGE that gets noise added; --noisy already has its noise")
    if args.task == "inpaint":
        if args.mask_file and args.mask:
            raise UsageError("give --mask or --mask-file, not both")
        if args.missing is not None and (args.mask_file or args.mask not in (None, "pixel")):
            raise UsageError("--missing only applies to --mask pixel")


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
        sigma = 25.0 if args.sigma is None else args.sigma
        op = operators.Denoising(sigma)
        extra["sigma"] = sigma if args.image else None
        if args.image:
            clean = images.load(args.image, size=size)
            return op, op.corrupt(clean, seed=args.seed), clean, None, extra
        return op, images.to_tensor(images.load(truthless, size=size)), None, None, extra

    if args.task == "inpaint":
        if not args.image and not args.mask_file:
            raise UsageError("--observed needs --mask-file MASK (white = known pixels, black = missing)")
        seen = images.load(args.image or truthless, size=size)
        if args.mask_file:
            mask = images.load(args.mask_file, size=size, grey=True)[..., 0] > 0.5
            if mask.shape != seen.shape[:2]:
                raise UsageError(f"the mask is {mask.shape} but the image is {seen.shape[:2]}; "
                                 "give them the same size")
            kind = "file"
        else:
            kind, shape = args.mask or "pixel", seen.shape[:2]
            missing = 0.5 if args.missing is None else args.missing
            mask = {"pixel": lambda: operators.pixel_mask(shape, missing, seed=args.seed),
                    "text": lambda: operators.text_mask(shape, seed=args.seed),
                    "hole": lambda: operators.hole_mask(shape, seed=args.seed)}[kind]()
        op = operators.Inpainting(mask)
        extra.update(mask=kind, missing=op.missing_fraction)
        if args.image:
            return op, op.corrupt(seen), seen, None, extra
        return op, op.forward(images.to_tensor(seen)), None, None, extra

    op = operators.Downsampling(args.factor)
    extra["factor"] = args.factor
    if args.image:
        clean = images.load(args.image, size=size)
        if clean.shape[0] % args.factor:
            raise UsageError(f"--size {clean.shape[0]} must divide by --factor {args.factor}")
        y = op.corrupt(clean)
        extra["psnr_bicubic"] = psnr(operators.upsample_bicubic(y, args.factor), clean)
        return op, y, clean, extra["psnr_bicubic"], extra
    return op, images.to_tensor(lowres_crop(images.load_image(truthless), args.factor, args.size, args.net)), \
        None, None, extra


def lowres_crop(low: np.ndarray, factor: int, size: int | None, net: str | None) -> np.ndarray:
    """Centre-crop a low-resolution image so its ``factor``-times upscaling suits the network.

    The upscaled sides must divide by 32 and be at least the network's minimum; with
    ``size`` the upscaled crop is ``size x size``. The upscaled size may not exceed the
    run mode's ``max_image_size``.
    """
    h, w = low.shape[:2]
    step = 32 // math.gcd(32, factor)            # low-resolution sides that upscale to multiples of 32
    least = max(8, -(-nets.get_config(net).min_side // factor))
    least = -(-least // step) * step
    if size is not None:
        if size % 32 or size % factor:
            raise UsageError(f"with --lowres, --size is the side of the upscaled crop: a multiple of 32 "
                             f"that divides by --factor {factor}")
        side = (size // factor, size // factor)
    else:
        side = ((h // step) * step, (w // step) * step)
    if min(side) < least or h < side[0] or w < side[1]:
        raise UsageError(f"the low-resolution image is {h}x{w}; at --factor {factor} the crop must be at "
                         f"least {least}x{least} pixels (and fit in the image)")
    operators.check_output_size((side[0] * factor, side[1] * factor),
                                f"--factor {factor} on a {side[0]}x{side[1]} crop of --lowres",
                                fix="pass --size with the side of the upscaled crop you want")
    return images.center_crop(images.as_image(low), *side)


# ------------------------------------------------------------------ outputs
def check_out_dir(out: Path, overwrite: bool) -> None:
    """Fail early (before a long fit) if DIR cannot be written or already holds results."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".dip_teach_probe_"):
            pass                             # a fresh name: never a student's file
    except OSError as err:
        raise UsageError(f"cannot write to --out {str(out)!r}: {err.strerror or err}") from None
    existing = [name for name in OUTPUT_FILES if files.exists(out / name)]
    if existing and not overwrite:
        raise UsageError(f"{str(out)!r} already holds {', '.join(existing)}; choose another --out or pass --overwrite")


def _clean_number(v):
    """JSON has no NaN: report unknown PSNRs as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_report(out: Path, fit: Fit, args, psnr_input: float | None, extra: dict,
                 status: str, reason: str | None) -> dict:
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
        "psnr_stopped": r.psnr_picked,
        "iter_stopped": r.iter_picked,
        "stop_fired_at": fit.criterion_fired_at,
        "iterations": r.iterations,
        "seconds": r.seconds,
        "diverged": r.diverged,
        "iter_result": fit.best.iteration if fit.best is not None else r.iterations,
        "status": status,
        "reason": reason,
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
    text = json.dumps(report, indent=2, default=str)
    files.write_atomically(out / "report.json", lambda tmp: tmp.write_text(text), args.overwrite)
    return report


def save_curve(path: Path, fit: Fit, psnr_input: float | None, overwrite: bool = False) -> None:
    """PSNR curves with the best point and the blind stopping point marked."""
    h, r = fit.get_history(), fit.result
    fig = Figure(figsize=(7, 4), dpi=100)         # no pyplot: no GUI backend, nothing to close
    ax = fig.subplots()
    its = h["iteration"]
    if fit.clean is not None:
        ax.plot(its, h["psnr_clean"], lw=0.8, alpha=0.6, label="output vs clean")
        ax.plot(its, h["psnr_clean_avg"], lw=1.5, label="averaged output vs clean")
        ax.plot([r.iter_best], [r.psnr_best], "k*", ms=12, label=f"best (oracle) @ {r.iter_best}")
        if r.iter_picked:
            ax.plot([r.iter_picked], [r.psnr_picked], "rv", ms=9, label=f"ES-WMV stop @ {r.iter_picked}")
        if psnr_input is not None:
            ax.axhline(psnr_input, color="grey", ls="--", lw=1, label="input")
        ax.set_ylabel("PSNR to the clean image (dB)")
    else:
        ax.plot(its, h["psnr_obs"], lw=0.8, label="output vs observation")
        if r.iter_picked:
            ax.axvline(r.iter_picked, color="r", ls=":", label=f"ES-WMV stop @ {r.iter_picked}")
        ax.set_ylabel("PSNR to the observation (dB)")
    ax.set_xlabel("iteration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"DIP {fit.operator!r}: {r.iterations} iterations, {r.seconds:.0f} s")
    fig.tight_layout()
    files.write_atomically(path, fig.savefig, overwrite)


def save_gif(path: Path, fit: Fit, min_side: int = 256, overwrite: bool = False) -> None:
    """The log-spaced snapshots as an animation: structure first, noise later."""
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
    files.write_atomically(path, lambda tmp: frames[0].save(tmp, save_all=True, append_images=frames[1:],
                                                            duration=durations, loop=0), overwrite)


# -------------------------------------------------------------------- run
@contextlib.contextmanager
def on_ctrl_c(handler):
    """Run the block with ``handler`` for Ctrl-C (SIGINT), then restore the previous handler.

    Signals can only be handled in the main thread; elsewhere this does nothing (and
    Ctrl-C keeps its usual ``KeyboardInterrupt``).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def interrupts_deferred():
    """While the results are written, a Ctrl-C prints a note instead of leaving half a folder.

    A second Ctrl-C within the block abandons it (``KeyboardInterrupt``); each file is
    written atomically, so even then no file is half-written.
    """
    presses = []

    def note(signum, frame):
        presses.append(signum)
        if len(presses) > 1:
            raise KeyboardInterrupt
        print("stopping: writing what the fit has, one moment (Ctrl-C again to abandon it)", file=sys.stderr)

    with on_ctrl_c(note):
        yield


def train(fit: Fit) -> bool:
    """Run the fit in this thread until it ends; True if Ctrl-C ended it (the fit keeps what it learnt).

    A Ctrl-C during training does not raise ``KeyboardInterrupt`` wherever the program
    happens to be (inside torch, the progress bar or a lock, where it can be lost): its
    handler only counts the press, and the fit's own loop stops after the current
    iteration.
    """
    presses: list[int] = []

    def stop_when_pressed(f: Fit) -> None:        # runs in the loop, after each iteration
        if presses:
            f.stop()

    fit.add_callback(stop_when_pressed)
    with on_ctrl_c(lambda signum, frame: presses.append(signum)):     # a signal handler: record, nothing more
        try:
            fit.run()
        except KeyboardInterrupt:            # Ctrl-C outside the main thread: stop early, keep what was learnt
            return True
        except Exception:                    # the fit's own error: kept in fit.error, reported by outcome()
            pass
    return bool(presses)


def outcome(fit: Fit, bar: FitBar | None, interrupted: bool) -> tuple[str, str | None]:
    """Return ``(status, reason)`` of an ended fit: finished, interrupted (Ctrl-C) or failed."""
    if bar:
        bar.close()                          # the bar ends on its last count, also after an error
    if fit.error is not None:
        return "failed", f"{type(fit.error).__name__}: {' '.join(str(fit.error).split())}"
    if interrupted:
        return "interrupted", f"Ctrl-C at iteration {fit.iteration}"
    return "finished", None


def run(args) -> dict:
    check_options(args)
    if args.mode:
        settings.set_mode(args.mode)
    settings.configure_threads(args.threads)
    out = Path(args.out).expanduser()
    check_out_dir(out, args.overwrite)
    op, y, clean, psnr_input, extra = make_problem(args)
    if psnr_input is None and clean is not None:
        psnr_input = psnr(y, clean)         # the observation itself (noisy, or with holes)
    config = FitConfig(net=args.net, lr=args.lr, seed=args.seed,
                       iterations=args.iterations or settings.iterations(operators.TASKS[args.task].paper_iterations),
                       snapshots=max(settings.get_mode().snapshots, 24))
    fit = Fit(op, y, clean=clean, config=config)
    bar = None if args.quiet else FitBar(fit.config.iterations)
    if bar:
        fit.add_callback(bar)
    interrupted = train(fit)
    with interrupts_deferred():              # from here on a Ctrl-C cannot leave half the outputs
        status, reason = outcome(fit, bar, interrupted)
        if fit.result is None:
            raise FitFailed(f"the fit {status} before its first iteration ({reason}); nothing written",
                            130 if status == "interrupted" else 1)
        result = fit.result
        best = fit.best.image if fit.best is not None else result.image
        images.save_image(out / "result.png", best, overwrite=args.overwrite)
        obs = y if not isinstance(op, operators.Downsampling) else torch.nn.functional.interpolate(
            y, scale_factor=op.factor, mode="nearest")
        images.save_image(out / "observation.png", obs, overwrite=args.overwrite)
        save_curve(out / "curve.png", fit, psnr_input, args.overwrite)
        save_gif(out / "fit.gif", fit, overwrite=args.overwrite)
        report = write_report(out, fit, args, psnr_input, extra, status, reason)
    if status == "failed":
        raise FitFailed(f"the fit failed at iteration {fit.iteration} ({reason}); the best result so far, "
                        f"the curve and report.json are in {str(out)!r}", 1)
    return report


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except (UsageError, ImageError, FileNotFoundError, FileExistsError, PermissionError, ValueError,
            settings.DeviceError) as err:
        return _error(err, 2)
    except FitFailed as err:
        return _error(err, err.code)
    except KeyboardInterrupt:
        return _error("interrupted by Ctrl-C; files already complete in --out were kept, nothing is half-written",
                      130)
    except (RuntimeError, MemoryError, OSError) as err:   # out of memory, a device error, a full disk
        return _error(f"{type(err).__name__}: {err}", 1)
    if report["psnr_best"] is not None:
        summary = f"best {report['psnr_best']:.2f} dB at iteration {report['iter_best']}"
    elif report["iter_stopped"] is not None:
        summary = f"result from iteration {report['iter_result']} (the blind stopping criterion's pick)"
    else:
        summary = (f"result from iteration {report['iter_result']} (too few iterations for the blind "
                   "stopping criterion to pick one)")
    if report["status"] == "interrupted":
        print(f"stopped by Ctrl-C at iteration {report['iterations']}: {summary}; results in {args.out}")
        return 130
    print(f"done: {summary}; results in {args.out}")
    return 0


def _error(err, code: int) -> int:
    message = " ".join(str(err).split())         # one line, whatever the message held
    print(f"error: {message}", file=sys.stderr)
    return code
