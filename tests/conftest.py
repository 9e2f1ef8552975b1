"""Shared fixtures: every test runs in the fast `test` mode on the CPU, seeded."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from dip_teach import images, settings


#: Tests of files other tiers' markers cannot be written in (kept here, by name): a real Jupyter kernel.
_REAL_KERNEL = ("test_clicks_reach_a_cell_that_trains_in_a_real_kernel",)


def pytest_collection_modifyitems(config, items):
    """The tiers of ``pyproject.toml``: every notebook nbval runs, and the real-kernel test, are
    ``notebook`` and ``slow`` (so ``make unit`` leaves them out)."""
    for item in items:
        if item.path.suffix == ".ipynb" or getattr(item, "originalname", None) in _REAL_KERNEL:
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _test_mode(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "test")
    monkeypatch.delenv(settings.DEVICE_ENV, raising=False)
    settings.set_mode(None)
    settings.seed_everything(0)
    yield
    settings.set_mode(None)


@pytest.fixture
def small_image() -> np.ndarray:
    """A 64x64 colour crop of a natural test image."""
    return images.load("coffee", size=64)


@pytest.fixture
def small_tensor(small_image) -> torch.Tensor:
    return images.to_tensor(small_image)


@pytest.fixture
def one_thread():
    """Small nets run faster on one torch thread, and far faster on a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where browser tests put screenshots: ``$DIP_TEACH_ARTIFACTS``, else a fresh folder of this run
    (never a fixed folder of the system temp directory, which parallel runs and other users share)."""
    wanted = os.environ.get("DIP_TEACH_ARTIFACTS")
    if not wanted:
        return tmp_path_factory.mktemp("artifacts")
    Path(wanted).mkdir(parents=True, exist_ok=True)
    return Path(wanted)
