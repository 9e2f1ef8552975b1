"""Denoising fits per preset, image, size, seed and precision, stored once in a JSON table.

Each fit denoises (sigma 25) one course image with one network preset and seed, in
fp32 or with the network in bf16, until its averaged PSNR has not improved for
``--patience`` iterations (or its budget ends). A row keeps the best averaged and raw
PSNR, when they came, seconds per step and the averaged PSNR curve (every 10th
iteration), with the command, machine and torch version that made it.

The table is the reference later runs compare against instead of refitting: rows
already in the file are skipped, so an interrupted run resumes, and ``--max-fits 1``
runs one fit per call (to share a machine's cores with other work between fits).

Usage::

    # the paper network's reference on the test split (bf16 where it matches fp32)
    python benchmarks/fit_table.py benchmarks/reference_paper.json --presets paper \\
        --images coffee,astronaut,chelsea,camera --sizes 128 --seeds 0,1,2 --precisions bf16
    # paired fp32/bf16 fits of the lab net on training images
    python benchmarks/fit_table.py benchmarks/bf16_quality.json --presets lab \\
        --images rocket,ihc,retina,coins --sizes 128,256 --seeds 0,1,2 --precisions fp32,bf16
    # candidate CPU defaults for 256 px on training images, then each beside lab's fit of the same seed
    python benchmarks/fit_table.py benchmarks/lab_candidates_256.json --presets lab6,lab_deep,lab_wide \\
        --images rocket,coins --sizes 256 --seeds 0 --precisions bf16
    # the input-noise screen that set lab's denoising input noise (rows at 128 and 256 px)
    python benchmarks/fit_table.py benchmarks/lab_candidates_256.json --presets lab_noise15,lab_noise10 \\
        --images ihc,retina --sizes 128,256 --seeds 0,1 --precisions bf16
    python benchmarks/fit_table.py benchmarks/lab_candidates_256.json --summary \\
        --against-lab benchmarks/bf16_quality.json
    # the shapes again on top of 1/15, each beside the 1/15 fit of the same seed
    python benchmarks/fit_table.py benchmarks/lab_candidates_256.json --presets lab15_deep,lab15_6 \\
        --images rocket,coins,ihc,retina --sizes 256 --seeds 0 --precisions bf16
    python benchmarks/fit_table.py benchmarks/lab_candidates_256.json --summary \\
        --against-lab benchmarks/lab_candidates_256.json --base lab_noise15
    # fp32/bf16 pairs of lab with denoising input noise 1/15 (the 256-px rows were made before lab
    # averaged longer at 256 px, so they are at 0.99; seed 2 followed 0.995 and 0.997 too)
    python benchmarks/fit_table.py benchmarks/bf16_quality_noise15.json --presets lab \\
        --images rocket,ihc,retina,coins --sizes 128 --seeds 0,1,2 --precisions fp32,bf16
    python benchmarks/fit_table.py benchmarks/bf16_quality_noise15.json --presets lab \\
        --images rocket,ihc,retina,coins --sizes 256 --seeds 0,1 --precisions fp32,bf16
    python benchmarks/fit_table.py benchmarks/bf16_quality_noise15.json --presets lab \\
        --images rocket,ihc,retina,coins --sizes 256 --seeds 2 --precisions bf16,fp32 --emas 0.995,0.997
    # longer output averages, followed inside the same fits (averaging does not change the fit);
    # at 256 px lab's own average is 0.995 now, so the screen's last two fits follow 0.99 instead
    python benchmarks/fit_table.py benchmarks/ema_screen.json --presets lab \\
        --images rocket,ihc,retina,coins,gravel --sizes 128 --seeds 0,1,2 --precisions bf16 --emas 0.995,0.997
    python benchmarks/fit_table.py benchmarks/ema_screen.json --presets lab --images gravel,hubble \\
        --sizes 256 --seeds 0 --precisions bf16 --emas 0.995,0.997
    python benchmarks/fit_table.py benchmarks/ema_screen.json --presets lab --images brick,grass \\
        --sizes 256 --seeds 0 --precisions bf16 --emas 0.99,0.997
    # print what tables hold (several are read together)
    python benchmarks/fit_table.py benchmarks/bf16_quality.json --summary
    python benchmarks/fit_table.py benchmarks/ema_screen.json benchmarks/bf16_quality_noise15.json --summary
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dip_teach import images, nets, operators, settings  # noqa: E402
from dip_teach.fit import Fit, FitConfig  # noqa: E402
from dip_teach.metrics import psnr  # noqa: E402

CURVE_EVERY = 10        # keep every 10th averaged PSNR: enough to read a time-to-quality
SIGMA = 25
EMA = 0.99              # the paper's output averaging, and every row's that does not say otherwise


def machine() -> str:
    """CPU model (or GPU name), core count and bf16 support, for the table's rows."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
    return f"{name}, {settings.available_cpus()} cores, bf16 native: {settings.bf16_native()}"


