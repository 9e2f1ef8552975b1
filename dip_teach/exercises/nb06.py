"""Exercises of notebook 06, early stopping: why the variance dips, the moving variance, patience."""
from __future__ import annotations

import numpy as np
import torch

from . import Choice, Incorrect, Question, check_function, example, function_slip, mistake, require_function
from ..stopping import ESWMV

# ------------------------------------------------------------ 1. predict: why a variance?
predict_variance = Choice(
    "predict_variance",
    "ES-WMV watches the variance of the last W outputs of a fit, and stops near its minimum. Why should "
    "that minimum sit near the PSNR peak, which it cannot see?",
    options={
        "a": "near the peak the output has settled on the image's structure and has not yet started to copy "
             "the noise, so successive outputs differ little",
        "b": "the loss is lowest there, and a low loss means small changes",
        "c": "the variance of an output measures its noise, and the output is least noisy at the peak",
    },
    correct="a",
    why={"b": "the loss keeps falling long after the peak: it is lowest at the end",
         "c": "it is the variance over *iterations* at each pixel, not the spread of pixel values in one "
              "image: it measures how fast the output changes"},
    hint="Which changes from one iteration to the next: building structure, fitting noise, or neither?",
    explanation="Before the peak the network is still building the image (outputs change); after it, it "
                "chases the noise, a new pattern at every pixel (outputs change again). In between, "
                "the output is steady.",
)


# ------------------------------------------------------------ 2. the windowed moving variance
def _reference(frames, window):
    """VAR_t for every full window, fed frame by frame through the kit's ES-WMV."""
    crit = ESWMV(window=window, patience=10**9)
    for i, frame in enumerate(frames, start=1):
        crit.update(i, torch.as_tensor(np.asarray(frame, dtype=np.float64)))
    return np.array([v for _, v in crit.variances])


def _inputs():
    rng = np.random.default_rng(0)
    out = []
    for t, shape, window in ((12, (6, 5, 3), 4), (9, (4, 4, 1), 3), (15, (3, 7, 3), 5)):
        drift = np.linspace(0, 1, t)[:, None, None, None] * rng.random(shape)
        frames = [f for f in drift + 0.1 * rng.random((t, *shape))]
        out.append((frames, window))
    return out


def _unbiased(frames, window):
    a = np.stack(frames)
    return np.array([a[k:k + window].var(axis=0, ddof=1).mean() for k in range(len(a) - window + 1)])


def _pixel_spread(frames, window):
    a = np.stack(frames)
    return np.array([np.mean([f.var() for f in a[k:k + window]]) for k in range(len(a) - window + 1)])


def _cumulative(frames, window):
    a = np.stack(frames)
    return np.array([a[:k + window].var(axis=0).mean() for k in range(len(a) - window + 1)])


def _check_moving_variance(answer) -> None:
    require_function(answer)
    frames, window = _inputs()[0]
    got = answer(frames, window)
    n = len(frames) - window + 1
    if got is not None and np.shape(got) != (n,) and np.ndim(got) == 1:
        if np.shape(got)[0] == len(frames):
            raise Incorrect("return one value per *full* window: the first comes once `window` frames are in, "
                            "so len(frames) - window + 1 values, not one per frame")
        raise Incorrect(f"expected one value per full window (len(frames) - window + 1 of them), got "
                        f"{np.shape(got)[0]} values")
    if got is not None and np.shape(got) == (n,):
        function_slip(got, (frames, window), (
            (_unbiased, "divide by W, not W - 1: ES-WMV uses the plain (population) "
                        "variance of the window, np.var's default ddof=0"),
            (_pixel_spread, "that is the spread of pixel values inside each frame; take the "
                            "variance over the W frames at each pixel, then the mean over pixels"),
            (_cumulative, "only the last W frames count: the window slides, it does not grow "
                          "from the first frame")))
    check_function(answer, _reference, _inputs(), rtol=1e-6, atol=1e-12, name="your moving_variance")


