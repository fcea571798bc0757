"""Where runs execute.  The seam: ``Executor.execute(tasks, on_event) -> outcomes``.

``LocalExecutor`` runs tasks in worker subprocesses (``worker.py``), ``jobs`` at a time, each
worker capped at ``cores // jobs`` threads so parallel runs never oversubscribe the cores.  A
worker is bound to one experiment script and serves that script's tasks one after the other,
so a sweep imports torch once per worker.  Every task has its own timeout; a worker that
overruns it is killed with its whole process group.  Finished tasks are handed to the caller
(``finished``: it commits a run durably) by one thread of their own while the slot's worker
starts the next task.  A cluster executor plugs in beside it.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from physai_blog.errors import Stopped
from physai_blog.runs.devices import DevicePool, gpus_wanted, visible_gpus
from physai_blog.runs.lifeline import PARENT_ENV
from physai_blog.runs.preload import (
    FIGURE_MODULES,
    WORKER_MODULES,
    script_imports_torch,
    worker_env,
)
from physai_blog.runs.zygote import Zygote


@dataclass
class Task:
    """One unit of work for a worker bound to ``experiment`` (a path relative to the root)."""

    kind: str                 # "run" or "figures"
    experiment: str
    payload: dict
    timeout: float
    label: str
    context: object = None    # the caller's own bookkeeping, untouched here
    deps: list = field(default_factory=list)        # project-local modules (for remote runs)
    resources: dict = field(default_factory=dict)   # e.g. {"gpu": 1, "memory": "8GB"}


@dataclass
class Outcome:
    task: Task
    ok: bool
    result: dict = field(default_factory=dict)
    error: dict | None = None
    log: str = ""


Events = Callable[[str, Task], None]
Finished = Callable[[Outcome], None]


class Executor(Protocol):
    """``finished(outcome)`` is called as each task ends, one call at a time and before its
    "done"/"failed" event: the caller commits a run there, so a build stopped later keeps it."""

    def execute(self, tasks: list[Task], on_event: Events | None = None,
                finished: Finished | None = None) -> list[Outcome]: ...

    def start(self, tasks: list[Task], on_event: Events | None = None,
              finished: Finished | None = None) -> Future:
        """``execute`` in the background; the Future's result is its outcomes."""


class _Worker:
    """One live worker subprocess and its protocol pipe."""

    def __init__(self, root: Path, experiment: str, env: dict, log_path: Path, zygote=None,
                 preload: tuple = ()):
        read_fd, write_fd = os.pipe()
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.experiment = experiment
        self.devices: str | None = None   # the GPUs its runs are given (CUDA_VISIBLE_DEVICES)
        self.proc = None
        if zygote is not None:   # forked from a process that has imported numpy & co already
            try:
                self.proc = zygote.spawn(root, experiment, log_path.parent, self.log.fileno(),
                                         write_fd, preload)
            except OSError:
                self.proc = None
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "physai_blog.runs.worker", str(root), experiment,
                 str(write_fd)],
                stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                pass_fds=(write_fd,), env=env, cwd=str(log_path.parent),
                start_new_session=True)
        os.close(write_fd)
        self.answers = os.fdopen(read_fd, "rb")
        self.buffer = b""

    def ask(self, message: dict, timeout: float) -> dict | str:
        """Send a task; the answer, or "timeout" / "died"."""
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "died"
        deadline = time.monotonic() + timeout
        fd = self.answers.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return "died"
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def log_tail(self, lines: int = 20) -> str:
        self.log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def close(self, kill: bool = False) -> int | None:
        """Stop the worker (``kill``: its whole process group at once); its exit code."""
        if kill:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        else:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        self.answers.close()
        self.log.close()
        return code


def preload_for(task: Task, root: Path) -> tuple:
    """What the zygote should have imported before forking a worker for ``task``."""
    modules = FIGURE_MODULES if task.kind == "figures" else ()
    return ("torch", *modules) if script_imports_torch(root / task.experiment) else modules


