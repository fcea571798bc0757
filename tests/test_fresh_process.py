"""What a fresh process loads and reads for a small rebuild, and that each shortcut gives the
same result as the long way: the front matter split from the head of a file, the executor
made only for a task, Pygments' CSS kept by version, renameat2 found without a search."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_blog
from physai_blog.build import build
from physai_blog.content.posts import split_front_matter
from physai_blog.errors import InputError
from physai_blog.figures.draw import draw_figures
from physai_blog.output.write import _renameat2
from physai_blog.render.page import pygments_css
from physai_blog.runs.cache import Cache
from physai_blog.runs.lazy import Deferred
from physai_blog.runs.plan import execute_runs


def reference_split(text: str, rel: str):
    """The front matter split as it was: every line of the file split first."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError(rel, 1, "missing front matter: the file must start with a `---` line")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), 2, "".join(lines[i + 1:]), i + 2
    raise InputError(rel, 1, "front matter is not closed: add a `---` line after it")


def outcome(split, text):
    try:
        return split(text, "posts/x.md")
    except InputError as exc:
        return exc.line, exc.message


ENDS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", ""]
LINES = ["---", "...", " --- ", "title: x", "", "y" * 40, "z" * 1500, "--- x"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LINES), st.sampled_from(ENDS)), max_size=14),
       st.integers(4000, 4200), st.sampled_from(ENDS), st.booleans())
def test_the_front_matter_split_is_the_whole_file_split(lines, at, end, near_head):
    text = "".join(line + eol for line, eol in lines)
    if near_head:     # the closing line right around the head the split looks at first
        text = "---\n" + "a" * (at - 4) + end + "---" + end + text
    assert outcome(split_front_matter, text) == outcome(reference_split, text)


def test_the_executor_is_made_on_first_use_only():
    made = []
    lazy = Deferred(lambda: made.append(1) or type("X", (), {"jobs": 3, "close": lambda s: None})())
    lazy.close()
    assert made == [] and not lazy.made
    assert lazy.jobs == 3 and made == [1] and lazy.made
    lazy.close()


def test_nothing_stale_never_asks_the_executor(tmp_path):
    never = Deferred(lambda: pytest.fail("an executor was made with nothing to run"))
    cache = Cache(tmp_path / "cache")
    assert execute_runs([], cache, never).executed == []
    assert draw_figures([], cache, never, {}, 60.0).drawn == []


def test_the_run_and_figure_stages_load_the_pool_only_for_a_task():
    code = ("import sys\nimport physai_blog.runs.plan, physai_blog.figures.draw\n"
            "print('physai_blog.runs.executor' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == "False"


def test_pygments_css_is_kept_by_version_and_remade_when_damaged(tmp_path):
    fresh = pygments_css()
    assert pygments_css(tmp_path) == fresh
    kept = tmp_path / "pygments-css.json"
    assert json.loads(kept.read_text())["css"] == fresh.decode()
    saved = json.loads(kept.read_text())
    for damage in ({**saved, "css": saved["css"] + "x"}, {**saved, "pygments": "0.1"}, "junk"):
        kept.write_text(json.dumps(damage) if isinstance(damage, dict) else damage)
        assert pygments_css(tmp_path) == fresh
        assert json.loads(kept.read_text()) == saved


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_renameat2_comes_from_the_loaded_libc(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    renameat2 = _renameat2()
    assert renameat2 is not None
    assert renameat2(-100, bytes(a), -100, bytes(b), 2) == 0
    assert (a.read_text(), b.read_text()) == ("b", "a")


TEXT_POST = """---
title: Text
date: 2026-03-01
tags: [notes]
---

Prose with $e^{i\\pi} = -1$ and code:

```python
print("hello")
```
"""


def test_a_text_post_edit_loads_none_of_the_heavy_libraries(tmp_path):
    root = make_blog(tmp_path / "blog", {"2026-03-01-text.md": TEXT_POST}, {})
    build(root)
    post = root / "posts/2026-03-01-text.md"
    post.write_text(post.read_text() + "\nAn edit.\n")
    code = ("import sys\nfrom physai_blog.build import build\nbuild(sys.argv[1])\n"
            "print(sorted(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout
    loaded = set(eval(out.splitlines()[-1]))
    # (pygments.formatters.html too, once the pipeline passes the cache to theme_assets)
    # and, in a blog without experiments or notebook posts, none of the stages for them
    for heavy in ("yaml", "latex2mathml", "pygments.lexers.python", "statistics",
                  "ctypes.util", "numpy", "matplotlib", "physai_blog.runs.plan",
                  "physai_blog.figures.draw", "physai_blog.runs.notebooks",
                  "physai_blog.render.notebook_post", "physai_blog.artifacts.downloads"):
        assert heavy not in loaded, heavy
    assert "An edit." in (root / "site/posts/text/index.html").read_text()


def test_python_dash_m_is_the_command(tmp_path):
    """``python -m physai_blog`` runs the CLI (a user without the console script on PATH)."""
    root = make_blog(tmp_path / "blog", {"2026-03-01-t.md": "---\ntitle: T\ndate: 2026-03-01\n---\n\nHi.\n"}, {})
    out = subprocess.run([sys.executable, "-m", "physai_blog", "build", "--root", str(root)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("Built 1 post(s)") and (root / "site/index.html").exists()


QUICK_EXIT = """
import atexit, sys, threading, time
from pathlib import Path
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
if sys.argv[2] == "thread":   # a thread still working: the normal exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("done"))
                     ).start()
sys.argv = ["physai-blog", *sys.argv[3:]]
from physai_blog.cli.main import run_cli
run_cli()
"""


@pytest.mark.parametrize("thread", ["none", "thread"])
def test_the_command_ends_as_a_normal_exit_does(tmp_path, thread):
    """The command's process skips the teardown of every module (cli/main.quick_exit) but
    not what a normal exit does: its output is all there, the exit status is the command's,
    atexit handlers run, and a thread still working is waited for (the normal exit then)."""
    version = subprocess.run([sys.executable, "-c", QUICK_EXIT, str(tmp_path), thread,
                              "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "version" in version.stdout
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").is_file() == (thread == "thread")
    bad = subprocess.run([sys.executable, "-c", QUICK_EXIT, str(tmp_path), thread, "build",
                          "--root", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert bad.returncode == 1 and "no physai.yaml" in bad.stderr and bad.stdout == ""


def test_the_command_collects_cycles_still_only_less_often():
    """run_cli raises the collector's first threshold (a one-post edit of a big blog spent
    a tenth of its time traversing the objects it holds): the collector stays on, and
    cyclic garbage past the threshold is freed."""
    import gc
    import weakref

    from physai_blog.cli.main import COLLECTOR_THRESHOLDS, tune_collector

    class Node:
        pass

    before, runs = gc.get_threshold(), []

    def count(phase, info):
        runs.append(phase)

    gc.callbacks.append(count)
    try:
        tune_collector()
        assert gc.isenabled() and gc.get_threshold() == COLLECTOR_THRESHOLDS
        gc.collect()
        runs.clear()
        first = Node()
        first.me = first                      # a cycle: only the collector frees it
        gone = weakref.ref(first)
        del first
        for _ in range(3 * COLLECTOR_THRESHOLDS[0] // 2):
            node = Node()
            node.me = node
        del node
        assert runs and gone() is None        # collected, without being asked to
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before)
