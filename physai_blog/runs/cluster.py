"""Run experiments on a Dask cluster, behind the same seam as the local pool.

Each (sweep cell, seed) run is one Dask task; figures of a post are one task.  Workers need
no shared filesystem: a task carries the experiment's source and its project-local modules
(and, to draw figures, the run data), runs them in a ``worker.py`` subprocess exactly as the
local pool does, and returns every output file as bytes with its sha256.  The coordinating
build verifies the checksums and writes the files into the cache atomically, so results are
byte-identical whichever executor ran them.  A worker that dies mid-run has its task retried
(``retries``); a run that fails reports the same error as locally.

    physai-blog build --executor dask                         # a LocalCluster sized to the machine
    physai-blog build --executor dask --scheduler tcp://host:8786
    physai.yaml:  executor: dask / scheduler: tcp://... / cluster: {kind: slurm, ...}
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from physai_blog.errors import PhysaiError
from physai_blog.runs.executor import (
    Events,
    Outcome,
    Task,
    _Worker,
    in_background,
)
from physai_blog.runs.lifeline import PARENT_ENV
from physai_blog.runs.preload import default_jobs, worker_env

RETRIES = 2


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def remote_task(experiment: str, payload: dict, sources: dict[str, bytes],
                inputs: dict[str, dict[str, bytes]], timeout: float, threads: int) -> dict:
    """Runs on a Dask worker: rebuild a scratch blog, run the task, return files as bytes."""
    with tempfile.TemporaryDirectory(prefix="physai-task-") as scratch:
        base = Path(scratch)
        root = base / "blog"
        for rel, data in sources.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        payload = dict(payload)
        outs: dict[str, Path] = {}
        if payload["kind"] in ("run", "notebook"):
            outs["out"] = base / "out"
            payload["out"], payload["workdir"] = str(outs["out"]), str(base / "work")
            (base / "work").mkdir()
            payload["checkpoints"] = checkpoint_folder(payload.get("checkpoints"), base)
            live = payload.get("live")   # serve's view of it, where this worker can write it
            payload["live"] = live if live and Path(live).parent.parent.is_dir() else None
        else:
            runs = []
            for path, label, params, cell, seed in payload["runs"]:
                folder = base / "inputs" / label
                for rel, data in inputs[label].items():
                    (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                    (folder / rel).write_bytes(data)
                runs.append([str(folder), label, params, cell, seed])
            payload["runs"] = runs
            outs = {name: base / "figures" / name for name in payload["out"]}
            payload["out"] = {name: str(path) for name, path in outs.items()}
        (base / "logs").mkdir()
        # It dies with this Dask worker (lifeline.py): a worker lost mid-run leaves no run
        # behind writing checkpoints beside the retry.
        env = {**worker_env(threads), PARENT_ENV: str(os.getpid())}
        worker = _Worker(root, experiment, env, base / "logs" / "output.log")
        answer = worker.ask(payload, timeout)
        log = worker.log_tail() if not isinstance(answer, dict) or not answer.get("ok") else ""
        worker.close(kill=not isinstance(answer, dict))
        files = {name: _files(path) if path.exists() else {} for name, path in outs.items()}
        sums = {name: {rel: hashlib.sha256(data).hexdigest() for rel, data in group.items()}
                for name, group in files.items()}
        return {"answer": answer, "files": files, "sha256": sums, "log": log}


def checkpoint_folder(wanted: str | None, scratch: Path) -> str | None:
    """The run's checkpoint folder in the build's cache where this worker sees that cache
    (the same machine, a shared filesystem): a run lost with its worker resumes on another.
    Elsewhere a scratch folder: checkpoints then last only as long as the task."""
    if wanted and Path(wanted).parent.parent.is_dir():
        return wanted
    return str(scratch / "checkpoints") if wanted else None


class DaskExecutor:
    """Submit every task to a Dask cluster; verify and materialise what comes back."""

    def __init__(self, root: Path, address: str | None = None, threads: int = 1,
                 cluster_options: dict | None = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise PhysaiError("--executor dask needs Dask: pip install 'physai-blog[cluster]'")
        self.root = Path(root).resolve()
        self.address = address
        self.threads = threads
        self.cluster_options = dict(cluster_options or {})
        self._client = None
        self._cluster = None

    def client(self):
        if self._client is None:
            from distributed import Client

            if self.address:
                self._client = Client(self.address, timeout="30s")
            else:
                self._cluster = make_cluster(self.cluster_options)
                self._client = Client(self._cluster)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def _sources(self, experiment: str, deps: list[str]) -> dict[str, bytes]:
        return {rel: (self.root / rel).read_bytes() for rel in [experiment, *deps]}

    def execute(self, tasks: list[Task], on_event: Events | None = None,
                finished=None) -> list[Outcome]:
        from distributed import as_completed

        if not tasks:
            return []
        on_event = on_event or (lambda event, task: None)
        for task in tasks:
            on_event("queued", task)
        client = self.client()
        futures = {}
        for task in tasks:
            payload = task.payload
            inputs = {}
            if payload["kind"] == "figures":
                inputs = {label: _files(Path(path)) for path, label, *_ in payload["runs"]}
            resources = dask_resources(task.resources)
            future = client.submit(
                remote_task, task.experiment, payload,
                self._sources(task.experiment, task.deps), inputs, task.timeout, self.threads,
                key=f"physai-{task.kind}-{task.label.replace(' ', '-')}-{id(task)}",
                retries=RETRIES, pure=False, resources=resources or None)
            futures[future] = task
            on_event("start", task)
        outcomes: dict[int, Outcome] = {}
        for future in as_completed(list(futures)):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost beyond its retries
                outcome = Outcome(task, False, {}, {"type": "died"},
                                  log=f"{exc.__class__.__name__}: {exc}")
            else:
                outcome = self._materialise(task, result)
            outcomes[id(task)] = outcome
            if finished is not None:   # committed now: a build stopped later keeps it
                with signals_held():
                    finished(outcome)
            on_event("done" if outcome.ok else "failed", task)
        return [outcomes[id(task)] for task in tasks]

    def start(self, tasks: list[Task], on_event: Events | None = None,
              finished=None) -> Future:
        """``execute`` in the background: the build renders pages while figures are drawn."""
        return in_background(self.execute, tasks, on_event, finished)

    @staticmethod
    def _materialise(task: Task, result: dict) -> Outcome:
        answer = result["answer"]
        if not isinstance(answer, dict):
            return Outcome(task, False, {}, {"type": answer}, log=result.get("log", ""))
        if not answer.get("ok"):
            return Outcome(task, False, answer, answer.get("error"), log=result.get("log", ""))
        targets = ({"out": task.payload["out"]} if task.payload["kind"] in ("run", "notebook")
                   else task.payload["out"])
        for name, group in result["files"].items():
            folder = Path(targets[name])
            for rel, data in group.items():
                if hashlib.sha256(data).hexdigest() != result["sha256"][name][rel]:
                    return Outcome(task, False, {}, {"type": "died"},
                                   log=f"{rel}: checksum mismatch in transfer")
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(data)
        return Outcome(task, True, answer)


@contextmanager
def signals_held():
    """Ctrl+C, SIGTERM and SIGHUP wait until a commit is done (then stop the build as
    usual): a run that came back is never lost to a stop in the middle of its commit."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def dask_resources(resources: dict) -> dict:
    """``{gpu: 1, memory: "8GB"}`` -> Dask worker resources ``{"GPU": 1, "MEMORY": 8e9}``."""
    out = {}
    for key, value in (resources or {}).items():
        if key.lower() == "memory":
            out["MEMORY"] = parse_bytes(value)
        else:
            out[key.upper()] = float(value)
    return out


