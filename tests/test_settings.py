import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from dip_teach import settings


def test_mode_from_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "lab")
    assert settings.get_mode().name == "lab"
    monkeypatch.setenv(settings.MODE_ENV, "FULL ")
    assert settings.get_mode().name == "full"


def test_set_mode_overrides_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "lab")
    settings.set_mode("test")
    assert settings.get_mode().name == "test"
    settings.set_mode(None)
    assert settings.get_mode().name == "lab"


def test_default_mode_follows_device(monkeypatch):
    monkeypatch.delenv(settings.MODE_ENV)
    expected = "lab" if settings.get_device().type == "cpu" else "full"
    assert settings.get_mode().name == expected


def test_unknown_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV, "fast")
    with pytest.raises(ValueError, match="unknown run mode 'fast'.*test, lab, full"):
        settings.get_mode()
    with pytest.raises(ValueError, match="unknown run mode"):
        settings.set_mode("quick")


def test_device_override(monkeypatch):
    monkeypatch.setenv(settings.DEVICE_ENV, "cpu")
    assert settings.get_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv(settings.DEVICE_ENV, "cuda")
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            settings.get_device()


def test_budgets_scale_with_mode():
    test = settings.iterations(3000, "test")
    lab = settings.iterations(3000, "lab")
    full = settings.iterations(3000, "full")
    assert test < lab < full == 3000
    assert settings.iterations(10, "full") == 10  # never more than declared
    assert settings.iterations(3000, "test") >= settings.MODES["test"].min_iterations
    # a floor for experiments that must run past a peak: it lifts short modes only
    assert settings.iterations(2500, "test", at_least=800) == 800
    assert settings.iterations(2500, "lab", at_least=800) == settings.iterations(2500, "lab")
    assert settings.image_size(mode="test") < settings.image_size(mode="lab") <= settings.image_size(mode="full")
    assert settings.image_size(512, mode="full") == 512
    assert settings.image_size(512, mode="test") % 32 == 0
    with pytest.raises(ValueError, match="positive"):
        settings.iterations(0)


def test_seed_repeats_exactly():
    settings.seed_everything(3)
    a = torch.randn(5), np.random.rand(3)
    settings.seed_everything(3)
    b = torch.randn(5), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_threads_and_report():
    n = settings.configure_threads()
    assert n >= 1 and torch.get_num_threads() == n
    info = settings.report()
    for key in ("device", "mode", "threads", "torch", "python", "how_to_change_mode"):
        assert key in info
    assert info["mode"] == "test" and info["mode_source"] == "$DIP_TEACH_MODE"
    assert "mode" in settings.format_report(info)


# ------------------------------------------------------------------ threads under a CPU quota
def _fake_cgroups(tmp_path, membership: str, files: dict[str, str]):
    for rel, text in files.items():
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text(membership)
    return tmp_path, proc


