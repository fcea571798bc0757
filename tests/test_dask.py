"""The Dask executor: same cache keys, same bytes, retried when a worker dies."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from conftest import copy_sample, make_blog  # noqa: E402
from physai_blog.build import build  # noqa: E402
from physai_blog.runs.cluster import DaskExecutor, dask_resources, make_cluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def snapshot(root: Path) -> dict:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_dask_and_local_builds_are_byte_identical(tmp_path, cluster, monkeypatch):
    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    local, remote = copy_sample(tmp_path / "local"), copy_sample(tmp_path / "remote")
    build(local)
    executor = DaskExecutor(remote, cluster.scheduler_address)
    try:
        report = build(remote, executor=executor)
    finally:
        executor.close()
    assert len(report.runs_executed) == 2 and report.figures_drawn == ["decay/loss"]
    assert snapshot(local) == snapshot(remote)
    # same cache keys: the remote build's cache serves the local pool, and vice versa
    assert sorted(os.listdir(local / ".physai-cache/runs")) == \
        sorted(os.listdir(remote / ".physai-cache/runs"))


def _kill_self():
    os.kill(os.getpid(), 9)


SLOW_SWEEP = '''\
import time

from physai_blog import Experiment

exp = Experiment(params={"x": 1.0}, sweep={"x": [1.0, 2.0, 3.0]}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    time.sleep(1.0)
    log.value("y", params["x"] * 10 + seed)
'''
SLOW_POST = '''\
---
title: Slow
date: 2026-04-01
experiment: experiments/slow.py
---

{{ value("y", x=2.0) }}
'''


def test_a_worker_killed_mid_sweep_is_survived(tmp_path, cluster):
    root = make_blog(tmp_path / "blog", {"2026-04-01-slow.md": SLOW_POST},
                     {"slow.py": SLOW_SWEEP})
    executor = DaskExecutor(root, cluster.scheduler_address)
    client = executor.client()
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                time.sleep(0.4)
                killed.append(busy[0])
                try:   # SIGKILL the worker process mid-run; its nanny starts a new one
                    client.run(_kill_self, workers=[busy[0]])
                except Exception:  # noqa: BLE001 - the worker dies before it can answer
                    pass
            time.sleep(0.05)

    thread = threading.Thread(target=kill_a_busy_worker)
    thread.start()
    try:
        report = build(root, executor=executor)
    finally:
        thread.join()
        executor.close()
    assert killed, "no worker was busy to be killed"
    assert len(report.runs_executed) == 6 and report.ok
    html = (root / "site/posts/slow/index.html").read_text()
    assert ">20.5 ± 0.71 (n=2)</a>" in html
    with distributed.Client(cluster) as fresh:   # the nanny brought the worker back
        fresh.wait_for_workers(2, timeout=30)


def test_resources_map_to_dask_and_jobqueue_is_configured_from_yaml():
    assert dask_resources({"gpu": 1, "memory": "8GB"}) == {"GPU": 1.0, "MEMORY": 8e9}
    jobqueue = pytest.importorskip("dask_jobqueue")
    assert jobqueue
    cluster = make_cluster({"kind": "slurm", "cores": 2, "memory": "4GB", "queue": "debug",
                            "walltime": "00:10:00", "jobs": 3}, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p debug" in script and "#SBATCH --cpus-per-task=2" in script


def test_local_pool_runs_a_resource_hungry_run_alone(tmp_path, monkeypatch):
    log = tmp_path / "spans.txt"
    monkeypatch.setenv("PHYSAI_SPANS", str(log))
    experiment = '''\
import os
import time

from physai_blog import Experiment

exp = Experiment(params={"x": 1.0}, seeds=[0, 1, 2], resources={"memory": "1GB"})


@exp.run
def train(params, seed, log):
    start = time.time()
    time.sleep(0.4)
    with open(os.environ["PHYSAI_SPANS"], "a") as fh:
        fh.write(f"{start} {time.time()}\\n")
    log.value("y", 1.0)
'''
    post = "---\ntitle: Big\ndate: 2026-04-02\nexperiment: experiments/big.py\n---\n\nok\n"
    root = make_blog(tmp_path / "blog", {"2026-04-02-big.md": post}, {"big.py": experiment})
    build(root, jobs=2)
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end           # never two at once


def test_front_matter_resources_reach_the_task(tmp_path):
    from physai_blog.pipeline import load_specs
    from physai_blog.runs.cache import Cache
    from physai_blog.content.posts import load_posts
    from physai_blog.runs.plan import plan_runs, run_task

    post = ("---\ntitle: R\ndate: 2026-04-03\nexperiment: experiments/fast.py\n"
            "resources: {gpu: 1, memory: 8GB}\n---\n\nx\n")
    root = make_blog(tmp_path / "blog", {"2026-04-03-r.md": post})
    posts = load_posts(root, [])
    plan = plan_runs(posts[0], load_specs(posts, root)["experiments/fast.py"], 60)[0]
    task = run_task(plan, Cache(root / ".physai-cache"))
    assert task.resources == {"gpu": 1, "memory": "8GB"}
    assert dask_resources(task.resources) == {"GPU": 1.0, "MEMORY": 8e9}


def test_a_failing_run_on_the_cluster_reports_the_same_error_as_locally(tmp_path, cluster):
    from conftest import FAST_EXPERIMENT, FAST_POST
    from physai_blog.errors import RunError

    broken = FAST_EXPERIMENT.replace('    log.value("total", float(params["n"]))',
                                     '    log.value("total", params["missing"])')
    messages = []
    for name, executor in (("local", None), ("dask", "cluster")):
        root = make_blog(tmp_path / name, {"2026-02-01-fast.md": FAST_POST}, {"fast.py": broken})
        runner = DaskExecutor(root, cluster.scheduler_address) if executor else None
        try:
            with pytest.raises(RunError) as info:
                build(root, executor=runner)
        finally:
            if runner is not None:
                runner.close()
        messages.append(info.value.format_message())
    assert messages[0] == messages[1]
    assert messages[0].startswith("experiments/fast.py:10: KeyError: 'missing' (seed 0, post ")
    assert 'File "experiments/fast.py", line 10, in train' in messages[0]
