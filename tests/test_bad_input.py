"""Bad input and faults: every case ends in a documented fix or a one-line error, never a traceback,
a hang or a silent wrong result, and never changes a file that was there before.

The CLI cases are one table (:data:`CLI_CASES`): the command, the exit code, words of the message,
the files the output folder must hold afterwards. Every case runs in its own ``tmp_path``, and
the test checks that no file that existed before the command was changed. The fixture files
(bombs, EXIF photos, huge headers) are generated small at test time by :func:`make_inputs`.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dip_teach import cli, denoiser, images, operators, settings, workshop
from dip_teach import fit as fit_module
from dip_teach.fit import Fit, FitConfig
from dip_teach.images import ImageError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import load_memory  # noqa: E402  (the benchmark's file makers and its measurement)

FAST = ["--iterations", "8", "--threads", "1", "--mode", "test", "--quiet"]
ALL_OUTPUTS = set(cli.OUTPUT_FILES)
FAILED_OUTPUTS = ALL_OUTPUTS            # a failed fit still writes everything it has


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """The input files, made once per module in a fresh folder of this test run."""
    return make_inputs(tmp_path_factory.mktemp("inputs"))


def _exif_photo(path: Path) -> Path:
    """A 96 wide x 64 tall JPEG, left half red, right half blue, tagged "rotate 90 degrees clockwise"."""
    a = np.zeros((64, 96, 3), np.uint8)
    a[:, :48] = (230, 20, 20)
    a[:, 48:] = (20, 20, 230)
    exif = Image.Exif()
    exif[0x0112] = 6                                    # the EXIF orientation tag
    Image.fromarray(a).save(path, exif=exif, quality=95)
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """The input files of the table, made small: bombs are a few hundred KB of compressed zeros."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    made = {
        "bomb200": load_memory.make_bomb(folder / "bomb200.png", 20_000, 10_000),   # Pillow's bomb error
        "bomb100": load_memory.make_bomb(folder / "bomb100.png", 10_000, 10_000),   # under Pillow's limit
        "exif": _exif_photo(folder / "exif6.jpg"),
    }
    for side in (7, 8, 16, 40, 64, 200):
        p = folder / f"low{side}.png"
        Image.fromarray((rng.random((side, side, 3)) * 255).astype(np.uint8)).save(p)
        made[f"low{side}"] = p
    clean = images.load("coffee", size=64)
    made["noisy"] = images.save_image(folder / "noisy.png", operators.Denoising(25).corrupt(clean, seed=1))
    mask = np.ones((64, 64), np.float32)
    mask[:, :13] = 0                                                        # 20% missing, all on the left
    made["mask"] = images.save_image(folder / "mask.png", mask)
    return made


