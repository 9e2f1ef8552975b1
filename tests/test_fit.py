"""The DIP fit: the science at small scale, and the machinery (controls, divergence, seeds).

Everything runs on 64x64 crops with the ``tiny`` net on one thread, so the whole file
takes seconds. The property tests assert the claims the course makes.
"""
from __future__ import annotations

import itertools
import math
import threading
import time

import numpy as np
import pytest
import torch

from dip_teach import images, nets, operators, settings
from dip_teach.fit import Fit, FitConfig, FitResult, append_row, dip_loop, log_spaced, new_history
from dip_teach.images import ImageError
from dip_teach.metrics import psnr
from dip_teach.stopping import ESWMV, oracle_iteration


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return images.load("coffee", size=64)


@pytest.fixture(scope="module")
def overlong(coffee):
    """A denoising fit run well past its peak (sigma 25, no input noise, so it overfits fast)."""
    torch.set_num_threads(1)
    op = operators.Denoising(25)
    y = op.corrupt(coffee, seed=0)
    fit = Fit(op, y, clean=coffee, config=FitConfig(net="tiny", iterations=320, lr=0.02, reg_noise_std=0,
                                                   ema=0.9, stopping=ESWMV(window=20, patience=60)))
    fit.run()
    return fit, psnr(y, coffee)


def test_natural_image_is_fitted_in_far_fewer_steps_than_white_noise(coffee):
    """The paper's Fig. 2: the network fits structure fast and resists noise."""
    target_loss = 0.004            # about 24 dB to the target

    def steps_to_fit(target: np.ndarray, budget: int) -> int:
        fit = Fit(operators.Operator(), target, config=FitConfig(
            net="tiny", iterations=budget, lr=0.02, reg_noise_std=0, ema=0, stopping=None))
        fit.add_callback(lambda f: f.history["loss"][-1] < target_loss and f.stop())
        fit.run()
        return fit.iteration if fit.history["loss"][-1] < target_loss else math.inf

    natural = steps_to_fit(coffee, 300)
    noise = np.random.default_rng(0).random(coffee.shape).astype(np.float32)
    assert natural < 300
    assert steps_to_fit(noise, 4 * natural) > 4 * natural        # not reached in 4x the steps


def test_psnr_peaks_above_the_noisy_input_and_before_the_end_while_loss_falls(overlong):
    fit, noisy = overlong
    h = fit.history
    curve = np.array(h["psnr_clean"])
    peak = int(np.argmax(curve))
    assert curve[peak] > noisy + 3                       # well above the noisy input (20.9 dB)
    assert peak < 0.75 * len(curve)                      # before the end of the fit
    assert curve[-1] < curve[peak] - 0.5                 # then it fits the noise
    loss = np.array(h["loss"])
    assert loss[-20:].mean() < 0.8 * loss[max(0, peak - 10):peak + 10].mean()   # while the loss keeps falling
    assert fit.result.psnr_best >= max(h["psnr_clean_avg"]) - 1e-9


def test_blind_criterion_stops_near_the_oracle(overlong):
    """ES-WMV, without the clean image, lands within 1 dB of the oracle peak here (0.04 dB measured)."""
    fit, noisy = overlong
    r = fit.result
    oracle = oracle_iteration(fit.history)
    assert fit.criterion_fired_at is not None            # it fired before the end
    assert r.iter_picked < fit.criterion_fired_at        # and picked an earlier iteration
    assert r.psnr_picked > max(fit.history["psnr_clean_avg"]) - 1.0
    assert r.psnr_picked > noisy + 2
    assert abs(r.iter_picked - oracle) < 0.5 * len(fit.history["iteration"])


def test_result_history_and_snapshots_are_consistent(overlong):
    fit, _ = overlong
    r = fit.result
    assert isinstance(r, FitResult) and r.iterations == 320 and r.diverged == 0
    lengths = {len(v) for v in r.history.values()}
    assert lengths == {320} and r.history["iteration"] == list(range(1, 321))
    assert [s.iteration for s in fit.snapshots] == log_spaced(320, fit.config.snapshots)
    assert r.image.shape == r.best_image.shape == (64, 64, 3)
    assert fit.latest().shape == fit.latest_averaged().shape == (64, 64, 3)
    assert fit.best.iteration == r.iter_best and r.seconds_best <= r.seconds
    assert fit.status == "finished"


