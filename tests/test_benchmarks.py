"""The stored fit tables (the paper network's reference) and the scripts that make and read them."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import dip_speed  # noqa: E402
import fit_table  # noqa: E402
from dip_teach import nets  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

TASKS = ROOT / "benchmarks" / "input_noise_tasks.json"      # not a fit table: made by input_noise_tasks.py
STORED = sorted(p for p in (ROOT / "benchmarks").glob("*.json") if p != TASKS)


def test_a_table_is_made_once_and_resumed(tmp_path, capsys):
    table = tmp_path / "t.json"
    args = [str(table), "--presets", "tiny", "--images", "rocket", "--sizes", "64", "--seeds", "0",
            "--precisions", "fp32,bf16", "--budget", "60", "--patience", "30"]
    assert fit_table.main(args + ["--max-fits", "1"]) == 0
    assert len(json.loads(table.read_text())["rows"]) == 1
    assert fit_table.main(args) == 0                    # only the missing bf16 fit runs
    rows = json.loads(table.read_text())["rows"]
    assert [r["precision"] for r in rows] == ["fp32", "bf16"]
    assert fit_table.main(args) == 3                    # nothing left: the stored fits are not redone
    r = rows[0]
    assert r["noisy_psnr"] + 3 < r["best_raw"] and len(r["curve_avg"]) == r["iterations"] // 10
    assert r["command"].startswith("python ") and r["machine"] and r["torch"]
    fit_table.main([str(table), "--summary"])
    out = capsys.readouterr().out
    assert "| tiny | 64 | rocket | 1 |" in out          # the paired fp32/bf16 line


def test_extra_averages_reproduce_the_fits_own_and_run_until_each_has_peaked(tmp_path, capsys):
    table = tmp_path / "t.json"
    args = [str(table), "--presets", "tiny", "--images", "rocket", "--sizes", "64", "--seeds", "0",
            "--precisions", "fp32,bf16", "--budget", "400", "--patience", "20", "--emas", "0.99,0.999"]
    assert fit_table.main(args) == 0
    r, r16 = json.loads(table.read_text())["rows"]
    same = r["emas"]["0.99"]                             # the fit's own weight: the same numbers
    assert (same["best_avg"], same["best_avg_iter"], same["curve_avg"]) == \
        (r["best_avg"], r["best_avg_iter"], r["curve_avg"])
    slow = r["emas"]["0.999"]                            # a longer average lags: it peaks later
    assert slow["best_avg_iter"] > r["best_avg_iter"] and slow["best_avg"] < r["best_avg"]
    assert r["iterations"] >= min(400, slow["best_avg_iter"] + 20)
    other = tmp_path / "other.json"                      # a second table is read with the first
    other.write_text(json.dumps({"rows": [{**r, "seed": 1}]}))
    fit_table.main([str(table), str(other), "--summary"])
    out = capsys.readouterr().out
    pairs, screen = out.split("| averaging weight | fits |")
    pair = r16["emas"]["0.999"]["best_avg"] - slow["best_avg"]      # bf16 against fp32 at the extra weight
    assert f"| tiny | 64 | 0.999 | 1 | {pair:+.3f} |" in pairs
    assert "| tiny | 64 | 0.99 |" not in screen          # the paper's weight is what the others are measured from
    gains = [x["emas"]["0.999"]["best_avg"] - x["best_avg"] for x in (r, r16, r)]
    assert f"| tiny | 64 | 0.999 | 3 | {sum(gains) / 3:+.2f} |" in screen
    for bad, says in [(args[:-1] + ["0.99,1.5"], "--emas are weights between 0 and 1"),
                      ([str(table), str(other)] + args[1:], "fits go into one table")]:
        with pytest.raises(SystemExit):
            fit_table.main(bad)
        assert says in capsys.readouterr().err


def test_time_to_target_reads_the_seed_mean_of_best_so_far():
    rows = [{"curve_avg": [20.0, 25.0, 24.0], "curve_every": 10},     # stopped after its peak
            {"curve_avg": [21.0, 23.0, 26.0, 27.0], "curve_every": 10}]
    curve = dip_speed.mean_best_so_far(rows)
    assert curve == [20.5, 24.0, 25.5, 26.0]             # the first keeps its best (25) once stopped
    assert dip_speed.iterations_to(curve, 10, 25.5) == 30
    assert dip_speed.iterations_to(curve, 10, 26.5) is None


def test_candidates_are_compared_with_lab_on_the_same_seed():
    def row(preset, seed, db, s_step=0.1):
        return {"preset": preset, "image": "coins", "size": 256, "seed": seed, "precision": "bf16",
                "best_raw": db - 1, "best_avg_iter": 1000 + 100 * seed,
                "net": fit_table.config_json(fit_table.SCREENED_LAB) if preset == "lab" else fit_table.net_json(preset),
                "best_avg": db, "s_step": s_step}
    lab = {"rows": [row("lab", 0, 28.8), row("lab", 1, 28.2), row("lab", 2, 28.5)]}
    cands = {"rows": [row("lab_deep", 0, 28.7, 0.12), row("lab_wide", 5, 29.9)]}   # no lab fit with seed 5
    out = fit_table.against_lab(cands, lab)
    assert "| lab_deep | 256 | coins | 0 | bf16 | 28.70 | 28.80 | -0.10 | 28.50 ± 0.30 (3) | 1.20 |" in out
    assert "lab_wide" not in out
    assert "| lab_deep | 256 | 1 | -0.10 | -0.10 to -0.10 | -0.10 | 1000 (1000) |" in out
    assert all(c != nets.PRESETS["lab"] for c in fit_table.CANDIDATES.values())
    # any candidate can be the base: the shapes on top of 1/15 beside 1/15 itself
    on15 = {"rows": [row("lab_noise15", 0, 29.2), row("lab15_deep", 0, 29.1), row("lab_deep", 0, 28.7)]}
    out = fit_table.against_lab(on15, on15, base="lab_noise15")
    assert "| lab15_deep | 256 | coins | 0 | bf16 | 29.10 | 29.20 | -0.10 |" in out
    assert "| lab_noise15 | 256 | coins" not in out                  # not beside itself


def test_fp32_and_bf16_pair_only_within_one_net():
    """A preset that changed keeps its old rows: an fp32 fit of the old net is no pair for a bf16
    fit of the new one."""
    def row(precision, net):
        return {"preset": "lab", "image": "coins", "size": 128, "seed": 0, "precision": precision, "net": net,
                "best_avg": 29.0, "best_avg_iter": 800, "best_raw": 28.0, "s_step": 0.03, "peak_inside": True}
    old, new = fit_table.config_json(fit_table.SCREENED_LAB), fit_table.net_json("lab")
    assert "bf16 - fp32" not in fit_table.summary({"rows": [row("fp32", old), row("bf16", new)]})
    assert "| lab | 128 | coins | 1 |" in fit_table.summary({"rows": [row("fp32", new), row("bf16", new)]})


def test_rows_stored_before_an_optional_field_existed_still_match():
    reference = json.loads((Path(fit_table.__file__).parent / "reference_paper.json").read_text())
    assert "denoise_reg_noise_std" not in reference["rows"][0]["net"]        # stored before the field
    assert all(r["net"] == fit_table.net_json("paper") for r in reference["rows"])
    assert "denoise_reg_noise_std" in fit_table.net_json("lab")               # set, so stored


@pytest.mark.parametrize("path", STORED, ids=[p.name for p in STORED])
def test_stored_tables_say_how_they_were_made(path):
    rows = json.loads(path.read_text())["rows"]
    assert rows, f"{path.name} holds no fits"
    made_by = ("python benchmarks/fit_table.py", "python benchmarks/dip_speed.py")   # dip_speed fits missing rows
    for r in rows:
        assert r["precision"] in ("fp32", "bf16") and r["command"].startswith(made_by)
        assert "cores" in r["machine"] and r["best_avg"] > r["noisy_psnr"] + 3
    assert len({fit_table.row_key(r) for r in rows}) == len(rows)       # a preset's earlier net may stay beside it


def test_the_input_noise_table_pairs_each_fit_and_says_how_it_was_made():
    table = json.loads(TASKS.read_text())
    assert table["command"].startswith("python benchmarks/input_noise_tasks.py") and "cores" in table["machine"]
    keys = [(r["task"], r["image"], r["seed"]) for r in table["rows"]]
    assert {"inpaint", "superres"} <= {k[0] for k in keys}
    assert all(keys.count(k) == 2 for k in keys)                           # 1/30 and 1/15 per fit
    assert {r["noise"] for r in table["rows"]} == {"1/30", "1/15"}
