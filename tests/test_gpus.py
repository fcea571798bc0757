"""GPU runs, pretended on a CPU machine: ``PHYSAI_FAKE_GPUS=0,1`` lists two devices.

Four runs declare ``resources: {gpu: 1}`` and the pool has three slots: each run holds a lock
file named after the device it was given (``CUDA_VISIBLE_DEVICES``) and fails if another run
holds it, and waits until two runs are in flight, so the build proves both that two devices
are used at once and that no device ever has two runs.  Nothing is timed.
"""

from __future__ import annotations

import json

import pytest

from conftest import CONFIG, make_blog
from physai_blog.build import build
from physai_blog.runs.devices import DevicePool, visible_gpus

EXPERIMENT = '''\
import os
import time
from pathlib import Path

from physai_blog import Experiment

exp = Experiment(params={"n": 3}, seeds=[0, 1, 2, 3], resources={"gpu": 1})


@exp.run
def train(params, seed, log):
    {torch}
    folder = Path(os.environ["GPU_MARKS"])
    device = os.environ["CUDA_VISIBLE_DEVICES"]
    lock = folder / f"device-{device}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)   # raises if the device is busy
    with (folder / "starts").open("a") as fh:
        fh.write(f"{seed} {device} {log.device}\\n")
    deadline = time.monotonic() + 30
    while len((folder / "starts").read_text().splitlines()) < min(2, 4 - seed) \\
            and time.monotonic() < deadline:   # a second run must start meanwhile
        time.sleep(0.02)
    os.close(fd)
    lock.unlink()
    log.value("device_count", float(len(device.split(","))))
'''
POST = '''\
---
title: On GPUs
date: 2026-03-01
experiment: experiments/gpu.py
---

Devices: {{ value("device_count") }}.
'''


def gpu_blog(tmp_path, torch_line: str = "pass"):
    return make_blog(tmp_path / "blog", posts={"2026-03-01-gpu.md": POST},
                     experiments={"gpu.py": EXPERIMENT.replace("{torch}", torch_line)}, config=CONFIG)


def test_gpu_runs_get_one_device_each_never_shared(tmp_path, monkeypatch):
    root = gpu_blog(tmp_path)
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("GPU_MARKS", str(marks))
    monkeypatch.setenv("PHYSAI_FAKE_GPUS", "0,1")
    report = build(root, jobs=3)
    assert report.errors == [] and len(report.runs_executed) == 4
    starts = [line.split() for line in (marks / "starts").read_text().splitlines()]
    assert sorted(int(seed) for seed, _, _ in starts) == [0, 1, 2, 3]
    assert {device for _, device, _ in starts[:2]} == {"0", "1"}, "two devices at once"
    assert {where for _, _, where in starts} == {"cpu"}, "no CUDA here: log.device is cpu"


def test_a_run_given_a_device_records_the_determinism_flags(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    root = gpu_blog(tmp_path, "import torch; torch.use_deterministic_algorithms(True)")
    (root / "experiments/gpu.py").write_text((root / "experiments/gpu.py").read_text()
                                             .replace("seeds=[0, 1, 2, 3]", "seeds=[3]"))
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("GPU_MARKS", str(marks))
    monkeypatch.setenv("PHYSAI_FAKE_GPUS", "5")
    report = build(root, jobs=1)
    assert report.errors == []
    [entry] = (root / ".physai-cache/runs").iterdir()
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["determinism"]["deterministic_algorithms"] is True
    assert manifest["determinism"]["cudnn_benchmark"] is False
    assert "gpu" not in manifest   # no CUDA on this machine: nothing to record
    assert (marks / "starts").read_text() == "3 5 cpu\n"


def test_the_device_pool_caps_a_request_at_its_size_and_hands_devices_back():
    pool = DevicePool(["0", "1"])
    assert pool.acquire(5) == "0,1"
    pool.release("0,1")
    first, second = pool.acquire(1), pool.acquire(1)
    assert {first, second} == {"0", "1"} and pool.free == []
    pool.release(second)
    assert pool.acquire(1) == second
    assert DevicePool([]).acquire(1) is None


def test_fake_devices_come_before_the_real_ones(monkeypatch):
    monkeypatch.setenv("PHYSAI_FAKE_GPUS", "3, 4")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert visible_gpus() == ["3", "4"]
    monkeypatch.delenv("PHYSAI_FAKE_GPUS")
    assert visible_gpus() == ["0"]
