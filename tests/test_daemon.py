"""The warm build server: `build` and `run` forwarded to it give what an in-process command
gives (site bytes, messages, exit codes); it is keyed so it never serves a changed
environment; it stops on request and when idle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import copy_sample
from physai_blog import daemon
from physai_blog.build import build

PHYSAI = str(Path(sys.executable).parent / "physai-blog")


def env_for(folder: Path, idle: float = 120) -> dict:
    env = dict(os.environ)
    env.pop("CI", None)
    env.update({"PHYSAI_DAEMON": "1", "PHYSAI_DAEMON_DIR": str(folder),
                "PHYSAI_DAEMON_IDLE": str(idle)})
    return env


def cli(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([PHYSAI, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=300)


def wait_for(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie (its parent has not reaped it yet) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def commands(folder: Path) -> list[str]:
    return [line for log in folder.glob("*.log") for line in log.read_text().splitlines()
            if line.startswith("command:")]


def snapshot(root: Path) -> dict:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_forwarded_commands_match_in_process_ones(tmp_path):
    folder = tmp_path / "servers"
    env = env_for(folder)
    root = copy_sample(tmp_path / "blog")
    twin = copy_sample(tmp_path / "twin")
    try:
        first = cli(env, "build", "--root", root)           # no server yet: builds here
        assert first.returncode == 0, first.stderr
        assert commands(folder) == []
        assert wait_for(lambda: list(folder.glob("*.sock")) and daemon.servers(folder))
        [server] = daemon.servers(folder)
        assert server["root"] == str(root.resolve())

        # An edit to a post and to a figure, built by the server.
        for blog in (root, twin):
            post = next((blog / "posts").glob("*decay*.md"))
            post.write_text(post.read_text() + "\nOne more sentence, added.\n")
            script = blog / "experiments/decay.py"
            script.write_text(script.read_text().replace('ax.set_ylabel("loss")',
                                                         'ax.set_ylabel("the loss")'))
        second = cli(env, "build", "--root", root)
        assert second.returncode == 0, second.stderr
        assert commands(folder) == [f"command: build --root {root}"]
        build(twin)                                          # in-process, library API
        assert snapshot(root) == snapshot(twin)              # byte-identical sites

        # After answering, the server leaves a back buffer for the next write (output.py).
        back = root / ".physai-cache/site-back"
        shutil.rmtree(back)
        assert cli(env, "build", "--root", root).returncode == 0   # up to date
        assert wait_for(lambda: (back / "index.html").is_file(), 20)
        assert (back / "index.html").stat().st_ino == (root / "site/index.html").stat().st_ino

        # Errors: the same message and exit code as in-process, and site/ untouched.
        before = snapshot(root)
        post = next((root / "posts").glob("*decay*.md"))
        post.write_text(post.read_text().replace("title:", "title: [unclosed", 1))
        served = cli(env, "build", "--root", root)
        local = cli(env, "build", "--root", root, "--no-daemon")
        assert served.returncode == local.returncode == 1
        assert served.stderr == local.stderr and "Error: posts/" in served.stderr
        assert snapshot(root) == before
        assert len(commands(folder)) == 3                    # --no-daemon stayed here

        # `run` is forwarded too.
        post.write_text(post.read_text().replace("title: [unclosed", "title:", 1))
        ran = cli(env, "run", "decay", "--force", "--root", root)
        assert ran.returncode == 0, ran.stderr
        assert "decay: 2 of 2 run(s) executed" in ran.stdout
        assert len(commands(folder)) == 4

        stopped = cli(env, "daemon", "stop", "--root", root)
        assert "stopped 1 build server(s)" in stopped.stdout
        assert wait_for(lambda: not alive(server["pid"]), 20)
        assert daemon.servers(folder) == []
    finally:
        daemon.stop_servers(folder, None)


def test_a_server_is_never_shared_across_environments_and_exits_when_idle(tmp_path):
    folder = tmp_path / "servers"
    root = copy_sample(tmp_path / "blog")
    env = env_for(folder, idle=2)
    try:
        assert cli(env, "build", "--root", root).returncode == 0   # starts a server

        def log() -> str:
            return "".join(p.read_text() for p in folder.glob("*.log"))

        assert wait_for(lambda: "idle: exiting" in log(), 60)      # idle for 2 s: it left
        pid = int(log().split("physai-blog build server ", 1)[1].split()[0])
        assert wait_for(lambda: not alive(pid), 20)
        assert daemon.servers(folder) == [] and not list(folder.glob("*.sock"))
    finally:
        daemon.stop_servers(folder, None)

    key = daemon.server_key(str(root.resolve()))
    os.environ["PHYSAI_SOME_SETTING"] = "1"
    try:
        assert daemon.server_key(str(root.resolve())) != key   # another environment
    finally:
        del os.environ["PHYSAI_SOME_SETTING"]
    assert daemon.server_key(str(root.resolve())) == key
    assert daemon.server_key(str(tmp_path.resolve())) != key   # another blog


def test_when_commands_stay_in_process(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PHYSAI_DAEMON", "1")
    assert daemon.enabled(["build"]) and daemon.enabled(["run", "slug", "--force"])
    assert not daemon.enabled(["build", "--no-daemon"])
    assert not daemon.enabled(["build", "--help"])
    assert not daemon.enabled(["serve"]) and not daemon.enabled([])
    monkeypatch.setenv("PHYSAI_DAEMON", "0")
    assert not daemon.enabled(["build"])
    monkeypatch.delenv("PHYSAI_DAEMON")
    monkeypatch.setenv("CI", "true")
    assert not daemon.enabled(["build"])
    assert daemon.root_of(["build", "--root", "/x/y"]) == "/x/y"
    assert daemon.root_of(["build", "--root=/x/z"]) == "/x/z"


def test_an_unsafe_socket_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    monkeypatch.setenv("PHYSAI_DAEMON_DIR", str(folder))
    assert daemon.socket_dir() is None           # others could connect, or plant a socket
    folder.chmod(0o700)
    assert daemon.socket_dir() == str(folder)


SLOW = '''\
import os
import time

from physai_blog import Experiment

exp = Experiment(params={"n": 1}, seeds=[0])


@exp.run
def train(params, seed, log):
    with open(PIDFILE, "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(30)
    log.value("n", 1.0)
'''


def test_ctrl_c_in_the_client_interrupts_the_build_in_the_server(tmp_path):
    import signal

    from conftest import make_blog

    folder = tmp_path / "servers"
    env = env_for(folder)
    root = make_blog(tmp_path / "blog")
    try:
        assert cli(env, "build", "--root", root).returncode == 0      # starts the server
        assert wait_for(lambda: daemon.servers(folder))
        before = snapshot(root)
        pidfile = tmp_path / "worker.pid"
        slow = SLOW.replace("PIDFILE", repr(str(pidfile)))
        (root / "experiments/slow.py").write_text(slow)
        (root / "posts/2026-02-02-slow.md").write_text(
            "---\ntitle: Slow\ndate: 2026-02-02\nexperiment: experiments/slow.py\n---\n\n"
            '{{ value("n") }}\n')
        client = subprocess.Popen([PHYSAI, "build", "--root", str(root)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: len(commands(folder)) == 1, 30)
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text(), 30)  # it runs
        started = time.monotonic()
        client.send_signal(signal.SIGINT)
        assert client.wait(timeout=20) == 130
        assert time.monotonic() - started < 10          # not the 30 s of the run
        # The server stopped that build: it is free for the next command at once, and
        # site/ is the one from before.
        assert snapshot(root) == before
        # ... and its worker, in a session of its own, was stopped too.
        assert wait_for(lambda: not alive(int(pidfile.read_text())), 10)
        (root / "experiments/slow.py").write_text(slow.replace("time.sleep(30)", "pass"))
        done = cli(env, "build", "--root", root)
        assert done.returncode == 0, done.stderr
        assert (root / "site/posts/slow/index.html").is_file()
    finally:
        daemon.stop_servers(folder, None)