@pytest.mark.parametrize("membership, files, expected", [
    # cgroup v2, a pod limited to 2 cores
    ("0::/kubepods/pod1\n", {"cgroup.controllers": "cpu", "kubepods/pod1/cpu.max": "200000 100000\n"}, 2.0),
    # v2 without a limit
    ("0::/user\n", {"user/cpu.max": "max 100000\n"}, None),
    # v2: a parent's smaller quota wins over the child's
    ("0::/a/b\n", {"a/cpu.max": "50000 100000", "a/b/cpu.max": "400000 100000"}, 0.5),
    # cgroup v1 (cpu and cpuacct mounted together), 1.5 cores
    ("4:cpu,cpuacct:/docker/x\n", {"cpu,cpuacct/docker/x/cpu.cfs_quota_us": "150000\n",
                                   "cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000\n"}, 1.5),
    # v1 unlimited (-1)
    ("3:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    # nothing readable
    ("0::/gone\n", {}, None),
])
def test_cpu_quota_from_fake_cgroup_files(tmp_path, membership, files, expected):
    root, proc = _fake_cgroups(tmp_path, membership, files)
    assert settings.cpu_quota(root, proc) == expected


def test_threads_follow_the_quota_and_the_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(settings, "cpu_quota", lambda: 1.5)
        monkeypatch.delenv(settings.THREADS_ENV, raising=False)
        assert settings.available_cpus() == 1            # 1.5 cores: a second thread would only wait
        assert settings.configure_threads() == 1 == torch.get_num_threads()
        monkeypatch.setattr(settings, "cpu_quota", lambda: None)
        assert settings.available_cpus() == len(os.sched_getaffinity(0))
        monkeypatch.setenv(settings.THREADS_ENV, "1")
        assert settings.configure_threads() == 1
        for bad in ("0", "two", "-1"):
            monkeypatch.setenv(settings.THREADS_ENV, bad)
            with pytest.raises(ValueError, match="whole number"):
                settings.configure_threads()
    finally:
        torch.set_num_threads(before)


CPU_CGROUP = Path("/sys/fs/cgroup/cpu")


@pytest.mark.skipif(not (os.geteuid() == 0 and (CPU_CGROUP / "cpu.cfs_quota_us").is_file()
                         and os.access(CPU_CGROUP, os.W_OK)),
                    reason="needs root and a writable cgroup v1 cpu controller")
def test_real_cgroup_with_a_one_core_quota(tmp_path):
    """A real cgroup limited to 1 core: a process inside it configures 1 thread."""
    group = CPU_CGROUP / f"dip_teach_test_{os.getpid()}"
    group.mkdir()
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("100000")
        code = "from dip_teach import settings; print(settings.cpu_quota(), settings.configure_threads())"
        env = {k: v for k, v in os.environ.items() if k != settings.THREADS_ENV}
        out = subprocess.run(["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$0" -c "$1"',
                              sys.executable, code], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["1.0", "1"]
    finally:
        group.rmdir()


# ------------------------------------------------------------------ precision (fp32 or bf16)
def test_precision_follows_the_environment_then_hardware_and_verdict(monkeypatch):
    monkeypatch.delenv(settings.PRECISION_ENV, raising=False)
    monkeypatch.setattr(settings, "BF16_DEFAULT", True)
    for keeps, native, expected in ((True, True, "bf16"), (True, False, "fp32"), (False, True, "fp32")):
        monkeypatch.setattr(settings, "BF16_KEEPS_QUALITY", keeps)
        monkeypatch.setattr(settings, "bf16_native", lambda device=None, native=native: native)
        assert settings.precision("cpu") == expected
        assert settings.precision_reason("cpu").startswith(expected)
    monkeypatch.setattr(settings, "BF16_KEEPS_QUALITY", True)
    monkeypatch.setattr(settings, "BF16_DEFAULT", True)
    assert settings.precision("cpu", gmac=settings.BF16_MIN_GMAC / 2) == "fp32"      # too small to pay
    assert settings.precision("cpu", gmac=settings.BF16_MIN_GMAC) == "bf16"
    monkeypatch.setattr(settings, "BF16_DEFAULT", False)
    assert settings.precision("cpu", gmac=1.0) == "fp32" and "switched off" in settings.precision_reason("cpu")
    monkeypatch.setattr(settings, "BF16_DEFAULT", True)
    monkeypatch.setenv(settings.PRECISION_ENV, "0")
    assert settings.precision("cpu") == "fp32" and "$DIP_TEACH_BF16" in settings.precision_reason("cpu")
    monkeypatch.setenv(settings.PRECISION_ENV, "1")
    monkeypatch.setattr(settings, "bf16_native", lambda device=None: False)
    assert settings.precision("cpu") == "bf16"
    monkeypatch.setenv(settings.PRECISION_ENV, "half")
    with pytest.raises(ValueError, match="DIP_TEACH_BF16='half': use 0"):
        settings.precision("cpu")


def test_bf16_native_reads_the_device():
    assert settings.bf16_native("meta") is False
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    assert settings.bf16_native("cpu") == ("amx_bf16" in flags or "avx512_bf16" in flags)
    assert "precision" in settings.report()
