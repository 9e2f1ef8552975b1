"""Fetch ImageNet AlexNet's weights once, into torch's hub cache, and verify them (``make weights``).

Notebook 09 uses torchvision's AlexNet when its weights are in ``$TORCH_HOME/hub/checkpoints``
(by default ``~/.cache/torch/hub/checkpoints``), where :func:`dip_teach.classifier.load` looks
first; otherwise it takes the offline path. Run this once on a machine with network access
(or copy the file into that folder from one that has it); afterwards the notebooks never
touch the network.

The check: torchvision names its files ``<name>-<first 8 hex digits of the SHA-256>.pth``.
The script computes the file's whole SHA-256, requires it to start with those digits, and,
when ``--sha256`` gives a full digest, to equal it; then it loads the weights into the kit's
AlexNet. A download goes to a temporary file first and is moved into the cache only when it
passes, so an interrupted or altered download is never kept.

Usage::

    python scripts/fetch_weights.py                    # torchvision's AlexNet into torch's cache
    python scripts/fetch_weights.py --sha256 <64 hex digits>
    python scripts/fetch_weights.py --url file:///path/to/alexnet-owt-7be5be79.pth
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dip_teach import classifier, files  # noqa: E402


def verify(path: Path, full: str | None) -> str:
    """Check ``path`` against the digest prefix in its name (and ``full`` if given); return the digest."""
    digest = files.sha256(path)
    prefix = files.hash_in_name(path.name)
    if prefix is None:
        raise SystemExit(f"{path.name}: the name carries no SHA-256 prefix (expected '<name>-<hex>.pth')")
    if not digest.startswith(prefix):
        raise SystemExit(f"{path.name}: SHA-256 {digest} does not start with {prefix}: the file is damaged")
    if full and digest != full.lower():
        raise SystemExit(f"{path.name}: SHA-256 {digest} differs from the expected {full}")
    return digest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Download and verify ImageNet AlexNet's weights into torch's cache.")
    p.add_argument("--url", default=classifier.ALEXNET_URL)
    p.add_argument("--sha256", default=None, help="the whole expected SHA-256 (64 hex digits), checked if given")
    a = p.parse_args(argv)
    target = Path(torch.hub.get_dir()) / "checkpoints" / Path(a.url).name
    if target.exists():
        digest = verify(target, a.sha256)
        print(f"already in the cache: {target} (SHA-256 {digest})")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            part = Path(tmp) / target.name
            print(f"downloading {a.url}")
            try:
                torch.hub.download_url_to_file(a.url, str(part), progress=True)
            except Exception as err:  # no network, proxy, HTTP error: say so in one line
                raise SystemExit(f"download failed ({type(err).__name__}: {err}); the notebooks keep the offline path")
            digest = verify(part, a.sha256)
            part.replace(target)
        print(f"saved {target} (SHA-256 {digest})")
    clf = classifier.load_alexnet(a.url, download=False)
    print(f"AlexNet loads: {clf.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