def _digest(folder: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file (links by their target name) under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p)] = "link:" + os.readlink(p)
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ------------------------------------------------------------------ the CLI table
# (id, argv with {name} placeholders for make_inputs' files and {out}, exit code, words of the
#  one-line message, files the output folder holds afterwards)
CLI_CASES = [
    # 1. super-resolution output size capped by the mode's max_image_size
    ("superres-lowres-too-big", ["superres", "--lowres", "{low200}", "--factor", "4"], 2,
     ["larger than the 128 px", "--size"], set()),
    ("superres-factor-1000", ["superres", "--lowres", "{low16}", "--factor", "1000"], 2, ["larger than"], set()),
    # 2. big files
    ("bomb-200mp", ["denoise", "{bomb200}"], 2, ["too large", "megapixels"], set()),
    ("bomb-100mp", ["denoise", "{bomb100}"], 2, ["too large", "10000x10000"], set()),
    # 3. faults
    ("diverging-fit", ["denoise", "coffee", "--size", "64", "--iterations", "30", "--lr", "1e9"], 1,
     ["failed", "diverged", "report.json"], FAILED_OUTPUTS),
    # 4. odd or large factors
    ("factor-3", ["superres", "coffee", "--factor", "3", "--size", "96"], 0, [], ALL_OUTPUTS),
    ("factor-5", ["superres", "coffee", "--factor", "5", "--size", "160", "--mode", "lab"], 0, [], ALL_OUTPUTS),
    ("lowres-factor-3", ["superres", "--lowres", "{low40}", "--factor", "3"], 0, [], ALL_OUTPUTS),
    ("lowres-factor-5", ["superres", "--lowres", "{low40}", "--factor", "5", "--mode", "lab"], 0, [], ALL_OUTPUTS),
    ("lowres-factor-32", ["superres", "--lowres", "{low16}", "--factor", "32", "--mode", "lab", "--net", "tiny"],
     0, [], ALL_OUTPUTS),
    ("lowres-factor-64-test-mode", ["superres", "--lowres", "{low16}", "--factor", "64"], 2, ["larger than"], set()),
    ("lowres-under-8px", ["superres", "--lowres", "{low7}", "--factor", "4"], 2, ["at least"], set()),
    ("lowres-8px-4x", ["superres", "--lowres", "{low8}", "--factor", "4"], 2, ["at least 16x16"], set()),
    # 5. silent wrong results
    ("iterations-0", ["denoise", "coffee", "--iterations", "0"], 2, ["--iterations", "at least 1"], set()),
    ("missing-with-text-mask", ["inpaint", "coffee", "--mask", "text", "--missing", "0.9"], 2,
     ["--missing", "pixel"], set()),
    ("sigma-with-noisy", ["denoise", "--noisy", "{noisy}", "--sigma", "50"], 2, ["--sigma"], set()),
    ("mask-and-mask-file", ["inpaint", "coffee", "--mask", "hole", "--mask-file", "{mask}"], 2,
     ["not both"], set()),
    ("size-32", ["denoise", "coffee", "--size", "32"], 2, ["at least 64"], set()),
    # 6. low
    ("out-empty", ["denoise", "coffee", "--out", ""], 2, ["--out", "empty"], None),
    ("threads-0", ["denoise", "coffee", "--threads", "0"], 2, ["--threads"], set()),
    ("lr-0", ["denoise", "coffee", "--lr", "0"], 2, ["--lr", "positive"], set()),
    ("lr-inf", ["denoise", "coffee", "--lr", "inf"], 2, ["--lr", "positive"], set()),
]


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _fill(argv: list[str], made: dict[str, Path], out: Path) -> list[str]:
    return [a.format(out=out, **{k: str(v) for k, v in made.items()}) for a in argv]


@pytest.mark.parametrize("case, argv, code, words, outputs", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_case(tmp_path, capsys, monkeypatch, made, case, argv, code, words, outputs):
    monkeypatch.chdir(tmp_path)                       # a stray write would land here, and be seen
    out = tmp_path / "out"
    argv = _dedupe(_fill(argv, made, out) + ["--out", str(out)] + FAST)
    inputs = made["mask"].parent
    before = _digest(tmp_path) | _digest(inputs)
    got, stdout, err = run_cli(capsys, argv)
    assert got == code, (got, stdout, err)
    assert "Traceback" not in err + stdout
    if code != 0:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), err
        for w in words:
            assert w in lines[0], (w, lines[0])
    after = _digest(tmp_path) | _digest(inputs)
    assert {p: h for p, h in after.items() if p in before} == before, "a file that was there changed"
    if outputs is not None:
        held = {p.name for p in out.iterdir()} if out.exists() else set()
        assert held == outputs, held
        for name in held:
            assert name in ALL_OUTPUTS, name          # no temporary file left over
    else:
        assert set(after) == set(before), "--out '' wrote somewhere"
    if outputs:
        report = json.loads((out / "report.json").read_text())
        assert report["status"] == ("finished" if code == 0 else "failed")
        with Image.open(out / "result.png") as im:
            im.load()


def _dedupe(argv: list[str]) -> list[str]:
    """Options given twice keep their first value (the case's), so FAST only fills in the rest."""
    seen, out, i = set(), [], 0
    flags = {"--quiet"}
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a in seen:
            i += 1 if a in flags else 2
            continue
        if a.startswith("--"):
            seen.add(a)
        out.append(a)
        i += 1
    return out