@pytest.mark.parametrize("name", ["denoise", "inpaint", "superres"])
def test_every_operator_improves_on_its_input(coffee, name):
    if name == "denoise":
        op = operators.Denoising(25)
        y = op.corrupt(coffee, seed=0)
        baseline = psnr(y, coffee)
    elif name == "inpaint":
        op = operators.Inpainting(operators.pixel_mask(coffee.shape, missing=0.5, seed=0))
        y = op.corrupt(coffee)
        baseline = psnr(y, coffee)                       # the image with holes
    else:
        op = operators.Downsampling(4)
        y = op.corrupt(coffee)
        baseline = psnr(torch.nn.functional.interpolate(y, scale_factor=4, mode="nearest"), coffee)
    result = Fit(op, y, clean=coffee, config=FitConfig(net="tiny", iterations=150, lr=0.02)).run()
    assert result.psnr_best > baseline + 1, (result.psnr_best, baseline)
    assert result.best_image.shape == coffee.shape


def test_fit_runs_exactly_the_bare_loop(coffee):
    """Fit is dip_loop plus bookkeeping: the same seed gives the same losses, bit for bit."""
    op = operators.Denoising(25)
    y = op.corrupt(coffee, seed=0)
    config = FitConfig(net="tiny", iterations=12)
    bare = Fit(op, y, config=config)                     # its net, z, optimiser and noise, never run
    loop = dip_loop(bare.net, bare.z, op, bare.observation, bare.optimizer, reg_noise_std=bare.config.reg_noise_std,
                    ema=bare.config.ema, noise=bare._noise_gen)
    steps = list(itertools.islice(loop, 12))
    fit = Fit(op, y, config=config)
    assert fit.run().history["loss"] == [s.loss for s in steps]
    assert all(s.updated for s in steps)
    assert np.array_equal(fit.latest_averaged(), images.to_array(steps[-1].averaged))


def test_history_rows_are_appended_by_name():
    history = new_history()
    append_row(history, iteration=1, loss=0.5, psnr_clean=20.0, psnr_clean_avg=21.0, psnr_obs=3.0,
               psnr_obs_avg=3.1, seconds=0.1)
    assert history["psnr_clean_avg"] == [21.0] and history["seconds"] == [0.1]
    with pytest.raises(KeyError, match="psnr_obs_avg"):
        append_row(history, iteration=2, loss=0.4, psnr_clean=20.0, psnr_clean_avg=21.0, psnr_obs=3.0, seconds=0.2)
    assert len(history["iteration"]) == 1                # a bad row adds nothing


def test_pause_resume_and_stop_from_another_thread(coffee):
    """The fit trains in this thread; pause, resume and stop come from another (a button's)."""
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(coffee, seed=0), clean=coffee, config=FitConfig(net="tiny", iterations=10_000))
    assert fit.status == "idle" and fit.result is None
    fit.add_callback(lambda f: f.iteration == 3 and f.pause())   # held before iteration 4, whatever the timing
    seen = {}

    def button():
        try:
            deadline = time.time() + 60
            while fit.status != "paused" and time.time() < deadline:
                time.sleep(0.01)
            seen["status"], seen["held"] = fit.status, fit.iteration
            fit.resume()
            while fit.iteration < 6 and time.time() < deadline:
                time.sleep(0.01)
            seen["resumed"] = fit.iteration
        finally:
            fit.stop()

    thread = threading.Thread(target=button, daemon=True)
    thread.start()
    result = fit.run()
    thread.join(10)
    assert seen["status"] == "paused" and seen["held"] == 3 and seen["resumed"] >= 6
    assert fit.status == "stopped" and 6 <= result.iterations < 10_000
    assert len(result.history["loss"]) == result.iterations and math.isfinite(result.psnr_best)


def test_stop_while_paused_ends_the_fit(coffee):
    fit = Fit(operators.Operator(), coffee, config=FitConfig(net="tiny", iterations=10_000))
    fit.add_callback(lambda f: f.iteration == 2 and f.pause())

    def button():
        deadline = time.time() + 60
        while fit.status != "paused" and time.time() < deadline:
            time.sleep(0.01)
        fit.stop()

    thread = threading.Thread(target=button, daemon=True)
    thread.start()
    fit.run()
    thread.join(10)
    assert fit.status == "stopped" and fit.iteration == 2