#: ``lab`` as the screens below found it: the paper's input noise (1/30) for denoising too.
SCREENED_LAB = replace(nets.PRESETS["lab"], denoise_reg_noise_std=None, large_denoise_ema_span=None)
_LAB = SCREENED_LAB
#: Candidate CPU defaults, screened on training images against ``SCREENED_LAB``. The first
#: seven change what the literature points at for 256 px: a sixth scale for the larger
#: image, wider fine or coarse scales, and bilinear upsampling (the paper's denoising
#: setting; Liu et al., ICCV 2023); none did better. The next three change the fit instead:
#: averaging lab's outputs gained less than averaging the paper net's (1.1-1.8 against 2.0-2.2 dB
#: at 256 px), so they try to make successive outputs differ more: more input noise
#: (``lab_noise15``, ``lab_noise10``) or a larger step (``lab_lr02``). More input noise won, by
#: improving the single outputs as well as their average, and ``lab`` now denoises with 1/15
#: (``NetConfig.denoise_reg_noise_std``). The last three (``lab15_*``) are the shapes again on
#: top of 1/15, compared with ``lab_noise15`` (``--base``), in case the extra noise lets a larger
#: net use its capacity; none gained on average. Longer output averages need no candidate:
#: averaging does not change the fit, so one fit follows several (``--emas``, :class:`ExtraAverages`).
_SHAPES = {
    "lab6": replace(_LAB, down=_LAB.down + (64,), up=_LAB.up + (64,), skip=_LAB.skip + (4,)),
    "lab_wide": replace(_LAB, down=(32, 64, 64, 64, 64), up=(32, 64, 64, 64, 64)),
    "lab_deep": replace(_LAB, down=(16, 32, 64, 128, 128), up=(16, 32, 64, 128, 128)),
}
CANDIDATES: dict[str, nets.NetConfig] = {
    **_SHAPES,
    "lab_bilinear": replace(_LAB, upsample="bilinear"),
    **{f"{name}_bilinear": replace(net, upsample="bilinear") for name, net in _SHAPES.items()},
    "lab_noise15": replace(_LAB, reg_noise_std=1 / 15),
    "lab_noise10": replace(_LAB, reg_noise_std=1 / 10),
    "lab_lr02": replace(_LAB, lr=0.02),
    **{"lab15_" + name.removeprefix("lab").lstrip("_"): replace(net, reg_noise_std=1 / 15)
       for name, net in _SHAPES.items()},
}


def net_config(preset: str) -> nets.NetConfig:
    """A kit preset or one of :data:`CANDIDATES`."""
    return CANDIDATES[preset] if preset in CANDIDATES else nets.get_config(preset)


def config_json(config: nets.NetConfig) -> dict:
    """A network as a row stores it: lists, not tuples, and no field that is ``None``, so rows
    stored before an optional field existed still match. The averaging span is left out: a
    row keeps the averaging weight its fit used (``"ema"``) instead."""
    d = json.loads(json.dumps(asdict(config)))
    return {k: v for k, v in d.items() if v is not None and k != "large_denoise_ema_span"}


def net_json(preset: str) -> dict:
    """The preset's network as a row stores it, to find rows of the current preset."""
    return config_json(net_config(preset))


