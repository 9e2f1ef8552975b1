"""Error per frequency band: which scales of an image a fit has already reproduced.

The Deep Image Prior fits the low frequencies of an image (smooth shapes, large
edges) long before the high ones (fine texture, and noise). To *see* that, split
the 2-D Fourier transform into rings of equal width around the centre (radial
frequency bands) and measure, ring by ring, how much of the target is still missing::

    e_k = sum_{f in band k} |F(x_hat - x)(f)|^2  /  sum_{f in band k} |F(x)(f)|^2

``e_k = 1`` means "nothing of band k reproduced yet" (the estimate is zero there),
``e_k = 0`` means "band k reproduced exactly". Plotted as a heat map (bands x
iterations) the low bands turn dark first.

Frequencies are in cycles per pixel: 0 is the mean colour, 0.5 the finest
oscillation a pixel grid holds (Nyquist). The corners of the spectrum, above 0.5
along a diagonal, belong to the last band.

Example
-------
>>> import numpy as np
>>> from dip_teach import spectral
>>> x = np.random.default_rng(0).random((64, 64, 3)).astype("float32")
>>> spectral.band_errors(x, x, bands=4)
array([0., 0., 0., 0.])
>>> spectral.band_errors(np.zeros_like(x), x, bands=4)
array([1., 1., 1., 1.])
"""
from __future__ import annotations

import threading

import numpy as np
from matplotlib.figure import Figure

from .fit import FitLike
from .images import as_array


def _as_array(img) -> np.ndarray:
    """Tensor ``(1, C, H, W)`` or array ``(H, W[, C])`` -> float64 array ``(H, W, C)``, not clipped
    (a residual or an unclipped output is a valid input)."""
    return as_array(img).astype(np.float64)