def test_failed_fit_report_says_why_and_keeps_the_best(tmp_path, capsys):
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--iterations", "30", "--lr", "1e9",
                                    "--out", str(out), "--threads", "1", "--mode", "test", "--quiet"])
    assert code == 1, err
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and "FloatingPointError" in report["reason"]
    assert 1 <= report["iter_best"] and report["psnr_best"] is not None


def test_runtime_error_mid_fit_writes_what_it_has(tmp_path, capsys, monkeypatch):
    real_loop = fit_module.dip_loop

    def loop(*args, **kwargs):                   # the algorithm fails in its 6th iteration
        for n, step in enumerate(real_loop(*args, **kwargs), start=1):
            if n == 6:
                raise RuntimeError("CUDA out of memory (simulated)")
            yield step

    monkeypatch.setattr(fit_module, "dip_loop", loop)
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(tmp_path / "o"), *FAST])
    assert code == 1 and err.count("\n") == 1 and "out of memory" in err, err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["status"] == "failed" and report["iterations"] == 5 and "RuntimeError" in report["reason"]
    assert {p.name for p in (tmp_path / "o").iterdir()} == ALL_OUTPUTS


def test_cuda_without_a_gpu_is_a_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(settings.DEVICE_ENV, "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--out", str(tmp_path / "o"), *FAST])
    assert code == 2 and err.startswith("error:") and "no CUDA GPU" in err and err.count("\n") == 1, err


def _press_ctrl_c(times: int):
    """A stand-in for a save function that receives ``times`` Ctrl-C presses while writing."""
    def press(*args, **kwargs):
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        return real(*args, **kwargs)
    real = cli.save_curve
    return press


def test_ctrl_c_while_writing_is_waited_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "save_curve", _press_ctrl_c(1))
    code, out, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(tmp_path / "o"), *FAST])
    assert code == 0 and "one moment" in err, (out, err)
    assert {p.name for p in (tmp_path / "o").iterdir()} == ALL_OUTPUTS


def test_second_ctrl_c_while_writing_abandons_without_half_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "save_curve", _press_ctrl_c(2))
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(tmp_path / "o"), *FAST])
    assert code == 130 and err.strip().splitlines()[-1].startswith("error: interrupted"), err
    held = {p.name for p in (tmp_path / "o").iterdir()}
    assert held <= ALL_OUTPUTS, held                              # no temporary files left
    for name in held & {"result.png", "observation.png"}:
        with Image.open(tmp_path / "o" / name) as im:
            im.load()                                             # whole files only


def test_ctrl_c_landing_in_code_that_swallows_it_still_stops_the_fit(tmp_path, capsys, monkeypatch):
    """Ctrl-C during training only marks the press; the fit's loop stops, wherever the signal landed."""
    class SwallowingFit(cli.Fit):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.add_callback(press_inside_a_catch_all)

    def press_inside_a_catch_all(fit):
        if fit.iteration == 3:
            try:                      # like library code that catches everything, KeyboardInterrupt included
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            except BaseException:
                pass

    monkeypatch.setattr(cli, "Fit", SwallowingFit)
    out = tmp_path / "o"
    code, stdout, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(out), "--iterations", "40",
                                         "--threads", "1", "--mode", "test", "--quiet"])
    assert code == 130, (stdout, err)
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted" and report["iterations"] == 3, report
    assert {p.name for p in out.iterdir()} == ALL_OUTPUTS


def test_two_real_ctrl_c_50_ms_apart(tmp_path):
    """The issue's case in a real process: two SIGINTs 50 ms apart during a fit."""
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "dip_teach", "denoise", "coffee", "--size", "64", "--iterations",
                             "100000", "--threads", "1", "--mode", "test", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    started = threading.Event()
    err_chunks: list[str] = []

    def read_err():
        while chunk := proc.stderr.read(1):
            err_chunks.append(chunk)
            if "it/s" in "".join(err_chunks[-200:]):
                started.set()
        started.set()

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    if not started.wait(120):
        proc.kill()
        pytest.fail("the fit never started")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:      # a hung fit must not train on and slow every later test
            proc.kill()
            proc.wait()
    reader.join(10)
    err = "".join(err_chunks)
    assert proc.returncode == 130 and "Traceback" not in err, (proc.returncode, err[-2000:])
    held = {p.name for p in out.iterdir()}
    assert held == ALL_OUTPUTS, held                    # everything written, nothing half-written
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "interrupted" and "Ctrl-C" in report["reason"]
    assert "None" not in stdout