def ema_for(preset: str, size: int) -> float:
    """The averaging weight of the preset's denoising fits at ``size`` px, at full scale."""
    return round(1 - 1 / net_config(preset).ema_span("denoise", size), 6)


def row_key(row: dict) -> tuple:
    return (row["preset"], row["image"], row["size"], row["seed"], row["precision"], json.dumps(row["net"]),
            row.get("ema", EMA))


def load_table(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"about": "DIP denoising fits (sigma 25, output averaging 0.99 unless a row's ema says otherwise); "
                     "one row per preset, image, size, seed, precision",
            "rows": []}


def save_table(path: Path, table: dict) -> None:
    """Write through a temporary file, so an interrupted run never leaves half a table."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1) + "\n")
    tmp.replace(path)


class ExtraAverages:
    """Fit callback: more exponential moving averages of the raw outputs, beside the fit's own.

    Averaging does not change what the network learns, so one fit can screen several
    averaging weights. Each average starts at the first output, as the fit's own does, so
    the weight the fit itself uses reproduces its ``psnr_clean_avg`` exactly.
    """

    def __init__(self, emas: tuple[float, ...], clean) -> None:
        self.emas = emas
        self.clean = clean
        self.averages: list[torch.Tensor | None] = [None] * len(emas)
        self.history: list[list[float]] = [[] for _ in emas]

    def __call__(self, fit: Fit) -> None:
        out = fit._out.float()      # the raw tensor, unclipped, as the fit's own average takes it
        for k, ema in enumerate(self.emas):
            a = self.averages[k]
            self.averages[k] = out.clone() if a is None else a.mul_(ema).add_(out, alpha=1 - ema)
            self.history[k].append(psnr(self.averages[k], self.clean))

    def rows(self, seconds: list[float]) -> dict:
        """Per weight: the best averaged PSNR, when it came and the curve (every ``CURVE_EVERY``-th)."""
        return {f"{ema:g}": averaged_fields(h, seconds) for ema, h in zip(self.emas, self.history)}


def averaged_fields(curve: list[float], seconds: list[float]) -> dict:
    """A row's fields for one averaged-PSNR curve: its best, when it came, and the curve itself
    (every ``CURVE_EVERY``-th value), for the fit's own average and for each extra one alike."""
    i = max(range(len(curve)), key=curve.__getitem__)
    return {"best_avg": round(curve[i], 3), "best_avg_iter": i + 1, "best_avg_seconds": round(seconds[i], 2),
            "curve_avg": [round(v, 2) for v in curve[CURVE_EVERY - 1::CURVE_EVERY]]}


def _since_peak(h: list[float]) -> int:
    """Iterations since the best value of ``h``."""
    return len(h) - 1 - max(range(len(h)), key=h.__getitem__)


def fit_row(preset: str, image: str, size: int, seed: int, precision: str, budget: int, patience: int,
            device: str | None, emas: tuple[float, ...] = ()) -> dict:
    """Run one fit and return its row; ``emas`` are more averaging weights to follow (``"emas"`` in the row)."""
    clean = images.load(image, size=size)
    op = operators.Denoising(SIGMA)
    y = op.corrupt(clean, seed=seed)
    ema = ema_for(preset, size)
    config = FitConfig(net=net_config(preset), iterations=budget, seed=seed, ema=ema, stopping=None,
                       precision=precision, device=device)
    fit = Fit(op, y, clean=clean, config=config)
    extra = ExtraAverages(emas, fit.clean)
    if emas:
        fit.add_callback(extra)

    def stop_after_peak(f: Fit) -> None:
        # every average followed must be past its peak: a longer average peaks later
        if all(_since_peak(h) >= patience for h in [f.history["psnr_clean_avg"], *extra.history]):
            f.stop()

    fit.add_callback(stop_after_peak)
    r = fit.run()
    h = r.history
    own = averaged_fields(h["psnr_clean_avg"], h["seconds"])
    raw = h["psnr_clean"]
    i_raw = max(range(len(raw)), key=raw.__getitem__)
    return {"preset": preset, "image": image, "size": size, "seed": seed, "precision": precision,
            "net": net_json(preset), "ema": ema, "noisy_psnr": round(psnr(y, clean), 3), **own,
            "best_raw": round(raw[i_raw], 3), "best_raw_iter": i_raw + 1,
            "iterations": r.iterations, "peak_inside": r.iterations - own["best_avg_iter"] >= patience,
            "s_step": round(r.seconds / r.iterations, 5), "threads": torch.get_num_threads(),
            "curve_every": CURVE_EVERY, "machine": machine(), "torch": torch.__version__,
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "date": time.strftime("%Y-%m-%d"), **({"emas": extra.rows(h["seconds"])} if emas else {})}


