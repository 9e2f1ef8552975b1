"""The workshop app's problems (one per task) and its headless run."""
from __future__ import annotations

import pytest

from dip_teach import images, operators, workshop


@pytest.fixture
def clean():
    return images.load("coffee", size=64)


def test_each_task_builds_its_operator_and_observation(clean):
    op, y = workshop.corrupt("denoise", clean, 25, seed=0)
    assert isinstance(op, operators.Denoising) and tuple(y.shape) == (1, 3, 64, 64)
    op, y = workshop.corrupt("inpaint", clean, 70, seed=0)
    assert isinstance(op, operators.Inpainting) and op.missing_fraction == pytest.approx(0.7, abs=0.03)
    op, y = workshop.corrupt("superres", clean, 4)
    assert isinstance(op, operators.Downsampling) and tuple(y.shape) == (1, 3, 16, 16)


def test_unknown_task_names_the_choices(clean):
    with pytest.raises(ValueError, match="denoise, inpaint, superres"):
        workshop.corrupt("deblur", clean, 1)
    with pytest.raises(ValueError, match="choose one of"):
        workshop.WorkshopPanel(task="deblur", headless=True)


def test_headless_app_runs_the_chosen_task(one_thread):
    p = workshop.app("coffee", "superres", headless=True, size=64, preset="tiny", iterations=20)
    result = p.wait()
    fit = p.dashboard.fit
    assert isinstance(fit.operator, operators.Downsampling)
    assert result.iterations == 20 and tuple(fit.observation.shape[-2:]) == (16, 16)
    p.close()