# ------------------------------------------------------------------ CLI cases with their own checks
def test_mask_file_with_a_clean_image_is_used(tmp_path, capsys, made):
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, ["inpaint", "coffee", "--mask-file", str(made["mask"]), "--size", "64",
                                    "--out", str(out), *FAST])
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    assert report["mask"] == "file" and report["missing"] == pytest.approx(13 / 64, abs=0.01)
    obs = np.asarray(Image.open(out / "observation.png"), dtype=float)
    assert obs[:, :13].max() == 0 and obs[:, 13:].mean() > 20          # holes exactly where the file says


def test_size_with_lowres_crops_the_output(tmp_path, capsys, made):
    code, _, err = run_cli(capsys, ["superres", "--lowres", str(made["low40"]), "--factor", "4", "--size", "64",
                                    "--out", str(tmp_path / "o"), *FAST])
    assert code == 0, err
    with Image.open(tmp_path / "o" / "result.png") as im:
        assert im.size == (64, 64)


def test_lowres_factor_3_and_5_make_the_promised_size(tmp_path, capsys, made):
    for factor, side in ((3, 96), (5, 160)):
        out = tmp_path / f"o{factor}"
        code, _, err = run_cli(capsys, ["superres", "--lowres", str(made["low40"]), "--factor", str(factor),
                                        "--out", str(out), *FAST, "--mode", "lab"])
        assert code == 0, err
        with Image.open(out / "result.png") as im:
            assert im.size == (side, side)


def test_write_probe_leaves_a_students_file_alone(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".dip_teach_write_test").write_text("my notes")
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(out), *FAST])
    assert code == 0, err
    assert (out / ".dip_teach_write_test").read_text() == "my notes"


def test_dangling_symlink_is_not_followed(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    target = tmp_path / "elsewhere.png"
    (out / "result.png").symlink_to(target)
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(out), *FAST])
    assert code == 2 and "result.png" in err and "--overwrite" in err, err
    assert not target.exists() and (out / "result.png").is_symlink()
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(out), "--overwrite", *FAST])
    assert code == 0, err
    assert not target.exists() and not (out / "result.png").is_symlink()    # the link replaced, not followed


def test_a_file_that_appears_during_the_fit_is_kept(tmp_path, capsys, monkeypatch):
    out = tmp_path / "o"
    real = cli.make_problem

    def make_problem(args):
        problem = real(args)
        (out / "curve.png").write_text("made by the student meanwhile")
        return problem

    monkeypatch.setattr(cli, "make_problem", make_problem)
    code, _, err = run_cli(capsys, ["denoise", "coffee", "--size", "64", "--out", str(out), *FAST])
    assert code == 2 and "curve.png" in err and "already exists" in err, err
    assert (out / "curve.png").read_text() == "made by the student meanwhile"
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_no_ground_truth_and_too_few_iterations_never_says_none(tmp_path, capsys, made):
    code, stdout, err = run_cli(capsys, ["denoise", "--noisy", str(made["noisy"]), "--out", str(tmp_path / "o"),
                                         "--iterations", "3", "--threads", "1", "--mode", "test", "--quiet"])
    assert code == 0, err
    assert "None" not in stdout and "iteration" in stdout, stdout


# ------------------------------------------------------------------ the Python API
def test_superres_output_cap_in_the_api():
    """Notebook 08's own-image path: a big "small" image must not start a huge fit."""
    big_low = torch.rand(1, 3, 200, 200)
    with pytest.raises(ImageError, match="larger than the 128 px"):
        Fit(operators.Downsampling(4), big_low, config=FitConfig(iterations=1))


@pytest.mark.parametrize("name, match", [("bomb200", "decompression-bomb"), ("bomb100", "10000x10000")])
def test_bombs_are_refused_in_one_line(made, name, match):
    with pytest.raises(ImageError, match=match) as err:
        images.load_image(made[name])
    assert "\n" not in str(err.value)


