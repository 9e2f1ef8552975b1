"""Make the README's pictures from the kit's own output: ``docs/img/*.png``.

::

    python scripts/make_readme_images.py                 # all of them, lab mode (minutes)
    python scripts/make_readme_images.py --only tasks    # one of: dashboard, race, tasks

* ``dashboard.png``: the workshop app (``make demo``) mid-fit, a screenshot taken by
  Chromium through Playwright (needs both, as the browser tests do);
* ``race.png``: the race of notebook 05 (natural image, +noise, shuffled, white noise);
* ``tasks.png``: observation, Deep Image Prior result and clean image for denoising,
  inpainting and 4x super-resolution.

The fits run in the current run mode (``--mode``, default ``lab``: what a laptop shows
in class), seed 0. The PNGs are reduced to 256 colours to stay small enough to commit.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("DIP_TEACH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def save_small(fig_or_path, path: Path, width: int = 1000) -> Path:
    """Save a matplotlib figure (or re-save a PNG) at most ``width`` px wide with 256 colours."""
    from PIL import Image

    if isinstance(fig_or_path, (str, Path)):
        img = Image.open(fig_or_path).convert("RGB")
    else:
        import io

        buf = io.BytesIO()
        fig_or_path.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        buf.seek(0)
        img = Image.open(buf).convert("RGB")
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    img.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"wrote {path} ({img.width}x{img.height}, {path.stat().st_size // 1024} KiB)")
    return path


@contextlib.contextmanager
def serve_demo(mode: str = "test", log_dir: Path | None = None):
    """Serve ``demo/workshop.ipynb`` with Voila on a free loopback port; yield ``(url, log_path)``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="dip_demo_"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "DIP_TEACH_HEADLESS")}
    env.update(DIP_TEACH_MODE=mode, JUPYTER_CONFIG_DIR=str(log_dir / "config"),
               JUPYTER_RUNTIME_DIR=str(log_dir / "runtime"))
    cmd = [sys.executable, "-m", "voila", str(ROOT / "demo" / "workshop.ipynb"), "--no-browser",
           "--Voila.ip=127.0.0.1", f"--port={port}", "--Voila.port_retries=0", f"--token={token}"]
    log_path = log_dir / "voila.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/static/", timeout=2)
                    break
                except urllib.error.HTTPError:        # any HTTP answer: the server is up
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError("Voila did not start:\n" + log_path.read_text()[-3000:])
                    time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/?token={token}", log_path
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def iteration_count(page) -> int:
    """The iteration counter of the (first) dashboard on a page."""
    return int(page.locator(".dip-iteration .dip-count").first.inner_text(timeout=5000))


def dashboard(mode: str) -> None:
    """Screenshot the workshop app while a denoising fit is a little past its best."""
    from playwright.sync_api import sync_playwright

    with serve_demo(mode) as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.goto(url)
        page.wait_for_selector("button.dip-run", timeout=120_000)
        page.select_option("select", "chelsea")
        page.locator("button.dip-run").click()
        total = int(page.locator(".widget-inline-hbox", has_text="iterations").locator("input").input_value())
        deadline = time.time() + 900
        while iteration_count(page) < 0.6 * total and time.time() < deadline:
            time.sleep(1)
        with tempfile.TemporaryDirectory() as tmp:
            shot = Path(tmp) / "shot.png"
            page.locator(".dip-dashboard, .widget-vbox").first.screenshot(path=str(shot))
            page.locator("button.dip-stop").first.click()
            save_small(shot, OUT / "dashboard.png")
        browser.close()


def race() -> None:
    from dip_teach import live

    r = live.race("astronaut", headless=True)
    save_small(r.static_figure(), OUT / "race.png")


def tasks() -> None:
    """Observation / DIP / clean, one row per task."""
    import torch.nn.functional as F

    from dip_teach import images, plots, settings, workshop
    from dip_teach.fit import Fit, FitConfig
    from dip_teach.metrics import psnr

    rows = [("denoise", "chelsea", 25, "noisy, sigma 25"), ("inpaint", "astronaut", 50, "50% of pixels missing"),
            ("superres", "coffee", 4, "4x smaller")]
    pictures, titles = [], []
    for task, name, knob, what in rows:
        clean = images.load(name, size=settings.image_size())
        op, y = workshop.corrupt(task, clean, knob, seed=0)
        fit = Fit(op, y, clean=clean, config=FitConfig(iterations=settings.iterations(op.paper_iterations), seed=0))
        result = fit.run()
        shown = F.interpolate(y, scale_factor=knob, mode="nearest") if task == "superres" else y
        observed = f"{psnr(shown, clean):.1f} dB" if task != "superres" else "nearest-neighbour zoom"
        pictures += [shown, result.best_image, clean]
        titles += [f"{what} ({observed})", f"Deep Image Prior: {result.psnr_best:.1f} dB", "clean"]
        print(f"{task}: best {result.psnr_best:.2f} dB at {result.iter_best}/{result.iterations} "
              f"in {result.seconds:.0f} s", flush=True)
    save_small(plots.show_images(pictures, titles, ncols=3, size=2.6), OUT / "tasks.png", width=800)


def main(argv: list[str] | None = None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("test", "lab", "full"), default="lab", help="run mode (default lab)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/img)")
    parser.add_argument("--only", choices=("dashboard", "race", "tasks"), action="append",
                        help="make only these pictures (repeatable)")
    args = parser.parse_args(argv)
    OUT = args.out.resolve()
    os.environ["DIP_TEACH_MODE"] = args.mode
    OUT.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    jobs = {"dashboard": lambda: dashboard(args.mode), "race": race, "tasks": tasks}
    for name in args.only or jobs:
        jobs[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
