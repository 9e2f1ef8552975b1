import numpy as np
import pytest
import torch

from dip_teach import settings


def test_mode_from_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "lab")
    assert settings.get_mode().name == "lab"
    monkeypatch.setenv(settings.MODE_ENV, "FULL ")
    assert settings.get_mode().name == "full"


def test_set_mode_overrides_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "lab")
    settings.set_mode("test")
    assert settings.get_mode().name == "test"
    settings.set_mode(None)
    assert settings.get_mode().name == "lab"


def test_default_mode_follows_device(monkeypatch):
    monkeypatch.delenv(settings.MODE_ENV)
    expected = "lab" if settings.get_device().type == "cpu" else "full"
    assert settings.get_mode().name == expected


def test_unknown_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "fast")
    with pytest.raises(ValueError, match="unknown run mode 'fast'.*test, lab, full"):
        settings.get_mode()
    with pytest.raises(ValueError, match="unknown run mode"):
        settings.set_mode("quick")


def test_device_override(monkeypatch):
    monkeypatch.setenv(settings.DEVICE_ENV, "cpu")
    assert settings.get_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv(settings.DEVICE_ENV, "cuda")
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            settings.get_device()


def test_budgets_scale_with_mode():
    test = settings.iterations(3000, "test")
    lab = settings.iterations(3000, "lab")
    full = settings.iterations(3000, "full")
    assert test < lab < full == 3000
    assert settings.iterations(10, "full") == 10  # never more than declared
    assert settings.iterations(3000, "test") >= settings.MODES["test"].min_iterations
    # a floor for experiments that must run past a peak: it lifts short modes only
    assert settings.iterations(2500, "test", at_least=800) == 800
    assert settings.iterations(2500, "lab", at_least=800) == settings.iterations(2500, "lab")
    assert settings.image_size(mode="test") < settings.image_size(mode="lab") <= settings.image_size(mode="full")
    assert settings.image_size(512, mode="full") == 512
    assert settings.image_size(512, mode="test") % 32 == 0
    with pytest.raises(ValueError, match="positive"):
        settings.iterations(0)


def test_seed_repeats_exactly():
    settings.seed_everything(3)
    a = torch.randn(5), np.random.rand(3)
    settings.seed_everything(3)
    b = torch.randn(5), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_threads_and_report():
    n = settings.configure_threads()
    assert n >= 1 and torch.get_num_threads() == n
    info = settings.report()
    for key in ("device", "mode", "threads", "torch", "python", "how_to_change_mode"):
        assert key in info
    assert info["mode"] == "test" and info["mode_source"] == "$DIP_TEACH_MODE"
    assert "mode" in settings.format_report(info)