def test_exif_orientation_is_applied(tmp_path):
    x = images.load_image(_exif_photo(tmp_path / "p.jpg"))
    assert x.shape == (96, 64, 3)                                   # upright: taller than wide
    assert x[:40, :, 0].mean() > 0.8 and x[-40:, :, 2].mean() > 0.8  # red on top, blue below


def test_big_photo_is_reduced_while_decoding(tmp_path):
    files_ = load_memory.make_photo(tmp_path, 4000, 3000)
    whole = images.load_image(files_["photo, PNG"])
    for path in files_.values():
        x = images.load(path, size=128)
        assert x.shape == (128, 128, 3)
        ref = images.prepare(whole, size=128)
        assert np.abs(x - ref).mean() < 0.02                          # the same view, not a detail of it


def test_48_megapixel_photo_loads_under_400_mb_and_a_bomb_costs_nothing(tmp_path):
    made = load_memory.make_photo(tmp_path)
    photo = load_memory.measure(made["photo, JPEG"], size=128, memory_limit_gb=4)
    assert photo["outcome"] == "loaded 128x128" and photo["peak_rise_mb"] < 400, photo
    png = load_memory.measure(made["photo, PNG"], size=128, memory_limit_gb=4)
    assert png["outcome"] == "loaded 128x128" and png["peak_rise_mb"] < 400, png
    bomb = load_memory.measure(load_memory.make_bomb(tmp_path / "b.png", 10_000, 10_000), 128, memory_limit_gb=4)
    assert bomb["outcome"].startswith("refused") and bomb["peak_rise_mb"] < 50, bomb


@pytest.mark.parametrize("data, expected", [
    (np.full((8, 8, 3), 200, dtype=int), 200 / 255),
    (np.full((8, 8, 3), 200, dtype=np.int32), 200 / 255),
    ([[[200, 200, 200]] * 8] * 8, 200 / 255),                        # nested lists: int64
    (np.full((8, 8, 3), 40000, dtype=np.int64), 40000 / 65535),
    (np.full((8, 8, 3), 200, dtype=np.uint8), 200 / 255),
])
def test_integer_images_are_scaled_by_their_range(data, expected):
    assert images.as_image(data).mean() == pytest.approx(expected, abs=1e-6)


def test_negative_integers_are_refused():
    with pytest.raises(ImageError, match="0-255"):
        images.as_image(np.full((8, 8), -3, dtype=int))


@pytest.mark.parametrize("where", ["corrupt", "fit_observation", "fit_clean", "bicubic"])
def test_tensor_on_the_0_255_scale_is_refused(where, small_tensor):
    t = small_tensor * 255
    with pytest.raises(ImageError, match="divide by 255"):
        if where == "corrupt":
            operators.Denoising(25).corrupt(t, seed=0)
        elif where == "fit_observation":
            Fit(operators.Denoising(25), t, config=FitConfig(iterations=1))
        elif where == "fit_clean":
            Fit(operators.Denoising(25), small_tensor, clean=t, config=FitConfig(iterations=1))
        else:
            operators.upsample_bicubic(operators.Downsampling(4).corrupt(t), 4)


def test_uint8_tensor_is_scaled_and_unclipped_noise_is_accepted(small_tensor):
    as_bytes = (small_tensor * 255).round().to(torch.uint8)
    y = operators.Denoising(25).corrupt(as_bytes, seed=0)
    assert 0.2 < float(y.mean()) < 0.8
    unclipped = operators.Denoising(50, clip=False).corrupt(small_tensor, seed=0)
    Fit(operators.Denoising(50), unclipped, config=FitConfig(iterations=1))      # no error


def test_the_networks_minimum_side_is_checked_before_torch():
    with pytest.raises(ImageError, match="at least 64 pixels"):
        Fit(operators.Denoising(25), torch.rand(1, 3, 32, 32), config=FitConfig(iterations=1))


def test_odd_factor_downsampling_gives_the_exact_size():
    for factor, side in ((3, 96), (5, 160), (7, 224)):
        assert operators.Downsampling(factor).forward(torch.rand(1, 3, side, side)).shape[-1] == side // factor


