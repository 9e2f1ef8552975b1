"""Feature inversion and activation maximisation: the objective falls, the parametrisation shows."""
import numpy as np
import pytest
import torch

from dip_teach import classifier, images, inversion, metrics


@pytest.fixture(scope="module")
def clf():
    return classifier.load_offline()


def test_roughness_ranks_noise_above_a_smooth_image():
    rng = np.random.default_rng(0)
    smooth = np.tile(np.linspace(0, 1, 32, dtype=np.float32)[None, :, None], (32, 1, 3))
    noise = rng.random((32, 32, 3)).astype(np.float32)
    a, b = inversion.roughness(smooth), inversion.roughness(noise)
    assert b["tv"] > 5 * a["tv"] and b["high_freq"] > 0.5 > a["high_freq"]


def test_inversion_lowers_the_feature_loss_and_dip_is_smoother(clf):
    torch.manual_seed(0)
    x0 = images.to_tensor(images.load("coffee", size=64))
    pixels = inversion.invert(clf, x0, "conv3", "pixels", iterations=60)
    dip = inversion.invert(clf, x0, "conv3", "dip", iterations=60, net="tiny")
    for r in (pixels, dip):
        assert r.final < 0.6 * r.objective[0], (r.method, r.objective[0], r.final)
        assert r.image.shape == (64, 64, 3) and 0 <= r.image.min() and r.image.max() <= 1
    assert inversion.roughness(dip.image)["high_freq"] < inversion.roughness(pixels.image)["high_freq"]


def test_maximisation_raises_the_class_score_and_tv_smooths(clf):
    grey = torch.full((1, 3, 48, 48), 0.5)
    start = clf.logits(grey)[0, 4].item()
    pixels = inversion.maximise(clf, 4, 48, "pixels", iterations=40)
    tv = inversion.maximise(clf, 4, 48, "tv", iterations=40, tv_weight=20.0)
    assert inversion.score(clf, 4, pixels.image) > start + 1
    assert pixels.final < pixels.objective[0]           # |300 - score| falls
    assert inversion.roughness(tv.image)["tv"] < inversion.roughness(pixels.image)["tv"]


def test_same_seed_same_result(clf):
    a = inversion.maximise(clf, 1, 64, "dip", iterations=5, net="tiny", seed=3)
    b = inversion.maximise(clf, 1, 64, "dip", iterations=5, net="tiny", seed=3)
    assert np.array_equal(a.image, b.image)


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="pixels, tv, dip"):
        inversion.Parametrisation("sgd", 32)


def test_masked_and_luminance_psnr():
    clean = np.full((16, 16, 3), 0.5, np.float32)
    guess = clean.copy()
    guess[:8] += 0.1
    top = np.zeros((16, 16))
    top[:8] = 1
    assert metrics.psnr_masked(guess, clean, top) == pytest.approx(20.0)
    assert metrics.psnr_masked(guess, clean, 1 - top) == np.inf
    # an error only in a 2-pixel border disappears once the border is cropped
    edge = clean.copy()
    edge[:2] += 0.2
    assert metrics.psnr_luminance(edge, clean, border=2) == np.inf
    assert metrics.psnr_luminance(edge, clean, border=0) < 30
    # green weighs most in luminance
    g, b = clean.copy(), clean.copy()
    g[..., 1] += 0.1
    b[..., 2] += 0.1
    assert metrics.psnr_luminance(g, clean, 0) < metrics.psnr_luminance(b, clean, 0)
    with pytest.raises(ValueError, match="no pixel"):
        metrics.psnr_masked(guess, clean, np.zeros((16, 16)))


def test_class_match_is_the_official_objective_and_stops_pushing_at_the_level(clf):
    x = torch.full((1, 3, 48, 48), 0.5, requires_grad=True)
    s = clf.logits(x)[0, 2]
    below = inversion.class_match(clf, 2, float(s) + 10)(x)
    above = inversion.class_match(clf, 2, float(s) - 10)(x)
    assert below.item() == pytest.approx(10, abs=1e-3) and above.item() == pytest.approx(10, abs=1e-3)
    # below the level a step raises the score, above it a step lowers it: the gradients point opposite ways
    g_below = torch.autograd.grad(below, x)[0]
    g_above = torch.autograd.grad(above, x)[0]
    assert torch.allclose(g_below, -g_above)
    assert inversion.PAPER_CLASS_TARGET == 300 and inversion.PAPER_REG_NOISE == 0.03


def test_snapshots_and_tradeoff(clf):
    r = inversion.maximise(clf, 1, 64, "dip", iterations=6, net="tiny", snapshots=[0, 3, 6])
    assert sorted(r.snapshots) == [0, 3, 6] and np.array_equal(r.snapshots[6], r.image)
    assert not np.array_equal(r.snapshots[0], r.snapshots[6])
    x0 = images.to_tensor(images.load("coffee", size=64))
    pts = inversion.tradeoff(inversion.feature_loss(clf, "conv2", x0), 64, (0, 1.0), 8, [2, 8], net="tiny")
    assert [p.label for p in pts] == ["pixels", "TV 1", "DIP 2", "DIP 8"]
    assert pts[1].tv < pts[0].tv            # a TV weight smooths
    scored = inversion.tradeoff(inversion.class_match(clf, 1), 64, (0,), 4, [4], net="tiny",
                                measure=lambda img: inversion.score(clf, 1, img))
    assert scored[0].objective == pytest.approx(inversion.score(clf, 1, scored[0].image))
