"""The learned prior of notebook 03: a small DnCNN, its training loop, its weights files and CLI."""
import numpy as np
import pytest
import torch

from dip_teach import baselines, denoiser, images, metrics, operators, train_denoiser
from dip_teach.denoiser import DnCNN, WeightsError


@pytest.fixture(scope="module")
def shipped():
    return denoiser.load_pretrained()


def test_output_has_the_input_shape():
    net = DnCNN(channels=3, width=8, depth=2)
    y = torch.rand(2, 3, 20, 24)
    assert net(y).shape == y.shape
    assert net.receptive_field == 9
    # the last layer starts at zero: an untrained net predicts no noise, so it is the identity
    assert torch.equal(net.clean(y), y)


def test_patches_are_sampled_flipped_and_seeded():
    pool = [torch.arange(3 * 50 * 60, dtype=torch.float32).reshape(3, 50, 60)]
    a = denoiser.sample_patches(pool, 64, 16, torch.Generator().manual_seed(0))
    b = denoiser.sample_patches(pool, 64, 16, torch.Generator().manual_seed(0))
    assert a.shape == (64, 3, 16, 16) and torch.equal(a, b)
    # the pool increases along rows; a rotated or flipped patch does not, so both kinds occur
    rising = (a[:, 0, :, 1:] > a[:, 0, :, :-1]).all(dim=(1, 2))
    assert 0 < rising.sum() < 64


def test_training_a_few_steps_lowers_the_loss():
    torch.manual_seed(0)
    net = DnCNN(width=8, depth=2)
    pool = images.training_images()[:2]
    pairs = denoiser.test_set(25, size=32, names=["coffee"])
    h = denoiser.train(net, sigma=25, steps=40, batch_size=8, patch_size=24, lr=3e-3, eval_every=10,
                       test_pairs=pairs, pool=pool)
    assert h["step"] == [10, 20, 30, 40] and h["patches_seen"] == 320
    # the first record averages steps 1-10, where the net is still near the identity
    # (loss = the noise's variance, 0.0096); 30 steps later it is clearly lower
    assert h["train_loss"][-1] < 0.8 * h["train_loss"][0]
    assert h["test_psnr"][-1] > h["noisy_psnr"]          # already better than doing nothing
    assert not net.training                                # handed back ready to use


def test_shipped_weights_beat_the_noisy_input(shipped):
    clean = images.load("coffee", size=64)
    noisy = operators.Denoising(25).corrupt(clean, seed=0)
    restored = denoiser.denoise(shipped, noisy)
    assert isinstance(restored, torch.Tensor) and restored.shape == noisy.shape
    assert metrics.psnr(restored, clean) > metrics.psnr(noisy, clean) + 5
    assert shipped.sigma == 25 and shipped.history["test_psnr"]


def test_denoise_takes_arrays_and_grey_images(shipped):
    clean = images.load("camera", size=64, grey=True)
    noisy = images.to_array(operators.Denoising(25).corrupt(clean, seed=0))
    out = denoiser.denoise(shipped, noisy)
    assert isinstance(out, np.ndarray) and out.shape == (64, 64, 1)
    assert metrics.psnr(out, clean) > metrics.psnr(noisy, clean) + 3
    with pytest.raises(TypeError, match="DnCNN first"):
        denoiser.denoise(noisy, shipped)


def test_save_and_load_round_trip(tmp_path):
    net = DnCNN(width=8, depth=1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1)
    path = denoiser.save(net, tmp_path / "w.pt", sigma=15, history={"step": [1]})
    back = denoiser.load(path)
    y = torch.rand(1, 3, 16, 16)
    assert torch.allclose(back(y), net.eval()(y)) and back.sigma == 15 and back.history == {"step": [1]}
    with pytest.raises(FileExistsError, match="overwrite=True"):
        denoiser.save(net, path, sigma=15)


def test_missing_weights_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m dip_teach.train_denoiser"):
        denoiser.load(tmp_path / "nothing.pt")


def test_corrupt_weights_are_explained(tmp_path):
    good = denoiser.save(DnCNN(width=8, depth=1), tmp_path / "good.pt", sigma=25)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a weights file" * 10)
    for path in (truncated, garbage):
        with pytest.raises(WeightsError, match="corrupt or truncated"):
            denoiser.load(path)
    with pytest.raises(WeightsError, match="is a folder"):
        denoiser.load(tmp_path)