def test_even_factor_downsampling_is_unchanged():
    """Notebook 08 depends on the even factors: the padding stays symmetric."""
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for f in (2, 4, 8):
        op = operators.Downsampling(f)
        k = op.kernel
        pad = (len(k) - f) // 2
        ref = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
        ref = torch.nn.functional.conv2d(ref, k.view(1, 1, 1, -1).repeat(3, 1, 1, 1), stride=(1, f), groups=3)
        ref = torch.nn.functional.conv2d(ref, k.view(1, 1, -1, 1).repeat(3, 1, 1, 1), stride=(f, 1), groups=3)
        assert torch.equal(op.forward(x), ref)


@pytest.mark.parametrize("bad", [{"lr": 0}, {"lr": math.inf}, {"lr": -0.01}, {"iterations": 0}])
def test_fit_config_refuses_values_no_fit_can_use(bad):
    with pytest.raises(ValueError):
        FitConfig(**bad).resolved()


def test_threads_zero_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        settings.configure_threads(0)


def test_cached_hub_file_with_a_wrong_hash_is_refused(tmp_path, monkeypatch):
    from dip_teach import classifier

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    cached = tmp_path / "hub" / "checkpoints" / "alexnet-owt-12345678.pth"
    cached.parent.mkdir(parents=True)
    torch.save({"w": torch.zeros(3)}, cached)                       # loads fine, but is not what the name says
    before = cached.read_bytes()
    with pytest.raises(classifier.WeightsUnavailable, match="SHA-256"):
        classifier.fetch_state_dict("https://example.org/alexnet-owt-12345678.pth", download=False)
    assert cached.read_bytes() == before


class _Answer:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, n=-1):
        data, self.data = (self.data, b"") if n < 0 else (self.data[:n], self.data[n:])
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_dncnn_download_has_a_timeout_and_a_hash(tmp_path, monkeypatch):
    monkeypatch.setattr(denoiser, "CACHE_DIR", tmp_path / "cache")
    asked = {}

    def urlopen(url, timeout=None):
        asked["timeout"] = timeout
        return _Answer(b"not the weights")

    monkeypatch.setattr(denoiser.urllib.request, "urlopen", urlopen)
    with pytest.raises(ValueError, match="sha256"):                  # no way to check it: not fetched
        denoiser.load_pretrained("https://example.org/w/mine.pt")
    assert "timeout" not in asked
    with pytest.raises(denoiser.WeightsError, match="SHA-256"):
        denoiser.load_pretrained("https://example.org/w/mine-0123abcd.pt", timeout=5)
    assert asked["timeout"] == 5
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_live_view_save_does_not_overwrite(tmp_path):
    from test_live import FakeFit

    from dip_teach import live

    dash = live.watch(FakeFit(iterations=5), headless=True)
    (tmp_path / "fit.png").write_text("mine")
    with pytest.raises(FileExistsError):
        dash.save(tmp_path / "fit.png")
    assert (tmp_path / "fit.png").read_text() == "mine"
    dash.save(tmp_path / "fit.png", overwrite=True)
    assert (tmp_path / "fit.png").stat().st_size > 1000


def test_workshop_caps_iterations_per_run():
    p = workshop.WorkshopPanel("coffee", "denoise", headless=True, size=64, preset="tiny", iterations=20)
    values = dict(p._read(), iterations=workshop.max_iterations() + 1)
    with pytest.raises(ValueError, match="iterations per run"):
        p.make_fit(values)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    from dip_teach import files

    def broken(tmp: Path):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(tmp_path / "r.json", broken)
    assert list(tmp_path.iterdir()) == []


def test_tests_use_no_fixed_temporary_folder():
    for path in (ROOT / "tests").glob("*.py"):
        assert "gettemp" + "dir" not in path.read_text(), f"{path.name} writes to a folder shared with other runs"


def test_readme_warns_about_the_demo_app():
    text = (ROOT / "README.md").read_text()
    assert "no token" in text and "127.0.0.1" in text and "iterations per run" in text
