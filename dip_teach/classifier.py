"""The classifiers of notebook 09: ImageNet AlexNet when its weights can be had, a small one the kit trains otherwise.

Feature inversion and activation maximisation need a trained classifier to invert or
to excite. Two paths, and the notebook says which one it took:

**real**
    AlexNet (Krizhevsky et al., 2012), the network the Deep Image Prior paper inverts,
    written here in plain torch with the same layer names as torchvision's, so the
    published torchvision weights load into it. They come through
    :func:`torch.hub.load_state_dict_from_url`, which looks in ``$TORCH_HOME/hub/checkpoints``
    first: once the file is there (downloaded once, or copied from another machine)
    no network is needed.
**offline**
    :class:`TextureNet`, a five-layer convolutional classifier the kit trains itself
    (``python -m dip_teach.classifier``, about two minutes on one CPU thread) to tell apart
    patches of the eight ``train`` images of ``data/`` (rocket, tissue, retina, galaxies,
    bricks, gravel, grass, coins). Its small weights ship in ``data/``.

:func:`load` tries the real path and falls back to the offline one with a one-line
message: no network, a proxy, a truncated or corrupt file all end the same way, and a
partial download is never left in the cache (torch.hub downloads to a temporary file
and checks the SHA-256 in the file name before it keeps it; a cached file is checked
against it too, since torch.hub checks only what it downloads).

Both classifiers take images in ``[0, 1]``, shape ``(1, 3, H, W)``, and normalise them
themselves; ``features(x, layer)`` returns the activations after a named layer and
``logits(x)`` the class scores.

Example
-------
>>> from dip_teach import classifier
>>> clf = classifier.load("offline", log=lambda line: None)    # AlexNet first by default
>>> clf.source, clf.layers
('offline', ('conv1', 'conv2', 'conv3', 'conv4', 'conv5'))
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import files, images, settings

#: The torchvision AlexNet weights (ImageNet, top-1 56.5%); the 8 hex digits are the start of their SHA-256.
ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
#: The offline classifier's weights, made by :data:`TRAIN_COMMAND`.
OFFLINE_WEIGHTS = images.DATA_DIR / "texture_classifier.pt"
TRAIN_COMMAND = "python -m dip_teach.classifier --steps 3000 --threads 1 --out data/texture_classifier.pt"
#: Set to 1 to never try a download (the tests and ``test`` mode never do).
OFFLINE_ENV = "DIP_TEACH_OFFLINE"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: A few ImageNet classes worth maximising (index: name); the full list has 1000.
IMAGENET_CLASSES = {1: "goldfish", 130: "flamingo", 281: "tabby cat", 323: "monarch butterfly",
                    417: "balloon", 852: "tennis ball", 948: "Granny Smith apple", 980: "volcano"}
_FORMAT = "dip_teach.texturenet/1"


class WeightsUnavailable(RuntimeError):
    """The real classifier's weights could not be had (no network, bad file, ...)."""


# ------------------------------------------------------------------------- networks
class AlexNet(nn.Module):
    """AlexNet as torchvision writes it (so its state dict loads unchanged).

    ``features`` is five convolutions with ReLUs and three max-pools, ``classifier``
    three fully connected layers; :data:`LAYERS` names the ReLU outputs we invert.
    """

    #: layer name -> index of its output in ``features`` (after the ReLU)
    LAYERS = {"conv1": 1, "conv2": 4, "conv3": 7, "conv4": 9, "conv5": 11}

    def __init__(self, classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class TextureNet(nn.Module):
    """The offline classifier: five 3x3/5x5 convolutions, global average pooling, one linear layer.

    Built like a small AlexNet (strided first layer, max-pools between the early
    layers) so that "deeper features are more abstract" holds for it too; global
    pooling lets it classify a patch of any size.
    """

    LAYERS = AlexNet.LAYERS         # the same layout, so the same indices

    def __init__(self, classes: int = 8, width: int = 32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 5, stride=2, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(2 * w, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))


@dataclass
class Classifier:
    """A trained classifier ready to invert: normalisation, named layers, class names.

    Attributes
    ----------
    net : nn.Module
        :class:`AlexNet` or :class:`TextureNet`, in eval mode, weights frozen.
    classes : dict
        Class index -> name (for AlexNet only a few of the 1000).
    source : str
        ``"alexnet"`` (real path) or ``"offline"``.
    note : str
        One line on where the weights came from (or why the real ones could not be had).
    """

    net: nn.Module
    classes: dict
    source: str
    note: str = ""
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self.net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the layers :meth:`features` can stop at, shallow to deep."""
        return tuple(self.net.LAYERS)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Map an image in ``[0, 1]`` to the input statistics the net was trained on."""
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def features(self, x: torch.Tensor, layer: str) -> torch.Tensor:
        """Activations after ``layer`` (e.g. ``"conv3"``) for an image ``x`` in ``[0, 1]``."""
        if layer not in self.net.LAYERS:
            raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(self.layers)}")
        h = self.normalise(x)
        for i, module in enumerate(self.net.features):
            h = module(h)
            if i == self.net.LAYERS[layer]:
                return h
        raise AssertionError("unreachable: every layer index lies inside features")

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores ``(1, classes)`` for an image ``x`` in ``[0, 1]``."""
        return self.net(self.normalise(x))

    def predict(self, x: torch.Tensor) -> tuple[str, float]:
        """The top class's name and its probability."""
        with torch.no_grad():
            p = F.softmax(self.logits(x), dim=1)[0]
        i = int(p.argmax())
        return self.classes.get(i, f"class {i}"), float(p[i])


