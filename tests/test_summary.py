"""The build summary without rich (cli/summary.py) is, character for character, what rich
prints to a non-terminal, or it is not used; a text-only rebuild through a pipe loads no rich."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from conftest import make_blog
from physai_blog.build import build
from physai_blog.cli.progress import print_summary
from physai_blog.cli.summary import console_width, plain_summary
from physai_blog.output.write import WriteReport


@dataclass
class Report:
    posts: list
    runs_total: int = 0
    figures_total: int = 0
    runs_executed: list = field(default_factory=list)
    figures_drawn: list = field(default_factory=list)
    seconds: float = 0.0
    write: WriteReport | None = None
    run_seconds: dict = field(default_factory=dict)


def by_rich(report, destination: str, width: int) -> str:
    out = io.StringIO()
    print_summary(report, console=Console(file=out, width=width, highlight=False,
                                          force_terminal=False), destination=destination)
    return out.getvalue()


slugs = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(slugs, max_size=30, unique=True), st.integers(0, 500), st.integers(0, 50),
       st.floats(0, 10000), st.booleans(), st.integers(0, 300),
       st.sampled_from(["", "/tmp/blog/site/index.html", "/a [b]/site/index.html",
                        "/x:smile:/index.html", "/tmp/déjà/index.html"]),
       st.integers(20, 200), st.data())
def test_the_plain_summary_is_what_rich_prints(posts, runs, figs, seconds, swapped, written,
                                                destination, width, data):
    drawn = data.draw(st.lists(st.sampled_from(posts), max_size=3)) if posts else []
    report = Report(posts, runs, figs, [], [f"{p}/fig" for p in drawn], seconds,
                    WriteReport(written, 3, 0, swapped))
    plain = plain_summary(report, destination, width=width)
    if plain is not None:
        assert plain == by_rich(report, destination, width)


def test_the_common_case_is_plain():
    report = Report([f"post-{i:03d}" for i in range(200)], seconds=0.31,
                    write=WriteReport(1, 216, 0, True))
    plain = plain_summary(report, "/tmp/t200/physai/site/index.html", width=80)
    assert plain is not None and plain == by_rich(report, "/tmp/t200/physai/site/index.html", 80)
    assert "200 other post(s)" in plain and "0 of 0 (0 cached)" in plain


def test_runs_or_a_terminal_need_rich(monkeypatch):
    # Whatever an earlier test left: colour variables, a width, an in-process Jupyter kernel
    # (rich takes ipykernel in sys.modules for a terminal), a stdin replaced by a capture.
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    report = Report(["a"], runs_total=1, runs_executed=["a/seed-0"], run_seconds={"a/seed-0": 1})
    assert plain_summary(report, "", width=80) is None
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert plain_summary(Report(["a"]), "") is None
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert plain_summary(Report(["a"]), "") is not None


def test_the_width_is_rich_s(monkeypatch):
    for columns in (None, "33", "150", "abc"):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert console_width() == Console(file=io.StringIO()).width


def test_a_text_only_rebuild_through_a_pipe_loads_no_rich(tmp_path):
    post = "---\ntitle: T\ndate: 2026-03-01\n---\n\nText.\n"
    root = make_blog(tmp_path / "blog", {"2026-03-01-t.md": post}, {})
    build(root)
    (root / "posts/2026-03-01-t.md").write_text(post + "\nMore.\n")
    code = ("import sys\nfrom physai_blog.cli.main import main\n"
            "try:\n    main(['build', '--root', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print('rich' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("Built 1 post(s) in ") and "total" in out and "0 of 0" in out
    assert out.splitlines()[-1] == "False"
