"""Profile one ``physai-blog build`` with cProfile, imports included.

    .venv/bin/python benchmarks/profile_build.py BLOG_ROOT OUT.txt [TITLE]

Runs the CLI in-process (``physai-blog build --root BLOG_ROOT``) under cProfile and writes: the
time per package (own time, summed), the top functions by cumulative time and by own time.
cProfile slows pure-Python code more than C code, so read the shares, not the seconds.
Experiment runs and figures happen in worker subprocesses, which this profile does not see
(it shows the parent waiting on them).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import sys
import time
from collections import defaultdict


def package_of(filename: str, funcname: str) -> str:
    if filename == "~":  # built-in functions
        name = re.sub(r"^<(built-in method|method) ", "", funcname).rstrip(">")
        return f"(builtin) {name.split(' of ')[0]}"
    if "/physai_blog/" in filename:
        return "physai_blog." + filename.rsplit("/physai_blog/", 1)[1].removesuffix(".py") \
            .replace("/", ".")
    if "site-packages/" in filename:
        return filename.rsplit("site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    if filename.startswith("<frozen"):
        return "(import machinery)"
    if "/lib/python3" in filename:
        parts = filename.rsplit("/", 2)
        name = parts[-2] if parts[-1] == "__init__.py" else parts[-1].removesuffix(".py")
        return "stdlib." + name
    return filename


def main() -> None:
    root, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else f"physai-blog build --root {root}"
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    from physai_blog.cli.main import main as cli

    try:
        cli(["build", "--root", root, "-q"], standalone_mode=False)
    finally:
        profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, funcname), (_, _, tottime, _, _) in stats.stats.items():
        by_package[package_of(filename, funcname)] += tottime
        total += tottime
    buf = io.StringIO()
    buf.write(f"# {title}\n# wall time under cProfile: {wall:.2f} s "
              f"(profiled own time: {total:.2f} s)\n\n## Own time by package / module\n\n")
    for name, t in sorted(by_package.items(), key=lambda kv: -kv[1])[:30]:
        buf.write(f"{t:8.3f} s  {100 * t / total:5.1f} %  {name}\n")
    for sort, n in (("cumulative", 45), ("tottime", 35)):
        buf.write(f"\n## Top {n} functions by {sort} time\n\n")
        s = io.StringIO()
        ps = pstats.Stats(profiler, stream=s)
        ps.sort_stats(sort).print_stats(n)
        text = s.getvalue()
        text = text[text.find("   ncalls"):] if "   ncalls" in text else text
        buf.write(re.sub(r"/\S*/(site-packages|lib/python3\.\d+|main)/", "", text))
    with open(out, "w") as fh:
        fh.write(buf.getvalue())


if __name__ == "__main__":
    main()
