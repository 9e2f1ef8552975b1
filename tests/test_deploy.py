"""The deployment files in ``deploy/``: they load, and they say what the README's sizing says.

``deploy/jupyterhub_config.py`` is loaded the way JupyterHub loads it (traitlets' Python
config loader); ``deploy/config.yaml`` is parsed as YAML. Both must give each student the
memory and CPU of the README's table, keep idle culling on, and set ``DIP_TEACH_THREADS``.
That a Hub really starts from the first file and runs a class is ``tests/test_hub.py``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

from dip_teach import settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def hub_config():
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


@pytest.fixture(scope="module")
def z2jh() -> dict:
    return yaml.safe_load((DEPLOY / "config.yaml").read_text())


@pytest.fixture(scope="module")
def sizing() -> str:
    """The README's "Sizing a Hub" section."""
    text = (ROOT / "README.md").read_text()
    return text.split("### Sizing a Hub", 1)[1].split("\n## ", 1)[0]


def per_student(sizing: str) -> dict[str, tuple[str, str]]:
    """The README's per-student table: ``{"memory": (guarantee, limit), "CPU cores": (...)}``."""
    rows = re.findall(r"^\| (memory|CPU cores) \| ([\d.]+G?) \| ([\d.]+G?) \|", sizing, re.M)
    assert len(rows) == 2, "the README's sizing section lost its per-student table (memory, CPU cores)"
    return {name: (guarantee, limit) for name, guarantee, limit in rows}


def gib(size) -> float:
    """``"2G"`` -> 2.0 (JupyterHub's and Kubernetes' G suffix, read as GiB: the stricter of the two)."""
    text = str(size)
    return float(text[:-1]) if text.endswith("G") else float(text) / 2**30


def test_hub_config_loads_and_matches_the_readme(hub_config, sizing):
    spawner = hub_config.Spawner
    table = per_student(sizing)
    assert (spawner.mem_guarantee, spawner.mem_limit) == table["memory"]
    assert (str(spawner.cpu_guarantee), str(spawner.cpu_limit)) == table["CPU cores"]
    threads = spawner.environment[settings.THREADS_ENV]
    assert threads.isdigit() and int(threads) >= 1
    assert f"`{settings.THREADS_ENV}={threads}`" in sizing
    culler = [s for s in hub_config.JupyterHub.services if "jupyterhub_idle_culler" in s.get("command", [])]
    assert culler, "no idle culler service"
    role = [r for r in hub_config.JupyterHub.load_roles if culler[0]["name"] in r.get("services", [])]
    assert role and {"list:users", "read:servers", "delete:servers"} <= set(role[0]["scopes"])
    # the dummy login only ever appears commented out
    assert "authenticator_class" not in hub_config.JupyterHub


def test_z2jh_config_matches_the_hub_config(z2jh, hub_config, sizing):
    user = z2jh["singleuser"]
    table = per_student(sizing)
    assert (user["memory"]["guarantee"], user["memory"]["limit"]) == table["memory"]
    assert (str(user["cpu"]["guarantee"]), str(user["cpu"]["limit"])) == table["CPU cores"]
    assert user["extraEnv"][settings.THREADS_ENV] == hub_config.Spawner.environment[settings.THREADS_ENV]
    assert z2jh["cull"]["enabled"] is True and z2jh["cull"]["timeout"] > 0
    assert str(z2jh["cull"]["timeout"]) in " ".join(hub_config.JupyterHub.services[0]["command"])
    assert user["defaultUrl"] == hub_config.Spawner.default_url == "/lab"


def test_memory_guarantee_covers_the_measured_footprint(sizing, hub_config):
    """The guarantee holds the largest kernel of the footprint table plus an idle server."""
    peaks = [float(m) for m in re.findall(r"\| ([\d.]+) MiB \|", sizing)]
    server = re.search(r"idle JupyterLab server takes another (\d+) MiB", sizing)
    assert peaks and server, "the sizing section lost its footprint table or the idle server's memory"
    assert (max(peaks) + float(server.group(1))) / 1024 <= gib(hub_config.Spawner.mem_guarantee)


def test_link_pattern_is_nbgitpullers(z2jh):
    """The link in both files and the README is nbgitpuller's: user-redirect, repo, branch, urlpath."""
    pattern = re.compile(r"/hub/user-redirect/git-pull\?repo=[^&\s]+&branch=[^&\s]+&urlpath=\S+")
    for path in (DEPLOY / "config.yaml", DEPLOY / "jupyterhub_config.py", ROOT / "README.md"):
        assert pattern.search(path.read_text()), f"{path.name} has no nbgitpuller link"


def test_hub_requirements_are_pinned():
    """What ``make test-hub`` installs is pinned: the Hub's packages here, the proxy by its npm lock."""
    wanted = [line.split("==") for line in (DEPLOY / "requirements-hub.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert wanted and all(len(w) == 2 for w in wanted), "deploy/requirements-hub.txt: pin each package with =="
    constraints = (ROOT / ".ci" / "hub-constraints.txt").read_text()
    for name, version in wanted:
        assert f"{name}=={version}" in constraints
    import json

    lock = json.loads((DEPLOY / "proxy" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == \
        json.loads((DEPLOY / "proxy" / "package.json").read_text())["dependencies"]["configurable-http-proxy"]
