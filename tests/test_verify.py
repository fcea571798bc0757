"""``verify`` compares everything a reader can download or read with a fresh rebuild.

The sample blog (its post also printing a param) is built once and rebuilt from scratch once
(``fresh``, 2 runs each); each perturbation edits a copy of the published site and compares it
with that rebuild, so only the two command-line tests rerun anything (2 runs each).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import cli, copy_sample, runs_counted
from physai_blog.artifacts.downloads import deterministic_zip
from physai_blog.build import build
from physai_blog.checks.compare import Rules, compare_file
from physai_blog.checks.verify import compare_site, fresh_build, report

POST = "site/posts/decay"
PAGE = "posts/decay/index.html"


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    """The sample, built (2 runs), and its fresh rebuild (2 more), shared by the module."""
    tmp = tmp_path_factory.mktemp("verify")
    counter = tmp / "runs.txt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHYSAI_TEST_COUNTER", str(counter))
        root = copy_sample(tmp / "blog")
        edit(root / "posts/2026-01-08-decay.md", 'the loss ends small") }}.',
             'the loss ends small") }}. The rate is {{ param("rate") }}.')
        build(root, jobs=2)
        assert runs_counted(counter) == 2
        with fresh_build(root, jobs=2) as fresh:
            assert runs_counted(counter) == 4
            yield root, fresh, counter


@pytest.fixture
def site(blog, tmp_path):
    """A copy of the published site to perturb (the built one is hard-linked to its cache)."""
    root, _, _ = blog
    return Path(shutil.copytree(root / "site", tmp_path / "site"))


def check(blog, site: Path, tolerance: float | None = None):
    """verify's printed lines (the drift rows alone) and error for this site."""
    _, fresh, _ = blog
    if tolerance is not None:
        fresh = dataclasses.replace(fresh, tolerance={"decay": tolerance})
    lines, error = report(compare_site(fresh, site))
    return [line for line in lines if "DRIFT" in line], error


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, (path, old)
    path.write_text(text.replace(old, new, count))


def edit_json(path: Path, change) -> None:
    path.write_text(change_json(path.read_text(), change))


