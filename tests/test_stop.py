"""Nothing lost: a build stopped in the middle of a sweep keeps every run that had finished.

A sweep of 6 runs, ``--jobs 1``: runs 0-2 finish, run 3 waits on a gate file, so the build is
certainly inside run 3 when it is stopped: Ctrl+C, SIGTERM, SIGHUP (terminal closed), SIGKILL
of the build, and SIGKILL of the build and its workers (the machine dies).  Each time: the 3
finished runs are in the cache, no worker is left, ``site/`` is the previous site byte for
byte, and the next build executes only the 3 runs that had not finished.  Runs are counted
(each run appends a line to a file), never timed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CONFIG, make_blog
from physai_blog.build import build
from physai_blog.runs.cache import verify_entry

EXPERIMENT = '''\
import os
import time
from pathlib import Path

from physai_blog import Experiment

exp = Experiment(params={"n": 4}, seeds=[0, 1, 2, 3, 4, 5])


@exp.run
def train(params, seed, log):
    marks = Path(os.environ["STOP_MARKS"])
    with marks.open("a") as fh:
        fh.write(f"{seed} {os.getpid()}\\n")
    gate = marks.with_name("gate")
    while seed >= 3 and gate.exists():   # held open until the test releases it
        time.sleep(0.02)
    for step in range(params["n"]):
        log.scalars(step=step, y=float(step + seed))
    log.value("last", float(params["n"] + seed))
'''
POST = '''\
---
title: Stopped
date: 2026-03-01
experiment: experiments/sweep.py
{seeds}
---

Last: {{{{ value("last") }}}}.
'''


def wait_for(condition, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def marks(path: Path) -> list[tuple[int, int]]:
    if not path.exists():
        return []
    return [tuple(map(int, line.split())) for line in path.read_text().splitlines()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (workers, the fork server), whatever their session."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text()
                                               .split(") ")[-1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def snapshot(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def finished_runs(cache: Path) -> int:
    runs = cache / "runs"
    entries = list(runs.iterdir()) if runs.exists() else []
    for entry in entries:
        assert verify_entry(entry, entry.name)[0] is not None, f"bad entry {entry.name}"
    return len(entries)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL", "machine dies"])
def test_a_stopped_build_keeps_its_finished_runs(tmp_path, monkeypatch, how):
    if not sys.platform.startswith("linux"):
        pytest.skip("parent-death signals and /proc are Linux's")
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-stopped.md": POST.format(
        seeds="seeds: [0]")}, experiments={"sweep.py": EXPERIMENT}, config=CONFIG)
    mark_file = tmp_path / "marks.txt"
    monkeypatch.setenv("STOP_MARKS", str(mark_file))
    build(root, jobs=1)                       # the previous site: one seed
    before = snapshot(root / "site")
    (root / "posts" / "2026-03-01-stopped.md").write_text(POST.format(seeds=""))  # 6 seeds
    gate = tmp_path / "gate"
    gate.write_text("held")
    mark_file.unlink()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from physai_blog.cli.main import run_cli; run_cli()", "build",
         "--root", str(root), "--jobs", "1", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "CI": "1"},
        start_new_session=True)
    try:
        # Seed 0 is cached by the first build; 1 and 2 finish; 3 is held at the gate.
        wait_for(lambda: [seed for seed, _ in marks(mark_file)] == [1, 2, 3], "run 3 to start")
        wait_for(lambda: finished_runs(root / ".physai-cache") == 3, "3 committed runs")
        workers = {pid for _, pid in marks(mark_file)} | descendants(proc.pid)
        assert {pid for _, pid in marks(mark_file)} & descendants(proc.pid)
        if how == "machine dies":            # everything at once, workers included
            for pid in [proc.pid, *workers]:
                os.kill(pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, getattr(signal, how))
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    number = signal.SIGKILL if how == "machine dies" else getattr(signal, how)
    if number == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:   # one clear line, no traceback, exit 128+N
        assert proc.returncode == 128 + number, err.decode()
        assert f"Stopped ({signal.Signals(number).name})" in err.decode()
        assert "Traceback" not in err.decode()
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to be gone", 10)
    assert snapshot(root / "site") == before, "a stopped build changed site/"
    assert finished_runs(root / ".physai-cache") == 3

    gate.unlink()
    mark_file.unlink()
    report = build(root, jobs=1)
    assert sorted(seed for seed, _ in marks(mark_file)) == [3, 4, 5]
    assert len(report.runs_executed) == 3 and report.runs_total == 6
    assert snapshot(root / "site") != before


def test_a_failing_render_leaves_no_figure_batch_running(tmp_path, monkeypatch):
    """serve's executor outlives a build: a build that fails while its figures are drawn
    waits for them before giving the cache back, so nothing is committed behind the next."""
    import threading

    from physai_blog.errors import PhysaiError
    from physai_blog.runs.executor import LocalExecutor

    slow = EXPERIMENT.replace("seeds=[0, 1, 2, 3, 4, 5]", "seeds=[0, 1]") + '''

@exp.figure("slow", caption="Slow.")
def slow(data, fig):
    time.sleep(1.5)
    fig.add_subplot().plot([0, 1])
'''
    post = POST.format(seeds="") + '{{ figure("slow") }}\n'
    root = make_blog(tmp_path / "blog", posts={"2026-03-01-stopped.md": post},
                     experiments={"sweep.py": slow})
    monkeypatch.setenv("STOP_MARKS", str(tmp_path / "marks.txt"))
    (root / "templates").mkdir()
    (root / "templates/post.html").write_text("{{ nope(1) }}")
    executor = LocalExecutor(root, root / ".physai-cache/tmp", 1, 2, persistent=True)
    try:
        with pytest.raises(PhysaiError) as caught:
            build(root, executor=executor)
        assert caught.value.message == "templates/post.html:1: template error: 'nope' is undefined"
        assert not [t for t in threading.enumerate() if t.name == "physai-executor"]
        assert len(list((root / ".physai-cache/figures").iterdir())) == 1   # committed before
    finally:
        executor.close()


HOLD_EXPERIMENT = """\
import os
import time
from pathlib import Path

from physai_blog import Experiment

exp = Experiment(params={"n": 1}, seeds=[0])


@exp.run
def train(params, seed, log):
    Path(STARTED).write_text(str(os.getpid()))
    while True:               # never ends by itself: only a stop ends it
        time.sleep(0.1)
"""
HOLD_POST = "---\ntitle: Hold\ndate: 2026-02-01\n---\n\nHeld.\n"

def test_stopping_serve_stops_the_build_it_is_running(tmp_path):
    """Ctrl+C in serve: the build runs in a thread of its own, and stop() interrupts it as
    Ctrl+C interrupts a build in the main thread (its running worker killed), instead of
    waiting for the run to end or for a join to time out."""
    from physai_blog.serve.server import DevServer

    started = tmp_path / "started"
    root = make_blog(tmp_path / "blog", {"2026-02-01-hold.md": HOLD_POST},
                     {"hold.py": HOLD_EXPERIMENT.replace("STARTED", repr(str(started)))})
    srv = DevServer(root, port=0, echo=lambda line, error=False: None, debounce_ms=100)
    srv.start(initial_build=True, wait=False)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(started.read_text())
    srv.stop()
    builder = next(t for t in srv.threads if t.name == "physai-_builder")
    assert not builder.is_alive()             # the build ended with stop(), not after it
    with pytest.raises(ProcessLookupError):   # its worker was killed (and reaped)
        os.kill(pid, 0)
    assert not (root / "site").exists()       # nothing half-built was published
