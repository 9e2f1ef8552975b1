"""The live views in a real browser: JupyterLab on loopback, driven by Playwright + Chromium.

What a student sees, checked from the outside, after Run > Run All Cells in the menu:

1. notebook 00 itself (``lab`` mode): the dashboard's counter and output image advance
   while the cell trains, and the next cell (``result = dash.wait()``) waits in the queue;
   Pause holds the counter within a second and Resume continues; the snapshot slider
   shows the first snapshot within a second; Stop freezes the counter within a second,
   and the queued cells then run to the end with the best result so far;
2. the race: its thumbnails change while it trains, Stop ends it and the next cell runs;
3. the parameter panel: Run starts a fit under the panel, Stop stops it.

Screenshots go to ``$DIP_TEACH_ARTIFACTS`` (default: a folder of pytest's own temporary directory):
``dashboard_mid_fit.png`` always, ``failure.png`` (and the server log) on failure.

Needs Debian's Chromium (``apt-get install chromium``) and the ``playwright`` Python
package (``pip install playwright``; no ``playwright install``: we use the system
browser). Without them the test is skipped with a message, except under CI
(``CI`` or ``DIP_TEACH_REQUIRE_BROWSER`` set) where it fails, so CI never silently skips it.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from lab_browser import (ROOT, chromium, code_cell, count, frozen_after, jupyterlab, missing, open_notebook,
                         outputs, queued, run_all_from_menu, src, until)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


RACE_CELL = """\
from dip_teach import live
r = live.race("coffee", size=64, iterations=3000, net="tiny", fps=8, max_overhead=0.1)"""
AFTER_RACE_CELL = """print("after the race:", r.status)"""
PANEL_CELL = """p = live.panel("coffee", preset="tiny", iterations=3000)"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    why = missing()
    if why:
        message = f"real-browser test not run: {why}"
        if os.environ.get("CI") or os.environ.get("DIP_TEACH_REQUIRE_BROWSER"):
            pytest.fail(message + " (CI requires it)")
        print(f"\nSKIPPED {message}", file=sys.stderr)
        pytest.skip(message)
    import nbformat

    welcome = nbformat.read(ROOT / "notebooks" / "00_welcome.ipynb", as_version=4)
    views = nbformat.v4.new_notebook()
    views.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    views.cells = [nbformat.v4.new_code_cell(c) for c in (RACE_CELL, AFTER_RACE_CELL, PANEL_CELL)]
    with jupyterlab(tmp_path_factory.mktemp("lab"), {"00_welcome.ipynb": welcome, "views.ipynb": views}) as server:
        yield server


@pytest.fixture
def page(lab, artifacts):
    with chromium() as page:
        try:
            yield page
        except BaseException:
            page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
            shutil.copy(lab["log"], artifacts / "server.log")
            print(f"\nscreenshot of the failure: {artifacts / 'failure.png'}", file=sys.stderr)
            raise


def test_notebook_00_dashboard_under_run_all(lab, page, artifacts):
    open_notebook(page, lab, "00_welcome.ipynb")
    run_all_from_menu(page)
    dash = code_cell(page, "live.watch(fit)")
    waiting = code_cell(page, "result = dash.wait()")
    last = code_cell(page, "answer = 0.04 * 255")

    # 1. the fit trains in its cell: counter and picture change, the next cell waits its turn
    until(lambda: count(dash) > 0, 240, "the dashboard's counter to start")
    out = dash.locator("img.dip-output")
    c1, s1 = count(dash), src(out)
    until(lambda: count(dash) > c1, 10, f"the iteration counter to move past {c1}")
    until(lambda: src(out) != s1, 10, "the output image to change while training")
    assert queued(waiting) and not outputs(waiting), "the cell after the dashboard should wait in the queue"
    page.screenshot(path=str(artifacts / "dashboard_mid_fit.png"), full_page=True)
    print(f"\nmid-fit screenshot: {artifacts / 'dashboard_mid_fit.png'}", file=sys.stderr)

    # 2. Pause holds the counter within a second; Resume continues
    pause = dash.locator("button.dip-pause")
    pause.click()
    held, later = frozen_after(dash, time.time())
    assert held == later, f"the counter still moved after Pause ({held} -> {later})"
    until(lambda: "paused" in dash.locator(".dip-stats").first.inner_text(), 5, "the status 'paused'")
    assert queued(waiting) and not outputs(waiting)
    until(lambda: "Resume" in pause.inner_text(), 5, "the button to say Resume")
    pause.click()
    until(lambda: count(dash) > later, 10, "training to resume")

    # 3. the snapshot slider shows the first snapshot within a second
    label = dash.locator(".dip-snapshot-label")
    before = label.first.inner_text()
    box = dash.locator(".dip-snapshot-slider .noUi-base").first.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)      # far left: the first snapshot
    moved = time.time()
    until(lambda: "iteration 1 " in label.first.inner_text() + " ", 5, "the first snapshot", step=0.05)
    answered = time.time() - moved
    assert answered < 1.0 and label.first.inner_text() != before, f"the slider answered in {answered:.2f} s"

    # 4. Stop freezes the counter within a second; the queued cells then run with the best result
    until(lambda: count(dash) >= 300, 180, "300 iterations (a best result worth keeping)")
    dash.locator("button.dip-stop").click()
    stopped, later = frozen_after(dash, time.time())
    assert stopped == later, f"the counter still moved after Stop ({stopped} -> {later})"
    until(lambda: "stopped" in dash.locator(".dip-stats").first.inner_text(), 5, "the status 'stopped'")
    until(lambda: "best output" in outputs(waiting), 60, "the queued cell to run after Stop")
    until(lambda: outputs(last), 60, "the last cell to run")
    assert "noisy input" not in outputs(dash)               # no output landed in the dashboard's cell
    print(f"slider {answered:.2f} s; stopped at {stopped}; {outputs(waiting)[:90]!r}", file=sys.stderr)


def test_race_and_panel_under_run_all(lab, page):
    open_notebook(page, lab, "views.ipynb")
    run_all_from_menu(page)
    race, after, panel = code_cell(page, "live.race("), code_cell(page, "after the race"), code_cell(page, "live.panel(")

    # the race: thumbnails change while it trains, Stop ends it and the next cell runs
    until(lambda: count(race) > 0, 120, "the race to start")
    thumbs = race.locator("img.dip-race-output")
    t1 = [src(thumbs.nth(i)) for i in range(4)]
    until(lambda: [src(thumbs.nth(i)) for i in range(4)] != t1, 30, "the race thumbnails to change")
    assert queued(after) and not outputs(after)
    race.locator("button.dip-stop").click()
    stopped, later = frozen_after(race, time.time())
    assert stopped == later, f"the race's counter still moved after Stop ({stopped} -> {later})"
    until(lambda: "after the race: stopped" in outputs(after), 30, "the cell after the race")

    # the panel: Run starts a fit under the panel, Stop stops it
    until(lambda: panel.locator("button.dip-run").is_visible(), 30, "the panel")
    panel.locator("button.dip-run").click()
    until(lambda: count(panel) > 0, 60, "the panel's fit to start")
    c1 = count(panel)
    until(lambda: count(panel) > c1, 10, "the panel's counter to move")
    panel.locator("button.dip-stop").click()
    until(lambda: "stopped" in panel.locator(".dip-stats").first.inner_text(), 5, "the panel's fit to stop")
    errors = page.locator(".dip-error").all_inner_texts()
    assert not any(e.strip() for e in errors), f"a view shows an error: {errors}"