moving_variance = Question(
    "moving_variance",
    "Write `moving_variance(frames, window)`: `frames` is a list of T output images (arrays of the same "
    "shape, in iteration order). For each full window of the last `window` frames, return the variance over "
    "those frames at each pixel, averaged over all pixels and channels: an array of T - window + 1 values.",
    checker=_check_moving_variance,
    hint=["np.stack(frames) gives a (T, H, W, C) array; a window is a slice a[k:k + window] along the first axis.",
          "a = np.stack(frames); return np.array([a[k:k + window].var(axis=0).mean() for k in "
          "range(len(a) - window + 1)])"],
    solution="""
    def moving_variance(frames, window):
        a = np.stack(frames)                       # (T, H, W, C)
        return np.array([a[k:k + window].var(axis=0).mean()       # over the window's frames, per pixel,
                         for k in range(len(a) - window + 1)])      # then the mean over pixels
    """,
    right=example(lambda: _reference),
    wrong=[mistake(example(lambda: _unbiased), says="W - 1"),
           mistake(example(lambda: _pixel_spread), says="inside each frame"),
           mistake(example(lambda: _cumulative), says="slides")],
)


# ------------------------------------------------------------ 3. predict: more patience
predict_patience = Choice(
    "predict_patience",
    "ES-WMV fires once `patience` iterations pass without a new minimum of the variance, and returns the "
    "output at the minimum. What happens when you double the patience?",
    options={
        "a": "it stops later, and picks the same iteration or a later one with a lower variance",
        "b": "it stops earlier, since it has more patience to spend",
        "c": "nothing changes: the minimum of the variance does not depend on the patience",
    },
    correct="a",
    why={"b": "patience is how long it waits for a better minimum: more of it means waiting longer",
         "c": "the minimum it returns is the minimum *so far*; waiting longer can find a lower one later"},
    hint="The criterion keeps the lowest variance seen so far. What can a longer wait reveal?",
    explanation="More patience costs iterations and can only move the pick to a lower variance; whether that "
                "is closer to the PSNR peak depends on the image (the sweep in section 3 shows it).",
)


# ------------------------------------------------------------ 4. the rule itself: minimum so far, patience, fire
def _fire(variances, patience, *, strict: bool = True, ahead: bool = False, from_start: bool = False,
          pick_fire: bool = False, never_last: bool = False):
    """ES-WMV's rule on a recorded curve (the reference), or a typical slip of it: ``strict=False`` waits
    one iteration too many (``>`` for ``>=``), ``ahead`` picks the minimum of the whole curve (it looks into
    the future), ``from_start`` counts the patience from the first iteration instead of from the minimum,
    ``pick_fire`` returns the firing iteration as the pick, ``never_last`` reports the last iteration as
    the firing one when the rule never fires."""
    variances = list(variances)
    best_it, best_var = None, float("inf")
    for it, var in variances:
        if var < best_var:
            best_it, best_var = it, var
        else:
            waited = it - (variances[0][0] if from_start else best_it)
            if waited > patience - (1 if strict else 0):
                if ahead:
                    best_it = min(variances, key=lambda p: p[1])[0]
                return (it if pick_fire else best_it), it
    return best_it, (variances[-1][0] if never_last and variances else None)


def _curves():
    """Recorded (iteration, variance) curves on which the slips differ from the rule."""
    its = np.arange(10, 60)
    valley = 1.0 + (its - 25.0) ** 2 / 100                         # one valley at 25, then a rise: fires
    late = np.where(its < 30, 1.0 + (its - 15.0) ** 2 / 50, 0.5 + (its - 45.0) ** 2 / 200)
    falling = 2.0 - its / 100                                        # keeps falling: never fires
    return [(list(zip(its.tolist(), valley.tolist())), 8), (list(zip(its.tolist(), late.tolist())), 12),
            (list(zip(its.tolist(), late.tolist())), 25), (list(zip(its.tolist(), falling.tolist())), 5)]


