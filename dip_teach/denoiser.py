"""A learned prior: a small DnCNN-style denoiser trained on patches of the training images.

DnCNN (Zhang et al., 2017) is a plain stack of 3x3 convolutions::

    conv + ReLU  ->  depth x (conv + BatchNorm + ReLU)  ->  conv

Its trick is **residual learning**: the network does not output the clean image,
it outputs the *noise* ``v`` and the denoised image is ``y - v``. Noise is simple
(white, zero mean, one known level) while images are not, so the residual is the
easier function to learn and training converges much faster.

Unlike the Deep Image Prior, this prior is *learned*: everything it knows about
images comes from the patches it saw while training, and everything it knows about
noise comes from the one noise level it was trained on.

Example
-------
>>> from dip_teach import denoiser, images, operators
>>> net = denoiser.load_pretrained()               # the weights shipped in data/
>>> clean = images.load("coffee", size=64)
>>> noisy = operators.Denoising(25).corrupt(clean, seed=0)
>>> restored = denoiser.denoise(net, noisy)        # same type and shape as ``noisy``

Weights are made by ``python -m dip_teach.train_denoiser`` (see data/README.md for the
exact command of the shipped file).
"""
from __future__ import annotations

import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import files, images, metrics, priors, settings
from .operators import Denoising, check_sigma
from .progress import log_line, new_bar

#: The weights that ship with the kit (trained at sigma 25 on the train split).
PRETRAINED = images.DATA_DIR / "dncnn_sigma25.pt"
#: Where :func:`load_pretrained` keeps files it downloads from a URL.
CACHE_DIR = Path.home() / ".cache" / "dip_teach"
#: The command that makes the shipped weights (also recorded inside the file).
TRAIN_COMMAND = ("python -m dip_teach.train_denoiser --sigma 25 --steps 2000 --batch-size 16 --threads 1 "
                 "--out data/dncnn_sigma25.pt")
_FORMAT = "dip_teach.dncnn/1"


class WeightsError(ValueError):
    """A weights file the kit cannot use (corrupt, not ours, or for another network)."""


# --------------------------------------------------------------------------- model
class DnCNN(nn.Module):
    """DnCNN-style residual denoiser: predicts the noise in its input.

    Parameters
    ----------
    channels : int
        Image channels (3: grey images are given as three equal channels).
    width : int
        Feature channels of the hidden layers (64 in the paper; small here so a
        laptop CPU trains it in minutes).
    depth : int
        Number of middle ``conv + BatchNorm + ReLU`` blocks (15 in the paper's
        17-layer DnCNN-S). The receptive field is ``2 * (depth + 2) + 1`` pixels.

    Notes
    -----
    ``forward(y)`` returns the predicted noise ``v``; the denoised image is ``y - v``
    (use :meth:`clean` or :func:`denoise`).
    """

    def __init__(self, channels: int = 3, width: int = 32, depth: int = 6):
        super().__init__()
        if channels < 1 or width < 1 or depth < 0:
            raise ValueError(f"need channels >= 1, width >= 1, depth >= 0; got {channels}, {width}, {depth}")
        self.config = dict(channels=int(channels), width=int(width), depth=int(depth))
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth):
            # no bias before BatchNorm: BN's own shift does its job
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        # Start by predicting "no noise": the untrained net is the identity instead of
        # adding random noise of its own (with default init its output std is ~0.4,
        # four times the noise it must learn, and the first few hundred steps are
        # spent undoing that).
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Predicted noise ``v`` of a noisy batch ``y`` of shape ``(N, C, H, W)``."""
        return self.body(y)

    def clean(self, y: torch.Tensor) -> torch.Tensor:
        """The denoised batch ``y - v`` (residual learning), not clipped."""
        return y - self.body(y)

    @property
    def receptive_field(self) -> int:
        return 2 * (self.config["depth"] + 2) + 1


def count_parameters(net: nn.Module) -> int:
    """Number of trainable weights."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


