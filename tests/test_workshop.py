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


def test_live_app_extends_the_panel_with_a_task_and_its_knob(one_thread):
    """The app's controls come from the panel's hook: image, task, the task's knob, iterations, then Run."""
    pytest.importorskip("ipywidgets")
    p = workshop.WorkshopPanel("coffee", "denoise", headless=False, size=64, preset="tiny", iterations=3)
    controls = p.widget.children[1].children
    assert list(controls) == [p.image_w, p.task_w, p.knob_box, p.iter_w, p.run_btn]
    assert "restore a picture" in p.widget.children[0].value
    p.task_w.value = "inpaint"                     # a new task brings its knob and its budget
    assert p.knob_box.children == (p.knob_w["inpaint"],)
    p.iter_w.value = 3
    p.knob_w["inpaint"].value = 30
    dash = p.run()                                 # trains here, like a click on Run
    assert isinstance(dash.fit.operator, operators.Inpainting) and dash.fit.status == "finished"
    assert dash.fit.operator.missing_fraction == pytest.approx(0.3, abs=0.05)
    p.close()
