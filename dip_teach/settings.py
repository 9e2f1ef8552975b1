"""Run modes, devices, budgets and seeds: the one place that decides how big things are.

Every notebook and script asks this module how large an image to use, how many
iterations to run and which network preset to build. Notebooks never hard-code
numbers per mode; they declare a budget at *full* (paper) scale and let the mode
scale it::

    >>> from dip_teach import settings
    >>> settings.set_mode("test").name
    'test'
    >>> settings.iterations(3000)       # the paper's budget, scaled for the test mode
    180
    >>> settings.set_mode(None)         # back to $DIP_TEACH_MODE (or the device's default)

Three modes exist (the table is :data:`MODES`; the README explains when to use each):

``test``  nbval and CI on a CPU: every notebook in about a minute.
``lab``   the default on a CPU: the whole story on a 2-core laptop in minutes.
``full``  the default on a GPU: paper-scale sizes and iteration counts.

The mode comes from, in order: :func:`set_mode` called in code, the environment
variable ``DIP_TEACH_MODE``, then the device (``full`` on a GPU, ``lab`` otherwise).
The device comes from ``DIP_TEACH_DEVICE`` if set, else CUDA, then Apple MPS, then CPU.
Torch's threads come from ``DIP_TEACH_THREADS`` if set, else the cores the process may
really use (its affinity, capped by a container's CPU quota): see :func:`configure_threads`.
A fit's arithmetic (fp32, or bf16 where the hardware has it and the benchmark showed it
keeps quality) comes from :func:`precision`; ``DIP_TEACH_BF16=0`` keeps everything in fp32.
"""
from __future__ import annotations

import os
import platform
import random
from dataclasses import dataclass, asdict
from pathlib import Path

import numpy as np
import PIL
import skimage
import torch

MODE_ENV = "DIP_TEACH_MODE"
DEVICE_ENV = "DIP_TEACH_DEVICE"


@dataclass(frozen=True)
class RunMode:
    """Sizes and budgets of one run mode.

    Attributes
    ----------
    name : str
        ``"test"``, ``"lab"`` or ``"full"``.
    image_size : int
        Default side (pixels) of the square crops the notebooks work on.
    max_image_size : int
        Largest side :func:`dip_teach.images.prepare` lets through before it
        downscales; protects a laptop from a 4000x3000 photo.
    iteration_scale : float
        Factor applied to budgets declared at full (paper) scale.
    min_iterations : int
        Floor of every scaled budget, so short runs still show the story.
    net : str
        Name of the generator preset in :mod:`dip_teach.nets` used by default.
    snapshots : int
        How many log-spaced snapshots a fit keeps for scrubbing.
    """

    name: str
    image_size: int
    max_image_size: int
    iteration_scale: float
    min_iterations: int
    net: str
    snapshots: int


# The numbers below are the only per-mode numbers in the kit.  ``lab`` is chosen
# by measurement on a 2-core CPU (see benchmarks/dip_speed.py and the README).
MODES: dict[str, RunMode] = {
    "test": RunMode("test", image_size=64, max_image_size=128, iteration_scale=0.06,
                    min_iterations=20, net="tiny", snapshots=8),
    "lab": RunMode("lab", image_size=128, max_image_size=512, iteration_scale=0.4,
                   min_iterations=50, net="lab", snapshots=16),
    "full": RunMode("full", image_size=256, max_image_size=1024, iteration_scale=1.0,
                    min_iterations=100, net="paper", snapshots=24),
}

_mode_override: str | None = None


class DeviceError(RuntimeError):
    """``DIP_TEACH_DEVICE`` names a device this machine does not have; the message says what to do."""


def _check_mode_name(name: str, where: str) -> str:
    name = name.strip().lower()
    if name not in MODES:
        raise ValueError(
            f"unknown run mode {name!r} (from {where}); choose one of "
            f"{', '.join(MODES)}, e.g. {MODE_ENV}=lab"
        )
    return name


def get_device() -> torch.device:
    """Return the device fits run on: ``DIP_TEACH_DEVICE``, else CUDA, MPS, CPU."""
    wanted = os.environ.get(DEVICE_ENV, "").strip().lower()
    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise DeviceError(f"{DEVICE_ENV}={wanted} but torch sees no CUDA GPU; unset it to use the CPU")
        if wanted == "mps" and not _mps_available():
            raise DeviceError(f"{DEVICE_ENV}=mps but Apple MPS is not available; unset it to use the CPU")
        try:
            return torch.device(wanted)
        except RuntimeError:
            raise DeviceError(f"{DEVICE_ENV}={wanted} is not a device torch knows; use cpu, cuda or mps") from None
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def set_mode(name: str | None) -> RunMode | None:
    """Choose the run mode in code and return it; ``None`` goes back to the environment/default."""
    global _mode_override
    _mode_override = None if name is None else _check_mode_name(name, "set_mode()")
    return None if name is None else get_mode()


