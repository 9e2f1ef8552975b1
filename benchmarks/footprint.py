"""What one student needs: wall time, CPU seconds and peak memory per notebook.

::

    python benchmarks/footprint.py                      # every notebook, lab mode
    python benchmarks/footprint.py --mode test notebooks/00_welcome.ipynb
    python benchmarks/footprint.py --keep /tmp/executed notebooks/04_deep_image_prior.ipynb   # keep the outputs

Each notebook runs top to bottom in a fresh kernel, as "Restart and Run All" would (the
live views in their headless form: the same fits, without a browser). At the end the
kernel reports its own CPU time (user + system, all threads, plus any child processes)
and its peak resident memory (``ru_maxrss``). An idle JupyterLab server, which every
Hub user also runs, is measured once. Prints a Markdown table; the README turns it into
sizing advice for a JupyterHub. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from build_html import course_notebooks  # noqa: E402  (the same list of lessons as the HTML build)

MARK = "DIP_TEACH_FOOTPRINT "
#: the last cell, run by the kernel itself: its CPU time and high-water mark of memory
REPORT_CELL = f"""\
import json as _j, resource as _r, sys as _s
from dip_teach import settings as _settings
_me, _kids = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)
_unit = 1 if _s.platform == "darwin" else 1024          # ru_maxrss: bytes on macOS, KiB on Linux
print({MARK!r} + _j.dumps({{"cpu_s": _me.ru_utime + _me.ru_stime + _kids.ru_utime + _kids.ru_stime,
                           "peak_mb": max(_me.ru_maxrss, _kids.ru_maxrss) * _unit / 2**20,
                           "mode": _settings.get_mode().name}}))"""


def measure(path: Path, timeout: int = 3600, keep: Path | None = None) -> dict:
    """Run one notebook in a fresh kernel; its wall seconds, CPU seconds and peak memory (MiB).

    With ``keep``, the executed notebook (outputs included) is written there, to read its numbers.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - start
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / path.name)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    report = json.loads(text.split(MARK, 1)[1])
    return {"notebook": path.stem, "wall_s": wall, **report}


def idle_server_mb() -> float | None:
    """Resident memory of a JupyterLab server with no kernel, a few seconds after it started."""
    try:
        import psutil
    except ImportError:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=tmp)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                return None
            time.sleep(3)
            return psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(15)


def minutes(seconds: float) -> str:
    """``75.3`` -> ``'1:15'`` (minutes:seconds)."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("test", "lab", "full"), default="lab", help="run mode (default lab)")
    parser.add_argument("--no-server", action="store_true", help="skip measuring the idle JupyterLab server")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks (with outputs) to this folder")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    args = parser.parse_args(argv)
    from tqdm.auto import tqdm

    os.environ["DIP_TEACH_MODE"] = args.mode       # the kernels inherit it
    os.environ["DIP_TEACH_HEADLESS"] = "1"
    notebooks = [p.resolve() for p in args.notebooks] or course_notebooks()
    rows = []
    for path in (bar := tqdm(notebooks, unit="notebook", desc="footprint")):
        bar.set_postfix_str(path.stem)
        rows.append(measure(path, keep=args.keep))
    import torch

    print(f"\nrun mode `{args.mode}`, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}\n")
    modes = sorted({r["mode"] for r in rows})
    if modes != [args.mode]:
        print(f"warning: the kernels ran in mode(s) {modes}, not {args.mode!r}", file=sys.stderr)
    print("| notebook | wall time (m:s) | CPU time (m:s) | CPU cores used (CPU / wall) | peak kernel memory |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['notebook']} | {minutes(r['wall_s'])} | {minutes(r['cpu_s'])} | "
              f"{r['cpu_s'] / r['wall_s']:.1f} | {r['peak_mb']:.0f} MiB |")
    total_wall, total_cpu = sum(r["wall_s"] for r in rows), sum(r["cpu_s"] for r in rows)
    print(f"| all | {minutes(total_wall)} | {minutes(total_cpu)} | {total_cpu / total_wall:.1f} | "
          f"{max(r['peak_mb'] for r in rows):.0f} MiB (largest) |")
    if not args.no_server:
        server = idle_server_mb()
        print(f"\nidle JupyterLab server: {server:.0f} MiB" if server else "\nidle JupyterLab server: not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