# ------------------------------------------------------------------------- denoise
def denoise(net: DnCNN, image):
    """Denoise one image with a trained :class:`DnCNN`.

    Parameters
    ----------
    net : DnCNN
        A trained network (e.g. from :func:`load_pretrained`).
    image : array ``(H, W, C)`` or tensor ``(1, C, H, W)``
        Noisy image in ``[0, 1]``. One-channel images are repeated to the net's
        channels and averaged back.

    Returns
    -------
    Same type as ``image``: an array ``(H, W, C)`` or a tensor ``(1, C, H, W)``,
    clipped to ``[0, 1]``.
    """
    if not isinstance(net, DnCNN):
        raise TypeError(f"denoise(net, image) takes a DnCNN first, got {type(net).__name__}; "
                        "e.g. net = dip_teach.denoiser.load_pretrained()")
    was_tensor = isinstance(image, torch.Tensor)
    y = images.as_tensor(image, "noisy image")
    c, want = y.shape[1], net.config["channels"]
    if c not in (1, want):
        raise images.ImageError(f"the network denoises {want}-channel images, got {c} channels")
    param = next(net.parameters())
    x = y.to(param.device, param.dtype)
    if c == 1 and want > 1:
        x = x.expand(-1, want, -1, -1)
    training = net.training
    net.eval()  # BatchNorm uses the statistics of training, not those of this one image
    try:
        with torch.no_grad():
            out = net.clean(x)
    finally:
        net.train(training)
    if c == 1 and want > 1:
        out = out.mean(dim=1, keepdim=True)
    out = out.clamp(0, 1).to(y.device, y.dtype)
    return out if was_tensor else images.to_array(out)


# ----------------------------------------------------------------------- training data
def sample_patches(pool: list[torch.Tensor], batch_size: int, patch_size: int,
                   generator: torch.Generator | None = None, jitter: bool = True) -> torch.Tensor:
    """Random ``patch_size`` squares from random images, randomly flipped and rotated.

    The 8 flips/rotations of a square (the dihedral group) are all equally likely
    natural patches, so they multiply the data for free. With ``jitter`` each patch
    also gets its colour channels shuffled and a random contrast and brightness per
    channel (``a * x + b`` with ``a`` in ``[0.5, 1]``, ``b`` in ``[0, 1 - a]``): eight
    training images, half of them grey and two mostly black, would otherwise teach
    the net little about colour or about flat regions at mid-grey levels.

    Returns
    -------
    Tensor of shape ``(batch_size, C, patch_size, patch_size)``.
    """
    out = []
    picks = torch.randint(len(pool), (batch_size,), generator=generator)
    for i in picks.tolist():
        img = pool[i]
        h, w = img.shape[-2:]
        if h < patch_size or w < patch_size:
            raise images.ImageError(f"a training image is {h}x{w}, smaller than patch_size={patch_size}")
        top = int(torch.randint(h - patch_size + 1, (1,), generator=generator))
        left = int(torch.randint(w - patch_size + 1, (1,), generator=generator))
        p = img[:, top:top + patch_size, left:left + patch_size]
        k, flip = torch.randint(4, (2,), generator=generator).tolist()
        p = torch.rot90(p, k, dims=(1, 2))
        if flip % 2:
            p = torch.flip(p, dims=(2,))
        if jitter:
            p = p[torch.randperm(p.shape[0], generator=generator)]
            a = 0.5 + 0.5 * torch.rand(p.shape[0], 1, 1, generator=generator)
            p = a * p + (1 - a) * torch.rand(p.shape[0], 1, 1, generator=generator)
        out.append(p)
    return torch.stack(out)


def add_noise(clean: torch.Tensor, sigma: float, generator: torch.Generator | None = None,
              clip: bool = True) -> torch.Tensor:
    """Gaussian noise of level ``sigma`` (0-255 scale), clipped to ``[0, 1]`` like an 8-bit image."""
    noise = torch.randn(clean.shape, generator=generator) * check_sigma(sigma)
    y = clean + noise.to(clean.device)
    return y.clamp(0, 1) if clip else y