def summary(table: dict) -> str:
    """Markdown: every row, then paired fp32/bf16 differences where both exist."""
    rows = sorted(table["rows"], key=lambda r: (r["preset"], r["size"], r["image"], r["seed"], r["precision"]))
    out = ["| preset | size | image | seed | precision | best avg dB @ it | best raw dB | s/step | peak inside |",
           "|---|---:|---|---:|---|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {r['preset']} | {r['size']} | {r['image']} | {r['seed']} | {r['precision']} | "
                   f"{r['best_avg']:.2f} @ {r['best_avg_iter']} | {r['best_raw']:.2f} | {r['s_step']:.3f} | "
                   f"{'yes' if r['peak_inside'] else 'no'} |")
    # a pair is the same net (row_key holds it: a preset may change) in both precisions
    by = {row_key(r): r for r in rows}
    pairs = [(r, by.get(row_key({**r, "precision": "bf16"}))) for r in rows if r["precision"] == "fp32"]
    pairs = [(a, b) for a, b in pairs if b is not None]
    if pairs:
        out += ["", "| preset | size | image | seeds | fp32 mean dB | bf16 mean dB | bf16 - fp32 dB (per seed) | "
                    "fp32 s/step | bf16 s/step | speed-up |", "|---|---:|---|---:|---:|---:|---|---:|---:|---:|"]
        groups: dict[tuple, list] = {}
        for a, b in pairs:
            groups.setdefault((a["preset"], a["size"], a["image"]), []).append((a, b))
        for key in sorted(groups):
            ps = groups[key]
            fa = statistics.mean(a["best_avg"] for a, _ in ps)
            fb = statistics.mean(b["best_avg"] for _, b in ps)
            sa = statistics.mean(a["s_step"] for a, _ in ps)
            sb = statistics.mean(b["s_step"] for _, b in ps)
            diffs = ", ".join(f"{b['best_avg'] - a['best_avg']:+.2f}" for a, b in ps)
            out.append(f"| {key[0]} | {key[1]} | {key[2]} | {len(ps)} | {fa:.2f} | {fb:.2f} | {fb - fa:+.2f} "
                       f"({diffs}) | {sa:.3f} | {sb:.3f} | {sa / sb:.2f}x |")
        out += ["", "| preset | size | fits | mean bf16 - fp32 dB | sd | worst image mean |",
                "|---|---:|---:|---:|---:|---:|"]
        for preset, size in sorted({(a["preset"], a["size"]) for a, _ in pairs}):
            d = [b["best_avg"] - a["best_avg"] for a, b in pairs if (a["preset"], a["size"]) == (preset, size)]
            per_image = [statistics.mean(b["best_avg"] - a["best_avg"] for a, b in ps)
                         for k, ps in groups.items() if k[:2] == (preset, size)]
            sd = statistics.stdev(d) if len(d) > 1 else float("nan")
            out.append(f"| {preset} | {size} | {len(d)} | {statistics.mean(d):+.3f} | {sd:.3f} | "
                       f"{min(per_image):+.2f} |")
        # pairs that also followed more averaging weights (--emas): bf16 against fp32 there too
        by_weight: dict[tuple, list] = {}
        for a, b in pairs:
            for ema in sorted(a.get("emas", {}).keys() & b.get("emas", {}).keys()):
                d = b["emas"][ema]["best_avg"] - a["emas"][ema]["best_avg"]
                by_weight.setdefault((a["preset"], a["size"], ema), []).append(d)
        if by_weight:
            out += ["", "| preset | size | averaging weight | pairs | mean bf16 - fp32 dB | range |",
                    "|---|---:|---:|---:|---:|---|"]
            for (preset, size, ema), d in sorted(by_weight.items()):
                out.append(f"| {preset} | {size} | {ema} | {len(d)} | {statistics.mean(d):+.3f} | "
                           f"{min(d):+.2f} to {max(d):+.2f} |")
    return "\n".join(out)


