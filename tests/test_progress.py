"""Progress bars: they count the work, end closed (also after a stop), and change no result."""
from __future__ import annotations

import io

import pytest

from dip_teach import denoiser, images, operators, pretrain, progress
from dip_teach.denoiser import DnCNN
from dip_teach.fit import Fit, FitConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def last_line(err: str) -> str:
    """The bar as tqdm left it when it closed (a text bar rewrites one line with carriage returns)."""
    return err.strip().splitlines()[-1].split("\r")[-1]


@pytest.fixture(scope="module")
def problem():
    clean = images.load("coffee", size=64)
    op = operators.Denoising(25)
    return op, op.corrupt(clean, seed=0), clean


def test_fit_bar_counts_iterations_and_changes_nothing(problem, capsys):
    op, y, clean = problem
    config = FitConfig(net="tiny", iterations=15, seed=3)
    quiet = Fit(op, y, clean, config).run()
    assert capsys.readouterr().err == ""                        # no bar unless asked
    shown = Fit(op, y, clean, config).run(progress=True)
    line = last_line(capsys.readouterr().err)
    assert "DIP" in line and "15/15" in line and "it/s" in line and "dB" in line, line
    assert shown.history["loss"] == quiet.history["loss"]        # same seed, same fit
    assert shown.psnr_best == quiet.psnr_best


def test_fit_bar_closes_on_a_stop_and_goes_on_from_there(problem, capsys):
    op, y, clean = problem
    fit = Fit(op, y, clean, FitConfig(net="tiny", iterations=12))
    stopper = lambda f: f.iteration == 5 and f.stop()        # noqa: E731
    fit.add_callback(stopper)
    fit.run(progress=True)
    assert fit.status == "stopped" and "5/12" in last_line(capsys.readouterr().err)
    assert fit._callbacks == [stopper]                          # the bar left with its run
    fit._callbacks.clear()
    fit.run(progress=True)
    assert fit.status == "finished" and "12/12" in last_line(capsys.readouterr().err)


def test_fit_bar_closes_on_an_error(problem, capsys):
    op, y, clean = problem
    fit = Fit(op, y, clean, FitConfig(net="tiny", iterations=12))

    def fail(f):
        if f.iteration == 3:
            raise RuntimeError("boom")

    fit.add_callback(fail)
    with pytest.raises(RuntimeError, match="boom"):
        fit.run(progress=True)
    err = capsys.readouterr().err
    assert err.endswith("\n") and fit._callbacks == [fail]     # the bar was closed and removed
    assert "2/12" in last_line(err)                             # iteration 3 failed before the bar saw it


def test_training_bar_shows_steps_and_psnr_and_keeps_log_lines_whole(capsys):
    pool = images.training_images()[:1]
    pairs = denoiser.test_set(25, size=32, names=["coffee"])

    def train(**kw):
        import torch
        torch.manual_seed(0)
        net = DnCNN(width=4, depth=1)
        return denoiser.train(net, steps=6, batch_size=2, patch_size=20, eval_every=3, test_pairs=pairs,
                              pool=pool, **kw)

    quiet = train()
    shown = train(progress=True, log=print)
    captured = capsys.readouterr()
    line = last_line(captured.err)
    assert "DnCNN" in line and "6/6" in line and "test" in line and "dB" in line, line
    logged = captured.out.strip().splitlines()
    assert len(logged) == 2 and all(row.startswith("step") for row in logged), logged
    assert shown["train_loss"] == quiet["train_loss"] and shown["test_psnr"] == quiet["test_psnr"]


def test_reptile_bar_counts_outer_steps(capsys):
    pretrain.reptile(["rocket"], size=64, outer_steps=3, inner_steps=1, net="tiny", progress=True)
    line = last_line(capsys.readouterr().err)
    assert "Reptile" in line and "3/3" in line and "inner loss" in line, line


def test_text_bar_on_a_file_is_plain_and_rare():
    stream = io.StringIO()                       # not a terminal: a log file or a pipe
    bar = progress.new_bar(range(1000), desc="work", stream=stream)
    for _ in bar:
        pass
    assert bar.ascii is True and bar.mininterval == 10.0
    assert "1000/1000" in stream.getvalue() and stream.getvalue().count("\r") <= 3
    assert not progress.in_kernel()              # pytest is no Jupyter kernel


def test_notebook_bars_are_off_in_batch_runs(monkeypatch):
    """In a kernel run by nbconvert/nbval (headless) a saved widget would show "0%" forever: no bar."""
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    monkeypatch.setattr(progress, "is_headless", lambda headless=None: True)
    assert progress.new_bar(total=3, desc="batch").disable
    monkeypatch.setattr(progress, "is_headless", lambda headless=None: False)
    bar = progress.new_bar(total=3, desc="live")
    assert not bar.disable
    bar.close()
