#!/usr/bin/env python3
"""physai-blog benchmarks: one command, one table of ratios against baselines of the same run.

    .venv/bin/python benchmarks/run.py [--quick] [--reps N] [--setup] [--no-profile]

Generates its corpora in a temp folder, times every case as a user would type it (a fresh
process per build, wall clock), and prints one table (also written to benchmarks/results.md).
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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
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


#: The same, with every command in its own process (no warm build server).
IN_PROCESS = dict(os.environ)


def snapshot(tmp: Path) -> str:
    """Copy physai_blog/ into tmp and put it first on PYTHONPATH; describe what was copied.
    Build servers get a socket folder of their own in tmp (stopped at the end)."""
    dest = tmp / "snapshot"
    shutil.copytree(REPO / "physai_blog", dest / "physai_blog",
                    ignore=shutil.ignore_patterns("__pycache__"))
    ENV["PYTHONPATH"] = str(dest)
    ENV.pop("CI", None)
    ENV.update({"PHYSAI_DAEMON": "1", "PHYSAI_DAEMON_DIR": str(tmp / "servers")})
    IN_PROCESS.clear()
    IN_PROCESS.update({**ENV, "PHYSAI_DAEMON": "0"})
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


def start_server(blog: Path) -> None:
    """Start the blog's build server (its first command does) and wait until it listens,
    so that the timed commands measure the steady state an author works in."""
    run([PHYSAI, "build", "--root", str(blog), "-q"], blog)
    folder = Path(ENV["PHYSAI_DAEMON_DIR"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [json.loads(p.read_text())["root"] for p in folder.glob("*.pid")]
        if str(blog.resolve()) in pids:
            time.sleep(1.0)        # its warm-up build and worker fork server
            return
        time.sleep(0.1)
    raise SystemExit(f"no build server started for {blog}")


def server_peak_rss(blog: Path) -> float:
    """Peak RSS (MB) of the blog's build server process (its forked builds apart)."""
    for pidfile in Path(ENV["PHYSAI_DAEMON_DIR"]).glob("*.pid"):
        info = json.loads(pidfile.read_text())
        if info["root"] == str(blog.resolve()):
            status = Path(f"/proc/{info['pid']}/status").read_text()
            return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    return float("nan")


def stop_servers() -> None:
    subprocess.run([PHYSAI, "daemon", "stop", "--all"], env=ENV, capture_output=True)


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


