"""The cache, proven by counting executions (never by timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import FAST_POST, runs_counted
from physai_blog.build import build


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_second_build_executes_nothing(sample):
    root, counter = sample
    first = build(root)
    assert runs_counted(counter) == 2 and len(first.runs_executed) == 2
    second = build(root)
    assert runs_counted(counter) == 2
    assert second.runs_executed == [] and second.figures_drawn == []
    assert second.write.swapped is False          # nothing changed: site/ untouched
    assert second.up_to_date                      # ...known from the inputs' fingerprint


def test_fingerprint_sees_every_input_and_survives_a_damaged_site(sample):
    root, counter = sample
    build(root)
    assert build(root).up_to_date
    edit(root / "experiments/helpers.py", "SCALE = 1.0", "SCALE = 1.0  # same value")
    report = build(root)
    assert not report.up_to_date and runs_counted(counter) == 4   # a dependency changed
    assert build(root).up_to_date
    (root / "site/index.html").unlink()
    (root / "site/.physai-site.json").write_text("{}")
    report = build(root)
    assert not report.up_to_date and (root / "site/index.html").is_file()
    assert runs_counted(counter) == 4


def test_restyling_a_figure_redraws_it_without_rerunning(sample):
    root, counter = sample
    build(root)
    before = (root / "site/posts/decay/figures/loss.svg").read_bytes()
    edit(root / "experiments/decay.py", 'ax.set_ylabel("loss")',
         'ax.set_ylabel("training loss")\n    ax.grid(True)')
    report = build(root)
    assert runs_counted(counter) == 2 and report.runs_executed == []
    assert report.figures_drawn == ["decay/loss"]
    after = (root / "site/posts/decay/figures/loss.svg").read_bytes()
    assert after != before and b"training loss" not in before
    assert "ax.grid(True)" in (root / "site/posts/decay/code/loss.py").read_text()


def test_editing_the_run_function_reruns_and_redraws(sample):
    root, counter = sample
    build(root)
    edit(root / "experiments/decay.py", "* 0.01", "* 0.02")
    report = build(root)
    assert runs_counted(counter) == 4 and len(report.runs_executed) == 2
    assert report.figures_drawn == ["decay/loss"]


def test_editing_an_imported_helper_reruns(sample):
    root, counter = sample
    build(root)
    edit(root / "experiments/helpers.py", "SCALE = 1.0", "SCALE = 1.1")
    report = build(root)
    assert runs_counted(counter) == 4
    assert set(report.run_reasons.values()) == {"experiments/helpers.py changed"}


def test_params_and_seeds_in_front_matter_key_runs(sample):
    root, counter = sample
    build(root)
    post = root / "posts/2026-01-08-decay.md"
    edit(post, "categories: demo", "categories: demo\nparams: {rate: 0.25}\nseeds: [0, 1, 2]")
    report = build(root)
    assert runs_counted(counter) == 5 and len(report.runs_executed) == 3
    assert report.run_reasons == {"decay/seed-0": "params changed (rate: 0.5 -> 0.25)",
                                  "decay/seed-1": "params changed (rate: 0.5 -> 0.25)",
                                  "decay/seed-2": "new run"}
    edit(post, "params: {rate: 0.25}\n", "")
    report = build(root)     # back to rate 0.5: seeds 0 and 1 are cached, seed 2 is new
    assert len(report.runs_executed) == 1 and runs_counted(counter) == 6


def test_prose_edit_reruns_nothing(sample):
    root, counter = sample
    build(root)
    edit(root / "posts/2026-01-08-decay.md", "The loss decays", "The loss clearly decays")
    report = build(root)
    assert runs_counted(counter) == 2 and report.figures_drawn == []
    assert "clearly decays" in (root / "site/posts/decay/index.html").read_text()


def test_corrupt_entries_are_discarded_and_recomputed(sample):
    root, counter = sample
    build(root)
    runs = sorted((root / ".physai-cache/runs").iterdir())
    # truncated, bit-flipped and foreign files; and a figure with its file missing
    scalars = runs[0] / "scalars.csv"
    scalars.write_bytes(scalars.read_bytes()[:10])
    values = runs[1] / "values.json"
    data = bytearray(values.read_bytes())
    data[5] ^= 0x01
    values.write_bytes(bytes(data))
    figure = next((root / ".physai-cache/figures").iterdir())
    next(figure.glob("*.svg")).unlink()
    edit(root / "posts/2026-01-08-decay.md", "The loss decays", "The loss still decays")
    report = build(root)
    assert runs_counted(counter) == 4
    assert len(report.warnings) == 3
    assert any("scalars.csv fails its sha256" in w for w in report.warnings)
    assert any("values.json fails its sha256" in w for w in report.warnings)
    assert any("loss.svg is missing" in w for w in report.warnings)
    (runs[0] / "stray.txt").write_text("not mine")
    edit(root / "posts/2026-01-08-decay.md", "The loss still decays", "The loss decays")
    report = build(root)
    assert any("foreign file stray.txt" in w for w in report.warnings)
    assert runs_counted(counter) == 5


def test_a_corrupt_cached_page_is_discarded_and_rendered_again(tmp_path):
    from conftest import make_blog

    root = make_blog(tmp_path / "blog", posts={
        "2026-01-01-a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n\nAlpha.\n",
        "2026-01-02-b.md": "---\ntitle: B\ndate: 2026-01-02\n---\n\nBeta.\n"}, experiments={})
    build(root)
    pages = sorted((root / ".physai-cache/pages").glob("*.html"))
    assert len(pages) == 2 and len(list(pages[0].parent.glob("*.json"))) == 2
    good = {p.name: p.read_bytes() for p in pages}
    data = bytearray(pages[0].read_bytes())
    data[-3] ^= 0x01                                   # a flipped bit in a page
    pages[0].unlink()                                  # (the site holds a link to it)
    pages[0].write_bytes(bytes(data))
    (root / "site/.physai-site.json").write_text("{}")   # force a rebuild
    report = build(root)
    assert any("fails its sha256" in w and "pages/" in w for w in report.warnings)
    assert {p.name: p.read_bytes() for p in pages} == good   # rendered again
    assert b"Alpha" in (root / "site/posts/a/index.html").read_bytes()


def site_bytes(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


def test_a_page_trusted_by_its_stat_is_still_rechecked_after_any_write(tmp_path, monkeypatch):
    """A cached page's sha256 is reused while its stat signature holds (a one-post rebuild
    does not re-read every page): a bit flipped in place, same size and mtime, still fails
    its check, and the site (whose files are hard links of cache entries) equals a clean
    build's."""
    import shutil

    from conftest import make_blog
    from physai_blog.runs import digests

    posts = {"2026-01-01-a.md": "---\ntitle: A\ndate: 2026-01-01\n---\n\nAlpha.\n",
             "2026-01-02-b.md": "---\ntitle: B\ndate: 2026-01-02\n---\n\nBeta.\n"}
    root = make_blog(tmp_path / "blog", posts=posts, experiments={})
    build(root)
    monkeypatch.setattr(digests, "RACY", 0.0)   # the pages count as settled at once
    b = root / "posts/2026-01-02-b.md"
    b.write_text(b.read_text().replace("Beta.", "Beta, edited."))
    assert build(root).warnings == []           # page A verified once, its digest kept
    page = next(p for p in (root / ".physai-cache/pages").glob("*.html")
                if b"Alpha" in p.read_bytes())
    assert str(page) in digests.DIGESTS.known
    good = page.read_bytes()
    mtime = page.stat().st_mtime_ns
    data = bytearray(page.read_bytes())
    data[data.index(b"Alpha")] ^= 0x20          # "alpha": same size
    with open(page, "r+b") as fh:               # in place, as a disk error or an editor would
        fh.write(bytes(data))
    os.utime(page, ns=(mtime, mtime))
    b.write_text(b.read_text().replace("edited", "edited again"))
    report = build(root)
    assert any("fails its sha256" in w and "pages/" in w for w in report.warnings)
    assert page.read_bytes() == good              # rendered again
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns("site", ".physai-cache"))
    build(clean)
    assert site_bytes(root / "site") == site_bytes(clean / "site")


