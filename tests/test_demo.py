"""`make demo` in a real browser: Voila serves the workshop app as a page without code;
choosing a task and pressing Run starts a fit whose counter advances; Stop stops it.

Uses the same Chromium + Playwright set-up as ``test_browser.py`` (skipped without them,
except under CI). A screenshot of the page mid-fit goes to ``$DIP_TEACH_ARTIFACTS``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_browser import ARTIFACTS, CHROMIUM, FLAGS, _count, _free_port, _until, browser_tools  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def voila(browser_tools, tmp_path_factory):  # noqa: F811
    base = tmp_path_factory.mktemp("voila")
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "DIP_TEACH_HEADLESS")}
    env.update(DIP_TEACH_MODE="test", JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "rt"))
    cmd = [sys.executable, "-m", "voila", str(ROOT / "demo" / "workshop.ipynb"), "--no-browser",
           "--Voila.ip=127.0.0.1", f"--port={port}", "--Voila.port_retries=0", f"--token={token}"]
    log = open(base / "voila.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/?token={token}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/static/", timeout=2)
                break
            except urllib.error.HTTPError:       # the server answers (404 and the like): it is up
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("Voila did not start:\n" + (base / "voila.log").read_text()[-3000:])
                time.sleep(0.5)
        yield {"url": url, "log": base / "voila.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_demo_page_runs_and_stops_a_fit(voila):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        try:
            _drive(page, voila["url"])
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "demo_failure.png"), full_page=True)
            shutil.copy(voila["log"], ARTIFACTS / "voila.log")
            print(f"\nscreenshot of the failure: {ARTIFACTS / 'demo_failure.png'}", file=sys.stderr)
            raise
        finally:
            browser.close()


def _drive(page, url: str) -> None:
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

    app = page.locator("body")
    _until(lambda: _count(app) > 0, 120, "the fit's counter to start")
    c1 = _count(app)
    _until(lambda: _count(app) > c1, 10, f"the counter to move past {c1}")
    assert "Inpainting" in page.inner_text("body") or "inpaint" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "demo_mid_fit.png"), full_page=True)

    page.locator("button.dip-stop").first.click()
    time.sleep(1.0)
    after_1s = _count(app)
    time.sleep(1.5)
    assert _count(app) == after_1s, "the counter still moved after Stop"
    _until(lambda: "stopped" in page.locator(".dip-stats").first.inner_text(), 5, "the status 'stopped'")
    assert not any(e.strip() for e in page.locator(".dip-error").all_inner_texts())