def rezip(path: Path, member: str, change) -> None:
    """Rewrite a zip as a build would, with one member changed."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members[member] = change(members[member].decode()).encode()
    path.write_bytes(deterministic_zip(members))


def change_json(text: str, change) -> str:
    """Change a published JSON file, keeping its format."""
    data = json.loads(text)
    change(data)
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def scale_loss(text: str, step: int, factor: float) -> str:
    """A scalars.csv with the loss at ``step`` scaled."""
    return re.sub(rf"(?m)^{step},(.*)$", lambda m: f"{step},{float(m[1]) * factor!r}", text)


def only_row(drift: list[str], start: str) -> str:
    assert len(drift) == 1 and drift[0].startswith(start), drift
    return drift[0]


def line_of(page: Path, text: str) -> int:
    """The 1-based line of the page where ``text`` first stands (the page's layout moves)."""
    lines = page.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def post_files(site: Path) -> list[Path]:
    """Every file the decay post publishes, which verify must compare, one by one."""
    return sorted(p for p in (site / "posts/decay").rglob("*") if p.is_file())


def test_an_unperturbed_site_matches(blog, site):
    drift, error = check(blog, site)
    assert drift == [] and error is None
    lines, _ = report(compare_site(blog[1], site))
    n = len(post_files(site))
    assert lines[-2:] == ["10 of 10 observables match the published data.",
                          f"{n} of {n} published files match a fresh build."]


def test_a_cell_of_values_csv(blog, site):
    csv_path = site / "posts/decay/data/values.csv"
    seed1 = csv_path.read_text().splitlines()[2].split(",")[2]
    edit(csv_path, seed1, seed1[:-1] + str((int(seed1[-1]) + 1) % 10))
    drift, error = check(blog, site)
    row = only_row(drift, "decay/data/values.csv  row 2 (seed-1), column final_loss")
    assert row.endswith("posts/decay/data/values.csv")
    assert error == "1 published file(s) differ from a fresh build"


def test_a_cell_of_a_runs_scalars_csv(blog, site):
    path = site / "posts/decay/data/seed-0/scalars.csv"
    path.write_text(scale_loss(path.read_text(), 3, 1.001))
    drift, error = check(blog, site)
    row = only_row(drift, "decay/seed-0  series loss[3]")
    assert row.endswith("posts/decay/data/seed-0/scalars.csv")
    assert error == "1 observable(s) drifted from the published data"


def test_a_number_spelled_differently_in_a_runs_scalars_csv(blog, site):
    """The same float, other bytes: the series match, the file a reader gets does not."""
    path = site / "posts/decay/data/seed-0/scalars.csv"
    first = path.read_text().splitlines()[1].split(",")[1]            # 0.98...
    respelled = f"{first[2]}.{first[3:]}e-01"
    assert float(respelled) == float(first)
    edit(path, f"\n0,{first}\n", f"\n0,{respelled}\n")
    drift, error = check(blog, site)
    only_row(drift, "decay/data/seed-0/scalars.csv  row 1 (0), column loss ")
    assert error == "1 published file(s) differ from a fresh build"


def test_a_runs_manifest(blog, site):
    path = site / "posts/decay/data/seed-1/manifest.json"
    edit(path, '"steps": 20', '"steps": 21', count=2)
    drift, error = check(blog, site)
    assert len(drift) == 2, drift     # params and inputs.params
    assert drift[0].startswith("decay/data/seed-1/manifest.json  inputs.params.steps, line ")
    assert drift[1].startswith("decay/data/seed-1/manifest.json  params.steps, line ")
    assert error == "1 published file(s) differ from a fresh build"


def test_a_checksum_in_a_manifest(blog, site):
    path = site / "posts/decay/data/seed-0/manifest.json"
    sha = json.loads(path.read_text())["files"]["scalars.csv"]["sha256"]
    edit(path, sha, sha[::-1])
    drift, _ = check(blog, site)
    only_row(drift, "decay/data/seed-0/manifest.json  files.scalars.csv.sha256, line ")


def test_a_member_of_a_figure_data_zip(blog, site):
    rezip(site / "posts/decay/data/loss.zip", "seed-1/scalars.csv",
          lambda text: text.replace("\n3,0.", "\n3,1.", 1))
    drift, error = check(blog, site)
    only_row(drift, "decay/data/loss.zip  seed-1/scalars.csv: row 4 (3), column loss")
    assert error == "1 published file(s) differ from a fresh build"


def test_a_checksum_inside_a_figure_data_zip(blog, site):
    rezip(site / "posts/decay/data/loss.zip", "seed-0/manifest.json",
          lambda text: change_json(text, lambda m: m["files"]["scalars.csv"].update(
              bytes=m["files"]["scalars.csv"]["bytes"] + 1)))
    drift, _ = check(blog, site)
    only_row(drift, "decay/data/loss.zip  seed-0/manifest.json: files.scalars.csv.bytes, line ")


def test_reproduce_zip_code_and_data(blog, site):
    bundle = site / "posts/decay/reproduce.zip"
    rezip(bundle, "decay/code/decay.py", lambda text: text.replace('"rate": 0.5', '"rate": 0.6'))
    rezip(bundle, "decay/data/values.csv", lambda text: text.replace(",2.0\n", ",2.5\n", 1))
    drift, error = check(blog, site)
    assert len(drift) == 2, drift
    assert drift[0].startswith("decay/reproduce.zip  decay/code/decay.py: line 10 ")
    assert drift[1].startswith("decay/reproduce.zip  decay/data/values.csv: row 1 (seed-0), "
                               "column half_life ")
    assert error == "1 published file(s) differ from a fresh build"


def test_the_notebook_and_a_figures_code(blog, site):
    edit(site / "posts/decay/decay.ipynb", "RERUN = False", "RERUN = True")
    edit(site / "posts/decay/code/loss.py", 'ax.set_xlabel("step")', 'ax.set_xlabel("steps")')
    drift, error = check(blog, site)
    assert [row.split()[0] for row in drift] == ["decay/code/loss.py", "decay/decay.ipynb"]
    assert "cells.source, line " in drift[1]
    assert error == "2 published file(s) differ from a fresh build"


def test_a_number_printed_on_the_page(blog, site):
    edit(site / "posts/decay/index.html", ">0.104 ± ", ">0.105 ± ")
    drift, error = check(blog, site)
    row = only_row(drift, "decay/index.html  value 1 (final_loss), line ")
    assert "0.104" in row and "0.105" in row
    assert error == "1 published file(s) differ from a fresh build"


def test_a_missing_and_an_extra_file(blog, site):
    (site / "posts/decay/data/seed-1/arrays/noise.npy").unlink()
    (site / "posts/decay/data/stray.txt").write_text("not from the build\n")
    drift, error = check(blog, site)
    assert [row.split()[:5] for row in drift] == [
        ["decay/seed-1", "array", "noise.npy", "missing", "present"],
        ["decay/data/stray.txt", "whole", "file", "present", "not"]]
    assert drift[0].endswith("posts/decay/data/seed-1/arrays/noise.npy")
    assert error == ("1 observable(s) drifted from the published data; "
                     "1 published file(s) differ from a fresh build")


def test_any_flipped_byte_of_any_published_file_is_reported(blog, site):
    """Eight bytes of every file of the post, one at a time: each is a row naming the file."""
    rng = random.Random(12)
    files = post_files(site)
    # the page, values.csv, every seed's data, figures, zips, code, the runtime, reproduce.zip
    assert len(files) >= 23
    for path in files:
        original = path.read_bytes()
        for offset in rng.sample(range(len(original)), 8):
            flipped = bytearray(original)
            flipped[offset] ^= 0x01
            path.write_bytes(bytes(flipped))
            drift, error = check(blog, site)
            rel = path.relative_to(site).as_posix()
            assert drift and error and all(row.endswith(rel) for row in drift), (rel, offset,
                                                                                  drift)
        path.write_bytes(original)


def test_a_tolerance_accepts_what_follows_from_numbers_within_it(blog, site):
    """Within the tolerance: the numbers, the checksums of the files they are in, the zip
    around them, JSON formatting and the figures.  Past it, or a checksum that is not the
    published file's: drift."""
    run = site / "posts/decay/data/seed-1"
    values = json.loads((run / "values.json").read_text())
    values["final_loss"] *= 1.01
    (run / "values.json").write_text(json.dumps(values))      # reformatted, too
    data = (run / "values.json").read_bytes()
    listed = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    edit_json(run / "manifest.json", lambda m: m["files"].update({"values.json": listed}))
    rezip(site / "posts/decay/data/loss.zip", "seed-1/scalars.csv",
          lambda text: scale_loss(text, 3, 1.1))
    edit(site / "posts/decay/figures/loss.svg", "<svg", "<svg ")
    assert check(blog, site, tolerance=0.2) == ([], None)
    drift, _ = check(blog, site, tolerance=0.05)
    assert [row.split()[:2] for row in drift] == [["decay/data/loss.zip", "seed-1/scalars.csv:"]]
    drift, _ = check(blog, site, tolerance=0.005)
    assert [row.split()[:2] for row in drift] == [["decay/seed-1", "value"],
                                                 ["decay/data/loss.zip", "seed-1/scalars.csv:"]]
    # a size that is not the published file's: the rebuilt size and checksum are not taken
    edit_json(run / "manifest.json", lambda m: m["files"]["values.json"].update(bytes=1))
    drift, _ = check(blog, site, tolerance=0.2)
    assert [row.split()[:2] for row in drift] == [
        ["decay/data/seed-1/manifest.json", "files.values.json.bytes"],
        ["decay/data/seed-1/manifest.json", "files.values.json.sha256"]]


def test_a_tolerance_on_printed_numbers_allows_their_rounding(blog, site):
    edit(site / "posts/decay/index.html", ">0.104 ± ", ">0.105 ± ")
    assert check(blog, site, tolerance=1e-9) == ([], None)      # one unit of the last digit
    edit(site / "posts/decay/index.html", ">0.105 ± ", ">0.106 ± ")
    drift, _ = check(blog, site, tolerance=1e-9)
    only_row(drift, "decay/index.html  value 1 (final_loss)")


@pytest.mark.parametrize("old, new, where, numbers", [
    ("Figure 1.</a>", "Figure 2.</a>", "line {line}", "2 1"),                  # a figure number
    ('datetime="2026-01-08"', 'datetime="2026-02-08"', "line {line}", "02 01"),   # a date
    ("Ada Lovelace (2026)", "Ada Lovelace (2027)", "line ", "2027 2026"),     # a year
    ("holds on 2 of 2 runs", "holds on 2 of 3 runs", "line ", "3 2"),         # a count of runs
    ("<td>–</td><td>2</td>", "<td>–</td><td>3</td>", "line {line}", "3 2"),       # seeds, seed table
    ("over 2 seed(s)", "over 3 seed(s)", "value 1 (final_loss), line {line}", "3 2"),   # ... title
    (" (n=2)</a>", " (n=3)</a>", "value 1 (final_loss), line {line}", "3 2"),     # ... value's text
    (">0.5</a>", ">0.51</a>", "param 3 (rate), line {line}", "0.51 0.5"),         # a printed param
], ids=["figure", "date", "year", "runs", "seed-table-n", "value-title-n", "value-n", "param"])
def test_a_tolerance_never_covers_a_number_that_is_not_measured(blog, site, old, new, where,
                                                                 numbers):
    """Only the numbers that print runs' values are measured; every other number on the
    page (and a param: an input) must match exactly, whatever the tolerance."""
    where = where.format(line=line_of(site / PAGE, old))
    edit(site / PAGE, old, new)
    for tolerance in (1e-9, 0.5):
        drift, error = check(blog, site, tolerance)
        row = only_row(drift, f"decay/index.html  {where}")
        published, rerun = numbers.split()
        assert re.search(rf" {published} +{rerun} .* DRIFT  {PAGE}$", row), row
        assert error == "1 published file(s) differ from a fresh build"


def test_a_tolerance_never_covers_numbers_in_code(blog, site):
    edit(site / "posts/decay/code/decay.py", '"rate": 0.5', '"rate": 0.51')
    rezip(site / "posts/decay/reproduce.zip", "decay/code/decay.py",
          lambda text: text.replace('"steps": 20', '"steps": 21'))
    drift, _ = check(blog, site, tolerance=0.5)
    assert [row.split()[:3] for row in drift] == [
        ["decay/code/decay.py", "line", "10"],
        ["decay/reproduce.zip", "decay/code/decay.py:", "line"]], drift


def test_a_tolerance_covers_each_measured_number_the_page_prints(blog, site):
    """A value's text and the min in its title, a claim's number and the seed table's mean
    and std, each moved past their rounding but within a 2 % tolerance: accepted; without
    the tolerance, or moved past it, drift at each."""
    page = site / PAGE
    claim, table = line_of(page, "final_loss = 0.0958<"), line_of(page, "<td>0.104</td>")
    edit(page, ">0.104 ± ", ">0.106 ± ")
    edit(page, "min 0.0958,", "min 0.0961,")
    edit(page, "final_loss = 0.0958<", "final_loss = 0.0961<")
    edit(page, "<td>0.104</td><td>0.0118</td>", "<td>0.106</td><td>0.0120</td>")
    assert check(blog, site, tolerance=0.02) == ([], None)
    drift, error = check(blog, site, tolerance=1e-9)
    assert [row.split("  ")[1].split(", line")[0] for row in drift] == [
        "value 1 (final_loss)", "value 1 (final_loss)", f"line {claim}", f"line {table}",
        f"line {table}"], drift
    assert all(row.endswith(PAGE) for row in drift)
    assert error == "1 published file(s) differ from a fresh build"
    edit(page, ">0.106 ± ", ">0.110 ± ")     # 5.8 %: past the tolerance and the rounding
    drift, _ = check(blog, site, tolerance=0.02)
    row = only_row(drift, "decay/index.html  value 1 (final_loss), line ")
    assert "0.104" in row and "0.11" in row


def test_a_tolerance_covers_a_fits_exponent_not_its_count_of_runs(tmp_path):
    """fit() is not in the sample: its markup, as render/page.py writes it, compared alone."""
    def page(exponent: str, runs: int) -> bytes:
        title = (f"t ∝ wd^k: least-squares fit of log t on log wd over {runs} runs "
                 "(every seed), 95 % interval")
        return f'<p>a = <span class="fit" title="{title}">{exponent}</span></p>\n'.encode()

    rules = Rules(0.02, tmp_path, lambda rel: None)
    published = page("−0.82 ± 0.10", 9)
    assert compare_file("index.html", published, page("−0.83 ± 0.10", 9), rules) == []
    assert [row[1:3] for row in compare_file("index.html", published,
                                             page("−0.90 ± 0.10", 9), rules)] == [("0.82", "0.90")]
    assert [row[:3] for row in compare_file("index.html", published,
                                            page("−0.82 ± 0.10", 10), rules)] == [
        ("fit 1 (t ∝ wd^k), line 1", "9", "10")]


def test_the_command_passes_then_fails_on_a_published_value(blog, tmp_path):
    """End to end: exit 0 on the site as built, 1 with the drift table when values.csv is
    edited; each run reruns once, in a scratch cache (the blog's cache and site untouched)."""
    root, _, counter = blog
    copy = tmp_path / "blog"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".physai-cache"))
    cache = sorted(p.name for p in (root / ".physai-cache/runs").iterdir())
    before = runs_counted(counter)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHYSAI_TEST_COUNTER", str(counter))
        result = cli("verify", "--root", copy)
        assert result.exit_code == 0, result.output
        n = len(post_files(copy / "site"))
        assert "10 of 10 observables match the published data.\n" \
               f"{n} of {n} published files match a fresh build.\n" in result.output
        edit(copy / POST / "data/values.csv", ",2.0\n", ",2.5\n")
        result = cli("verify", "--root", copy, "decay")
    assert result.exit_code == 1
    drift = [line for line in result.output.splitlines() if "DRIFT" in line]
    assert re.match(r"decay/data/values\.csv  row 1 \(seed-0\), column half_life +2\.5 +2\.0 ",
                    only_row(drift, "decay/data/values.csv"))
    assert f"{n - 1} of {n} published files match a fresh build." in result.output
    assert result.output.endswith("Error: 1 published file(s) differ from a fresh build\n")
    assert runs_counted(counter) == before + 4
    assert sorted(p.name for p in (root / ".physai-cache/runs").iterdir()) == cache
    assert not (copy / ".physai-cache").exists()