def test_manifest_records_the_run(sample):
    root, _ = sample
    build(root)
    entry = sorted((root / ".physai-cache/runs").iterdir())[0]
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["params"] == {"rate": 0.5, "steps": 20}
    assert manifest["seed"] in (0, 1) and manifest["wall_time"] >= 0
    assert set(manifest["files"]) == {"scalars.csv", "values.json", "arrays/noise.npy"}
    assert {"python", "torch", "numpy", "platform"} <= set(manifest["versions"])
    assert manifest["device"] == "cpu"


def test_cached_build_imports_neither_torch_nor_matplotlib(sample):
    root, _ = sample
    build(root)
    code = ("import sys; from physai_blog.build import build; build(sys.argv[1]); "
            "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_identical_inputs_give_identical_sites(tmp_path, monkeypatch):
    from conftest import copy_sample

    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    a, b = copy_sample(tmp_path / "a"), copy_sample(tmp_path / "b")
    build(a)
    build(b)
    files_a = sorted(p.relative_to(a / "site") for p in (a / "site").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b / "site") for p in (b / "site").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / "site" / rel).read_bytes() == (b / "site" / rel).read_bytes(), rel


def test_forked_and_fresh_workers_give_identical_sites(tmp_path, monkeypatch):
    """Workers forked from the zygote (numpy, matplotlib, torch preloaded) and workers started
    as fresh interpreters produce the same bytes."""
    from conftest import copy_sample

    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    a, b = copy_sample(tmp_path / "a"), copy_sample(tmp_path / "b")
    build(a)
    monkeypatch.setenv("PHYSAI_NO_ZYGOTE", "1")
    build(b)
    for path in sorted((a / "site").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (b / "site" / path.relative_to(a / "site")).read_bytes()


def test_a_persistent_executor_keeps_its_fork_server_across_builds(sample):
    """What `serve` does: one LocalExecutor for the session, whose zygote stays warm."""
    from physai_blog.runs.executor import LocalExecutor

    root, counter = sample
    executor = LocalExecutor(root, root / ".physai-cache" / "tmp", 2, 2, persistent=True)
    try:
        build(root, executor=executor)
        zygote = executor._zygote
        assert zygote is not None and zygote.proc.poll() is None   # not closed by the build
        edit(root / "experiments/decay.py", 'ax.set_ylabel("loss")', 'ax.set_ylabel("L")')
        report = build(root, executor=executor)
        assert report.figures_drawn == ["decay/loss"] and runs_counted(counter) == 2
        assert executor._zygote is zygote and zygote.proc.poll() is None
    finally:
        executor.close()
    assert zygote.proc.poll() is not None


def test_a_post_edited_while_the_build_runs_is_built_again_next_time(tmp_path, monkeypatch):
    """The no-op record is the inputs as the build found them: an edit made after the post
    was read (here, while the site is written) is not mistaken for built."""
    from conftest import make_blog
    from physai_blog import pipeline

    post = "---\ntitle: Plain\ndate: 2026-03-01\n---\n\nThe first words.\n"
    root = make_blog(tmp_path / "blog", {"2026-03-01-plain.md": post}, {})
    write_site = pipeline.write_site

    def edit_then_write(*args, **kwargs):
        edit(root / "posts/2026-03-01-plain.md", "The first words.", "The second words.")
        return write_site(*args, **kwargs)

    monkeypatch.setattr(pipeline, "write_site", edit_then_write)
    assert not build(root).up_to_date
    assert "The first words." in (root / "site/posts/plain/index.html").read_text()
    monkeypatch.setattr(pipeline, "write_site", write_site)
    report = build(root)
    assert not report.up_to_date
    assert "The second words." in (root / "site/posts/plain/index.html").read_text()
    assert build(root).up_to_date


def test_a_post_added_or_removed_while_a_first_build_runs_is_seen_next_time(tmp_path,
                                                                            monkeypatch):
    """A first build finds its experiments' files as extra inputs (hashed again at the end):
    a post added or removed meanwhile is not mistaken for built."""
    from conftest import make_blog
    from physai_blog import pipeline

    plain = "---\ntitle: {t}\ndate: 2026-03-01\n---\n\nWords of {t}.\n"
    write_site = pipeline.write_site
    for change in ("add", "remove"):
        root = make_blog(tmp_path / change, {"2026-02-01-fast.md": FAST_POST,
                                             "2026-03-01-old.md": plain.format(t="Old")})
        new, old = root / "posts/2026-03-02-new.md", root / "posts/2026-03-01-old.md"

        def change_then_write(*args, **kwargs):
            new.write_text(plain.format(t="New")) if change == "add" else old.unlink()
            return write_site(*args, **kwargs)

        monkeypatch.setattr(pipeline, "write_site", change_then_write)
        build(root)
        monkeypatch.setattr(pipeline, "write_site", write_site)
        report = build(root)
        assert not report.up_to_date
        assert (root / "site/posts/new/index.html").is_file() == (change == "add")
        assert (root / "site/posts/old/index.html").is_file() == (change == "add")
        assert build(root).up_to_date