def radial_frequency(height: int, width: int) -> np.ndarray:
    """Distance of every FFT coefficient from the zero frequency, in cycles per pixel.

    Returns an ``(height, width)`` array laid out like ``np.fft.fft2``'s output
    (zero frequency at ``[0, 0]``), with values from 0 to about 0.707.
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    return np.sqrt(fy**2 + fx**2)


def band_edges(bands: int = 8) -> np.ndarray:
    """The ``bands + 1`` edges of equal-width rings from 0 to 0.5 cycles/pixel."""
    if int(bands) < 1:
        raise ValueError(f"bands must be at least 1, got {bands}")
    return np.linspace(0.0, 0.5, int(bands) + 1)


def band_index(height: int, width: int, bands: int = 8) -> np.ndarray:
    """Band number (0 = lowest frequencies) of every FFT coefficient, ``(height, width)`` ints."""
    edges = band_edges(bands)
    # the inner edges decide; everything above 0.5 (the spectrum's corners) joins the last band
    return np.digitize(radial_frequency(height, width), edges[1:-1])


def hann_window(height: int, width: int) -> np.ndarray:
    """2-D Hann window, ``(height, width, 1)``: 1 in the centre, 0 at the borders.

    The FFT treats an image as periodic, so the jump between its left and right (top
    and bottom) borders shows up as energy at every frequency. Tapering to zero at the
    borders removes that artefact; the error bands then describe the picture itself.
    """
    return (np.hanning(height)[:, None] * np.hanning(width)[None, :])[..., None]


def band_energy(img, bands: int = 8, window: bool = False) -> np.ndarray:
    """Energy ``sum |F(img)|^2`` in each radial band, summed over colour channels, ``(bands,)``.

    ``window=True`` tapers the image with :func:`hann_window` first.
    """
    a = _as_array(img)
    h, w = a.shape[:2]
    if window:
        a = a * hann_window(h, w)
    power = (np.abs(np.fft.fft2(a, axes=(0, 1))) ** 2).sum(axis=2)
    return np.bincount(band_index(h, w, bands).ravel(), weights=power.ravel(), minlength=int(bands))


def band_errors(estimate, reference, bands: int = 8, window: bool = True) -> np.ndarray:
    """Relative error of ``estimate`` against ``reference`` in each radial frequency band.

    Parameters
    ----------
    estimate, reference : array (H, W[, C]) or tensor (1, C, H, W)
        Images of the same size (values need not be clipped).
    bands : int
        Number of equal-width rings between 0 and 0.5 cycles per pixel.
    window : bool
        Taper both images with a Hann window first (default), so the border jump the
        FFT sees in every image does not count as high-frequency content.

    Returns
    -------
    ndarray, shape (bands,)
        ``|F(estimate - reference)|^2 / |F(reference)|^2`` summed over each band: 0 is
        perfect, 1 is "as wrong as predicting zero". A band where the reference has no
        energy at all gives 0 when the estimate matches it and ``inf`` otherwise.

    Raises
    ------
    ValueError
        When the two images differ in shape.
    """
    est, ref = _as_array(estimate), _as_array(reference)
    if est.shape != ref.shape:
        raise ValueError(f"estimate {est.shape} and reference {ref.shape} must have the same shape; "
                         "compare the fit's output with an image of the output's size")
    missing = band_energy(est - ref, bands, window)
    total = band_energy(ref, bands, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = missing / total
    ratio[(total == 0) & (missing == 0)] = 0.0
    return ratio


class BandErrorTrack:
    """Record :func:`band_errors` of a fit's output during training.

    Attach it as a fit callback; it costs one FFT every ``every`` iterations (well
    under a millisecond on the course's image sizes)::

        track = BandErrorTrack(fit.observation, every=5)
        fit.add_callback(track)
        fit.run()
        track.iterations, track.errors        # (n,) and (n, bands)

    Use :func:`track` to make and attach one in a single call.

    Parameters
    ----------
    reference : array or tensor
        The image the error is measured against: the observation (what the network
        is fitting) or the clean image (what we hope it finds).
    bands : int
        Number of radial bands.
    every : int
        Record every ``every``-th iteration (and the first one).
    """

    def __init__(self, reference, bands: int = 8, every: int = 1):
        self.reference = _as_array(reference)
        self.bands = int(bands)
        self.every = max(1, int(every))
        self._iterations: list[int] = []
        self._errors: list[np.ndarray] = []
        self._lock = threading.Lock()     # a dashboard reads while the training thread writes

    def __call__(self, fit: FitLike) -> None:
        it = fit.iteration
        if it == 1 or it % self.every == 0:
            out = fit.latest()
            if out is not None:
                self.record(it, out)

    def record(self, iteration: int, image) -> None:
        """Add the band errors of ``image`` at ``iteration``."""
        errors = band_errors(image, self.reference, self.bands)
        with self._lock:
            self._iterations.append(int(iteration))
            self._errors.append(errors)

    @property
    def iterations(self) -> np.ndarray:
        """Iterations recorded so far, ``(n,)``."""
        with self._lock:
            return np.array(self._iterations, dtype=int)

    @property
    def errors(self) -> np.ndarray:
        """Band errors recorded so far, ``(n, bands)``; row ``i`` belongs to ``iterations[i]``."""
        with self._lock:
            if not self._errors:
                return np.zeros((0, self.bands))
            return np.stack(self._errors)

    def first_below(self, level: float = 0.5) -> np.ndarray:
        """For each band, the first recorded iteration whose error fell below ``level`` (nan if never).

        The lesson in one line: these iterations grow with the band's frequency.
        """
        its, errs = self.iterations, self.errors
        out = np.full(self.bands, np.nan)
        for k in range(self.bands):
            hit = np.nonzero(errs[:, k] < level)[0] if len(errs) else []
            if len(hit):
                out[k] = its[hit[0]]
        return out


def track(fit: FitLike, reference="observation", bands: int = 8, points: int = 200) -> BandErrorTrack:
    """Make a :class:`BandErrorTrack` for ``fit`` and attach it as a callback.

    Parameters
    ----------
    fit : dip_teach.fit.FitLike
        A fit that has not finished yet.
    reference : {"observation", "clean"} or array
        What the error is measured against. ``"observation"`` shows what the network
        has fitted (noise included, eventually); ``"clean"`` shows what it got right.
    bands : int
        Number of radial bands.
    points : int
        About how many times to record over the fit's budget.
    """
    if isinstance(reference, str):
        if reference not in ("observation", "clean"):
            raise ValueError(f"reference must be 'observation', 'clean' or an image, got {reference!r}")
        ref = fit.observation if reference == "observation" else fit.clean
        if ref is None:
            raise ValueError("this fit has no clean image; use reference='observation'")
    else:
        ref = reference
    ref_arr = _as_array(ref)
    out_shape = tuple(fit.output_size)
    if ref_arr.shape[:2] != out_shape:
        raise ValueError(f"the reference is {ref_arr.shape[:2]} but the fit's output is {out_shape} "
                         "(a super-resolution fit?): pass reference='clean' or an image of the output's size")
    total = fit.config.iterations
    recorder = BandErrorTrack(ref_arr, bands=bands, every=max(1, total // max(1, int(points))))
    fit.add_callback(recorder)
    return recorder


class BandErrorMap:
    """Heat map of band error (rows: bands, lowest at the bottom) against iterations.

    Made once on an axes; :meth:`update` swaps in the recorder's latest data (cheap
    enough for a live dashboard).
    """

    def __init__(self, ax, recorder: BandErrorTrack, vmax: float = 1.0, colorbar: bool = True,
                 xmax: float | None = None):
        self.ax, self.recorder, self.vmax = ax, recorder, float(vmax)
        self.xmax = xmax
        edges = band_edges(recorder.bands)
        self.top = edges[-1]
        self.image = ax.imshow(np.ones((recorder.bands, 2)), origin="lower", aspect="auto", cmap="magma",
                               vmin=0, vmax=self.vmax, extent=(0, 1, 0, self.top), interpolation="nearest")
        if colorbar:
            ax.figure.colorbar(self.image, ax=ax, pad=0.02, label="relative error")
        ax.set_xlabel("iteration")
        ax.set_ylabel("frequency (cycles/px)")
        ax.set_title("error per frequency band (dark = fitted)", fontsize=9)
        if xmax:
            ax.set_xlim(0, xmax)      # fixed axes: a live view redraws only the image

    def update(self) -> None:
        """Show the data recorded so far."""
        its, errs = self.recorder.iterations, self.recorder.errors
        if len(its) == 0:
            return
        if len(its) == 1:
            its, errs = np.array([its[0], its[0] + 1]), np.repeat(errs, 2, axis=0)
        self.image.set_data(np.clip(errs.T, 0, self.vmax))
        self.image.set_extent((its[0], its[-1], 0, self.top))
        if self.xmax:      # live: the axis grows in round steps (few background redraws)
            end = max(self.xmax, its[-1])
            value = max(1.0, 1.25 * its[-1])
            power = 10 ** np.floor(np.log10(value))
            step = next(m * power for m in (1, 2, 5, 10) if m * power >= value)
            self.ax.set_xlim(0, min(end, step))
            self.ax.set_ylim(0, self.top)


def plot(recorder: BandErrorTrack, ax=None, vmax: float = 1.0):
    """Draw the heat map of :class:`BandErrorMap` into ``ax`` (a new figure when None); return the map."""
    if ax is None:
        ax = Figure(figsize=(5, 2.6)).subplots()
    heat_map = BandErrorMap(ax, recorder, vmax)
    heat_map.update()
    return heat_map