def get_mode() -> RunMode:
    """Return the active :class:`RunMode` (see the module docstring for the order)."""
    if _mode_override is not None:
        return MODES[_mode_override]
    env = os.environ.get(MODE_ENV, "")
    if env.strip():
        return MODES[_check_mode_name(env, f"${MODE_ENV}")]
    return MODES["lab" if get_device().type == "cpu" else "full"]


def iterations(full: int, mode: RunMode | str | None = None, at_least: int = 0) -> int:
    """Scale an iteration budget declared at full (paper) scale to the active mode.

    Parameters
    ----------
    full : int
        The budget at full scale, e.g. 3000 for the paper's denoising runs.
    mode : RunMode or str, optional
        Mode to scale for; the active mode by default.
    at_least : int
        A floor that holds in every mode, for an experiment whose lesson needs a
        number of steps whatever the scale (e.g. a fit that must run past its peak).

    Returns
    -------
    int
        ``max(min_iterations, at_least, round(full * iteration_scale))`` but never more
        than ``max(full, at_least)``.
    """
    m = _as_mode(mode)
    if full <= 0:
        raise ValueError(f"an iteration budget must be positive, got {full}")
    scaled = min(full, max(m.min_iterations, round(full * m.iteration_scale)))
    return int(max(scaled, at_least))


def image_size(full: int | None = None, mode: RunMode | str | None = None) -> int:
    """Side of the square crop to work on in the active mode.

    ``image_size()`` gives the mode's default; ``image_size(512)`` says "512 at full
    scale" and returns it scaled by the same ratio as the default sizes.
    """
    m = _as_mode(mode)
    if full is None:
        return m.image_size
    scaled = full * m.image_size / MODES["full"].image_size
    return max(32, int(round(scaled / 32)) * 32)


def _as_mode(mode: RunMode | str | None) -> RunMode:
    if mode is None:
        return get_mode()
    if isinstance(mode, RunMode):
        return mode
    return MODES[_check_mode_name(mode, "argument")]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, numpy and torch so CPU runs repeat exactly; return a torch generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