def averaging(table: dict) -> str:
    """Markdown: for the rows that followed more averaging weights (``--emas``), each weight's best
    averaged PSNR minus the paper's weight (0.99) in the same fit, per preset and size."""
    groups: dict[tuple, list] = {}
    for r in table["rows"]:
        if "emas" not in r:
            continue
        # every weight this fit followed: its own and the extra ones
        weights = {r.get("ema", EMA): {"best_avg": r["best_avg"], "best_avg_iter": r["best_avg_iter"]},
                   **{float(k): e for k, e in r["emas"].items()}}
        if EMA not in weights:
            continue
        for ema, e in weights.items():
            if ema != EMA:
                groups.setdefault((r["preset"], r["size"], ema), []).append((weights[EMA], e))
    if not groups:
        return ""
    out = [f"| preset | size | averaging weight | fits | best averaged dB minus at {EMA:g}: mean | range | "
           f"fits that gained | mean iteration of the peak (at {EMA:g}) |", "|---|---:|---:|---:|---:|---|---:|---:|"]
    for (preset, size, ema), es in sorted(groups.items()):
        d = [e["best_avg"] - base["best_avg"] for base, e in es]
        peak = statistics.mean(e["best_avg_iter"] for _, e in es)
        own = statistics.mean(base["best_avg_iter"] for base, _ in es)
        out.append(f"| {preset} | {size} | {ema:g} | {len(d)} | {statistics.mean(d):+.2f} | "
                   f"{min(d):+.2f} to {max(d):+.2f} | {sum(x > 0 for x in d)} | {peak:.0f} ({own:.0f}) |")
    return "\n".join(out)


