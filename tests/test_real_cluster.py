"""A real Dask cluster: ``dask scheduler`` and two ``dask worker`` commands, each started as a
separate process in an empty working folder of its own, and ``physai-blog build --executor
dask --scheduler tcp://127.0.0.1:PORT`` from the command line.

The sample blog built there is byte for byte the local build.  A worker SIGKILLed in the
middle of a run that checkpoints is survived: Dask gives the task to the other worker, whose
run resumes from the last checkpoint (steps are counted, never timed) and publishes what an
uninterrupted run does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from conftest import CONFIG, copy_sample, free_port, make_blog  # noqa: E402
from physai_blog.build import build  # noqa: E402
from test_stop import alive, snapshot, wait_for  # noqa: E402

DASK = Path(sys.executable).with_name("dask")

EXPERIMENT = '''\
import os
import time
from pathlib import Path

import numpy as np

from physai_blog import Experiment

exp = Experiment(params={"steps": 10}, seeds=[0])


@exp.run
def train(params, seed, log):
    marks = Path(os.environ["CLUSTER_MARKS"])
    state = log.resume() or {"step": 0, "w": np.zeros(3)}
    for step in range(state["step"], params["steps"]):
        with marks.open("a") as fh:
            fh.write(f"{step} {os.getppid()} {os.getpid()}\\n")
        while step == 4 and marks.with_name("gate").exists():   # held for the kill
            time.sleep(0.02)
        state["w"] = state["w"] + np.random.randn(3)
        log.scalars(step=step, w0=state["w"][0])
        state["step"] = step + 1
        log.checkpoint(state)
    log.value("w_sum", float(state["w"].sum()))
'''
POST = '''\
---
title: Survived
date: 2026-03-01
experiment: experiments/survive.py
---

Sum: {{ value("w_sum") }}.
'''


@pytest.fixture
def real_cluster(tmp_path, monkeypatch):
    """(address, worker processes): a scheduler and two workers, each its own command."""
    if not DASK.exists():
        pytest.skip("the dask command is not installed")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "CLUSTER_MARKS": str(tmp_path / "marks.txt"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    procs = []

    def start(name: str, *args: str) -> subprocess.Popen:
        cwd = tmp_path / name
        cwd.mkdir()
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen([str(DASK), *args], cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
          "--no-dashboard")
    workers = [start(f"worker-{i}", "worker", address, "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--local-directory", str(tmp_path / f"worker-{i}"))
               for i in range(2)]
    try:
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def cli_build(root: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "physai_blog", "build", "--root", str(root),
                             "--executor", "dask", "--scheduler", address, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_real_cluster_builds_the_local_bytes_and_survives_a_lost_worker(
        tmp_path, monkeypatch, real_cluster):
    address, workers = real_cluster
    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    local, remote = copy_sample(tmp_path / "local"), copy_sample(tmp_path / "remote")
    build(local)
    proc = cli_build(remote, address)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out.decode()
    assert snapshot(remote / "site") == snapshot(local / "site")

    marks = tmp_path / "marks.txt"
    monkeypatch.setenv("CLUSTER_MARKS", str(marks))   # as the workers were started with
    reference = make_blog(tmp_path / "reference", posts={"2026-03-01-survived.md": POST},
                          experiments={"survive.py": EXPERIMENT}, config=CONFIG)
    build(reference)
    marks.unlink()
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-survived.md": POST},
                     experiments={"survive.py": EXPERIMENT}, config=CONFIG)
    gate = tmp_path / "gate"
    gate.write_text("held")
    proc = cli_build(root, address)
    try:
        wait_for(lambda: marks.exists() and len(marks.read_text().splitlines()) == 5,
                 "the run to reach step 4", 300)
        steps = [tuple(map(int, line.split())) for line in marks.read_text().splitlines()]
        _, lost, run = steps[-1]
        assert lost in {w.pid for w in workers}, "the run's parent is a dask worker"
        os.kill(lost, signal.SIGKILL)
        wait_for(lambda: not alive(run), "the run to die with its worker", 30)
        gate.unlink()
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()
    steps = [tuple(map(int, line.split())) for line in marks.read_text().splitlines()]
    assert [s for s, _, _ in steps] == [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9], "resumed at step 4"
    assert {pid for _, pid, _ in steps[5:]} == {w.pid for w in workers} - {lost}
    assert snapshot(root / "site") == snapshot(reference / "site")
