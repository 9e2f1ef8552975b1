"""The helpers of notebooks 04-06: the pixel-MLP control, the architecture table, baselines, ES-WMV replay."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dip_teach import architecture, baselines, bias, images, live, nets, operators, stopping
from dip_teach.exercises import nb04, nb06
from dip_teach.fit import Fit, FitConfig


# ------------------------------------------------------------------ nets.PixelMLP
def test_pixel_mlp_treats_every_pixel_on_its_own():
    torch.manual_seed(0)
    net = nets.build("pixel_mlp", in_channels=8, out_channels=3).eval()
    z = torch.rand(1, 8, 12, 10)
    perm = torch.randperm(12 * 10)
    shuffled = z.flatten(2)[..., perm].view_as(z)
    with torch.no_grad():
        out, out_shuffled = net(z), net(shuffled)
    assert out.shape == (1, 3, 12, 10) and 0 <= out.min() and out.max() <= 1
    # shuffling the input's pixels shuffles the output the same way: no pixel sees its neighbours
    assert torch.allclose(out.flatten(2)[..., perm], out_shuffled.flatten(2), atol=1e-6)


def test_skip_net_is_not_permutation_equivariant():
    torch.manual_seed(0)
    net = nets.build("tiny", in_channels=8).eval()
    z = torch.rand(1, 8, 64, 64)
    perm = torch.randperm(64 * 64)
    with torch.no_grad():
        a = net(z).flatten(2)[..., perm]
        b = net(z.flatten(2)[..., perm].view_as(z)).flatten(2)
    assert not torch.allclose(a, b, atol=1e-3)


def test_pixel_mlp_fits_in_a_dip_fit_any_size():
    x = images.load("coffee", size=64)[:40, :56]            # no size constraint: not a multiple of 32
    fit = Fit(operators.Operator(), x, config=FitConfig(net="pixel_mlp", iterations=3, stopping=None))
    assert fit.run().image.shape == x.shape


def test_flat_net_sees_neighbours_at_one_resolution():
    torch.manual_seed(0)
    net = nets.build("flat", in_channels=8).eval()
    z = torch.rand(1, 8, 20, 18)                             # any size: no down- or upsampling
    with torch.no_grad():
        out = net(z)
        z2 = z.clone()
        z2[..., 10, 9] += 1.0                                # one input pixel changes ...
        changed = (net(z2) - out).abs().sum(dim=1)[0] > 1e-6
    assert out.shape == (1, 3, 20, 18)
    assert changed[10, 9] and changed[10, 10] and not changed[0, 0]   # ... its neighbourhood moves, not afar
    assert not any(isinstance(m, torch.nn.Upsample) for m in net.modules())
    with pytest.raises(ValueError, match="1x1"):
        nets.PixelMLP(nets.NetConfig(kind="pixel_mlp", down=(), skip=(), up=(8,), kernel=3), 8, 3)


def test_race_speeds_reports_the_fair_pair_per_seed():
    speeds = bias.race_speeds({"tiny": "tiny", "mlp": "pixel_mlp"}, "chelsea", seeds=[0, 1], size=64,
                              iterations=6, level=1.0)
    assert set(speeds.steps) == {"tiny", "mlp"}
    for net in ("tiny", "mlp"):
        assert all(len(speeds.steps[net][t]) == 2 for t in bias.FAIR_PAIR)
        assert speeds.steps[net]["natural image"] == [1, 1]          # every loss is below 1 at once
        assert speeds.loss_ratio(net).shape == (2,) and np.all(speeds.loss_ratio(net) > 0)
    table = speeds.table()
    assert table.count("\n") == 3 and "± " in table and "| tiny |" in table
    targets = bias.race_targets("chelsea", size=64, seed=3)
    a, b = (np.sort(targets[t].reshape(-1, 3), axis=0) for t in bias.FAIR_PAIR)
    assert np.array_equal(a, b)                                # the fair pair: the same pixel values


def test_side_by_side_trains_prepared_fits_and_draws_a_psnr_curve():
    clean = images.load("camera", size=64, grey=True)
    op = operators.Denoising(25)
    fits = {name: Fit(op, op.corrupt(img, seed=0), clean=img, config=FitConfig(net="tiny", iterations=4))
            for name, img in (("grey", clean), ("colour", images.load("coffee", size=64)))}
    view = live.side_by_side(fits, headless=True)
    assert all(f.iteration == 4 for f in fits.values()) and view.figure is not None
    assert view.curve == "psnr_clean_avg" and view.names == ["grey", "colour"]
    with pytest.raises(ValueError, match="curve"):
        live.Race({"a": clean}, curve="ssim")


def test_fire_rule_exercise_is_the_kits_rule():
    for variances, patience in nb06._curves():
        assert nb06._fire(variances, patience) == stopping.fire_point(variances, patience)


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="pixel_mlp"):
        nets.NetConfig(kind="transformer")


# ------------------------------------------------------------------ architecture
@pytest.mark.parametrize("preset,size", [("paper", 256), ("lab", 128), ("tiny", 64), ("hourglass", 64)])
def test_summary_adds_up_to_the_whole_net(preset, size):
    table = architecture.summary(preset, size=size)
    net = nets.build(preset)
    assert table.total_parameters == nets.count_parameters(net)
    assert table.total_gmac == pytest.approx(nets.count_macs(net, size) / 1e9, rel=1e-9)
    assert [r["scale"] for r in table] == [1, 2, 3, 4, 5, "head"]
    assert table[0]["resolution"] == f"{size}x{size}" and table[4]["resolution"] == f"{size // 16}x{size // 16}"
    # the finest scale costs the most: same kernels, most pixels
    assert table[0]["MMAC"] == max(r["MMAC"] for r in table)
    assert "| **total** |" in str(table)


def test_paper_figures_match_the_reference():
    table = architecture.summary("paper", size=256)
    assert round(table.total_parameters / 1e6, 1) == 2.2 and round(table.total_gmac, 1) == 19.4
    assert nb04._PAPER_PARAMETERS == table.total_parameters      # the exercise's constant


def test_summary_rejects_other_kinds_and_bad_sizes():
    with pytest.raises(ValueError, match="scale by scale"):
        architecture.summary("deep_decoder")
    with pytest.raises(ValueError, match="divide by 32"):
        architecture.summary("tiny", size=48)


# ------------------------------------------------------------------ baselines
def test_baselines_beat_the_noisy_input():
    clean = images.load("chelsea", size=64)
    noisy = operators.Denoising(25).corrupt(clean, seed=0)
    table = baselines.compare(noisy, clean)
    assert list(table.psnr) == ["noisy", *baselines.METHODS]
    for name in baselines.METHODS:
        assert table.psnr[name] > table.psnr["noisy"] + 3, (name, table.psnr)
    assert all(table.seconds[name] > 0 for name in baselines.METHODS), table.seconds
    table.add("same as clean", clean, clean, seconds=12.5)
    assert table.ranked()[0][0] == "same as clean"
    assert "| noisy |" in str(table) and "**" in str(table)
    assert "| 12.5 |" in str(table) and str(table).splitlines()[2].endswith("| - |")   # noisy: no time


def test_baselines_refuse_mismatched_images():
    with pytest.raises(images.ImageError, match="same shape"):
        baselines.compare(np.zeros((32, 32, 3)), np.zeros((64, 64, 3)))


def test_notebook_04_says_why_bm3d_is_left_out():
    nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "04_deep_image_prior.ipynb").read_text())
    prose = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert any("BM3D is not in this table" in p and "non-commercial" in p for p in prose)


# ------------------------------------------------------------------ ES-WMV replay
def test_recorded_variance_replays_the_fits_own_criterion():
    clean = images.load("coffee", size=64)
    op = operators.Denoising(25)
    crit = stopping.ESWMV(window=5, patience=15)
    fit = Fit(op, op.corrupt(clean, seed=0), clean=clean, config=FitConfig(iterations=60, stopping=crit))
    recorded = stopping.record_variance(fit, [5, 10])
    fit.run()
    assert set(recorded) == {5, 10}
    assert len(recorded[5].variances) == 60 - 5 + 1 and len(recorded[10].variances) == 60 - 10 + 1
    pick, fired = stopping.fire_point(recorded[5].variances, 15)
    assert pick == fit.stopping.best_iteration and fired == fit.stopping.fired_at
    # more patience never fires earlier (nor at all where less never fired), and never picks a higher variance
    var = dict(recorded[5].variances)
    for short, long in [(1, 2), (2, 5), (5, 15), (15, 40), (1, 40)]:
        pick_s, fired_s = stopping.fire_point(recorded[5].variances, short)
        pick_l, fired_l = stopping.fire_point(recorded[5].variances, long)
        if fired_s is None:
            assert fired_l is None, (short, long)
        elif fired_l is not None:
            assert fired_l >= fired_s, (short, long, fired_s, fired_l)
        assert var[pick_l] <= var[pick_s], (short, long)
    # patience 1 fires at the first iteration without a new minimum: a real, known point
    curve = recorded[5].variances
    first_rise = next(it for k, (it, v) in enumerate(curve) if k and v >= min(u for _, u in curve[:k]))
    assert stopping.fire_point(curve, 1)[1] == first_rise


def test_record_variance_default_window_follows_the_mode():
    fit = Fit(operators.Denoising(25), images.load("coffee", size=64), config=FitConfig(iterations=2))
    assert list(stopping.record_variance(fit)) == [stopping.ESWMV().window]


def test_fire_point_on_a_made_up_curve():
    curve = [(1, 5.0), (2, 3.0), (3, 4.0), (4, 4.0), (5, 1.0), (6, 2.0)]
    assert stopping.fire_point(curve, 2) == (2, 4)
    assert stopping.fire_point(curve, 3) == (5, None)
    with pytest.raises(ValueError, match="patience"):
        stopping.fire_point(curve, 0)
