"""A real JupyterHub on loopback: used by ``tests/test_hub.py`` and ``benchmarks/hub_class.py``.

JupyterHub 6.1 starts from the repository's ``deploy/jupyterhub_config.py`` (so the test
checks the file a teacher uses), then, for one machine without user accounts: the
``dummy`` authenticator, the ``simple`` local spawner (each student's home a folder of a
temporary directory), free ports on 127.0.0.1 and an admin service token. The proxy is
configurable-http-proxy from ``.venv-hub/proxy`` (``make test-hub`` installs it). Students
are driven as JupyterLab would drive their servers: through the Hub's REST API, their own
server's REST API and its kernel websocket; nothing runs in a student's folder except
through that student's server.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_browser import _free_port as free_port  # noqa: E402  (the same free loopback port as JupyterLab's)

ROOT = Path(__file__).resolve().parents[1]
DEPLOY_CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
PROXY = ROOT / ".venv-hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
#: generous limits for a busy 2-core machine: a wait that ends early is an error, never a pass
START_TIMEOUT = 180
CELL_TIMEOUT = 600


def proxy_command() -> str | None:
    """configurable-http-proxy: ``$DIP_TEACH_PROXY``, the one ``make test-hub`` installs, or on PATH."""
    for candidate in (os.environ.get("DIP_TEACH_PROXY"), str(PROXY), shutil.which("configurable-http-proxy")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing() -> str | None:
    """Why a Hub cannot run here (None when it can)."""
    for module in ("jupyterhub", "nbgitpuller", "jupyterhub_idle_culler"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed in this Python: run `make test-hub` (it builds .venv-hub)"
    if proxy_command() is None:
        return "configurable-http-proxy not found: run `make test-hub` (npm ci into .venv-hub/proxy)"
    if shutil.which("git") is None:
        return "git not found (nbgitpuller needs it)"
    return None


TEST_CONFIG = """\
# Written by tests/local_hub.py: the teacher's file, then what a Hub on loopback without accounts needs
load_subconfig({deploy!r})
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.environment = {{**c.Spawner.environment, **{env!r}}}
c.Spawner.start_timeout = {timeout}
c.Spawner.http_timeout = {timeout}
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.services.append({{"name": "class-admin", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{"name": "admin", "services": ["class-admin"]}})
"""


class Hub:
    """JupyterHub with the deploy config on 127.0.0.1; ``with Hub(folder) as hub: ...``.

    Parameters
    ----------
    workdir : Path
        An empty folder: the Hub's database, log and the students' homes (``homes/<name>``).
    env : dict
        Extra environment for every student's server and kernels (e.g. ``DIP_TEACH_MODE``).
    """

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = Path(workdir)
        self.homes = self.workdir / "homes"
        self.env = dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.log = self.workdir / "hub.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Hub":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.homes.mkdir(parents=True, exist_ok=True)
        args = ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url="]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(TEST_CONFIG.format(
            deploy=str(DEPLOY_CONFIG), homes=str(self.homes) + "/{username}",
            singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"), args=args, env=self.env,
            timeout=START_TIMEOUT, port=self.port, hub_port=free_port(), proxy_api_port=free_port(),
            proxy=proxy_command(), db=self.workdir / "jupyterhub.sqlite",
            cookie=str(self.workdir / "cookie_secret"), token=self.token))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DIP_TEACH_", "JUPYTER"))}
        self._logfile = open(self.log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self.workdir,
                                     env=env, stdout=self._logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"JupyterHub did not start:\n{self.log_tail()}")
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the Hub; it stops every student's server and the proxy first (its default cleanup)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._end_leftovers()
        if getattr(self, "_logfile", None):
            self._logfile.close()

    def _end_leftovers(self) -> None:
        """End any process this Hub started that outlived it (a kernel whose server was stopped
        mid-start): each is found by its command line, which names this Hub's own folder."""
        import psutil

        mine = str(self.workdir)
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if proc.pid != os.getpid() and any(mine in part for part in proc.info["cmdline"] or ()):
                with contextlib.suppress(psutil.Error):
                    proc.kill()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    async def api(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """Call the Hub's REST API (``path`` after ``/hub/api``) with the admin service token."""
        return await fetch_json(f"{self.url}/hub/api{path}", method, body, token or self.token)

    async def add_student(self, name: str) -> "Student":
        """Create the user, start their server, wait for the spawn to finish, and give them a token."""
        await self.api("POST", f"/users/{name}")
        await self.api("POST", f"/users/{name}/server")
        events = await event_stream(f"{self.url}/hub/api/users/{name}/server/progress", self.token,
                                    until=lambda e: e.get("ready") or e.get("failed"))
        if not events or not events[-1].get("ready"):
            raise RuntimeError(f"{name}'s server did not start: {events[-1:] }\n{self.log_tail()}")
        token = (await self.api("POST", f"/users/{name}/tokens", {"note": "class test"}))["token"]
        return Student(self, name, token)


class Student:
    """One student's server, driven through its REST API and kernel websocket as JupyterLab would."""

    def __init__(self, hub: Hub, name: str, token: str):
        self.hub, self.name, self.token = hub, name, token
        self.base = f"{hub.url}/user/{name}"
        self.home = hub.homes / name
        self._browser = None

    async def api(self, method: str, path: str, body: dict | None = None):
        return await fetch_json(f"{self.base}/api{path}", method, body, self.token)

    def browser(self):
        """A cookie session logged in through the Hub's login form, as the student's browser would be."""
        import requests

        if self._browser is None:
            session = requests.Session()
            form = session.get(f"{self.hub.url}/hub/login", timeout=START_TIMEOUT)
            xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
            done = session.post(f"{self.hub.url}/hub/login", timeout=START_TIMEOUT,
                                data={"username": self.name, "password": "any", "_xsrf": xsrf and xsrf.group(1)})
            if done.status_code != 200 or "/hub/login" in done.url:
                raise RuntimeError(f"{self.name} could not log in ({done.status_code}, at {done.url})")
            self._browser = session
        return self._browser

    async def pull(self, repo: str, branch: str, urlpath: str) -> list[dict]:
        """Follow the nbgitpuller link in the student's browser session; the pull's events.

        The link ``/hub/user-redirect/git-pull?repo=...&branch=...&urlpath=...`` sends the
        student to their own server's ``git-pull`` page, whose script then streams
        ``git-pull/api`` (with the target folder it derives from ``repo``) until it finishes;
        the same requests are made here.
        """
        return await asyncio.to_thread(self._pull, repo, branch, urlpath)

    def _pull(self, repo: str, branch: str, urlpath: str) -> list[dict]:
        browser = self.browser()
        query = urlencode({"repo": repo, "branch": branch, "urlpath": urlpath})
        page = browser.get(f"{self.hub.url}/hub/user-redirect/git-pull?{query}", timeout=START_TIMEOUT)
        if not page.url.startswith(f"{self.base}/git-pull?") or "nbgitpuller" not in page.text:
            raise RuntimeError(f"the nbgitpuller link led to {page.url} ({page.status_code}), "
                               f"not {self.name}'s git-pull page")
        target = repo.rstrip("/").split("/")[-1]
        api_query = urlencode({"repo": repo, "branch": branch, "targetpath": target})
        events = []
        with browser.get(f"{self.base}/git-pull/api?{api_query}", stream=True, timeout=CELL_TIMEOUT) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        return events

    async def run_notebook(self, path: str, extra_cells: tuple[str, ...] = (),
                           first_cells: tuple[str, ...] = ()) -> dict:
        """Open ``path`` (relative to the student's home) in a new kernel, run every code cell in order.

        Returns ``{"ok": bool, "cells": n, "error": str | None, "outputs": [text of each cell]}``;
        stops at the first error, as Run All does. ``first_cells`` run before the notebook's own
        cells, ``extra_cells`` after them.
        """
        from tornado.websocket import websocket_connect
        from tornado.httpclient import HTTPRequest

        nb = (await self.api("GET", f"/contents/{quote(path)}?content=1"))["content"]
        cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                 for c in nb["cells"] if c["cell_type"] == "code"]
        cells = [*first_cells, *cells, *extra_cells]
        session = await self.api("POST", "/sessions", {"path": path, "name": Path(path).name, "type": "notebook",
                                                       "kernel": {"name": "python3"}})
        kernel_id, session_id = session["kernel"]["id"], uuid.uuid4().hex
        ws_url = self.base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels?session_id={session_id}"
        result = {"ok": True, "cells": 0, "error": None, "outputs": []}
        ws = None
        try:
            ws = await websocket_connect(HTTPRequest(ws_url, headers=auth(self.token), connect_timeout=START_TIMEOUT,
                                                     request_timeout=START_TIMEOUT), max_message_size=256 * 2**20)
            for code in cells:
                reply, text = await execute(ws, code, session_id)
                result["outputs"].append(text)
                result["cells"] += 1
                if reply.get("status") != "ok":
                    result.update(ok=False, error=f"{reply.get('ename')}: {reply.get('evalue')}\n{code[:300]}")
                    break
        finally:
            if ws is not None:
                ws.close()
            await self.api("DELETE", f"/sessions/{session['id']}")      # shuts the kernel down
        return result


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


async def fetch_json(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    from tornado.httpclient import AsyncHTTPClient

    kwargs = {"body": json.dumps(body or {})} if method in ("POST", "PUT", "PATCH") else {}
    response = await AsyncHTTPClient().fetch(url, method=method, headers=auth(token) if token else {},
                                             request_timeout=START_TIMEOUT, **kwargs)
    return json.loads(response.body) if response.body else None


async def event_stream(url: str, token: str, until) -> list[dict]:
    """Read a server-sent event stream (``data: {...}`` lines) until ``until(event)`` or its end."""
    from tornado.httpclient import AsyncHTTPClient

    events: list[dict] = []
    buffer = b""
    done = asyncio.get_running_loop().create_future()

    def on_chunk(chunk: bytes) -> None:
        nonlocal buffer
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            for line in block.decode().splitlines():
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    if until(events[-1]) and not done.done():
                        done.set_result(None)

    fetch = asyncio.ensure_future(AsyncHTTPClient().fetch(
        url, headers=auth(token), streaming_callback=on_chunk, request_timeout=CELL_TIMEOUT))
    await asyncio.wait([fetch, done], return_when=asyncio.FIRST_COMPLETED)
    if not fetch.done():
        fetch.cancel()
        with contextlib.suppress(BaseException):
            await fetch
    elif fetch.exception() is not None and not done.done():
        raise fetch.exception()
    return events


async def execute(ws, code: str, session_id: str) -> tuple[dict, str]:
    """Send one execute request over a kernel websocket; its reply and the text it printed or returned."""
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "student", "session": session_id,
                   "date": "", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    reply, idle, text = None, False, []
    while reply is None or not idle:
        raw = await asyncio.wait_for(ws.read_message(), CELL_TIMEOUT)
        if raw is None:
            raise RuntimeError("the kernel's websocket closed while a cell ran")
        if isinstance(raw, bytes):          # a binary frame (widget buffers): not text output
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_reply":
            reply = content
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
        elif kind == "stream":
            text.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            text.append(content.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            text.append(f"{content['ename']}: {content['evalue']}")
    return reply, "".join(text)