def test_set(sigma: float = 25, size: int | None = None, names: list[str] | None = None,
             seed: int = 0) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Fixed ``(name, clean, noisy)`` tensors from the ``test`` split for evaluation.

    ``size`` is the side of the centre crop (the run mode's image size by default);
    ``astronaut_512`` is left out (it is the astronaut again). The noise is seeded, so
    every method is compared on exactly the same noisy images.
    """
    size = settings.image_size() if size is None else size
    names = [n for n in images.catalogue_names("test") if n != "astronaut_512"] if names is None else names
    op = Denoising(sigma)
    out = []
    for i, n in enumerate(names):
        clean = images.to_tensor(images.load(n, size=size))
        out.append((n, clean, op.corrupt(clean, seed=seed + i)))
    return out


def evaluate(net: DnCNN, pairs: list[tuple[str, torch.Tensor, torch.Tensor]]) -> float:
    """Mean PSNR (dB) of the net's output over ``(name, clean, noisy)`` tensors."""
    return float(np.mean([metrics.psnr(denoise(net, noisy), clean) for _, clean, noisy in pairs]))


# ----------------------------------------------------------------------------- train
def train(net: DnCNN, sigma: float = 25, steps: int = 1000, batch_size: int = 32, patch_size: int = 40,
          lr: float = 1e-3, eval_every: int = 100, test_pairs=None, pool: list[torch.Tensor] | None = None,
          seed: int = 0, jitter: bool = True, log: Callable[[str], None] | None = None,
          progress: bool = False) -> dict:
    """Train ``net`` to predict Gaussian noise of level ``sigma`` on training patches.

    Each step draws fresh patches (random crop, flip, rotation) and fresh noise,
    predicts the noise, and takes an Adam step on the mean squared error between
    predicted and true noise. The learning rate follows a cosine from ``lr`` to
    ``lr / 20``.

    Parameters
    ----------
    net : DnCNN
        Trained in place.
    sigma : float
        Noise level on the 0-255 scale (the only level the net will know).
    steps, batch_size, patch_size, lr
        The usual. The default patch (40 px) is larger than the receptive field of
        the default net (17 px), so most outputs see no zero padding.
    eval_every : int
        Record the history every this many steps (and at the last step).
    test_pairs : list, optional
        ``(name, clean, noisy)`` tensors to measure test PSNR on; by default
        :func:`test_set` at ``sigma`` and the run mode's image size.
    pool : list of tensors, optional
        Training images ``(C, H, W)``; :func:`dip_teach.images.training_images` by default.
    jitter : bool
        Random colour shuffles, contrasts and brightnesses of the patches
        (see :func:`sample_patches`).
    seed : int
        Seeds the patches and the noise (the net's initial weights come from
        whoever built it: seed before building it).
    log : callable, optional
        Called with one progress line per evaluation (e.g. ``print``).
    progress : bool
        Show a bar over the steps with the last train and test PSNR (see :mod:`dip_teach.progress`).

    Returns
    -------
    dict
        History: lists ``step``, ``train_loss`` (MSE, mean since the last record),
        ``train_psnr`` (PSNR of the denoised training patches from that MSE),
        ``test_psnr`` (mean over ``test_pairs``), ``seconds`` (training time so far,
        evaluations excluded); plus ``noisy_psnr`` (the test set's input PSNR),
        ``patches_seen`` and ``sigma``.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    check_sigma(sigma)
    pool = images.training_images() if pool is None else pool
    test_pairs = test_set(sigma) if test_pairs is None else test_pairs
    gen = torch.Generator().manual_seed(seed)
    device = next(net.parameters()).device
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 20)
    history = dict(step=[], train_loss=[], train_psnr=[], test_psnr=[], seconds=[],
                   noisy_psnr=float(np.mean([metrics.psnr(y, x) for _, x, y in test_pairs])),
                   sigma=float(sigma), batch_size=batch_size, patch_size=patch_size, jitter=jitter,
                   patches_seen=0)
    running, count, seconds = 0.0, 0, 0.0
    bar = new_bar(range(1, steps + 1), desc="DnCNN", unit="step", disable=not progress)
    for step in bar:
        t0 = time.perf_counter()
        net.train()
        clean = sample_patches(pool, batch_size, patch_size, gen, jitter).to(device)
        noisy = add_noise(clean, sigma, gen)
        # residual learning: the target is the noise (clipping included), not the image
        loss = F.mse_loss(net(noisy), noisy - clean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        seconds += time.perf_counter() - t0
        running += loss.item()
        count += 1
        if step % eval_every == 0 or step == steps:
            mse = running / count
            history["step"].append(step)
            history["train_loss"].append(mse)
            history["train_psnr"].append(metrics.db_from_mse(mse))
            history["test_psnr"].append(evaluate(net, test_pairs))
            history["seconds"].append(seconds)
            running, count = 0.0, 0
            bar.set_postfix_str(f"train {history['train_psnr'][-1]:.2f} dB, test {history['test_psnr'][-1]:.2f} dB",
                                refresh=False)
            if log is not None:
                log_line(log, f"step {step:5d}/{steps}  train loss {mse:.2e}  "
                         f"train PSNR {history['train_psnr'][-1]:5.2f} dB  "
                         f"test PSNR {history['test_psnr'][-1]:5.2f} dB (noisy {history['noisy_psnr']:.2f})  "
                         f"{seconds:6.1f} s")
    history["patches_seen"] = steps * batch_size
    net.eval()
    return history


# ----------------------------------------------------------------------- save / load
def save(net: DnCNN, path: str | Path, sigma: float, history: dict | None = None, command: str = "",
         overwrite: bool = False) -> Path:
    """Write the net's weights, its shape, its noise level and its training history.

    Refuses to replace an existing file unless ``overwrite=True``.
    """
    path = Path(path).expanduser()
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; choose another name or pass overwrite=True "
                              "(--overwrite on the command line)")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    blob = dict(format=_FORMAT, config=dict(net.config), sigma=float(sigma), state_dict=state,
                history=history or {}, command=command, torch=str(torch.__version__))
    torch.save(blob, path)
    return path


def load(path: str | Path, device: torch.device | str | None = None) -> DnCNN:
    """Load a net written by :func:`save`; ``net.sigma`` and ``net.history`` come with it.

    Raises
    ------
    FileNotFoundError
        No file there (the message says how to make one).
    WeightsError
        The file is truncated or corrupt, is not a dip_teach DnCNN file, or its
        weights do not fit the network it describes.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no weights at {str(path)!r}. Train them with\n    {TRAIN_COMMAND}\n"
                                "(or pass the path of a file made by dip_teach.denoiser.save)")
    if path.is_dir():
        raise WeightsError(f"{str(path)!r} is a folder; give the .pt file inside it")
    try:
        # weights_only: never run code from a file; TorchVersion (a str) is allowed because
        # files written by earlier versions of save() stored torch.__version__ as it is
        with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file: zip, pickle, EOF, runtime
        raise WeightsError(f"{str(path)!r} is not a readable weights file (corrupt or truncated? {type(err).__name__}: "
                           f"{str(err).splitlines()[0] if str(err) else ''}). Delete it and train again with\n"
                           f"    {TRAIN_COMMAND}") from None
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        what = blob.get("format", "no format tag") if isinstance(blob, dict) else type(blob).__name__
        raise WeightsError(f"{str(path)!r} is not a dip_teach DnCNN weights file (found {what!r}, expected "
                           f"{_FORMAT!r}); make one with dip_teach.denoiser.save or {TRAIN_COMMAND}")
    try:
        net = DnCNN(**blob["config"])
        missing, unexpected = net.load_state_dict(blob["state_dict"], strict=False)
    except (KeyError, TypeError) as err:
        raise WeightsError(f"{str(path)!r} lacks part of a DnCNN description ({err}); it was not made by "
                           "dip_teach.denoiser.save") from None
    except RuntimeError as err:  # shape mismatch
        first = [ln.strip() for ln in str(err).splitlines() if "size mismatch" in ln][:1]
        raise WeightsError(f"the weights in {str(path)!r} do not fit a DnCNN{blob['config']}: "
                           f"{first[0] if first else err}") from None
    if missing or unexpected:
        raise WeightsError(f"the weights in {str(path)!r} do not fit a DnCNN{blob['config']}: "
                           f"missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]}")
    net.sigma = float(blob.get("sigma", float("nan")))
    net.history = blob.get("history", {})
    net.command = blob.get("command", "")
    net.eval()
    return net.to(device) if device is not None else net


