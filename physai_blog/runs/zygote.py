"""A fork server for experiment workers: import numpy, matplotlib (and torch) once per build.

Starting a worker as a fresh interpreter costs more than many experiments themselves: Python,
numpy, matplotlib and torch are imported again for every script.  The zygote imports them
once, then forks one child per worker on request.  The parent sends the child's stdin, its
answer pipe and its log file as file descriptors over a Unix socket (``SCM_RIGHTS``); the
child becomes an ordinary ``worker.main`` in a session of its own, so it is killed, timed out
and read exactly like a subprocess worker.  A fourth descriptor, a status pipe, brings the
child's real exit code back once the zygote has reaped it.

Why not the standard library's ``forkserver``: it is one per process with the environment
of the moment it starts, and workers need theirs fixed before the interpreter starts
(``PYTHONHASHSEED``, thread caps read when numpy loads) and different thread caps for
different ``--jobs``; this zygote is one per (environment, build or ``serve`` session).

    python -m physai_blog.runs.zygote SOCKET_FD MODULE [MODULE ...] [--later MODULE ...]
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from physai_blog.runs.lifeline import PARENT_ENV, die_with_parent
from physai_blog.runs.worker import main as worker_main


def serve(sock: socket.socket, later: list[str] = ()) -> None:
    """Fork a worker per request; import ``later`` one module at a time while idle.  Each
    child's exit code is written to the status pipe its request brought, once it is reaped:
    the parent reads real exit codes, and a reused pid can never look alive."""
    statuses: dict[int, int] = {}   # child pid -> the write end of its status pipe

    def reap(signum=None, frame=None) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd = statuses.pop(pid, None)
            if fd is not None:
                try:
                    os.write(fd, str(os.waitstatus_to_exitcode(status)).encode())
                finally:
                    os.close(fd)

    signal.signal(signal.SIGCHLD, reap)
    me = os.getpid()
    later = list(later)
    while True:
        while later and not select.select([sock], [], [], 0)[0]:
            preload([later.pop(0)])
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        except OSError:
            return
        if not message:
            return
        request = json.loads(message)
        preload(request.get("preload", []))
        # SIGCHLD waits until the child's status pipe is registered (it may exit at once).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        try:
            pid = os.fork()
            if pid == 0:
                for fd in [fds[3], *statuses.values()]:   # only the zygote reports exits
                    os.close(fd)
                os.environ[PARENT_ENV] = str(me)   # workers die with the zygote, which dies with the build
                _child(sock, request, fds[:3])
            statuses[pid] = fds[3]
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        for fd in fds[:3]:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _child(sock: socket.socket, request: dict, fds: list[int]) -> None:
    code = 1
    try:
        sock.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        stdin_fd, answer_fd, log_fd = fds
        os.dup2(stdin_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(stdin_fd)
        os.close(log_fd)
        os.chdir(request["cwd"])
        code = worker_main([request["root"], request["experiment"], str(answer_fd)])
    except BaseException:  # noqa: BLE001 - the parent reads the log
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class ForkedProcess:
    """What ``executor._Worker`` needs of a process: pid, stdin, poll(), wait() with the
    worker's real exit code (from the zygote, over the status pipe)."""

    def __init__(self, pid: int, stdin, status_fd: int):
        self.pid = pid
        self.stdin = stdin
        self.returncode: int | None = None
        self._status = status_fd

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._status], [], [], 0)[0]:
            self._read()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._status], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("worker", timeout)
            self._read()
        return self.returncode

    def _read(self) -> None:
        data = os.read(self._status, 32)
        os.close(self._status)
        # Nothing written: the zygote died first, and its workers die with it (SIGKILL).
        self.returncode = int(data) if data else -signal.SIGKILL


class Zygote:
    """The parent's handle on a fork server (started on first use, closed with the build)."""

    def __init__(self, env: dict, modules: list[str], later: list[str] = ()):
        """Import ``modules`` before serving; ``later`` ones while no request is waiting."""
        self.env = env
        self._sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "physai_blog.runs.zygote", str(child.fileno()), *modules,
             "--later", *later],
            pass_fds=(child.fileno(),), env={**env, PARENT_ENV: str(os.getpid())}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        child.close()

    def spawn(self, root: Path, experiment: str, cwd: Path, log_fd: int, answer_fd: int,
              preload: list[str] = ()):
        """A worker for ``experiment`` (the zygote first imports ``preload``)."""
        stdin_r, stdin_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            with self._lock:
                message = json.dumps({"root": str(root), "experiment": experiment,
                                      "cwd": str(cwd), "preload": list(preload)}).encode()
                socket.send_fds(self._sock, [message], [stdin_r, answer_fd, log_fd, status_w])
                reply = self._sock.recv(1 << 12)
        finally:
            os.close(stdin_r)
            os.close(status_w)
        if not reply:
            os.close(stdin_w)
            os.close(status_r)
            raise OSError("the zygote has stopped")
        pid = json.loads(reply)["pid"]
        return ForkedProcess(pid, os.fdopen(stdin_w, "wb"), status_r)

    def close(self) -> None:
        if self._sock.fileno() == -1:
            return   # closed already
        try:
            self._sock.close()
        finally:
            # It holds no state worth a clean exit, and an interpreter with matplotlib
            # takes ~0.1 s to shut down; its workers are in sessions of their own.
            self.proc.kill()
            self.proc.wait()


def preload(names: list[str]) -> None:
    """Import what every worker would otherwise import again (once: later calls are free)."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            module = importlib.import_module(name)
            if name == "matplotlib":
                module.use("Agg")
        except Exception:  # noqa: BLE001 - a missing optional library is no error here
            pass


def main(argv: list[str]) -> int:
    die_with_parent(int(os.environ.get(PARENT_ENV, "0")))
    sock = socket.socket(fileno=int(argv[0]))
    names = argv[1:]
    split = names.index("--later") if "--later" in names else len(names)
    preload(names[:split])
    serve(sock, names[split + 1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
