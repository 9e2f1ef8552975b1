"""Stopping criteria: the oracle, fixed budgets, ES-WMV, and the comparison table."""
from __future__ import annotations

import math

import pytest
import torch

from dip_teach.stopping import ESWMV, compare, fixed_budget, oracle_iteration


def history(psnrs, key="psnr_clean_avg"):
    n = len(psnrs)
    h = {"iteration": list(range(1, n + 1)), "psnr_clean": [math.nan] * n, "psnr_clean_avg": [math.nan] * n}
    h[key] = list(psnrs)
    return h


def outputs(jitters, seed=0):
    """A sequence of images whose frame-to-frame jitter follows ``jitters``."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, 8, 8, generator=g)
    return [base + j * torch.randn(1, 3, 8, 8, generator=g) for j in jitters]


def test_oracle_is_the_peak_of_the_averaged_curve_when_there_is_one():
    h = history([20, 24, 26, 25, 23])
    assert oracle_iteration(h) == 3
    h["psnr_clean"] = [20, 27, 26, 25, 23]
    assert oracle_iteration(h, key="psnr_clean") == 2
    assert oracle_iteration(history([20, 21, 22], key="psnr_clean")) == 3   # falls back to the raw curve


def test_oracle_needs_the_clean_image():
    with pytest.raises(ValueError, match="clean image"):
        oracle_iteration(history([math.nan] * 3))


def test_fixed_budget_clamps_to_the_history():
    assert fixed_budget(3)(history([1, 2, 3, 4, 5])) == 3
    assert fixed_budget(30)(history([1, 2, 3])) == 3
    with pytest.raises(ValueError):
        fixed_budget(0)


def test_eswmv_fires_after_patience_at_the_calmest_window():
    # jitter falls, stays low around frames 40-60, then rises (the fit starts chasing noise)
    jitter = [1.0 - i / 50 for i in range(50)] + [0.02] * 10 + [0.02 + (i + 1) / 20 for i in range(60)]
    crit = ESWMV(window=5, patience=20)
    fired = None
    for it, x in enumerate(outputs(jitter), 1):
        if crit.update(it, x):
            fired = it
            break
    assert fired is not None and crit.fired_at == fired
    assert 45 <= crit.best_iteration <= 62
    assert fired == crit.best_iteration + 20
    assert crit.update(fired + 1, outputs([5.0])[0])      # stays fired, stops tracking
    assert crit.best_iteration <= 62


def test_eswmv_never_fires_while_outputs_keep_settling():
    crit = ESWMV(window=4, patience=10)
    jitter = [1.0 / (i + 1) for i in range(60)]
    assert not any(crit.update(it, x) for it, x in enumerate(outputs(jitter), 1))
    assert crit.best_iteration >= 50


def test_eswmv_variance_of_a_constant_sequence_is_zero():
    crit = ESWMV(window=3, patience=5)
    x = torch.rand(1, 3, 4, 4)
    for it in range(1, 5):
        crit.update(it, x)
    assert crit.variances[-1][1] == pytest.approx(0, abs=1e-12)


def test_eswmv_defaults_scale_with_the_run_mode():
    crit = ESWMV()          # conftest: test mode
    assert crit.window == 20 and crit.patience == 60
    with pytest.raises(ValueError):
        ESWMV(window=1)


def test_compare_reports_distance_from_the_oracle():
    h = history([20, 24, 26, 25, 23])
    table = compare(h, {"fixed 5": fixed_budget(5), "blind": 2, "never fired": None})
    rows = {r["criterion"]: r for r in table}
    assert rows["oracle"]["iteration"] == 3 and rows["oracle"]["db_below_oracle"] == 0
    assert rows["fixed 5"]["iterations_from_oracle"] == 2 and rows["fixed 5"]["db_below_oracle"] == 3
    assert rows["blind"]["iterations_from_oracle"] == -1 and rows["blind"]["psnr"] == 24
    assert rows["never fired"]["iteration"] == 5
    text = str(table)
    assert text.startswith("| criterion |") and "fixed 5" in text and table._repr_markdown_() == text
