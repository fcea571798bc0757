#!/usr/bin/env python3
"""physai-blog benchmarks: one command, one table of ratios against baselines of the same run.

    .venv/bin/python benchmarks/run.py [--quick] [--reps N] [--setup] [--no-profile]

Generates its corpora in a temp folder, times every case as a user would type it (a fresh
process per command, wall clock; there is no build server any more: `serve` is the warm loop,
and its rebuilds are timed from its own output), and prints one table (also written to
benchmarks/results.md).
Every figure is the median of --reps runs (5; 2 with --quick), and every ratio compares it with a
baseline measured in the same run, on the same corpus, interleaved with it, so that the load of a
shared machine hits both.  Then it profiles builds with cProfile into benchmarks/profile-*.txt.

The benchmark-only tools (Pelican, MkDocs, Sphinx, sphinx-gallery) live in benchmarks/.venv,
created by ``--setup`` (or on first use): the package's own .venv stays small.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import corpora  # noqa: E402

BENCH_VENV = HERE / ".venv"
BENCH_BIN = BENCH_VENV / "bin"


def main_bin() -> Path:
    """The venv that has physai-blog: the one running this script, else the repo's .venv."""
    here = Path(sys.executable).parent
    return here if (here / "physai-blog").exists() else REPO / ".venv" / "bin"


MAIN_BIN = main_bin()
PHYSAI = str(MAIN_BIN / "physai-blog")
PY = str(MAIN_BIN / "python")


def setup() -> None:
    if not (BENCH_BIN / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(BENCH_BIN / "python"), "-m", "pip", "install", "-q", "-r",
                    str(HERE / "requirements.txt")], check=True)


# --------------------------------------------------------------------------------------------
# Timing


@dataclass
class Result:
    seconds: float
    maxrss_mb: float
    output: str


#: The environment of every command: PYTHONPATH points at a snapshot of physai_blog/ taken at
#: the start (other people edit the working tree while a run takes its half hour).
ENV = dict(os.environ)


def snapshot(tmp: Path) -> str:
    """Copy physai_blog/ into tmp, compile it to bytecode as an install does, and put it first
    on PYTHONPATH; describe what was copied.  (Compiled here because these sessions run with
    PYTHONDONTWRITEBYTECODE=1: without it, every fresh process compiled the package's ~60
    modules from source, ~90 ms that a pip install never pays.)"""
    dest = tmp / "snapshot"
    shutil.copytree(REPO / "physai_blog", dest / "physai_blog",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([PY, "-m", "compileall", "-q", str(dest / "physai_blog")], check=True)
    ENV["PYTHONPATH"] = str(dest)
    ENV.pop("CI", None)
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "physai_blog"], cwd=REPO,
                               text=True, capture_output=True).stdout.strip()
    except OSError:
        return "physai_blog/ of the working tree"
    return f"physai_blog/ at {head}" + (" plus uncommitted edits" if dirty else "")


def run(cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> Result:
    """Run ``cmd``; wall seconds, peak RSS of it and its waited-for descendants (wait4)."""
    env = env or ENV
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if check and proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)} in {cwd}\n"
                         f"{text[-4000:]}")
    return Result(seconds, usage.ru_maxrss / 1024, text)


SUMMARY = re.compile(r"total\s+(\d+) of (\d+) \((\d+) cached\)\s+(\d+) of (\d+)")
UP_TO_DATE = re.compile(r"^Up to date: .*cached, nothing to do", re.M)


def counts(output: str) -> tuple[int, int]:
    """(runs executed, figures drawn) from the summary table a build ends with."""
    if UP_TO_DATE.search(output):
        return 0, 0
    m = SUMMARY.search(output)
    if not m:
        raise SystemExit(f"no build summary in the output:\n{output[-3000:]}")
    return int(m.group(1)), int(m.group(4))


IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$", re.M)