def against_lab(table: dict, baseline: dict, base: str = "lab") -> str:
    """Markdown: each candidate's fit beside the ``base`` fit (for ``lab``: :data:`SCREENED_LAB`) of the
    same image, size, seed and precision (from ``baseline``), and the base's seed mean and spread there,
    to tell a gain from seed noise; then per candidate and size, the mean of those differences."""
    base_net = config_json(SCREENED_LAB if base == "lab" else net_config(base))
    base_rows = [r for r in baseline["rows"] if r["preset"] == base and r["net"] == base_net]
    out = [f"| candidate | size | image | seed | precision | dB | {base} dB (same seed) | difference | "
           f"{base} mean ± sd (seeds) | s/step / {base}'s |", "|---|---:|---|---:|---|---:|---:|---:|---:|---:|"]
    rows = sorted((r for r in table["rows"] if r["preset"] in CANDIDATES and r["preset"] != base),
                  key=lambda r: (r["size"], r["image"], r["preset"], r["seed"], r["precision"]))
    pairs: dict[tuple, list] = {}       # (candidate, size) -> [(its fit, the base's fit of the same seed)]
    for r in rows:
        same = [b for b in base_rows if (b["image"], b["size"], b["precision"]) == (r["image"], r["size"], r["precision"])]
        twin = next((b for b in same if b["seed"] == r["seed"]), None)
        if twin is None:
            continue
        dbs = [b["best_avg"] for b in same]
        sd = statistics.stdev(dbs) if len(dbs) > 1 else float("nan")
        out.append(f"| {r['preset']} | {r['size']} | {r['image']} | {r['seed']} | {r['precision']} | "
                   f"{r['best_avg']:.2f} | {twin['best_avg']:.2f} | {r['best_avg'] - twin['best_avg']:+.2f} | "
                   f"{statistics.mean(dbs):.2f} ± {sd:.2f} ({len(dbs)}) | {r['s_step'] / twin['s_step']:.2f} |")
        pairs.setdefault((r["preset"], r["size"]), []).append((r, twin))
    out += ["", f"| candidate | size | fits | best averaged dB minus {base}'s: mean | range | best raw dB minus "
                f"{base}'s: mean | mean iteration of the peak ({base}'s) |", "|---|---:|---:|---:|---|---:|---:|"]
    for (preset, size), ps in sorted(pairs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        d = [r["best_avg"] - b["best_avg"] for r, b in ps]
        raw = statistics.mean(r["best_raw"] - b["best_raw"] for r, b in ps)
        peak, base_peak = (statistics.mean(x["best_avg_iter"] for x in xs) for xs in zip(*ps))
        out.append(f"| {preset} | {size} | {len(d)} | {statistics.mean(d):+.2f} | {min(d):+.2f} to {max(d):+.2f} | "
                   f"{raw:+.2f} | {peak:.0f} ({base_peak:.0f}) |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("table", type=Path, nargs="+",
                   help="the JSON table to read and extend (with --summary: one or more, read together)")
    p.add_argument("--presets", default="paper")
    p.add_argument("--images", default="coffee,astronaut,chelsea,camera")
    p.add_argument("--sizes", default="128")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--precisions", default="fp32")
    p.add_argument("--budget", type=int, default=4000, help="most iterations per fit")
    p.add_argument("--patience", type=int, default=200,
                   help="stop once the averaged PSNR has not improved for this many iterations")
    p.add_argument("--max-fits", type=int, default=0, help="stop after this many new fits (0 = all)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--emas", default="", help="more averaging weights to follow in each new fit, e.g. 0.995,0.998")
    p.add_argument("--summary", action="store_true", help="print the table as Markdown and exit")
    p.add_argument("--against-lab", type=Path, default=None, metavar="TABLE",
                   help="with --summary: compare the candidate nets' rows with lab's rows in TABLE")
    p.add_argument("--base", default="lab", metavar="PRESET",
                   help="with --against-lab: the preset or candidate to compare with (lab: as screened, at 1/30)")
    args = p.parse_args(argv)
    if args.summary:
        table = {"rows": [r for path in args.table for r in load_table(path)["rows"]]}
        print(summary(table))
        if any("emas" in r for r in table["rows"]):
            print("\n" + averaging(table))
        if args.against_lab:
            print("\n" + against_lab(table, load_table(args.against_lab), args.base))
        return 0
    if len(args.table) > 1:
        p.error("fits go into one table; name several only with --summary")
    args.table = args.table[0]
    table = load_table(args.table)
    emas = tuple(float(e) for e in args.emas.split(",") if e)
    if any(not 0 < e < 1 for e in emas):
        p.error(f"--emas are weights between 0 and 1, got {args.emas}")
    settings.configure_threads(args.threads)
    settings.set_mode("lab")
    done = {row_key(r) for r in table["rows"]}
    todo = [(pr, im, int(sz), int(sd), pc)
            for sz in args.sizes.split(",") for im in args.images.split(",") for sd in args.seeds.split(",")
            for pr in args.presets.split(",") for pc in args.precisions.split(",")]
    todo = [t for t in todo if row_key({"preset": t[0], "image": t[1], "size": t[2], "seed": t[3], "precision": t[4],
                                        "net": net_json(t[0]), "ema": ema_for(t[0], t[2])}) not in done]
    if not todo:
        print("nothing left to fit", file=sys.stderr)
        return 3
    for n, (preset, image, size, seed, prec) in enumerate(todo):
        if args.max_fits and n >= args.max_fits:
            break
        t = time.perf_counter()
        row = fit_row(preset, image, size, seed, prec, args.budget, args.patience, args.device, emas)
        table = load_table(args.table)          # another call may have added rows meanwhile
        table["rows"].append(row)
        save_table(args.table, table)
        print(f"{preset} {image} {size} seed {seed} {prec}: best avg {row['best_avg']:.2f} dB @ "
              f"{row['best_avg_iter']}, {row['s_step']:.3f} s/step, {time.perf_counter() - t:.0f} s, "
              f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