def test_errors_are_raised_and_kept(coffee):
    fit = Fit(operators.Operator(), coffee, config=FitConfig(net="tiny", iterations=50))

    def broken(f):
        if f.iteration == 5:
            raise ValueError("callback broke")

    fit.add_callback(broken)
    with pytest.raises(ValueError, match="callback broke"):
        fit.run()
    assert fit.status == "failed" and isinstance(fit.error, ValueError)
    assert fit.result.iterations == 5                    # the history up to the failure is kept


@pytest.mark.parametrize("damage", ["nan", "jump"])
def test_divergence_falls_back_to_the_last_good_state(coffee, damage):
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(coffee, seed=0), clean=coffee,
              config=FitConfig(net="tiny", iterations=60, checkpoint_every=10))
    done = []

    def sabotage(f):
        if f.iteration == 35 and not done:
            done.append(True)
            with torch.no_grad():
                last = f.net.head[0][-1]                 # the final 1x1 conv
                if damage == "nan":
                    last.weight.fill_(float("nan"))
                else:
                    last.weight.mul_(1000)               # saturates the sigmoid: loss jumps
    fit.add_callback(sabotage)
    r = fit.run()
    assert done and r.diverged >= 1
    assert r.iterations == 60 and np.isfinite(r.image).all()
    assert all(math.isfinite(v) for v in r.history["loss"])
    assert r.psnr_final > r.history["psnr_clean_avg"][20] - 1   # no garbage at the end


def test_same_seed_same_history_on_cpu(coffee):
    op = operators.Denoising(25)
    y = op.corrupt(coffee, seed=0)

    def losses(seed):
        return Fit(op, y, config=FitConfig(net="tiny", iterations=15, seed=seed)).run().history["loss"]

    assert losses(1) == losses(1)
    assert losses(1) != losses(2)


def test_without_clean_image_best_comes_from_the_blind_criterion(coffee):
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(coffee, seed=0), config=FitConfig(
        net="tiny", iterations=80, stopping=ESWMV(window=5, patience=10)))
    r = fit.run()
    assert all(math.isnan(v) for v in r.history["psnr_clean"]) and math.isnan(r.psnr_best)
    assert all(math.isfinite(v) for v in r.history["psnr_obs_avg"])
    assert r.best_image.shape == (64, 64, 3)
    assert fit.criterion_fired_at is not None            # (at 26 of 80 when measured)
    assert fit.best.iteration == fit.stopping.best_iteration == r.iter_picked < fit.criterion_fired_at


def test_stop_early_ends_the_fit_when_the_criterion_fires(coffee):
    op = operators.Denoising(25)
    fit = Fit(op, op.corrupt(coffee, seed=0), config=FitConfig(
        net="tiny", iterations=500, stop_early=True, stopping=ESWMV(window=3, patience=5)))
    fit.run()
    assert fit.status == "stopped" and fit.iteration == fit.criterion_fired_at < 500


def test_superres_output_has_the_high_resolution_size(coffee):
    op = operators.Downsampling(4)
    fit = Fit(op, op.corrupt(coffee), config=FitConfig(net="tiny", iterations=2))
    assert fit.run().image.shape == (64, 64, 3)


def test_bad_sizes_and_settings_give_clear_errors(coffee):
    with pytest.raises(ImageError, match="divisible by 32"):
        Fit(operators.Operator(), coffee[:48, :48], config=FitConfig(net="tiny"))
    with pytest.raises(ValueError, match="ema"):
        Fit(operators.Operator(), coffee, config=FitConfig(ema=1.5))
    with pytest.raises(ImageError, match="clean image"):
        Fit(operators.Operator(), coffee, clean=images.load("camera", size=96))


def test_defaults_follow_the_run_mode(coffee):
    fit = Fit(operators.Operator(), coffee)
    assert fit.config.iterations == 180 and fit.config.net.up == (16,) * 5
    assert 0.9 < fit.config.ema < 1 and isinstance(fit.config.stopping, ESWMV)


def test_the_input_noise_follows_the_task_unless_set(coffee):
    lab = nets.PRESETS["lab"]
    y = operators.Denoising(25).corrupt(coffee, seed=0)
    denoise = Fit(operators.Denoising(25), y, config=FitConfig(net="lab", iterations=1)).config
    inpaint = Fit(operators.Inpainting(np.ones((64, 64))), y, config=FitConfig(net="lab", iterations=1)).config
    assert denoise.reg_noise_std == lab.denoise_reg_noise_std > inpaint.reg_noise_std == lab.reg_noise_std
    assert FitConfig(net="paper").resolved(task="denoise").reg_noise_std == pytest.approx(1 / 30)
    assert FitConfig(net="lab", reg_noise_std=0.0).resolved(task="denoise").reg_noise_std == 0.0