THREADS_ENV = "DIP_TEACH_THREADS"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """CPUs this process may use under its cgroup's CPU quota, or ``None`` when there is none.

    A container or a JupyterHub pod with ``cpu.limit: 2`` on a 32-core node sees all 32
    cores in its affinity mask but gets 2 cores' worth of time: 32 threads would spend most
    of it throttled. The quota is read from cgroup v2 (``cpu.max``) or v1
    (``cpu.cfs_quota_us / cpu.cfs_period_us``) for the process's own cgroup and each of its
    parents (the smallest wins).

    Parameters
    ----------
    root : Path
        Where the cgroup file systems are mounted.
    proc_cgroup : Path
        The process's cgroup membership file (a parameter so tests can fake both).

    Returns
    -------
    float or None
        e.g. ``1.5`` for ``cpu.max = "150000 100000"``; ``None`` when unlimited or unreadable.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    quotas = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":   # cgroup v2: at the root (unified) or under "unified" (hybrid)
            bases = [root, root / "unified"]
            read = _quota_v2
        elif "cpu" in controllers.split(","):
            bases = [root / "cpu", root / "cpu,cpuacct", root / controllers]
            read = _quota_v1
        else:
            continue
        for base in bases:
            d = base / rel
            while True:                     # the cgroup itself and every parent up to the mount
                q = read(d)
                if q is not None:
                    quotas.append(q)
                if d == base:
                    break
                d = d.parent
    return min(quotas) if quotas else None


def _quota_v2(d: Path) -> float | None:
    try:
        quota, period = (d / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(d: Path) -> float | None:
    try:
        quota = int((d / "cpu.cfs_quota_us").read_text())
        period = int((d / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def available_cpus() -> int:
    """Cores this process may really use: its affinity mask, capped by the cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        n = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        n = min(n, max(1, int(quota)))   # round down: a thread beyond the quota only waits
    return max(1, n)


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads and return how many: ``n``, else ``DIP_TEACH_THREADS``,
    else every core this process may use (:func:`available_cpus`).

    On a 2-core laptop both cores go to the convolution kernels; torch's default can
    pick more threads than cores on some systems, which slows small networks down. On a
    shared server set ``DIP_TEACH_THREADS=1``: two fits with two threads each on two
    cores run about 5x slower each (the OpenMP teams fight), with one thread each they
    lose almost nothing.
    """
    if n is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        if env:
            if not env.isdigit() or int(env) < 1:
                raise ValueError(f"{THREADS_ENV}={env!r}: give a whole number of threads, 1 or more")
            n = int(env)
        else:
            n = available_cpus()
    if int(n) < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    n = int(n)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


PRECISION_ENV = "DIP_TEACH_BF16"
#: The arithmetic a fit can use: full fp32, or the network's forward pass in bfloat16.
PRECISIONS = ("fp32", "bf16")
#: The benchmark's verdict: does bf16 keep a fit's best averaged PSNR within 0.1 dB of
#: fp32?  Only then is bf16 the default where the hardware has it. Measured with paired
#: fits (same image, noise and seed; benchmarks/bf16_quality.json, made by
#: benchmarks/fit_table.py): the ``lab`` net with input noise 1/30 on 4 training images
#: x 3 seeds, bf16 minus fp32 = -0.03 dB at 128 px and +0.09 dB at 256 px on the mean of
#: 12 pairs (single pairs -0.34 to +0.70 dB: a bf16 fit wanders like another seed); the
#: paper net at 128 px on 2 images x 3 seeds, +0.00 dB. ``lab`` as it denoises now (1/15,
#: benchmarks/bf16_quality_noise15.json, output averaging 0.99): +0.00 dB at 128 px and
#: -0.02 dB at 256 px (12 pairs each); with 256 px's longer averaging (0.995), -0.05 dB on
#: the 4 pairs that followed it.
BF16_KEEPS_QUALITY = True
#: bf16 is on by default where the three conditions above hold; ``False`` here (or
#: ``DIP_TEACH_BF16=0``) keeps every fit in fp32.
BF16_DEFAULT = True
#: bf16 pays only for networks with enough arithmetic per forward pass: below this the
#: conversions cost more than AMX saves (``python benchmarks/dip_speed.py --steps``: the
#: tiny net at 64 px, 0.03 GMAC, ran 0.79x as fast in bf16; at 128 px, 0.11 GMAC, 1.18x).
BF16_MIN_GMAC = 0.1


def bf16_native(device: str | torch.device | None = None) -> bool:
    """Does ``device`` compute in bfloat16 natively (so bf16 is faster, not emulated)?

    CUDA: ``torch.cuda.is_bf16_supported()`` (Ampere and later). CPU: the x86 AMX-BF16 or
    AVX512-BF16 instructions, read from ``/proc/cpuinfo`` (Linux; elsewhere ``False``:
    without them torch emulates bf16 and a fit gets slower, not faster).
    """
    device = torch.device(get_device() if device is None else device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def precision(device: str | torch.device | None = None, gmac: float | None = None) -> str:
    """The arithmetic a fit uses on ``device``: ``"bf16"`` or ``"fp32"``.

    ``DIP_TEACH_BF16=0`` gives fp32 and ``DIP_TEACH_BF16=1`` bf16 whatever the hardware
    (slow where it is emulated; for comparisons). Unset, bf16 is used where the device
    has it natively (:func:`bf16_native`), the benchmark found it keeps quality
    (:data:`BF16_KEEPS_QUALITY`), it is on by default (:data:`BF16_DEFAULT`) and the network
    is big enough for it to pay: ``gmac``,
    its multiply-accumulates per forward pass in billions, at least :data:`BF16_MIN_GMAC`
    (``None``: assume it is). Otherwise fp32.
    """
    env = os.environ.get(PRECISION_ENV, "").strip().lower()
    if env in ("0", "off", "false", "no"):
        return "fp32"
    if env in ("1", "on", "true", "yes"):
        return "bf16"
    if env:
        raise ValueError(f"{PRECISION_ENV}={env!r}: use 0 to keep fits in fp32, 1 to force bf16, "
                         f"or unset it for the default")
    if not (BF16_DEFAULT and BF16_KEEPS_QUALITY and bf16_native(device)):
        return "fp32"
    return "bf16" if gmac is None or gmac >= BF16_MIN_GMAC else "fp32"


def precision_reason(device: str | torch.device | None = None) -> str:
    """One line for notebook 00: why fits use the precision they use here."""
    chosen = precision(device)
    if os.environ.get(PRECISION_ENV, "").strip():
        return f"{chosen}, set by ${PRECISION_ENV}"
    native = bf16_native(device)
    if not native:
        return "fp32: this device has no native bfloat16"
    if not BF16_KEEPS_QUALITY:
        return "fp32: this device has bfloat16, but the benchmark found it costs quality"
    if not BF16_DEFAULT:
        return f"fp32: this device has bfloat16 and it keeps quality, but it is switched off (settings.BF16_DEFAULT)"
    return (f"bf16 for networks of {BF16_MIN_GMAC:g} GMAC per forward pass or more: this device has it natively "
            f"and it keeps quality (set {PRECISION_ENV}=0 for fp32)")


def report() -> dict:
    """Everything notebook 00 shows about this machine: device, mode, versions, threads."""
    device = get_device()
    mode = get_mode()
    info = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or platform.machine(),
        "mode": mode.name,
        "mode_source": ("set_mode()" if _mode_override else f"${MODE_ENV}" if os.environ.get(MODE_ENV, "").strip()
                        else "default for this device"),
        "how_to_change_mode": f"set {MODE_ENV}=test|lab|full before starting Jupyter, or call dip_teach.settings.set_mode('lab')",
        "threads": torch.get_num_threads(),
        "precision": precision_reason(device),
        "cpu_quota": cpu_quota(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-image": skimage.__version__,
        "pillow": PIL.__version__,
    }
    info.update({f"mode.{k}": v for k, v in asdict(mode).items() if k != "name"})
    return info


def format_report(info: dict | None = None) -> str:
    """Return :func:`report` as aligned ``key: value`` lines for printing."""
    info = report() if info is None else info
    width = max(len(k) for k in info)
    return "\n".join(f"{k:<{width}} : {v}" for k, v in info.items())