def import_times(stderr: str) -> dict[str, float]:
    """Top-level module -> cumulative import seconds, from ``PYTHONPROFILEIMPORTTIME=1``."""
    out: dict[str, float] = {}
    for _, cumulative, indent, name in IMPORT_LINE.findall(stderr):
        if not indent:   # imported by the program itself (nested imports are indented)
            out[name] = out.get(name, 0.0) + int(cumulative) / 1e6
    return out


class Serve:
    """``physai-blog serve --port 0`` on a blog; its output read line by line in a thread.
    Each rebuild prints ``[HH:MM:SS] built in 0.25 s (reason): N post(s), R of M run(s)
    executed, F of K figure(s) drawn``: that printed time is the build inside the warm process."""

    BUILT = re.compile(r"^\[\d\d:\d\d:\d\d\] (built|build failed) in ([0-9.]+) s(.*)$")
    COUNTS = re.compile(r"(\d+) of \d+ run\(s\) executed, (\d+) of \d+ figure\(s\) drawn")

    def __init__(self, blog: Path):
        self.proc = subprocess.Popen([PHYSAI, "serve", "--root", str(blog), "--port", "0"],
                                     cwd=blog, env=ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))
        self.lines.put((time.perf_counter(), None))

    def next_build(self, timeout: float = 300.0) -> tuple[float, float, tuple[int, int]]:
        """Wait for the next build line: (when it was printed, the seconds it reports,
        (runs executed, figures drawn))."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit(f"serve: no build within {timeout:.0f} s:\n"
                                 + "\n".join(self.seen[-40:])) from None
            if line is None:
                raise SystemExit(f"serve exited ({self.proc.wait()}):\n"
                                 + "\n".join(self.seen[-40:]))
            self.seen.append(line)
            m = self.BUILT.match(line)
            if not m:
                continue
            if m.group(1) != "built":
                raise SystemExit("serve: build failed:\n" + "\n".join(self.seen[-40:]))
            c = self.COUNTS.search(m.group(3))
            return at, float(m.group(2)), (int(c.group(1)), int(c.group(2))) if c else (-1, -1)

    def extra_builds(self, seconds: float) -> int:
        """Builds that start on their own within ``seconds`` (a save that fired twice)."""
        n, deadline = 0, time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                _, line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            n += bool(self.BUILT.match(line))
        return n

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)   # SIGINT: what Ctrl+C sends; serve stops its workers
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def clean(*paths: Path) -> None:
    for p in paths:
        shutil.rmtree(p, ignore_errors=True)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"benchmark bug: {old!r} not in {path}")
    path.write_text(text.replace(old, new, 1))


class Samples(dict):
    """name -> list of seconds (or MB); medians on demand."""

    def add(self, name: str, value: float) -> None:
        self.setdefault(name, []).append(value)

    def med(self, name: str) -> float:
        return statistics.median(self[name])


# --------------------------------------------------------------------------------------------
# The cases


def bench_text(base: Path, reps: int, n_posts: int, n_words: int, s: Samples,
               log) -> dict[str, float]:
    roots = corpora.write_text_corpus(base, n_posts, n_words)
    blog, pel, mkd = roots["physai"], roots["pelican"], roots["mkdocs"]
    edited = sorted((blog / "posts").glob("*.md"))[n_posts // 2]
    edited_mkd = mkd / "docs" / "posts" / (edited.stem.split("-", 3)[-1] + ".md")
    build = [PHYSAI, "build", "--root", str(blog)]
    for rep in range(reps):
        log(f"  corpus T, repetition {rep + 1}/{reps}")
        clean(blog / "site", blog / ".physai-cache")
        r = run(build, blog)
        s.add("T full", r.seconds)
        s.add("T rss", r.maxrss_mb)
        s.add("T noop", run(build, blog).seconds)
        with edited.open("a") as fh:
            fh.write(f"\nAn edit, number {rep}.\n")
        s.add("T edit", run(build, blog).seconds)
        # The same post given a new formula and a new code block: its kept fragments miss
        # (latex2mathml and the Python lexer are loaded).
        with edited.open("a") as fh:
            fh.write(f"\nA new formula, $k_{{{rep}}} = {rep}$, and new code:\n\n"
                     f"```python\nk = {rep}\n```\n")
        s.add("T edit math", run(build, blog).seconds)
        # physai.yaml saved with a new comment: its cached parse misses (YAML is loaded);
        # nothing it says changed, so no page is rendered again.
        with (blog / "physai.yaml").open("a") as fh:
            fh.write(f"# saved again, {rep}\n")
        s.add("T config", run(build, blog).seconds)
        # Every post touched, none changed: 200 stat signatures are new, every post is read
        # and hashed again, and it is still a no-op.
        for post in (blog / "posts").glob("*.md"):
            os.utime(post)
        s.add("T touch noop", run(build, blog).seconds)

        for procs in (1, 2):
            clean(base / "minimal")
            r = run([PY, str(HERE / "minimal_ssg.py"), str(blog), str(base / "minimal"),
                     "--procs", str(procs)], base)
            s.add(f"T minimal{procs}", r.seconds)
            if procs == 1:
                s.add("T minimal rss", r.maxrss_mb)

        pelican = [str(BENCH_BIN / "pelican"), "content", "-s", "pelicanconf.py", "-o", "output",
                   "-q"]
        clean(pel / "output", pel / "cache", pel / "__pycache__")
        s.add("T pelican full", run(pelican, pel).seconds)
        s.add("T pelican noop", run(pelican, pel).seconds)

        mkdocs = [str(BENCH_BIN / "mkdocs"), "build", "-q"]
        clean(mkd / "site")
        s.add("T mkdocs full", run(mkdocs, mkd).seconds)
        s.add("T mkdocs noop", run(mkdocs, mkd).seconds)
        s.add("T mkdocs dirty noop", run(mkdocs + ["--dirty"], mkd).seconds)
        with edited_mkd.open("a") as fh:
            fh.write(f"\nAn edit, number {rep}.\n")
        s.add("T mkdocs dirty edit", run(mkdocs + ["--dirty"], mkd).seconds)

    # Untimed: where the import time of a one-post edit goes (python -X importtime).
    with edited.open("a") as fh:
        fh.write("\nAn edit, for the import profile.\n")
    r = run(build, blog, {**ENV, "PYTHONPROFILEIMPORTTIME": "1"})
    imports = import_times(r.output)
    s.add("T edit imports", sum(imports.values()))
    return dict(sorted(imports.items(), key=lambda kv: -kv[1])[:8])


def bench_experiments(base: Path, reps: int, n_exp: int, seconds: float, s: Samples,
                      checks: list, log) -> dict[str, Path]:
    steps = corpora.calibrate_steps(seconds)
    roots = corpora.write_experiment_corpus(base, n_exp, seconds, steps)
    blog, sph, plain = roots["physai"], roots["sphinx"], roots["plain"]
    build = [PHYSAI, "build", "--root", str(blog)]
    sphinx = [str(BENCH_BIN / "sphinx-build"), "-q", "-b", "html", ".", "_build/html"]
    sphinx_env = ENV  # the scripts import physai_blog (the snapshot, via PYTHONPATH)
    k = n_exp // 2
    r_line = f'"r": {3.6 + 0.02 * k!r}'
    edits = 0

    def next_edit():
        nonlocal edits
        edits += 1
        return edits

    for rep in range(reps):
        log(f"  corpus E, repetition {rep + 1}/{reps}")
        clean(blog / "site", blog / ".physai-cache")
        r = run(build, blog)
        s.add("E cold", r.seconds)
        checks.append(("E cold runs", counts(r.output), (n_exp, n_exp)))
        r = run(build, blog)
        s.add("E noop", r.seconds)
        checks.append(("E no-op runs", counts(r.output), (0, 0)))
        # One experiment edited: a new value of a parameter (new each time: no cache hit).
        new_r = f'"r": {3.6 + 0.02 * k + 1e-6 * next_edit()!r}'
        edit(blog / "experiments" / f"exp{k}.py", r_line, new_r)
        r_line = new_r
        r = run(build, blog)
        s.add("E edit", r.seconds)
        checks.append(("E edited experiment runs", counts(r.output), (1, 1)))
        # One figure's plotting code edited: zero runs, one figure.
        text = (blog / "experiments" / f"exp{k}.py").read_text()
        lw = re.search(r"lw=[0-9.]+", text).group(0)
        edit(blog / "experiments" / f"exp{k}.py", lw, f"lw={1.0 + 0.001 * next_edit()!r}")
        r = run(build, blog)
        s.add("E figure", r.seconds)
        checks.append(("E figure edit runs", counts(r.output), (0, 1)))

        # Baseline: the 10 scripts with `python`, one after another.
        clean(blog / "out")
        start = time.perf_counter()
        for i in range(n_exp):
            run([PY, f"experiments/exp{i}.py"], blog)
        s.add("E scripts", time.perf_counter() - start)

        # Baseline: sphinx-gallery over the same scripts (edited the same way).
        clean(sph / "_build", sph / "auto_examples", sph / "examples" / "out",
              sph / "sg_execution_times.rst")
        s.add("E sphinx cold", run(sphinx, sph, sphinx_env).seconds)
        s.add("E sphinx noop", run(sphinx, sph, sphinx_env).seconds)
        shutil.copy(blog / "experiments" / f"exp{k}.py", sph / "examples" / f"exp{k}.py")
        s.add("E sphinx edit", run(sphinx, sph, sphinx_env).seconds)

        # The edited experiment's own compute, as a plain script (reports its compute time).
        out = run([PY, f"plain{k}.py"], plain)
        s.add("E compute", json.loads(out.output.strip().splitlines()[-1])["compute_s"])
    return roots


def bench_overhead(roots: dict[str, Path], reps: int, s: Samples, log) -> None:
    blog, plain = roots["physai"], roots["plain"]
    log("  run overhead")
    run([PHYSAI, "build", "--root", str(blog)], blog)
    command = [PHYSAI, "run", "exp0", "--force", "--root", str(blog)]
    for _ in range(reps):
        s.add("O run", run(command, blog).seconds)
        s.add("O plain", run([PY, "plain0.py"], plain).seconds)


def edit_figure(script: Path, n: int) -> None:
    """A new line width in the figure function (a new value each time: never a cache hit)."""
    text = script.read_text()
    script.write_text(re.sub(r"lw=[0-9.]+", f"lw={2.0 + 0.001 * n!r}", text, count=1))


def edit_param(script: Path, n: int) -> None:
    """A new value of ``r``: one run and its figure are stale."""
    text = script.read_text()
    script.write_text(re.sub(r'"r": [0-9.e+-]+', f'"r": {3.55 + 1e-6 * n!r}', text, count=1))


def bench_serve(blog: Path, base: Path, reps: int, s: Samples, checks: list, log) -> None:
    """Edits inside one ``physai-blog serve`` session on a copy of corpus E, interleaved with
    the same edits on corpus E through a fresh ``physai-blog build``.  The serve figure is the
    build time serve prints (the warm process: pipeline imported, one worker pool whose fork
    server has numpy and matplotlib); the wall time from the save to that line adds the
    watcher's and builder's debounce (~0.1 + 0.2 s), which is there by design."""
    clean(base)
    shutil.copytree(blog, base, ignore=shutil.ignore_patterns("site", ".physai-cache", "out",
                                                              "__pycache__"))
    script, fresh_script = base / "experiments" / "exp0.py", blog / "experiments" / "exp0.py"
    build = [PHYSAI, "build", "--root", str(blog)]
    run(build, blog)
    log("  serve: starting (its first build is cold)")
    serve = Serve(base)
    n = 0
    try:
        serve.next_build()
        serve.extra_builds(1.0)
        n += 1
        edit_figure(script, n)        # untimed: the session's first edit
        serve.next_build()
        serve.extra_builds(0.5)
        for rep in range(reps):
            log(f"  serve, repetition {rep + 1}/{reps}")
            for case, change, want in (("V figure", edit_figure, (0, 1)),
                                       ("V edit", edit_param, (1, 1))):
                n += 1
                start = time.perf_counter()
                change(script, n)
                at, seconds, got = serve.next_build()
                s.add(case, seconds)
                s.add(case + " wall", at - start)
                checks.append((f"{case} (serve) runs", got, want))
                extra = serve.extra_builds(0.5)
                checks.append((f"{case} (serve) builds per save", (1 + extra, 0), (1, 0)))
                n += 1
                change(fresh_script, n)
                r = run(build, blog)
                s.add(case + " fresh", r.seconds)
                checks.append((f"{case} (fresh build) runs", counts(r.output), want))
    finally:
        serve.stop()


def bench_sweep(base: Path, reps: int, cells: int, seconds: float, s: Samples, checks,
                log) -> None:
    blog = corpora.write_sweep_blog(base, cells, seconds, corpora.calibrate_steps(seconds))
    for rep in range(reps):
        log(f"  sweep, repetition {rep + 1}/{reps}")
        for jobs in (1, 2):
            clean(blog / "site", blog / ".physai-cache")
            r = run([PHYSAI, "build", "--root", str(blog), "--jobs", str(jobs)], blog)
            s.add(f"S jobs{jobs}", r.seconds)
            checks.append((f"S --jobs {jobs} runs", counts(r.output), (cells, 0)))


def startup(base: Path, reps: int, s: Samples) -> None:
    for _ in range(reps):
        s.add("I python", run([PY, "-c", "pass"], base).seconds)
        s.add("I cli", run([PHYSAI, "--version"], base).seconds)


def profiles(text_blog: Path, exp_blog: Path, log) -> list[str]:
    written = []
    for name, blog, cold in (("T-full", text_blog, True), ("T-noop", text_blog, False),
                             ("E-cold", exp_blog, True), ("E-noop", exp_blog, False)):
        log(f"  profile {name}")
        if cold:
            clean(blog / "site", blog / ".physai-cache")
        else:
            run([PHYSAI, "build", "--root", str(blog)], blog)
        out = HERE / f"profile-{name}.txt"
        run([PY, str(HERE / "profile_build.py"), str(blog), str(out),
             f"physai-blog build, corpus {name[0]}, {'full (empty cache)' if cold else 'no-op'}"],
            blog)
        written.append(out.name)
    return written


# --------------------------------------------------------------------------------------------
# The table


def fmt_s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def table(s: Samples, reps: int, n_posts: int, n_exp: int, cells: int) -> list[list[str]]:
    rows = []

    def row(case, ours, base_name, base, target, ok, ratio=None):
        if ratio is None and base is not None:
            ratio = ours / base
        rows.append([case, fmt_s(ours), base_name, fmt_s(base) if base is not None else "–",
                     f"{ratio:.2f}x" if ratio is not None else "–", target,
                     "–" if ok is None else ("PASS" if ok else "FAIL")])

    m = s.med
    full, floor2 = m("T full"), m("T minimal2")
    row(f"T: full build ({n_posts} posts, empty cache)", full, "minimal script, 2 processes",
        floor2, "<= 1.2x", full <= 1.2 * floor2)
    row("T: full build", full, "minimal script, 1 process", m("T minimal1"), "", None)
    row("T: full build", full, "Pelican, full", m("T pelican full"), "", None)
    row("T: full build", full, "MkDocs, full", m("T mkdocs full"), "", None)
    noop = m("T noop")
    row("T: no-op rebuild", noop, "Pelican, no-op", m("T pelican noop"),
        "<= 0.15 s and <= 0.1x", noop <= 0.15 and noop <= 0.1 * m("T pelican noop"))
    row("T: no-op rebuild", noop, "MkDocs, no-op", m("T mkdocs noop"),
        "<= 0.15 s and <= 0.1x", noop <= 0.15 and noop <= 0.1 * m("T mkdocs noop"))
    row("T: no-op rebuild", noop, "MkDocs --dirty, no-op", m("T mkdocs dirty noop"), "", None)
    row(f"T: one post edited (of {n_posts})", m("T edit"), "MkDocs --dirty, one edit",
        m("T mkdocs dirty edit"), "<= 0.35 s", m("T edit") <= 0.35)
    if "T edit imports" in s:
        row("T: of which imports (-X importtime, 1 run)", m("T edit imports"),
            "T: one post edited", m("T edit"), "", None)
    if "T edit math" in s:
        row("T: one post edited, new formula + code block", m("T edit math"),
            "T: one post edited", m("T edit"), "", None)
        row("T: physai.yaml re-saved (YAML parsed, 0 pages)", m("T config"),
            "T: one post edited", m("T edit"), "", None)
        row("T: no-op, every post touched (re-hashed)", m("T touch noop"),
            "T: no-op rebuild", noop, "<= 0.15 s", m("T touch noop") <= 0.15)
    row("T: peak RSS of the full build (MB)", m("T rss"), "minimal script, 1 process (MB)",
        m("T minimal rss"), "<= 150 MB", m("T rss") <= 150)
    rows[-1][1] = f"{m('T rss'):.0f} MB"
    rows[-1][3] = f"{m('T minimal rss'):.0f} MB"
    row(f"E: cold build ({n_exp} experiments)", m("E cold"), "sphinx-gallery, cold",
        m("E sphinx cold"), "< 1x", m("E cold") < m("E sphinx cold"))
    row("E: cold build", m("E cold"), f"{n_exp} scripts with python, in turn", m("E scripts"),
        "", None)
    row("E: no-op rebuild", m("E noop"), "sphinx-gallery, no-op", m("E sphinx noop"),
        "<= 0.15 s", m("E noop") <= 0.15)
    compute = m("E compute")
    row("E: one experiment edited", m("E edit"), "sphinx-gallery, one edit", m("E sphinx edit"),
        f"<= 1.2 s + {compute:.2f} s compute", m("E edit") <= 1.2 + compute)
    row("E: one figure's code edited (0 runs)", m("E figure"), "sphinx-gallery, one edit",
        m("E sphinx edit"), "<= 1.0 s, 0 runs", m("E figure") <= 1.0)
    if "V figure" in s:
        row("V: restyled figure inside `serve` (0 runs)", m("V figure"),
            "the same edit, fresh `build`", m("V figure fresh"), "<= 0.3 s",
            m("V figure") <= 0.3)
        row("V: the same, save to rebuilt (debounce incl.)", m("V figure wall"),
            "the same edit, fresh `build`", m("V figure fresh"), "", None)
        row("V: one experiment edited inside `serve`", m("V edit"),
            "the same edit, fresh `build`", m("V edit fresh"),
            f"<= 1.2 s + {compute:.2f} s compute", m("V edit") <= 1.2 + compute)
    row("O: `run SLUG --force`, one experiment", m("O run"), "the same computation, plain script",
        m("O plain"), f"<= {1.05 * m('O plain') + 0.3:.2f} s (5 % + 0.3 s)",
        m("O run") <= 1.05 * m("O plain") + 0.3)
    speedup = m("S jobs1") / m("S jobs2")
    row(f"S: {cells}-cell sweep, --jobs 2", m("S jobs2"), "the same, --jobs 1", m("S jobs1"),
        ">= 1.8x speed-up", speedup >= 1.8, ratio=speedup)
    rows[-1][4] = f"{speedup:.2f}x faster"
    row("I: `physai-blog --version` (start-up)", m("I cli"), "`python -c pass`", m("I python"),
        "", None)
    return rows


def markdown_table(rows: list[list[str]]) -> str:
    head = ["case", "physai-blog", "baseline", "baseline time", "ratio", "target", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plain_table(rows: list[list[str]]) -> str:
    head = ["case", "physai-blog", "baseline", "base time", "ratio", "target", "result"]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, smaller sweep")
    parser.add_argument("--reps", type=int, help="repetitions per case (default 5; 2 with --quick)")
    parser.add_argument("--setup", action="store_true", help="(re)install benchmarks/.venv, exit")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile runs")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--report", action="store_true",
                        help="only redo the table and results.md from results.json")
    args = parser.parse_args()
    if args.report:
        report()
        return
    if args.setup:
        setup()
        return
    if not (BENCH_BIN / "sphinx-build").exists():
        print("benchmarks/.venv missing: installing the baselines (once)", flush=True)
        setup()
    reps = args.reps or (2 if args.quick else 5)
    n_posts, n_words, n_exp, exp_s = 200, 1500, 10, 0.5
    cells, cell_s = 8, 1.0
    started = time.strftime("%Y-%m-%d %H:%M")
    load_before = os.getloadavg()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    s, checks = Samples(), []
    tmp = Path(tempfile.mkdtemp(prefix="physai-bench-"))
    t0 = time.perf_counter()
    try:
        version = snapshot(tmp)
        log(f"corpora and builds under {tmp}; {reps} repetition(s) per case; {version}")
        startup(tmp, reps, s)
        imports = bench_text(tmp / "T", reps, n_posts, n_words, s, log)
        roots = bench_experiments(tmp / "E", reps, n_exp, exp_s, s, checks, log)
        bench_overhead(roots, max(reps, 3), s, log)
        bench_serve(roots["physai"], tmp / "V", reps, s, checks, log)
        bench_sweep(tmp / "S", reps, cells, cell_s, s, checks, log)
        written = [] if args.no_profile else profiles(tmp / "T" / "physai", roots["physai"], log)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    bad = [f"{name}: got (runs, figures) = {got}, expected {want}"
           for name, got, want in checks if got[0] != want[0] or got[1] != want[1]]
    env = (f"{started}, {version}, Python {platform.python_version()}, "
           f"{os.cpu_count()} CPU(s), load average {load_before[0]:.1f} before / "
           f"{os.getloadavg()[0]:.1f} after; median of {reps} run(s) per figure "
           f"({'--quick' if args.quick else 'full run'}), {time.perf_counter() - t0:.0f} s in all")
    (HERE / "results.json").write_text(json.dumps(
        {"env": env, "reps": reps, "sizes": [n_posts, n_exp, cells], "bad": bad, "samples": s,
         "imports": imports},
        indent=1) + "\n")
    report(written)


def report(written=()) -> None:
    """Print the table and write results.md, from results.json (``--report`` redoes just this)."""
    saved = json.loads((HERE / "results.json").read_text())
    s, env, reps, bad = Samples(saved["samples"]), saved["env"], saved["reps"], saved["bad"]
    rows = table(s, reps, *saved["sizes"])
    print()
    print(plain_table(rows))
    print(f"\n{env}")
    print("run counts: " + ("all as expected" if not bad else "UNEXPECTED:\n  " + "\n  ".join(bad)))
    raw = "\n".join(f"- {k}: " + ", ".join(f"{v:.3f}" for v in vals) for k, vals in s.items())
    imports = saved.get("imports") or {}
    imp = ("\n\nTop-level imports of one fresh-process one-post edit (`PYTHONPROFILEIMPORTTIME=1`, "
           "cumulative, inflated by the profiling itself): "
           + ", ".join(f"{k} {v:.3f} s" for k, v in imports.items()) + ".") if imports else ""
    if imp:
        print(imp.strip())
    (HERE / "results.md").write_text(
        "# Benchmark results\n\n"
        "Written by `benchmarks/run.py` (see README.md). Every time is a wall-clock median; "
        "every ratio is physai-blog / baseline, measured in the same run on the same corpus "
        "(the sweep row: --jobs 1 / --jobs 2). Every command is a fresh process; the V rows "
        "are rebuilds inside one `physai-blog serve` session, as serve reports them.\n\n"
        f"{markdown_table(rows)}\n\n{env}.\n\n"
        f"Run counts read from the build output: {'all as expected' if not bad else '; '.join(bad)}."
        f"{imp}\n\n<details><summary>raw samples (s; MB for rss)</summary>\n\n{raw}\n\n</details>\n")
    print(f"\nwrote {HERE / 'results.md'}" + (f" and {', '.join(written)}" if written else ""))


if __name__ == "__main__":
    main()
