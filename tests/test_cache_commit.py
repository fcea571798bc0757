"""A durable commit, and the pipeline that makes one per finished run.

The commit (``Cache.commit(..., durable=True)``) is killed with SIGKILL at each of its steps
(every open, write, fsync and rename) in turn: each time the cache holds no entry of that key
or a whole, verified one, never a partial one, and the next commit of it succeeds.  The states
a power cut can leave of an entry (a file or the manifest short or missing) are each detected
and discarded, never served.  The executor commits a run in a thread of its own while the next
run starts, and announces a run "done" only once its commit returned.  Steps and events are
counted, never timed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from physai_blog.runs.cache import Cache, verify_entry
from physai_blog.runs.executor import LocalExecutor, Task

KEY = "ab" * 32
COMMIT = '''\
import os, signal, sys
from pathlib import Path
from physai_blog.runs.cache import Cache

root, kill_at = Path(sys.argv[1]), int(sys.argv[2])
cache = Cache(root)
folder = cache.new_tmp()
(folder / "arrays").mkdir()
(folder / "values.json").write_text('{"v": 1.0}\\n')
(folder / "arrays" / "w.npy").write_bytes(bytes(range(256)) * 40)
steps = [0]

def step(real):
    def wrapped(*args, **kwargs):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped

for name in ("open", "write", "fsync", "rename"):
    setattr(os, name, step(getattr(os, name)))
cache.commit("runs", sys.argv[3], folder, {"kind": "run"}, durable=True)
print(steps[0])
'''


def commit_killed_at(root: Path, step: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", COMMIT, str(root), str(step), KEY],
                          capture_output=True, text=True, timeout=60)


def test_a_commit_killed_at_any_step_leaves_no_entry_or_a_whole_one(tmp_path):
    whole = commit_killed_at(tmp_path / "whole", 0)
    assert whole.returncode == 0, whole.stderr
    steps = int(whole.stdout)
    assert steps >= 8   # opens, writes and fsyncs of 2 files, a manifest, 2 folders; a rename
    seen = set()
    for step in range(1, steps + 1):
        root = tmp_path / f"kill-{step}"
        killed = commit_killed_at(root, step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        entry = root / "runs" / KEY
        if entry.exists():
            manifest, why = verify_entry(entry, KEY)
            assert manifest is not None, f"killed at step {step}: a partial entry ({why})"
            seen.add("whole")
        else:
            seen.add("none")
        again = commit_killed_at(root, 0)   # the next build commits it (tmp/ cleared first)
        assert again.returncode == 0, again.stderr
        assert verify_entry(entry, KEY)[0] is not None
    assert seen == {"none", "whole"}   # killed before the rename, and after it


@pytest.mark.parametrize("damage, why", [
    (lambda e: (e / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda e: (e / "manifest.json").write_bytes(b""), "manifest.json is unreadable"),
    (lambda e: (e / "values.json").write_bytes(b""), "values.json fails its sha256"),
    (lambda e: (e / "arrays/w.npy").unlink(), "arrays/w.npy is missing"),
])
def test_what_a_power_cut_can_leave_of_an_entry_is_discarded(tmp_path, damage, why):
    assert commit_killed_at(tmp_path, 0).returncode == 0
    warnings: list[str] = []
    cache = Cache(tmp_path, warn=warnings.append)
    assert cache.load("runs", KEY) is not None
    damage(tmp_path / "runs" / KEY)
    assert cache.load("runs", KEY) is None
    assert len(warnings) == 1 and why in warnings[0] and "recomputed" in warnings[0]
    assert not (tmp_path / "runs" / KEY).exists()


RUN = '''\
from physai_blog import Experiment

exp = Experiment(params={"k": 0}, seeds=[0])


@exp.run
def train(params, seed, log):
    log.value("k", float(params["k"]))
'''


def tasks(root: Path, n: int) -> list[Task]:
    (root / "outs").mkdir()
    return [Task("run", "experiments/run.py",
                 {"kind": "run", "var": "exp", "params": {"k": i}, "seed": 0,
                  "out": str(root / "outs" / f"run-{i}")}, 60.0, f"post k-{i}")
            for i in range(n)]


def test_a_run_is_done_once_committed_while_the_next_one_runs(tmp_path):
    root = tmp_path / "blog"
    (root / "experiments").mkdir(parents=True)
    (root / "experiments/run.py").write_text(RUN)
    events: list[tuple[str, str]] = []
    started = {label: threading.Event() for label in ("post k-0", "post k-1", "post k-2")}

    def on_event(event: str, task: Task) -> None:
        events.append((event, task.label))
        if event == "start":
            started[task.label].set()

    def finished(outcome) -> None:
        # The commit of run k holds until run k+1 has started: with commits made by the slot
        # itself, between runs, this would never happen.
        following = f"post k-{int(outcome.task.label[-1]) + 1}"
        if following in started:
            assert started[following].wait(30), f"{following} did not start meanwhile"
        events.append(("committed", outcome.task.label))

    executor = LocalExecutor(root, tmp_path / "scratch", 1, 1)
    try:
        outcomes = executor.execute(tasks(root, 3), on_event, finished)
    finally:
        executor.close()
    assert all(outcome.ok for outcome in outcomes), [o.error for o in outcomes]
    for i in range(3):
        label = f"post k-{i}"
        assert events.index(("committed", label)) < events.index(("done", label))
        assert json.loads(Path(outcomes[i].task.payload["out"], "values.json").read_text()) \
            == {"k": float(i)}
    assert events.index(("start", "post k-1")) < events.index(("done", "post k-0"))
    assert not list((tmp_path / "scratch").iterdir()), "a worker's folder was left behind"


def test_a_failing_commit_stops_the_batch_and_is_raised(tmp_path):
    root = tmp_path / "blog"
    (root / "experiments").mkdir(parents=True)
    (root / "experiments/run.py").write_text(RUN)
    committed: list[str] = []
    events: list[tuple[str, str]] = []

    def finished(outcome) -> None:
        if outcome.task.label == "post k-1":
            raise OSError(28, "No space left on device")
        committed.append(outcome.task.label)

    executor = LocalExecutor(root, tmp_path / "scratch", 1, 1)
    try:
        with pytest.raises(OSError, match="No space left"):
            executor.execute(tasks(root, 6), lambda e, t: events.append((e, t.label)),
                             finished)
    finally:
        executor.close()
    assert committed[0] == "post k-0" and "post k-1" not in committed
    assert ("done", "post k-1") not in events, "announced without its commit"
    assert len([e for e, _ in events if e == "start"]) < 6, "the batch went on taking runs"
    assert {label for e, label in events if e == "done"} == set(committed)
    assert os.path.isdir(tmp_path / "scratch")
