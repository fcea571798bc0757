"""`physai-blog new`: a post and experiment that build at once; nothing is ever overwritten."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import cli

from physai_blog.build import build
from physai_blog.errors import PhysaiError
from physai_blog.content.scaffold import ScaffoldError, new_post


def test_new_in_an_empty_folder_builds_at_once(tmp_path):
    root = tmp_path / "blog"
    result = cli("new", "Gradient descent: a first look", "--tags", "toy, optimisation",
                 "--root", root)
    assert result.exit_code == 0, result.output
    today = dt.date.today().isoformat()
    post = root / f"posts/{today}-gradient-descent-a-first-look.md"
    assert post.is_file() and (root / "experiments/gradient-descent-a-first-look.py").is_file()
    assert (root / "physai.yaml").is_file() and "site/" in (root / ".gitignore").read_text()
    text = post.read_text()
    assert 'title: "Gradient descent: a first look"' in text
    assert 'tags: ["toy", "optimisation"]' in text

    report = build(root)
    assert report.ok and report.warnings == [], report
    assert report.posts == ["gradient-descent-a-first-look"]
    assert report.figures_total == 2 and report.runs_total == len(report.runs_executed) == 12
    assert max(report.run_seconds.values()) < 2.0
    html = (root / "site/posts/gradient-descent-a-first-look/index.html").read_text()
    assert 'id="fig-excess-loss"' in html and 'id="fig-rates"' in html
    assert '<a class="value" href="data/values.csv"' in html
    assert '<a class="claim claim-pass"' in html and '<span class="fit"' in html
    assert '<div class="math display"><math' in html
    body = html[html.index('<div class="post-body">'):html.index('<section class="claims"')]
    assert "{{" not in body.replace("<code>{{ value(...) }}</code>", "")
    assert (root / "site/tags/toy/index.html").is_file()


def test_new_refuses_to_overwrite(tmp_path):
    root = tmp_path / "blog"
    assert cli("new", "Same title", "--root", root).exit_code == 0
    post = next((root / "posts").glob("*-same-title.md"))
    post.write_text(post.read_text() + "\nMy own words.\n")
    config = (root / "physai.yaml").read_text()

    result = cli("new", "Same title", "--root", root)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "already exists" in lines[0]
    assert "My own words." in post.read_text()
    assert (root / "physai.yaml").read_text() == config

    # an experiment of that name alone also blocks, and nothing is half-created
    with pytest.raises(ScaffoldError, match="experiments/other.py already exists"):
        (root / "experiments/other.py").write_text("# mine\n")
        new_post("Other", root)
    assert not list((root / "posts").glob("*-other.md"))
    # the same slug on another date would make two posts with one slug
    with pytest.raises(ScaffoldError, match="already uses the slug"):
        new_post("Same title", root, date=dt.date(2020, 1, 1))


def test_new_keeps_an_existing_config_and_rejects_bad_input(tmp_path):
    from conftest import make_blog

    root = make_blog(tmp_path / "blog")
    config = (root / "physai.yaml").read_text()
    made = new_post("Second post", root, tags=["a"], date=dt.date(2026, 3, 1))
    assert made.created == ["posts/2026-03-01-second-post.md", "experiments/second-post.py"]
    assert (root / "physai.yaml").read_text() == config
    assert build(root).ok
    for title in ("", "   "):
        with pytest.raises(PhysaiError, match="title is empty"):
            new_post(title, root)
    with pytest.raises(ScaffoldError, match="tag"):
        new_post("Third", root, tags="ok, [bad]")


def test_build_prints_a_summary_and_quiet_prints_nothing(tmp_path):
    root = tmp_path / "blog"
    assert cli("new", "Summary please", "--root", root).exit_code == 0
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Built 1 post(s) in ") and "\x1b[" not in out   # no TTY: no live display
    assert "summary-please" in out and "12 of 12 (0 cached)" in out and "2 of 2" in out
    assert "slowest runs: summary-please/lr-" in out and "site/index.html" in out
    again = cli("build", "--root", root).output
    assert again.startswith("Up to date: 1 post(s), 12 run(s) and 2 figure(s) cached, "
                            "nothing to do")
    assert cli("build", "--root", root, "-q").output == ""


def test_progress_counts_and_eta():
    from types import SimpleNamespace

    from physai_blog.cli.progress import BuildProgress, format_seconds

    progress = BuildProgress(live=False)
    tasks = [SimpleNamespace(kind="run", label=f"post seed-{i}") for i in range(4)]
    for task in tasks:
        progress("queued", task)
    progress("start", tasks[0])
    progress("done", tasks[0])
    progress("start", tasks[1])
    progress("failed", tasks[1])
    stats = progress.stats["run"]
    assert (stats.total, stats.done, stats.failed, stats.waiting) == (4, 1, 1, 2)
    assert progress.eta("run") is not None and progress.failed_labels == ["post seed-1"]
    assert format_seconds(0.5) == "500 ms" and format_seconds(75) == "1:15 min"
    from rich.console import Console

    console = Console(record=True, width=100)
    console.print(progress)                     # the live display, rendered once
    text = console.export_text()
    assert "2/4 runs" in text and "2 queued" in text and "1 failed" in text