_FIRE_SLIPS = (
    (dict(strict=False), "it fires one iteration late: fire as soon as iteration - (iteration of the minimum) "
                         ">= patience, not >"),
    (dict(ahead=True), "the rule cannot look ahead: keep the minimum seen *so far*, and return it when it fires"),
    (dict(from_start=True), "count the patience from the iteration of the current minimum (it restarts at "
                            "every new minimum), not from the first iteration"),
    (dict(pick_fire=True), "return the iteration of the minimum as the pick; the firing iteration is the second "
                           "value"),
    (dict(never_last=True), "when the rule never fires, fired_at is None (the pick is then the lowest variance "
                            "seen)"),
)


def _as_pair(value, k: int):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Incorrect(f"on test curve {k}, return a pair (pick, fired_at), got {type(value).__name__}")
    return tuple(None if v is None else int(v) for v in value)


def _check_fire(answer) -> None:
    require_function(answer)
    cases = _curves()
    got = [_as_pair(answer(list(v), p), k) for k, (v, p) in enumerate(cases, 1)]
    want = [_fire(v, p) for v, p in cases]
    if got == want:
        return
    for flags, message in _FIRE_SLIPS:
        if got == [_fire(v, p, **flags) for v, p in cases]:
            raise Incorrect(message)
    k = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
    (g_pick, g_fired), (w_pick, w_fired) = got[k], want[k]
    if (g_fired is None) != (w_fired is None):
        raise Incorrect(f"on test curve {k + 1} your rule " + ("never fires, but it should" if g_fired is None
                        else "fires, but it should not: no `patience` iterations pass without a new minimum"))
    if g_fired != w_fired:
        raise Incorrect(f"on test curve {k + 1} your rule fires {'too late' if g_fired > w_fired else 'too early'}")
    raise Incorrect(f"on test curve {k + 1} your pick is {'later' if g_pick > w_pick else 'earlier'} than the "
                    "rule's: it is the iteration of the lowest variance seen when it fires")


fire_rule = Question(
    "fire_rule",
    "Write `fire(variances, patience)`: `variances` is a list of (iteration, variance) pairs in order. Walk "
    "through it keeping the iteration with the lowest variance so far; as soon as `patience` iterations have "
    "passed since that minimum without a lower one, stop and return (iteration of the minimum, iteration "
    "now). If it never fires, return (iteration of the lowest variance, None).",
    checker=_check_fire,
    hint=["Two variables, best_it and best_var, updated when a lower variance comes; otherwise compare "
          "it - best_it with patience.",
          "for it, var in variances: if var < best_var: best_it, best_var = it, var; "
          "elif it - best_it >= patience: return best_it, it. After the loop: return best_it, None."],
    solution="""
    def fire(variances, patience):
        best_it, best_var = None, math.inf
        for it, var in variances:
            if var < best_var:                    # a new minimum: the patience starts again
                best_it, best_var = it, var
            elif it - best_it >= patience:        # waited long enough: stop, return the minimum
                return best_it, it
        return best_it, None                      # never fired: the lowest variance seen
    """,
    right=example(lambda: _fire),
    wrong=[mistake(example(lambda: lambda v, p: _fire(v, p, strict=False)), says=">="),
           mistake(example(lambda: lambda v, p: _fire(v, p, ahead=True)), says="look ahead"),
           mistake(example(lambda: lambda v, p: _fire(v, p, from_start=True)), says="current minimum"),
           mistake(example(lambda: lambda v, p: _fire(v, p, pick_fire=True)), says="second value"),
           mistake(example(lambda: lambda v, p: _fire(v, p, never_last=True)), says="None")],
    explanation="That is all of ES-WMV's decision; the kit's stopping.fire_point is the same loop.",
)
