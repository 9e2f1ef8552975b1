"""The classifiers of notebook 09: AlexNet through torch.hub's cache, the offline fallback. No network."""
import hashlib

import pytest
import torch

from dip_teach import classifier


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch.hub cache in a temporary folder (never the user's)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def _published(tmp_path, state: dict, stem: str) -> tuple[str, bytes]:
    """Save ``state`` as torchvision names files (``stem-<sha256 prefix>.pth``); return its file:// URL."""
    raw = tmp_path / "raw.pth"
    torch.save(state, raw)
    data = raw.read_bytes()
    path = tmp_path / "server" / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    path.parent.mkdir()
    path.write_bytes(data)
    return path.as_uri(), data


def test_alexnet_has_torchvisions_layout():
    net = classifier.AlexNet()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["features.0.weight"] == (64, 3, 11, 11)
    assert shapes["features.10.weight"] == (256, 256, 3, 3)
    assert shapes["classifier.1.weight"] == (4096, 9216)
    assert shapes["classifier.6.weight"] == (1000, 4096)
    assert len(shapes) == 16
    with torch.no_grad():
        assert net(torch.rand(1, 3, 224, 224)).shape == (1, 1000)


def test_alexnet_loads_through_torch_hub_from_a_local_url(hub, tmp_path):
    torch.manual_seed(0)
    written = classifier.AlexNet().state_dict()
    url, _ = _published(tmp_path, written, "alexnet")
    clf = classifier.load_alexnet(url)
    assert clf.source == "alexnet"
    assert torch.equal(clf.net.features[0].weight, written["features.0.weight"])
    assert (hub / url.rsplit("/", 1)[1]).exists()          # cached: the next call needs no "server"
    (tmp_path / "server").rename(tmp_path / "gone")
    again = classifier.load_alexnet(url, download=False)
    assert torch.equal(again.net.classifier[6].bias, written["classifier.6.bias"])
    assert clf.features(torch.rand(1, 3, 128, 128), "conv5").shape[1] == 256


def test_truncated_download_is_refused_and_not_cached(hub, tmp_path):
    url, data = _published(tmp_path, {"w": torch.arange(1000.0)}, "weights")
    server_file = tmp_path / "server" / url.rsplit("/", 1)[1]
    server_file.write_bytes(data[: len(data) // 2])          # the connection dropped half-way
    with pytest.raises(classifier.WeightsUnavailable, match="weights unavailable"):
        classifier.fetch_state_dict(url)
    assert not any(hub.iterdir()), list(hub.iterdir())       # nothing left in the cache, not even a .partial


def test_missing_file_and_no_download_say_why(hub, tmp_path):
    with pytest.raises(classifier.WeightsUnavailable, match="downloading is off"):
        classifier.fetch_state_dict((tmp_path / "nowhere-12345678.pth").as_uri(), download=False)
    with pytest.raises(classifier.WeightsUnavailable, match="unavailable"):
        classifier.fetch_state_dict((tmp_path / "nowhere-12345678.pth").as_uri())


def test_wrong_weights_are_reported_not_loaded(hub, tmp_path):
    url, _ = _published(tmp_path, {"features.0.weight": torch.zeros(3)}, "alexnet")
    with pytest.raises(classifier.WeightsUnavailable, match="does not hold AlexNet"):
        classifier.load_alexnet(url)


def test_load_falls_back_to_offline_in_one_line(hub, tmp_path):
    lines = []
    clf = classifier.load(url=(tmp_path / "nowhere-12345678.pth").as_uri(), download=True, log=lines.append)
    assert clf.source == "offline" and len(lines) == 1
    assert lines[0].startswith("offline path:") and "\n" not in lines[0]


def test_test_mode_never_downloads(hub, tmp_path, monkeypatch):
    from dip_teach import settings

    url, _ = _published(tmp_path, classifier.AlexNet().state_dict(), "alexnet")
    monkeypatch.setattr(settings, "_mode_override", "test")
    lines = []
    assert classifier.load(url=url, log=lines.append).source == "offline"
    assert "downloading is off" in lines[0]
    assert not hub.exists() or not any(hub.iterdir())


def test_offline_classifier_recognises_held_out_patches():
    clf = classifier.load_offline()
    names, pool = classifier.texture_pool()
    assert list(clf.classes.values()) == names
    x, labels = classifier.sample_batch(pool, 64, 48, torch.Generator().manual_seed(5), holdout=True)
    with torch.no_grad():
        accuracy = (clf.logits(x).argmax(1) == labels).float().mean().item()
    assert accuracy > 0.6, accuracy                           # chance is 1/8
    assert clf.features(x[:1], "conv3").shape[1] == 64
    with pytest.raises(ValueError, match="unknown layer"):
        clf.features(x[:1], "fc9")


def test_offline_weights_refuse_to_overwrite(tmp_path):
    net = classifier.TextureNet(2, width=4)
    path = classifier.save_offline(net, {"classes": ["a", "b"], "accuracy": 0.5}, tmp_path / "w.pt")
    with pytest.raises(FileExistsError, match="overwrite"):
        classifier.save_offline(net, {"classes": ["a", "b"], "accuracy": 0.5}, path)
    assert classifier.load_offline(path).classes == {0: "a", 1: "b"}


def test_a_download_prints_nothing_but_the_one_line(hub, tmp_path, capsys):
    url, _ = _published(tmp_path, classifier.AlexNet().state_dict(), "alexnet")
    lines = []
    assert classifier.load(url=url, download=True, log=lines.append).source == "alexnet"
    assert capsys.readouterr().out == "" and lines[0].startswith("real path:")