def parse_bytes(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().upper().replace("IB", "B")
    for suffix, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def make_cluster(options: dict, scale: bool = True):
    """A LocalCluster sized to the machine, or a dask-jobqueue cluster from physai.yaml.

    physai.yaml:
        cluster:
          kind: slurm            # or pbs, sge, lsf, htcondor (dask-jobqueue); default: local
          jobs: 4                # how many batch jobs to request (scale)
          cores: 8               # passed to the jobqueue class, like memory, queue, walltime...
          memory: 16GB
    """
    options = dict(options)
    kind = options.pop("kind", "local")
    if kind == "local":
        from distributed import LocalCluster

        workers = options.pop("workers", default_jobs())
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, **options)
    try:
        import dask_jobqueue
    except ImportError:
        raise PhysaiError(f"cluster kind {kind!r} needs dask-jobqueue: "
                          "pip install 'physai-blog[cluster]' dask-jobqueue")
    classes = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
               "lsf": "LSFCluster", "htcondor": "HTCondorCluster", "oar": "OARCluster"}
    if kind not in classes:
        raise PhysaiError(f"physai.yaml: unknown cluster kind {kind!r}; "
                          f"use local or one of {', '.join(classes)}")
    jobs = options.pop("jobs", 1)
    try:
        cluster = getattr(dask_jobqueue, classes[kind])(**options)
    except (TypeError, ValueError) as exc:
        raise PhysaiError(f"physai.yaml: cluster ({kind}): {exc}")
    if scale:
        cluster.scale(jobs=jobs)
    return cluster
