"""`make weights` (scripts/fetch_weights.py): download once into torch's cache, verify, refuse damage. No network."""
import hashlib
import importlib.util
from pathlib import Path

import pytest
import torch

from dip_teach import classifier

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("fetch_weights", ROOT / "scripts" / "fetch_weights.py")
fetch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """AlexNet-shaped weights on a file:// "server", named as torchvision names its files; an empty cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(0)
    raw = tmp_path / "raw.pth"
    torch.save(classifier.AlexNet().state_dict(), raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    path = tmp_path / "server" / f"alexnet-owt-{digest[:8]}.pth"
    path.parent.mkdir()
    raw.rename(path)
    return path, digest, tmp_path / "torch" / "hub" / "checkpoints" / path.name


def test_fetch_puts_verified_weights_where_the_notebook_finds_them(served, capsys):
    path, digest, cached = served
    assert fetch.main(["--url", path.as_uri(), "--sha256", digest]) == 0
    assert cached.exists() and digest in capsys.readouterr().out
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]       # no temporary file left
    assert classifier.load_alexnet(path.as_uri(), download=False).source == "alexnet"
    assert fetch.main(["--url", path.as_uri()]) == 0                         # second run: found in the cache
    assert "already in the cache" in capsys.readouterr().out


def test_fetch_refuses_a_wrong_digest_and_keeps_nothing(served):
    path, digest, cached = served
    with pytest.raises(SystemExit, match="differs"):
        fetch.main(["--url", path.as_uri(), "--sha256", "0" * 64])
    assert not cached.exists() and not any(cached.parent.iterdir())


def test_fetch_refuses_a_damaged_file(served):
    path, digest, cached = served
    path.write_bytes(path.read_bytes()[:-100])                               # truncated on the "server"
    with pytest.raises(SystemExit, match="damaged"):
        fetch.main(["--url", path.as_uri()])
    assert not cached.exists()


def test_fetch_says_when_there_is_no_server(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(SystemExit, match="download failed"):
        fetch.main(["--url", (tmp_path / "nowhere-1234abcd.pth").as_uri()])