def bench_text(base: Path, reps: int, n_posts: int, n_words: int, s: Samples, log) -> None:
    roots = corpora.write_text_corpus(base, n_posts, n_words)
    blog, pel, mkd = roots["physai"], roots["pelican"], roots["mkdocs"]
    edited = sorted((blog / "posts").glob("*.md"))[n_posts // 2]
    edited_mkd = mkd / "docs" / "posts" / (edited.stem.split("-", 3)[-1] + ".md")
    build = [PHYSAI, "build", "--root", str(blog)]
    start_server(blog)
    for rep in range(reps):
        log(f"  corpus T, repetition {rep + 1}/{reps}")
        clean(blog / "site", blog / ".physai-cache")
        s.add("T full", run(build, blog).seconds)
        s.add("T noop", run(build, blog).seconds)
        with edited.open("a") as fh:
            fh.write(f"\nAn edit, number {rep}.\n")
        s.add("T edit", run(build, blog).seconds)
        # The same in a fresh process each (no build server); peak RSS of that process.
        clean(blog / "site", blog / ".physai-cache")
        r = run(build, blog, IN_PROCESS)
        s.add("T full in-process", r.seconds)
        s.add("T rss", r.maxrss_mb)
        s.add("T noop in-process", run(build, blog, IN_PROCESS).seconds)
        with edited.open("a") as fh:
            fh.write(f"\nAn edit, number {rep}b.\n")
        s.add("T edit in-process", run(build, blog, IN_PROCESS).seconds)

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
    s.add("T server rss", server_peak_rss(blog))


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
    start_server(blog)
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
        for suffix, env in (("", ENV), (" in-process", IN_PROCESS)):
            # One experiment edited: a new value of a parameter (new each time: no cache hit).
            new_r = f'"r": {3.6 + 0.02 * k + 1e-6 * next_edit()!r}'
            edit(blog / "experiments" / f"exp{k}.py", r_line, new_r)
            r_line = new_r
            r = run(build, blog, env)
            s.add("E edit" + suffix, r.seconds)
            checks.append(("E edited experiment runs" + suffix, counts(r.output), (1, 1)))
            # One figure's plotting code edited: zero runs, one figure.
            text = (blog / "experiments" / f"exp{k}.py").read_text()
            lw = re.search(r"lw=[0-9.]+", text).group(0)
            edit(blog / "experiments" / f"exp{k}.py", lw, f"lw={1.0 + 0.001 * next_edit()!r}")
            r = run(build, blog, env)
            s.add("E figure" + suffix, r.seconds)
            checks.append(("E figure edit runs" + suffix, counts(r.output), (0, 1)))

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
        s.add("O run in-process", run(command, blog, IN_PROCESS).seconds)
        s.add("O plain", run([PY, "plain0.py"], plain).seconds)


def bench_sweep(base: Path, reps: int, cells: int, seconds: float, s: Samples, checks,
                log) -> None:
    blog = corpora.write_sweep_blog(base, cells, seconds, corpora.calibrate_steps(seconds))
    start_server(blog)
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
        s.add("I import build", run([PY, "-c", "import physai_blog.build, physai_blog.cli, "
                                                "physai_blog.progress"], base).seconds)


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
    row(f"T: full build ({n_posts} posts, empty cache)", m("T full"),
        "minimal script, 2 processes", m("T minimal2"), "<= 1.2x", m("T full") <= 1.2 * m("T minimal2"))
    row("T: full build, no build server", m("T full in-process"),
        "minimal script, 2 processes", m("T minimal2"), "<= 1.2x",
        m("T full in-process") <= 1.2 * m("T minimal2"))
    row("T: full build", m("T full"), "minimal script, 1 process", m("T minimal1"), "", None)
    row("T: full build", m("T full"), "Pelican, full", m("T pelican full"), "", None)
    row("T: full build", m("T full"), "MkDocs, full", m("T mkdocs full"), "", None)
    noop = m("T noop")
    row("T: no-op rebuild", noop, "Pelican, no-op", m("T pelican noop"),
        "<= 0.15 s and <= 0.1x", noop <= 0.15 and noop <= 0.1 * m("T pelican noop"))
    row("T: no-op rebuild", noop, "MkDocs, no-op", m("T mkdocs noop"),
        "<= 0.15 s and <= 0.1x", noop <= 0.15 and noop <= 0.1 * m("T mkdocs noop"))
    row("T: no-op rebuild", noop, "MkDocs --dirty, no-op", m("T mkdocs dirty noop"), "", None)
    row("T: one post edited", m("T edit"), "MkDocs --dirty, one edit", m("T mkdocs dirty edit"),
        "<= 0.2 s", m("T edit") <= 0.2)
    row("T: one post edited, no build server", m("T edit in-process"),
        "MkDocs --dirty, one edit", m("T mkdocs dirty edit"), "<= 0.2 s",
        m("T edit in-process") <= 0.2)
    row("T: no-op rebuild, no build server", m("T noop in-process"), "MkDocs, no-op",
        m("T mkdocs noop"), "<= 0.15 s and <= 0.1x",
        m("T noop in-process") <= 0.15 and m("T noop in-process") <= 0.1 * m("T mkdocs noop"))
    row("T: peak RSS of the full build (MB)", m("T rss"), "minimal script, 1 process (MB)",
        m("T minimal rss"), "<= 150 MB", m("T rss") <= 150)
    rows[-1][1] = f"{m('T rss'):.0f} MB"
    rows[-1][3] = f"{m('T minimal rss'):.0f} MB"
    row("T: peak RSS of the idle build server (MB)", m("T server rss"),
        "minimal script, 1 process (MB)", m("T minimal rss"), "", None)
    rows[-1][1] = f"{m('T server rss'):.0f} MB"
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
    row("E: one experiment edited, no build server", m("E edit in-process"),
        "sphinx-gallery, one edit", m("E sphinx edit"), f"<= 1.2 s + {compute:.2f} s compute",
        m("E edit in-process") <= 1.2 + compute)
    row("E: one figure's code edited (0 runs)", m("E figure"), "sphinx-gallery, one edit",
        m("E sphinx edit"), "<= 1.0 s, 0 runs", m("E figure") <= 1.0)
    row("E: one figure's code edited, no build server", m("E figure in-process"),
        "sphinx-gallery, one edit", m("E sphinx edit"), "<= 1.0 s, 0 runs",
        m("E figure in-process") <= 1.0)
    row("O: `run SLUG --force`, one experiment", m("O run"), "the same computation, plain script",
        m("O plain"), f"<= {1.05 * m('O plain') + 0.3:.2f} s (5 % + 0.3 s)",
        m("O run") <= 1.05 * m("O plain") + 0.3)
    row("O: `run SLUG --force`, no build server", m("O run in-process"),
        "the same computation, plain script", m("O plain"),
        f"<= {1.05 * m('O plain') + 0.3:.2f} s (5 % + 0.3 s)",
        m("O run in-process") <= 1.05 * m("O plain") + 0.3)
    speedup = m("S jobs1") / m("S jobs2")
    row(f"S: {cells}-cell sweep, --jobs 2", m("S jobs2"), "the same, --jobs 1", m("S jobs1"),
        ">= 1.8x speed-up", speedup >= 1.8, ratio=speedup)
    rows[-1][4] = f"{speedup:.2f}x faster"
    row("I: `physai-blog --version` (start-up)", m("I cli"), "`python -c pass`", m("I python"),
        "", None)
    row("I: import build + cli + progress", m("I import build"), "`python -c pass`",
        m("I python"), "", None)
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
        bench_text(tmp / "T", reps, n_posts, n_words, s, log)
        roots = bench_experiments(tmp / "E", reps, n_exp, exp_s, s, checks, log)
        bench_overhead(roots, max(reps, 3), s, log)
        bench_sweep(tmp / "S", reps, cells, cell_s, s, checks, log)
        written = [] if args.no_profile else profiles(tmp / "T" / "physai", roots["physai"], log)
    finally:
        stop_servers()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    bad = [f"{name}: got (runs, figures) = {got}, expected {want}"
           for name, got, want in checks if got[0] != want[0] or got[1] != want[1]]
    env = (f"{started}, {version}, Python {platform.python_version()}, "
           f"{os.cpu_count()} CPU(s), load average {load_before[0]:.1f} before / "
           f"{os.getloadavg()[0]:.1f} after; median of {reps} run(s) per figure "
           f"({'--quick' if args.quick else 'full run'}), {time.perf_counter() - t0:.0f} s in all")
    (HERE / "results.json").write_text(json.dumps(
        {"env": env, "reps": reps, "sizes": [n_posts, n_exp, cells], "bad": bad, "samples": s},
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
    (HERE / "results.md").write_text(
        "# Benchmark results\n\n"
        "Written by `benchmarks/run.py` (see README.md). Every time is a wall-clock median; "
        "every ratio is physai-blog / baseline, measured in the same run on the same corpus "
        "(the sweep row: --jobs 1 / --jobs 2).\n\n"
        f"{markdown_table(rows)}\n\n{env}.\n\n"
        f"Run counts read from the build output: {'all as expected' if not bad else '; '.join(bad)}."
        f"\n\n<details><summary>raw samples (s; MB for rss)</summary>\n\n{raw}\n\n</details>\n")
    print(f"\nwrote {HERE / 'results.md'}" + (f" and {', '.join(written)}" if written else ""))


if __name__ == "__main__":
    main()
