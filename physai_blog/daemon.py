"""The warm build server: ``physai-blog build`` and ``run`` without paying for imports.

A fresh ``physai-blog build`` spends most of a small rebuild importing Python modules: Click,
YAML, Markdown, Jinja, Pygments, MathML for the parent; numpy and matplotlib for each worker.
So the command is a small client first (``entry``): it hands the command line, the working
folder, the environment and its own stdin/stdout/stderr (as file descriptors, over a Unix
socket) to a server that has imported all of that already, and exits with the code the
server reports.  The server forks one child per command; the child is an ordinary
``physai-blog`` process in every way that matters (the same argv, folder, environment, umask
and terminal), so output, progress bars, errors and exit codes are those of an in-process
build.  The server also keeps a fork server of experiment workers with numpy and matplotlib
imported, which the child's executor adopts.

One server per (blog root, Python, physai-blog code, library versions, environment): any
change there starts another, so a server never runs stale code or a different environment.
The first command starts it in the background and builds in-process meanwhile; it exits
after ``PHYSAI_DAEMON_IDLE`` seconds without a command (default 900).  ``PHYSAI_DAEMON=0`` or
``--no-daemon`` (and a ``CI`` environment) keep every command in-process;
``physai-blog daemon stop`` stops the servers of a blog.  Sockets live in a folder only this
user can read (``$XDG_RUNTIME_DIR`` or ``/tmp/physai-blog-UID``; ``PHYSAI_DAEMON_DIR``).

    python -m physai_blog.daemon SOCKET ROOT
"""

from __future__ import annotations

# The client runs on every command, before anything else: standard modules only, and the
# cheap ones (no json, re or pathlib: ~20 ms of a 0.2 s rebuild).
import hashlib
import marshal
import os
import signal
import socket
import sys

FORWARDED = ("build", "run")            # the commands a warm process speeds up
VOLATILE_ENV = ("_", "PWD", "OLDPWD", "SHLVL")
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
WARM_MODULES = ("physai_blog.cli", "physai_blog.pipeline", "physai_blog.render",
                "physai_blog.markup", "physai_blog.references", "physai_blog.artifacts",
                "physai_blog.reproduce", "physai_blog.progress", "physai_blog.verify",
                "latex2mathml.converter", "pygments.lexers.python",
                "pygments.formatters.html", "markdown.extensions.extra",
                "markdown.extensions.codehilite", "markdown.extensions.toc",
                "markdown.extensions.sane_lists", "physai_blog.typography")


# --------------------------------------------------------------------------------------------
# The client


def entry() -> None:
    """The ``physai-blog`` console script: forward to a warm server, else run in-process."""
    args = sys.argv[1:]
    code = forward(args)
    if code is not None:
        sys.exit(code)
    from .cli import main

    main()


def enabled(args: list[str]) -> bool:
    if not args or args[0] not in FORWARDED or "--no-daemon" in args:
        return False
    if any(a in ("-h", "--help", "--version") for a in args):
        return False
    if os.environ.get("PHYSAI_DAEMON", "1") == "0" or \
            (os.environ.get("CI") and os.environ.get("PHYSAI_DAEMON") != "1"):
        return False
    # Linux only: that is where it is tested (SO_PEERCRED, SCM_RIGHTS over SEQPACKET).
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def root_of(args: list[str]) -> str:
    """``--root`` as Click will read it (only to find the server; the server re-parses)."""
    root = "."
    for i, arg in enumerate(args):
        if arg == "--root" and i + 1 < len(args):
            root = args[i + 1]
        elif arg.startswith("--root="):
            root = arg.split("=", 1)[1]
    return os.path.realpath(root)


def socket_dir() -> str | None:
    """A folder for the sockets that only this user can enter; None if there is none."""
    folder = os.environ.get("PHYSAI_DAEMON_DIR") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"physai-blog-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    import stat

    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not stat.S_ISDIR(info.st_mode):
        return None
    return folder


def server_key(root: str) -> str:
    """What a server is bound to: any change gives another server.  Installed libraries
    are seen through the mtimes of the folders on sys.path (pip adds and removes entries
    there); physai-blog's own code by content."""
    h = hashlib.sha256(repr((root, sys.executable, sorted(
        (k, v) for k, v in os.environ.items() if k not in VOLATILE_ENV))).encode())
    for entry in sys.path:
        try:
            h.update(f"{entry}:{os.stat(entry or '.').st_mtime_ns}".encode())
        except OSError:
            pass
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                with open(os.path.join(dirpath, name), "rb") as fh:
                    h.update(name.encode() + hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:24]