def load_pretrained(path_or_url: str | Path | None = None, device: torch.device | str | None = None,
                    download: bool = True, sha256: str | None = None, timeout: float = 20.0) -> DnCNN:
    """Load trained weights: the shipped file by default, else a path or a URL.

    The train-or-load pattern of the UvA deep-learning notebooks: expensive training
    happens once, by a script, and notebooks load its result.

    * ``None``: the file shipped in ``data/`` (:data:`PRETRAINED`); never touches the
      network.
    * a path: that file.
    * an ``http(s)://`` URL: the file's name is looked up first in ``data/`` and in
      :data:`CACHE_DIR`; only if it is in neither (and ``download`` is True) is it
      downloaded into the cache. So a URL costs no network once the file is local.
      A download must be checkable: give ``sha256`` (the file's SHA-256, or its first
      8+ hex digits) or a URL whose file name carries it (``dncnn-<hex>.pt``, torchvision's
      convention); the server gets ``timeout`` seconds to answer.

    Raises
    ------
    FileNotFoundError, WeightsError
        As :func:`load`; or the download failed (the message says how to train instead), or
        its SHA-256 did not match (nothing is kept).
    ValueError
        A URL to download from without a way to check the file (no ``sha256``, no hash in its name).
    """
    if path_or_url is None:
        return load(PRETRAINED, device)
    text = str(path_or_url)
    if urllib.parse.urlparse(text).scheme not in ("http", "https"):
        return load(text, device)
    name = Path(urllib.parse.urlparse(text).path).name
    if not name.endswith(".pt"):
        raise ValueError(f"the URL {text!r} does not name a .pt file")
    for folder in (images.DATA_DIR, CACHE_DIR):
        if (folder / name).exists():
            return load(folder / name, device)
    if not download:
        raise FileNotFoundError(f"{name} is not in {images.DATA_DIR} or {CACHE_DIR} and download=False; "
                                f"train it with\n    {TRAIN_COMMAND}")
    expected = sha256 or files.hash_in_name(name)
    if not expected:
        raise ValueError(f"cannot check a download of {name}: pass sha256=... (its SHA-256) or use a URL whose "
                         "file name ends in -<first 8 hex digits of the SHA-256>.pt")

    def fetch(partial: Path) -> None:
        with urllib.request.urlopen(text, timeout=timeout) as answer, open(partial, "wb") as f:  # noqa: S310
            shutil.copyfileobj(answer, f)
        if not files.sha256_matches(partial, expected):
            raise WeightsError(f"the download of {text} does not match SHA-256 {expected}; not kept")

    try:     # only a complete, checked download gets the real name
        target = files.write_atomically(CACHE_DIR / name, fetch)
    except OSError as err:
        raise FileNotFoundError(f"could not download {text} ({err}). Offline? The kit ships "
                                f"{PRETRAINED.name} in data/, or train weights with\n    {TRAIN_COMMAND}") from None
    return load(target, device)