# ------------------------------------------------------------------------ loading
def _cached_file(url: str) -> Path:
    """Where torch.hub keeps the file of ``url`` (``$TORCH_HOME/hub/checkpoints/<name>``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name


def fetch_state_dict(url: str, download: bool = True, timeout: float = 20.0) -> dict:
    """A state dict through :func:`torch.hub.load_state_dict_from_url`, or :class:`WeightsUnavailable`.

    Parameters
    ----------
    url : str
        Where the weights live. The file name must end in ``-<first SHA-256 hex digits>.pth``
        (torchvision's convention): the download is checked against it, so a truncated or
        altered file is never kept. ``file://`` URLs work too (the tests use them).
    download : bool
        False: only use a file already in the cache (``$TORCH_HOME/hub/checkpoints``).
    timeout : float
        Seconds to wait for the server before giving up (a dead proxy would hang forever).

    Raises
    ------
    WeightsUnavailable
        With a one-line reason; a file this call put in the cache and could not load is removed.
    """
    target = _cached_file(url)
    existed = target.exists()
    if not existed and not download:
        raise WeightsUnavailable(f"{target.name} is not in {target.parent} and downloading is off")
    expected = files.hash_in_name(target.name)
    if existed and expected and not files.sha256_matches(target, expected):   # torch checks only downloads
        raise WeightsUnavailable(f"the cached {target.name} does not match the SHA-256 in its name "
                                 f"(altered or truncated); delete {target} to download it again")
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        # torch.hub prints a "Downloading ..." line; the caller reports the outcome in one line instead
        with contextlib.redirect_stdout(io.StringIO()):
            return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=False, check_hash=True,
                                                      weights_only=True)
    except Exception as err:  # urllib, hash and unpickling errors all mean "not usable"
        if target.exists() and not existed:
            target.unlink()    # never leave a file we fetched and could not use
        reason = str(err).splitlines()[0] if str(err) else ""
        where = f"; the cached file is unusable, delete {target}" if existed else ""
        raise WeightsUnavailable(f"weights unavailable ({type(err).__name__}: {reason[:120]}){where}") from None
    finally:
        socket.setdefaulttimeout(before)


def load_alexnet(url: str = ALEXNET_URL, download: bool = True, timeout: float = 20.0) -> Classifier:
    """The real path: AlexNet with torchvision's ImageNet weights, through torch.hub's cache.

    See :func:`fetch_state_dict` for ``url``, ``download`` and ``timeout``.

    Raises
    ------
    WeightsUnavailable
        The weights could not be had, or they do not fit AlexNet.
    """
    state = fetch_state_dict(url, download, timeout)
    net = AlexNet()
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        raise WeightsUnavailable(f"the file at {url} does not hold AlexNet weights "
                                 f"({str(err).splitlines()[0][:120]})") from None
    return Classifier(net, dict(IMAGENET_CLASSES), "alexnet",
                      note=f"ImageNet AlexNet weights from {_cached_file(url)}")


def load_offline(path: str | Path = OFFLINE_WEIGHTS) -> Classifier:
    """The offline path: the :class:`TextureNet` the kit trained (weights in ``data/``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no classifier weights at {path}; make them with\n    {TRAIN_COMMAND}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a dip_teach texture-classifier file; make one with\n    {TRAIN_COMMAND}")
    net = TextureNet(len(blob["classes"]), blob["width"])
    net.load_state_dict(blob["state_dict"])
    classes = dict(enumerate(blob["classes"]))
    return Classifier(net, classes, "offline", note=f"the kit's texture classifier ({path.name}, "
                      f"held-out accuracy {blob['accuracy']:.0%})", info=blob.get("info", {}))


def load(prefer: str = "alexnet", download: bool | None = None, url: str = ALEXNET_URL,
         log=print) -> Classifier:
    """The classifier for notebook 09: AlexNet if its weights can be had, else the offline one.

    Parameters
    ----------
    prefer : str
        ``"alexnet"`` (try the real path first) or ``"offline"``.
    download : bool, optional
        Whether a missing AlexNet file may be downloaded. Default: yes, except in the
        ``test`` run mode or with ``DIP_TEACH_OFFLINE=1`` (tests never touch the network).
    log : callable
        Gets the one line saying which path was taken and why.
    """
    if prefer not in ("alexnet", "offline"):
        raise ValueError(f"prefer must be 'alexnet' or 'offline', got {prefer!r}")
    if download is None:
        download = settings.get_mode().name != "test" and os.environ.get(OFFLINE_ENV, "") not in ("1", "true")
    if prefer == "alexnet":
        try:
            clf = load_alexnet(url, download=download)
            log(f"real path: {clf.note}")
            return clf
        except WeightsUnavailable as err:
            clf = load_offline()
            log(f"offline path: could not load ImageNet AlexNet, {err}; using {clf.note}")
            return clf
    clf = load_offline()
    log(f"offline path: {clf.note}")
    return clf


# ----------------------------------------------------------------------- training
def texture_pool(names: list[str] | None = None) -> tuple[list[str], list[torch.Tensor]]:
    """The offline classifier's data: the ``train`` images of ``data/`` as ``(3, H, W)`` tensors."""
    names = images.catalogue_names("train") if names is None else names
    return names, images.training_images(names)     # whole images, whatever the run mode


def sample_batch(pool: list[torch.Tensor], batch: int, size: int, generator: torch.Generator,
                 holdout: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Random patches and their labels (the image they come from).

    A patch of a random side between ``size`` and ``2 * size`` is cut, resized to
    ``size`` and flipped at random (so scale is no clue). The bottom quarter of every
    image is held out for validation (``holdout=True`` samples only there).
    """
    xs, ys = [], []
    labels = torch.randint(len(pool), (batch,), generator=generator)
    for label in labels.tolist():
        img = pool[label]
        h, w = img.shape[-2:]
        top_limit, region = (3 * h // 4, h) if holdout else (0, 3 * h // 4)
        side = int(torch.randint(size, min(2 * size, region - top_limit, w) + 1, (1,), generator=generator))
        top = top_limit + int(torch.randint(region - top_limit - side + 1, (1,), generator=generator))
        left = int(torch.randint(w - side + 1, (1,), generator=generator))
        p = img[None, :, top:top + side, left:left + side]
        p = F.interpolate(p, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        if int(torch.randint(2, (1,), generator=generator)):
            p = torch.flip(p, dims=(2,))
        xs.append(p)
    return torch.stack(xs), labels


def train_offline(steps: int = 1500, batch: int = 32, size: int = 48, lr: float = 2e-3, seed: int = 0,
                  log=print) -> tuple[TextureNet, dict]:
    """Train :class:`TextureNet` on patches of the ``train`` images; return it and a summary."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    names, pool = texture_pool()
    net = TextureNet(len(names))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    val_x, val_y = sample_batch(pool, 512, size, torch.Generator().manual_seed(10_000), holdout=True)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = sample_batch(pool, batch, size, g)
        loss = F.cross_entropy(net((x - mean) / std), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == steps:
            log(f"step {step}/{steps}  loss {loss.item():.3f}  {time.perf_counter() - t0:.0f} s")
    clf = Classifier(net, dict(enumerate(names)), "offline")
    with torch.no_grad():
        accuracy = float((clf.logits(val_x).argmax(1) == val_y).float().mean())
    return net, dict(classes=names, accuracy=accuracy, seconds=time.perf_counter() - t0, steps=steps,
                     batch=batch, size=size, threads=torch.get_num_threads())


def save_offline(net: TextureNet, summary: dict, path: str | Path, overwrite: bool = False) -> Path:
    """Write the offline classifier (refuses to replace a file unless ``overwrite``)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save(dict(format=_FORMAT, classes=summary["classes"], width=net.features[0].out_channels,
                    accuracy=summary["accuracy"], state_dict=state, info=summary, command=TRAIN_COMMAND), path)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m dip_teach.classifier``: train the offline classifier and save it."""
    p = argparse.ArgumentParser(prog="python -m dip_teach.classifier", description=main.__doc__)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=str(OFFLINE_WEIGHTS))
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if Path(a.out).exists() and not a.overwrite:
        p.error(f"{a.out} exists; pass --overwrite to replace it")
    net, summary = train_offline(a.steps)
    save_offline(net, summary, a.out, overwrite=a.overwrite)
    print(f"held-out accuracy {summary['accuracy']:.1%} over {len(summary['classes'])} classes; "
          f"{summary['seconds']:.0f} s; wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