def forward(args: list[str]) -> int | None:
    """The exit code of the command run by a warm server; None to run it here (no server
    yet, and then one is started for the next command; or forwarding is off)."""
    if not enabled(args):
        return None
    folder = socket_dir()
    if folder is None:
        return None
    root = root_of(args)
    path = os.path.join(folder, f"{server_key(root)}.sock")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        start_server(path, root)
        return None
    umask = os.umask(0o022)
    os.umask(umask)
    request = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask,
               "encoding": getattr(sys.stdout, "encoding", None) or "utf-8"}
    try:
        socket.send_fds(conn, [marshal.dumps(request)], [0, 1, 2])
        reply = conn.recv(1 << 12)
    except KeyboardInterrupt:
        conn.close()     # the server interrupts the build, which cleans up after itself
        return 130
    except OSError:
        conn.close()
        return None
    conn.close()
    if not reply:        # the server died before answering: nothing was half-written
        return None      # (builds swap site/ atomically), so build here instead
    return int(marshal.loads(reply)["code"])


def start_server(path: str, root: str) -> None:
    """Start a server for the next command, in the background (this one builds itself)."""
    import subprocess

    stop_servers(os.path.dirname(path), root, keep=path)   # this blog's stale servers
    log_path = path[:-len(".sock")] + ".log"
    try:   # one line per command: start afresh past 1 MB
        fresh = os.path.getsize(log_path) > 1 << 20 if os.path.exists(log_path) else False
        log = open(log_path, "wb" if fresh else "ab")
    except OSError:
        return
    with log:
        subprocess.Popen([sys.executable, "-m", "physai_blog.daemon", path, root],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=root,
                         start_new_session=True)


def servers(folder) -> list[dict]:
    """The servers recorded in ``folder``: {pid, root, socket}."""
    import json
    from pathlib import Path

    out = []
    for pidfile in sorted(Path(folder).glob("*.pid")):
        try:
            info = json.loads(pidfile.read_text())
            out.append({"pid": int(info["pid"]), "root": info["root"],
                        "socket": str(pidfile.with_suffix(".sock"))})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def stop_servers(folder, root, keep=None) -> list[int]:
    """Stop the servers of ``root`` (every server if None); the pids stopped."""
    stopped = []
    for server in servers(folder):
        if (root is not None and server["root"] != str(root)) or server["socket"] == str(keep):
            continue
        try:
            os.kill(server["pid"], signal.SIGTERM)
            stopped.append(server["pid"])
        except OSError:
            pass
        for suffix in (".pid", ".sock"):
            try:
                os.unlink(server["socket"][:-len(".sock")] + suffix)
            except OSError:
                pass
    return stopped


# --------------------------------------------------------------------------------------------
# The server


class Warm:
    """What a forked command may reuse: the server's fork server of experiment workers.
    Passed as Click's ``obj``; ``zygote`` is shared, so closing it is the server's job."""

    def __init__(self, zygote):
        self.zygote = zygote


WARM_UP_POST = """---
title: Warm-up
date: 2026-01-01
tags: [a]
---

## A heading

Prose with *emphasis*, a [link](https://example.org), $x^2$ and a list:

- one
- two

| a | b |
|---|---|
| 1 | 2 |

```python
print("code")
```

$$\\sum_{k=1}^{n} k$$
"""


def warm_up() -> None:
    """Build a tiny blog in a temp folder once, so that the children forked for commands
    find Python's regex, Markdown, Pygments and Jinja caches filled (half of a small
    rebuild's rendering time otherwise)."""
    import tempfile
    from pathlib import Path

    from .build import build

    with tempfile.TemporaryDirectory(prefix="physai-warm-up-") as tmp:
        blog = Path(tmp)
        (blog / "posts").mkdir()
        (blog / "physai.yaml").write_text("title: Warm-up\n")
        (blog / "posts" / "2026-01-01-warm-up.md").write_text(WARM_UP_POST)
        try:
            import io

            from rich.console import Console

            from .progress import print_summary

            print_summary(build(blog), None, Console(file=io.StringIO()), "index.html")
        except Exception as exc:  # noqa: BLE001 - only an optimisation
            print(f"warm-up build failed: {exc}", flush=True)