def test_the_output_average_follows_the_task_and_the_image_size_unless_set(monkeypatch):
    big = np.zeros((256, 320, 3), np.float32)     # shorter side 256: a large image for lab's denoising
    small = np.zeros((128, 128, 3), np.float32)
    lab = FitConfig(net="lab").resolved(task="denoise", side=256)    # test mode scales the span down
    assert lab.ema == pytest.approx(1 - 1 / settings.iterations(200)) and lab.ema < 1 - 1 / 200
    monkeypatch.setenv(settings.MODE_ENV, "full")

    def ema(op, image, **kw):
        return Fit(op, image, config=FitConfig(iterations=1, **kw)).config.ema

    assert ema(operators.Denoising(25), big, net="lab") == pytest.approx(1 - 1 / 200)
    assert ema(operators.Denoising(25), small, net="lab") == pytest.approx(0.99)
    assert ema(operators.Inpainting(np.ones((256, 320))), big, net="lab") == pytest.approx(0.99)
    assert ema(operators.Denoising(25), big, net="paper") == pytest.approx(0.99)     # the paper's everywhere
    assert ema(operators.Denoising(25), big, net="lab", ema=0.9) == 0.9


def test_log_spaced_is_dense_early():
    its = log_spaced(1000, 10)
    assert its[0] == 1 and its[-1] == 1000 and its == sorted(set(its))
    assert its[1] - its[0] < its[-1] - its[-2]


def test_a_stopped_fit_continues_when_run_again(coffee):
    fit = Fit(operators.Operator(), coffee, config=FitConfig(net="tiny", iterations=12))
    fit.add_callback(lambda f: f.iteration == 5 and f.stop())
    fit.run()
    assert fit.status == "stopped" and fit.iteration == 5
    fit._callbacks.clear()
    fit.run()
    assert fit.status == "finished" and fit.iteration == 12
    assert fit.history["iteration"] == list(range(1, 13))


# ------------------------------------------------------------------ bf16
def test_a_bf16_fit_repeats_exactly_and_differs_from_fp32(coffee):
    """The network runs in bf16, the image, loss and average stay fp32; a seed repeats exactly."""
    op = operators.Denoising(25)
    y = op.corrupt(coffee, seed=0)

    def fit(precision):
        f = Fit(op, y, clean=coffee, config=FitConfig(net="tiny", iterations=25, precision=precision,
                                                      stopping=None))
        f.run()
        return f

    a, b, c = fit("bf16"), fit("bf16"), fit("fp32")
    assert a.config.precision == "bf16" and c.config.precision == "fp32"
    assert a.history["loss"] == b.history["loss"] and a.history["psnr_clean_avg"] == b.history["psnr_clean_avg"]
    assert a.history["loss"] != c.history["loss"]          # autocast really changed the arithmetic
    assert a.presented().dtype == torch.float32 and a._out.dtype == torch.float32
    assert abs(a.history["psnr_clean_avg"][-1] - c.history["psnr_clean_avg"][-1]) < 1.0
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16"):
        Fit(op, y, config=FitConfig(net="tiny", iterations=5, precision="fp16"))


def test_the_default_precision_is_bf16_only_where_it_pays(monkeypatch):
    """With native bf16 that keeps quality, a net too small to gain from it stays in fp32."""
    from dip_teach import settings
    monkeypatch.delenv(settings.PRECISION_ENV, raising=False)
    monkeypatch.setattr(settings, "BF16_KEEPS_QUALITY", True)
    monkeypatch.setattr(settings, "BF16_DEFAULT", True)
    monkeypatch.setattr(settings, "bf16_native", lambda device=None: True)
    op = operators.Denoising(25)
    small, large = (images.load("coffee", size=s) for s in (64, 128))     # tiny net: 0.03 and 0.11 GMAC
    assert Fit(op, small, config=FitConfig(net="tiny", iterations=5)).config.precision == "fp32"
    assert Fit(op, large, config=FitConfig(net="tiny", iterations=5)).config.precision == "bf16"
    assert Fit(op, large, config=FitConfig(net="tiny", iterations=5, precision="fp32")).config.precision == "fp32"
    monkeypatch.setattr(settings, "BF16_KEEPS_QUALITY", False)
    assert Fit(op, large, config=FitConfig(net="tiny", iterations=5)).config.precision == "fp32"