class LocalExecutor:
    """A pool of ``jobs`` worker subprocesses on this machine."""

    def __init__(self, root: Path, scratch: Path, jobs: int, cores: int,
                 persistent: bool = False, zygote=None):
        self.root = Path(root).resolve()
        self.scratch = Path(scratch)
        self.jobs = max(1, jobs)
        self.threads = max(1, cores // self.jobs)
        #: Kept across builds (``serve``): its fork server stays warm, so even a single
        #: figure or run starts in milliseconds.
        self.persistent = persistent
        self._zygote = None
        self._batches: set = set()   # the execute calls under way (interrupt() stops them)
        self._interrupted = False
        if zygote is not None:   # started early by the caller (see build.early_zygote)
            if zygote.env == worker_env(self.threads):
                self._zygote = zygote
            else:
                zygote.close()

    def _fork_server(self, tasks: list[Task]):
        """The build's zygote, started with the first tasks (None where fork is not usable)."""
        if self._zygote is None and hasattr(os, "fork") and hasattr(socket, "send_fds") \
                and not os.environ.get("PHYSAI_NO_ZYGOTE"):
            torch = any(script_imports_torch(self.root / task.experiment) for task in tasks)
            self._zygote = Zygote(worker_env(self.threads),
                                  [*("torch",) * torch, *WORKER_MODULES])
        return self._zygote

    def close(self) -> None:
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None

    def execute(self, tasks: list[Task], on_event: Events | None = None,
                finished: Finished | None = None) -> list[Outcome]:
        if self._interrupted:   # the build goes on to its next stage: it stops there too
            raise Stopped("interrupted")
        on_event = on_event or (lambda event, task: None)
        for task in tasks:
            on_event("queued", task)
        # One task gains nothing from a fork server: it would import the same modules itself.
        zygote = self._fork_server(tasks) if len(tasks) > 1 or self.persistent or self._zygote \
            else None
        batch = _Batch(self, tasks, on_event, finished, zygote)
        self._batches.add(batch)
        try:
            return batch.run(min(self.jobs, len(tasks)))
        finally:
            self._batches.discard(batch)

    def interrupt(self) -> None:
        """Stop what runs now, from another thread (``serve``'s Ctrl+C, whose build runs in a
        thread of its own): as Ctrl+C stops a build in the main thread, the running workers
        are killed, what had finished is committed, and each ``execute`` raises Stopped."""
        self._interrupted = True
        for batch in list(self._batches):
            batch.interrupted = True
            batch.kill_live()

    def start(self, tasks: list[Task], on_event: Events | None = None,
              finished: Finished | None = None) -> Future:
        """``execute`` in the background: the build renders pages while figures are drawn."""
        return in_background(self.execute, tasks, on_event, finished)


def in_background(execute, tasks: list[Task], on_event, finished) -> Future:
    """Run ``execute(tasks, ...)`` in a thread of its own; the Future holds its outcomes."""
    future: Future = Future()

    def work() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(execute(tasks, on_event, finished))
            except BaseException as exc:  # noqa: BLE001 - raised by future.result()
                future.set_exception(exc)

    threading.Thread(target=work, daemon=True, name="physai-executor").start()
    return future


class _Batch:
    """One ``execute`` call: ``jobs`` slot threads, each driving one worker at a time."""

    def __init__(self, pool: LocalExecutor, tasks: list[Task], on_event: Events,
                 finished: Finished | None, zygote):
        self.pool, self.tasks, self.on_event, self.zygote = pool, tasks, on_event, zygote
        self.pending = list(tasks)
        self.outcomes: dict[int, Outcome] = {}
        self.lock = threading.Lock()
        self.report = _Reporter(on_event, finished, 2 * pool.jobs)
        self.env = {**worker_env(pool.threads), PARENT_ENV: str(os.getpid())}
        # A task that declares resources other than GPUs (much memory) runs alone; one that
        # declares GPUs waits for free devices (one run per device at a time).
        self.gate = threading.Condition()
        self.running, self.exclusive = 0, False
        wants_gpu = any(gpus_wanted(task.resources) for task in tasks)
        self.gpus = DevicePool(visible_gpus() if wants_gpu else [])
        self.live: set = set()   # workers now running, killed if the build is interrupted
        self.interrupted = False

    def run(self, slots: int) -> list[Outcome]:
        threads = [threading.Thread(target=self.slot, args=(i,), daemon=True)
                   for i in range(slots)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
            if self.interrupted:
                raise Stopped("interrupted")
            self.report.close()
            self.report.reraise()
        except BaseException:   # Ctrl+C, SIGTERM: workers live in sessions of their own
            self.stop(threads)
            raise
        return [self.outcomes[id(task)] for task in self.tasks]

    def stop(self, threads: list[threading.Thread], grace: float = 60.0) -> None:
        """Kill the running workers, then let the slots commit what had already finished
        (a run whose answer came in just before: its commit is under way or next)."""
        self.kill_live()
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.report.close(max(0.0, deadline - time.monotonic()))

    def kill_live(self) -> None:
        with self.lock:
            self.pending.clear()   # slots take nothing more
        for worker in list(self.live):
            if worker.proc.poll() is None:   # a reaped pid may belong to someone else now
                try:
                    os.killpg(worker.proc.pid, signal.SIGKILL)
                except OSError:
                    pass

    def take(self, bound: str | None) -> Task | None:
        """The next task, preferring one for the script this slot's worker has imported."""
        with self.lock:
            if self.report.error is not None:
                return None
            for i, task in enumerate(self.pending):
                if task.experiment == bound:
                    return self.pending.pop(i)
            return self.pending.pop(0) if self.pending else None

    def enter(self, task: Task) -> str | None:
        """Wait until ``task`` may start; the GPUs it is given (None: none)."""
        granted = self.gpus.acquire(gpus_wanted(task.resources))
        with self.gate:
            if _exclusive(task):
                self.gate.wait_for(lambda: self.running == 0 and not self.exclusive)
                self.exclusive = True
            else:
                self.gate.wait_for(lambda: not self.exclusive)
            self.running += 1
        return granted

    def leave(self, task: Task, granted: str | None) -> None:
        with self.gate:
            self.running -= 1
            if _exclusive(task):
                self.exclusive = False
            self.gate.notify_all()
        self.gpus.release(granted)

    def slot(self, number: int) -> None:
        worker: _Worker | None = None
        try:
            while (task := self.take(worker.experiment if worker else None)) is not None:
                granted = self.enter(task)
                try:
                    # A worker is bound to one script and one set of GPUs (CUDA reads
                    # CUDA_VISIBLE_DEVICES once per process).
                    if worker is not None and (worker.experiment, worker.devices) != \
                            (task.experiment, granted):
                        self.retire(worker)
                        worker = None
                    if worker is None:
                        worker = self.new_worker(number, task)
                        worker.devices = granted
                    outcome, worker = self.ask(worker, task, granted)
                finally:
                    self.leave(task, granted)
                self.outcomes[id(task)] = outcome
                self.report(outcome)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            self.report.fail(exc)
        finally:
            if worker is not None:
                self.retire(worker)

    def retire(self, worker: "_Worker", kill: bool = False) -> int | None:
        """Close a worker and forget it (so an interruption never signals a stale pid)."""
        try:
            return worker.close(kill=kill)
        finally:
            self.live.discard(worker)
            # Its log and its runs' scratch folder (what a run left beside it, too).
            shutil.rmtree(worker.log_path.parent, ignore_errors=True)

    def new_worker(self, number: int, task: Task) -> "_Worker":
        log_dir = self.pool.scratch / f"worker-{number}-{time.monotonic_ns()}"
        log_dir.mkdir(parents=True)
        worker = _Worker(self.pool.root, task.experiment, self.env, log_dir / "output.log",
                         self.zygote, preload_for(task, self.pool.root))
        self.live.add(worker)
        return worker

    def ask(self, worker: "_Worker", task: Task,
            granted: str | None) -> tuple[Outcome, "_Worker | None"]:
        """Run one task; a worker that timed out or died is killed and not reused."""
        self.on_event("start", task)
        payload = task.payload if granted is None else {**task.payload, "devices": granted}
        answer = worker.ask(payload, task.timeout)
        if isinstance(answer, dict):
            outcome = Outcome(task, bool(answer.get("ok")), answer, answer.get("error"))
            if answer.get("phase") == "import":
                outcome.log = worker.log_tail()
            return outcome, worker
        outcome = Outcome(task, False, {}, {"type": answer}, log=worker.log_tail())
        outcome.error["exit"] = self.retire(worker, kill=True)
        return outcome, None


def _exclusive(task: Task) -> bool:
    return any(key.lower() != "gpu" for key in task.resources)


class _Reporter:
    """Hands each outcome to ``finished`` in a thread of its own, one at a time and in the
    order they came, then announces it.  A slot gives its worker the next task at once: the
    durable commit of one run overlaps the next run, and a run is announced "done" only
    once committed.  The first exception a slot or a commit meets stops the slots taking
    tasks and is raised by ``execute``, while what had finished is still committed."""

    def __init__(self, on_event: Events, finished: Finished | None, depth: int):
        self.on_event, self.finished = on_event, finished
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        # Bounded: a slot waits rather than run far ahead of the commits.
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self.commit_all, daemon=True,
                                       name="physai-commit")
        self.thread.start()

    def __call__(self, outcome: Outcome) -> None:
        self.queue.put(outcome)

    def commit_all(self) -> None:
        while (outcome := self.queue.get()) is not None:
            try:
                if self.finished is not None:
                    self.finished(outcome)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                self.fail(exc)
                continue
            self.on_event("done" if outcome.ok else "failed", outcome.task)

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, then stop the thread."""
        try:
            self.queue.put(None, timeout=timeout)
        except queue.Full:   # the commits overran the grace of a stop
            return
        self.thread.join(timeout)

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc

    def reraise(self) -> None:
        if self.error is not None:
            raise self.error
