"""Drive a real JupyterLab in Chromium: used by the browser test and ``benchmarks/live_speed.py``.

JupyterLab runs on 127.0.0.1 with a token, in throwaway root, settings, workspace and
runtime folders; notebooks are copied there, so the repository's own files are never
written (JupyterLab saves outputs into the notebooks it runs). Chromium is Debian's
(``/usr/bin/chromium``) driven by the ``playwright`` package: no ``playwright install``.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DIP_TEACH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install playwright; no 'playwright install' needed)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(base: Path, notebooks: dict[str, object], mode: str = "lab"):
    """Start JupyterLab on loopback with ``notebooks`` (name -> nbformat notebook) in its root.

    Yields ``{"url", "token", "log", "root"}``; the kernels run in run mode ``mode``
    and import this checkout's ``dip_teach``.
    """
    import nbformat

    root, runtime = base / "root", base / "runtime"
    for d in (root, runtime, base / "settings", base / "workspaces", base / "config"):
        d.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, root / name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "DIP_TEACH_HEADLESS")}
    env.update(DIP_TEACH_MODE=mode, JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), JUPYTER_CONFIG_DIR=str(base / "config"),
               JUPYTER_RUNTIME_DIR=str(runtime),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = base / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)
        yield {"url": url, "token": token, "log": log_path, "root": root}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium(viewport=(1500, 2200)):
    """A Playwright page in Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        finally:
            browser.close()


def until(fn, timeout: float, what: str, step: float = 0.2):
    """Call ``fn`` until it returns something true (returned); fail after ``timeout`` seconds."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as err:  # element not there yet
            last = err
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def open_notebook(page, lab, name: str) -> None:
    """Open ``name`` in JupyterLab and wait for its kernel to be idle."""
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    until(lambda: page.evaluate("() => !!window.jupyterapp"), 30, "the JupyterLab app")
    # the kernel must be up before "run all", or the cells wait for a kernel that is still starting
    until(lambda: page.evaluate(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.connectionStatus === 'connected'"
        " && w.sessionContext.session.kernel.status === 'idle'); }"), 90, "an idle kernel")


def run_all_from_menu(page) -> None:
    """Run > Run All Cells, clicked in the menu bar as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click()


def code_cell(page, text: str):
    """The code cell whose source contains ``text``."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)).first


def count(cell) -> int:
    """The iteration a live view's counter shows."""
    return int(cell.locator(".dip-iteration .dip-count").first.inner_text(timeout=5000))


def src(locator) -> str:
    return locator.first.get_attribute("src", timeout=5000) or ""


def outputs(cell) -> str:
    """All text of the cell's outputs ('' when none)."""
    return " ".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def queued(cell) -> bool:
    """True while the cell waits or runs: JupyterLab shows ``[*]`` in its prompt."""
    return "*" in cell.locator(".jp-InputPrompt").first.inner_text(timeout=5000)


def frozen_after(cell, clicked: float, settle: float = 1.0, hold: float = 1.5) -> tuple[int, int]:
    """Counter values ``settle`` s and ``settle + hold`` s after ``clicked`` (equal = it froze in time)."""
    time.sleep(max(0.0, clicked + settle - time.time()))
    first = count(cell)
    time.sleep(hold)
    return first, count(cell)
