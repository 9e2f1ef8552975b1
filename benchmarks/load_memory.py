"""Peak memory of loading big image files: a 48-megapixel photo at ``size=128``, and refused bombs.

::

    python benchmarks/load_memory.py            # prints a Markdown table

The files are made in a temporary folder: a smooth 8000x6000 JPEG (a phone photo's size),
the same picture as a PNG, and two PNG "decompression bombs" (a few hundred KB that decode
to 100 and 200 megapixels). Each load runs in a fresh Python process that has already
imported ``dip_teach`` (and so torch); reported are that process's peak resident memory
(``ru_maxrss``) after the imports (the baseline), after the load, and the rise between them,
in MB (0: the load stayed under the imports' high-water mark). The goal for the photo is a
rise under 400 MB (the README recommends 2 GiB per student on a Hub).
"""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

#: run in the child: import first (the baseline), then load, then report the rise of the peak
CHILD = r"""
import json, resource, sys
from dip_teach import images
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    x = images.load(sys.argv[1], size=int(sys.argv[2]))
    outcome = "loaded %dx%d" % x.shape[:2]
except images.ImageError as err:
    outcome = "refused: " + str(err).split("(")[1].split(";")[0]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "peak_rise_mb": (after - before) / 1024, "peak_mb": after / 1024,
                  "baseline_mb": before / 1024}))
"""


def make_photo(folder: Path, width: int = 8000, height: int = 6000) -> dict[str, Path]:
    """A smooth colour picture of ``width x height`` (48 megapixels by default) as JPEG and PNG."""
    from PIL import Image

    ramp = Image.linear_gradient("L")
    channels = [ramp.resize((width, height)), ramp.rotate(90).resize((width, height)),
                ramp.rotate(45).resize((width, height))]
    photo = Image.merge("RGB", channels)
    jpeg, png = folder / f"photo_{width}x{height}.jpg", folder / f"photo_{width}x{height}.png"
    photo.save(jpeg, quality=85)
    photo.save(png, compress_level=1)
    return {"photo, JPEG": jpeg, "photo, PNG": png}


def make_bomb(path: Path, width: int, height: int) -> Path:
    """A valid grey PNG of ``width x height`` zeros: a few hundred KB that decode to ``width * height`` bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (width + 1)                    # filter byte + one row of black pixels
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def measure(path: Path, size: int = 128, memory_limit_gb: float = 8.0) -> dict:
    """Load ``path`` at ``size`` in a fresh process (its address space capped) and report the peak rise."""
    limit = int(memory_limit_gb * 2**30)
    cap = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
    proc = subprocess.run([sys.executable, "-c", cap + CHILD, str(path), str(size)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"outcome": f"crashed: {last[:60]}", "peak_rise_mb": float("nan"), "peak_mb": float("nan"),
                "baseline_mb": float("nan")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_photo(folder)
        files["bomb 100 MP"] = make_bomb(folder / "bomb_100mp.png", 10_000, 10_000)
        files["bomb 200 MP"] = make_bomb(folder / "bomb_200mp.png", 20_000, 10_000)
        print("| file | on disk (MB) | outcome at size=128 | peak after imports (MB) | peak after load (MB) "
              "| rise (MB) |")
        print("|---|---:|---|---:|---:|---:|")
        for name, path in files.items():
            row = measure(path)
            print(f"| {name} | {path.stat().st_size / 1e6:.2f} | {row['outcome']} | {row['baseline_mb']:.0f} | "
                  f"{row['peak_mb']:.0f} | {row['peak_rise_mb']:.0f} |")


if __name__ == "__main__":
    main()
