"""`make demo` in a real browser: Voila serves the workshop app as a page without code;
choosing a task and pressing Run starts a fit whose counter advances; Stop stops it.

Uses the same Chromium + Playwright set-up as ``test_browser.py`` (``lab_browser``) (skipped without them,
except under CI). A screenshot of the page mid-fit goes to ``$DIP_TEACH_ARTIFACTS`` (default: a folder
of pytest's temporary directory).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

import lab_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_readme_images", ROOT / "scripts" / "make_readme_images.py")
readme_images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_images)


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """``make demo``'s page, served by Voila on loopback in the test run mode."""
    why = lab_browser.missing()
    if why:       # as in test_browser.py: skipped on a laptop without the tools, a failure in CI
        if os.environ.get("CI") or os.environ.get("DIP_TEACH_REQUIRE_BROWSER"):
            pytest.fail(f"demo browser test not run: {why} (CI requires it)")
        pytest.skip(f"demo browser test not run: {why}")
    with readme_images.serve_demo("test", tmp_path_factory.mktemp("voila")) as (url, log):
        yield {"url": url, "log": log}


def test_demo_page_runs_and_stops_a_fit(voila, artifacts):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=lab_browser.CHROMIUM, args=lab_browser.FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        try:
            _drive(page, voila["url"], artifacts)
        except BaseException:
            page.screenshot(path=str(artifacts / "demo_failure.png"), full_page=True)
            shutil.copy(voila["log"], artifacts / "voila.log")
            print(f"\nscreenshot of the failure: {artifacts / 'demo_failure.png'}", file=sys.stderr)
            raise
        finally:
            browser.close()


def _drive(page, url: str, artifacts) -> None:
    page.goto(url)
    page.wait_for_selector("button.dip-run", timeout=120_000)      # Voila runs the notebook, then shows it
    text = page.inner_text("body")
    assert "workshop.app" not in text and "import" not in text, "the demo page shows code"
    assert page.locator("button.dip-run").count() == 1, "the app is shown more than once"

    page.get_by_role("button", name="inpaint", exact=True).click()
    iterations = page.locator(".widget-inline-hbox", has_text="iterations").locator("input")
    iterations.fill("3000")
    iterations.press("Enter")
    page.locator("button.dip-run").click()

    count = readme_images.iteration_count
    lab_browser.until(lambda: count(page) > 0, 120, "the fit's counter to start")
    c1 = count(page)
    lab_browser.until(lambda: count(page) > c1, 10, f"the counter to move past {c1}")
    # the dashboard's title names the fit's operator: the task chosen above reached the fit
    # (the task buttons' own labels, "inpaint" among them, are on the page whatever ran)
    assert "Inpainting(missing=" in page.inner_text("body"), "the fit is not the inpainting chosen"
    page.screenshot(path=str(artifacts / "demo_mid_fit.png"), full_page=True)

    page.locator("button.dip-stop").first.click()
    # event, not a guess at how long Stop takes: the status says 'stopped' once the loop has ended
    lab_browser.until(lambda: "stopped" in page.locator(".dip-stats").first.inner_text(), 30, "the status 'stopped'")
    after_stop = count(page)
    time.sleep(1.5)                 # a hold to see nothing move: no assert on how long anything took
    assert count(page) == after_stop, "the counter still moved after the fit said it stopped"
    assert not any(e.strip() for e in page.locator(".dip-error").all_inner_texts())