def test_foreign_and_mismatched_weights_are_explained(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), foreign)
    with pytest.raises(WeightsError, match="not a dip_teach DnCNN weights file"):
        denoiser.load(foreign)
    path = denoiser.save(DnCNN(width=8, depth=1), tmp_path / "w.pt", sigma=25)
    blob = torch.load(path, weights_only=True)
    blob["config"]["width"] = 16                  # the file now describes another network
    torch.save(blob, path)
    with pytest.raises(WeightsError, match="do not fit a DnCNN"):
        denoiser.load(path)
    blob["config"]["width"] = 8
    del blob["state_dict"]["body.0.bias"]         # a layer's weights are gone
    torch.save(blob, path)
    with pytest.raises(WeightsError, match="missing"):
        denoiser.load(path)


def test_a_url_uses_the_local_copy_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_pretrained went to the network although the file is local")

    monkeypatch.setattr(denoiser.urllib.request, "urlretrieve", no_network)
    net = denoiser.load_pretrained("https://example.org/weights/dncnn_sigma25.pt")
    assert isinstance(net, DnCNN) and net.sigma == 25
    with pytest.raises(FileNotFoundError, match="download=False"):
        denoiser.load_pretrained("https://example.org/weights/not_here_anywhere.pt", download=False)


def test_cli_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "w.pt"
    out.write_bytes(b"precious")
    assert train_denoiser.main(["--steps", "1", "--out", str(out)]) == 1
    assert out.read_bytes() == b"precious"
    assert "--overwrite" in capsys.readouterr().err


def test_cli_trains_and_writes(tmp_path, capsys):
    threads = torch.get_num_threads()      # the CLI sets torch's threads; give them back after
    out = tmp_path / "w.pt"
    args = ["--steps", "2", "--width", "4", "--depth", "1", "--batch-size", "2", "--patch-size", "20",
            "--eval-size", "32", "--eval-every", "1", "--threads", "1", "--out", str(out)]
    assert train_denoiser.main(args) == 0
    net = denoiser.load(out)
    assert net.config == {"channels": 3, "width": 4, "depth": 1}
    assert net.command.startswith("python -m dip_teach.train_denoiser") and "--steps 2" in net.command
    assert "step     2/2" in capsys.readouterr().out
    assert train_denoiser.main(args + ["--overwrite"]) == 0
    torch.set_num_threads(threads)


def test_handcrafted_baselines_are_notebook_02s_at_their_best():
    from dip_teach import priors

    (_, x, y), = denoiser.test_set(25, size=32, names=["coffee"])
    out = baselines.handcrafted(y, x)
    ya, xa = images.to_array(y), images.to_array(x)
    tv_psnrs = [metrics.psnr(priors.skimage_tv(ya, w), xa) for w in baselines.TV_WEIGHTS]
    assert metrics.psnr(out["TV"], xa) == pytest.approx(max(tv_psnrs))          # the oracle weight
    assert metrics.psnr(out["TV"], xa) > min(tv_psnrs) + 1                       # and the weight matters
    assert np.allclose(out["NLM"], priors.skimage_nlm(ya))


def test_compare_averages_over_noise_draws_and_groups_images(shipped):
    rows = baselines.compare_denoiser(shipped, 25, size=32, names=["coffee", "cartoon"], seeds=(0, 1))
    assert set(rows) == {"coffee", "cartoon"} and set(rows["coffee"]) == {"noisy", "TV", "NLM", "DnCNN"}
    one = baselines.compare_denoiser(shipped, 25, size=32, names=["coffee"], seeds=(0,))["coffee"]
    two = baselines.compare_denoiser(shipped, 25, size=32, names=["coffee"], seeds=(1,))["coffee"]
    assert rows["coffee"]["DnCNN"] == pytest.approx((one["DnCNN"] + two["DnCNN"]) / 2)
    assert baselines.mean_over(rows, ["coffee"]) == rows["coffee"]
    with pytest.raises(ValueError, match="none of"):
        baselines.mean_over(rows, ["astronaut"])
