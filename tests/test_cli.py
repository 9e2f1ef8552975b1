"""The command line: report contents, output files, and one-line errors with exit code 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from PIL import Image

from dip_teach import cli, images, metrics, operators

FAST = ["--size", "64", "--iterations", "30", "--threads", "1", "--mode", "test", "--quiet"]
REPORT_KEYS = {"psnr_noisy", "psnr_best", "iter_best", "seconds_best", "psnr_final", "psnr_stopped",
               "iter_stopped", "iterations", "seconds", "device", "config"}


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_denoise_writes_the_report_and_pictures(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "denoise", "coffee", "--sigma", 25, "--seed", 0, "--out", out, *FAST)
    assert code == 0 and "done" in stdout
    for name in cli.OUTPUT_FILES:
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= set(report)
    assert report["iterations"] == 30 and report["device"] == "cpu" and report["ground_truth"]
    # the report's numbers are those of the pictures it wrote (8-bit rounding moves a PSNR by < 0.1 dB)
    clean = images.load("coffee", size=64)
    result, seen = (images.load_image(out / name) for name in ("result.png", "observation.png"))
    assert metrics.psnr(result, clean) == pytest.approx(report["psnr_best"], abs=0.1)
    assert metrics.psnr(seen, clean) == pytest.approx(report["psnr_noisy"], abs=0.1)
    assert 19.5 < report["psnr_noisy"] < 21                         # sigma 25: 20.2 dB before clipping
    assert 1 <= report["iter_best"] <= 30 and report["seconds_best"] <= report["seconds"]
    assert report["config"]["iterations"] == 30
    with Image.open(out / "result.png") as im:
        assert im.size == (64, 64)
    with Image.open(out / "fit.gif") as im:
        assert im.n_frames > 5


def test_progress_bar_counts_the_iterations(tmp_path, capsys):
    fast = [a for a in FAST if a != "--quiet"]
    code, _, err = run_cli(capsys, "denoise", "coffee", "--out", tmp_path / "run", *fast)
    assert code == 0
    last = err.strip().splitlines()[-1]                # the bar as tqdm left it when the fit ended
    assert "30/30" in last and "dB" in last and "it/s" in last, err


def test_noisy_image_without_ground_truth(tmp_path, capsys):
    clean = images.load("coffee", size=64)
    noisy = images.to_array(operators.Denoising(25).corrupt(clean, seed=1))
    images.save_image(tmp_path / "noisy.png", noisy)
    code, _, _ = run_cli(capsys, "denoise", "--noisy", tmp_path / "noisy.png", "--out", tmp_path / "o", *FAST)
    assert code == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["psnr_best"] is None and report["psnr_noisy"] is None and not report["ground_truth"]
    assert report["iter_stopped"] is not None and (tmp_path / "o" / "result.png").exists()


@pytest.mark.parametrize("task, extra", [("inpaint", ["--mask", "text"]), ("superres", ["--factor", "4"])])
def test_inpaint_and_superres_have_the_same_shape(tmp_path, capsys, task, extra):
    code, _, _ = run_cli(capsys, task, "coffee", "--out", tmp_path, *extra, *FAST)
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert REPORT_KEYS <= set(report) and report["task"] == task
    with Image.open(tmp_path / "result.png") as im:
        assert im.size == (64, 64)


def test_inpaint_from_an_observed_image_and_mask_file(tmp_path, capsys):
    clean = images.load("coffee", size=64)
    mask = operators.pixel_mask(clean.shape, 0.5)
    images.save_image(tmp_path / "holes.png", clean * mask[..., None])
    images.save_image(tmp_path / "mask.png", mask)
    code, _, err = run_cli(capsys, "inpaint", "--observed", tmp_path / "holes.png", "--mask-file",
                           tmp_path / "mask.png", "--out", tmp_path / "o", *FAST)
    assert code == 0, err
    assert json.loads((tmp_path / "o" / "report.json").read_text())["missing"] == pytest.approx(0.5, abs=0.05)


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], lines[0]


def test_bad_path_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "denoise", tmp_path / "missing.png", "--out", tmp_path / "o", *FAST)
    assert_one_line_error(code, err, "no image at")


def test_non_image_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "notes.png").write_text("not really a picture")
    code, _, err = run_cli(capsys, "denoise", tmp_path / "notes.png", "--out", tmp_path / "o", *FAST)
    assert_one_line_error(code, err, "not an image")


def test_unwritable_out_dir_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(capsys, "denoise", "coffee", "--out", tmp_path / "file" / "sub", *FAST)
    assert_one_line_error(code, err, "cannot write")
    code, _, err = run_cli(capsys, "denoise", "coffee", "--out", tmp_path / "file", *FAST)
    assert_one_line_error(code, err, "is a file")


def test_existing_results_are_never_overwritten_without_asking(tmp_path, capsys):
    (tmp_path / "report.json").write_text("{}")
    code, _, err = run_cli(capsys, "denoise", "coffee", "--out", tmp_path, *FAST)
    assert_one_line_error(code, err, "report.json", "--overwrite")
    assert (tmp_path / "report.json").read_text() == "{}"
    code, _, _ = run_cli(capsys, "denoise", "coffee", "--out", tmp_path, "--overwrite", *FAST)
    assert code == 0 and "psnr_best" in (tmp_path / "report.json").read_text()


def test_image_and_noisy_together_is_an_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "denoise", "coffee", "--noisy", "coffee", "--out", tmp_path, *FAST)
    assert_one_line_error(code, err, "either")
    code, _, err = run_cli(capsys, "denoise", "coffee", "--sigma", "0.1", "--out", tmp_path, *FAST)
    assert_one_line_error(code, err, "0-255")


def test_python_dash_m_entry_point_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dip_teach", "denoise", str(tmp_path / "nope.png"),
                           "--out", str(tmp_path / "o"), *FAST], capture_output=True, text=True, timeout=120)
    assert_one_line_error(proc.returncode, proc.stderr, "no image at")