def serve(path, root) -> int:
    import fcntl
    import importlib
    import json
    from pathlib import Path

    path, root = Path(path), Path(root)
    from .executor import worker_env
    from .zygote import Zygote

    # One server per socket: a second one started meanwhile (two commands at once) leaves.
    lock = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    warm_up()
    # The thread count of a default build (jobs = cores): other --jobs start their own.
    zygote = None
    if any((root / "experiments").glob("*.py")):   # a text-only blog needs no workers
        zygote = Zygote(worker_env(1),
                        ["numpy", "physai_blog.experiment", "physai_blog.data",
                         "physai_blog.worker"], ["matplotlib", "matplotlib.pyplot"])
        zygote.shared = True
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.unlink()
    except OSError:
        pass
    listener.bind(str(tmp))
    listener.listen(8)
    os.replace(tmp, path)   # atomic: a client sees no socket, or a listening one
    inode = path.stat().st_ino
    path.with_suffix(".pid").write_text(json.dumps({"pid": os.getpid(), "root": str(root)}))
    # A child's exit wakes the select() below (no polling).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    idle = float(os.environ.get("PHYSAI_DAEMON_IDLE", "900"))
    listener.settimeout(idle)
    print(f"physai-blog build server {os.getpid()} for {root} on {path}", flush=True)
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except (socket.timeout, TimeoutError):
                print("idle: exiting", flush=True)
                return 0
            try:
                if path.stat().st_ino != inode:
                    return 0     # replaced or removed (`daemon stop`): not ours any more
            except OSError:
                return 0
            with conn:
                handle(conn, listener, zygote, wake_r)
    finally:
        if zygote is not None:
            zygote.shared = False
            zygote.close()
        try:
            if path.stat().st_ino == inode:
                path.unlink()
                path.with_suffix(".pid").unlink()
        except OSError:
            pass


def handle(conn: socket.socket, listener: socket.socket, zygote, wake_r: int) -> None:
    """Run one command in a forked child; report its exit code; interrupt it if the client
    goes away."""
    import select

    import struct

    conn.settimeout(None)
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        if struct.unpack("3i", creds)[1] != os.getuid():
            return          # the folder is private; this is a second lock on the door
        message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        request = marshal.loads(message)
    except (OSError, ValueError, EOFError, TypeError):
        return
    print(f"command: {' '.join(request.get('args', []))}", flush=True)
    answered_r, answered_w = os.pipe()   # the child says when it has answered the client
    pid = os.fork()
    if pid == 0:
        listener.close()
        os.close(answered_r)
        _child(request, fds, zygote, conn, answered_w)
    os.close(answered_w)
    for fd in fds:
        os.close(fd)
    interrupted = answered = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        watched = [wake_r] if answered else [conn, wake_r, answered_r]
        ready, _, _ = select.select(watched, [], [], 5.0)
        if wake_r in ready:
            os.read(wake_r, 1 << 10)
        if answered_r in ready:
            answered = True   # from now on the client leaving is no interruption
            continue
        if conn in ready and not interrupted:
            try:
                gone = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:            # Ctrl+C in the client: stop the build as Ctrl+C would
                os.kill(pid, signal.SIGINT)
                interrupted = True
    os.close(answered_r)
    code = os.waitstatus_to_exitcode(status)
    if code < 0 and not answered:   # killed before it could answer
        try:
            conn.send(marshal.dumps({"code": 128 - code}))
        except OSError:
            pass


def _child(request: dict, fds: list[int], zygote, conn: socket.socket, answered: int) -> None:
    import io
    import traceback

    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        encoding = request.get("encoding") or "utf-8"
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding,
                                      line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=encoding,
                                      errors="backslashreplace", line_buffering=True)
        sys.argv = ["physai-blog", *request["args"]]
        from .cli import main

        try:
            main.main(args=request["args"], prog_name="physai-blog", obj=Warm(zygote))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - shown to the user, as an in-process crash would be
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            os.write(answered, b"1")
            conn.send(marshal.dumps({"code": code}))
            conn.close()
            # The client has its answer: what follows keeps nobody waiting.
            after_command(request["args"])
        except BaseException:  # noqa: BLE001
            pass
        finally:
            os._exit(code)


def after_command(args: list[str]) -> None:
    """Work that makes the next command faster: after a build from scratch, give the next
    build a back buffer to update in place (see ``output``)."""
    if not args or args[0] != "build":
        return
    from pathlib import Path

    from .cache import CACHE_DIR, Cache
    from .errors import CacheLocked
    from .output import prepare_back_buffer

    root = Path(root_of(args))
    try:
        with Cache(root / CACHE_DIR).lock() as cache:
            prepare_back_buffer(root / "site", cache.root)
    except (CacheLocked, OSError):
        pass


def main(argv: list[str]) -> int:
    return serve(argv[0], argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
