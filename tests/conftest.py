"""Shared fixtures: the sample blog under tests/sample, copied and built in a temp folder."""

from __future__ import annotations

import shutil
import socket
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from physai_blog.build import build
from physai_blog.cli.main import main

SAMPLE = Path(__file__).parent / "sample"


def copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("site", ".physai-cache",
                                                                  "__pycache__"))
    return dest


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory):
    """The sample blog, built once for the read-only checks of the whole session."""
    root = copy_sample(tmp_path_factory.mktemp("built") / "blog")
    report = build(root, jobs=2)
    return root, report


@pytest.fixture
def sample(tmp_path, monkeypatch):
    """A fresh copy of the sample blog whose runs are counted in ``counter``."""
    root = copy_sample(tmp_path / "blog")
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    return root, counter


def runs_counted(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


CONFIG = "title: Test Blog\nauthor: Test Author\nbase_url: https://example.org/t/\n"
FAST_EXPERIMENT = '''\
from physai_blog import Experiment

exp = Experiment(params={"n": 5}, seeds=[0])


@exp.run
def train(params, seed, log):
    for step in range(params["n"]):
        log.scalars(step=step, y=float(step * step))
    log.value("total", float(params["n"]))


@exp.figure("curve", caption="A curve.")
def curve(data, fig):
    ax = fig.add_subplot()
    ax.plot(*data.run.series("y"))
'''
FAST_POST = '''\
---
title: Fast
date: 2026-02-01
experiment: experiments/fast.py
---

{{ figure("curve") }}

Total: {{ value("total") }}.
'''


def make_blog(root: Path, posts: dict[str, str] | None = None,
              experiments: dict[str, str] | None = None, config: str = CONFIG) -> Path:
    """A minimal blog; by default one fast (numpy-only) experiment and its post."""
    posts = {"2026-02-01-fast.md": FAST_POST} if posts is None else posts
    experiments = {"fast.py": FAST_EXPERIMENT} if experiments is None else experiments
    (root / "posts").mkdir(parents=True)
    (root / "experiments").mkdir()
    (root / "physai.yaml").write_text(config)
    for name, text in posts.items():
        (root / "posts" / name).write_text(textwrap.dedent(text))
    for name, text in experiments.items():
        (root / "experiments" / name).write_text(textwrap.dedent(text))
    return root


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str):
    """Run the CLI in-process; returns click's Result (exit_code, output)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


TEXT_POST = "---\ntitle: Post {i}\ndate: 2026-01-{i:02d}\ntags: [t{t}]\n---\n\nBody of post {i}.\n"


def text_blog(root: Path, n: int = 6) -> Path:
    """A blog of ``n`` text posts, p1 ... pn (no experiment)."""
    posts = {f"2026-01-{i:02d}-p{i}.md": TEXT_POST.format(i=i, t=i % 2) for i in range(1, n + 1)}
    return make_blog(root, posts, experiments={})


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


def fresh_site(root: Path, tmp: Path) -> dict[str, bytes]:
    """The same blog built from an empty cache in another folder (``tmp/fresh``)."""
    other = tmp / "fresh"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("site", ".physai-cache"))
    build(other)
    return site_files(other / "site")

