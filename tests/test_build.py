"""The sample blog built end to end: pages, figures, downloads, citation, math, feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

HREF = re.compile(r'(?:href|src)="([^"]+)"')


def page(root: Path, rel: str) -> str:
    return (root / "site" / rel).read_text()


def test_build_reports_work(built_sample):
    root, report = built_sample
    assert report.posts == ["decay", "notes"]          # newest first
    assert report.runs_total == 2 and len(report.runs_executed) == 2
    assert report.figures_drawn == ["decay/loss"]
    assert report.ok and report.warnings == []


def test_post_page_golden_structure(built_sample):
    root, _ = built_sample
    html = page(root, "posts/decay/index.html")
    # numbered figure with caption and the three links
    assert '<figure class="figure" id="fig-loss" data-chart="figures/loss.js">' \
           '<img src="figures/loss.svg"' in html
    assert 'Figure 1.</a> Loss against step; band = min..max over seeds.' in html
    assert '<a href="data/loss.zip" download>data</a> · <a href="code/loss.py">code</a> · ' \
           '<a href="code/decay.py">experiment</a>' in html
    # values over two seeds: mean ± std (n=2), linked to the data
    assert re.search(r'<a class="value" href="data/values.csv" title="final_loss: over 2 '
                     r'seed\(s\)[^"]*">0\.\d{3} ± 0\.\d{3} \(n=2\)</a>', html)
    # a checked claim, with its numbers per seed
    assert '<span class="claim-mark">✓</span> the loss ends small</a>' in html
    assert re.search(r"<td>seed-1</td><td>✓</td><td>final_loss = 0\.\d+</td>", html)
    # math as MathML, inline and display, with no script
    assert '<span class="math inline"><math' in html and '<div class="math display"><math' in html
    assert "<mfrac>" in html and "<script src=\"http" not in html
    # highlighted code
    assert '<div class="highlight"><pre>' in html and '<span class="k">def</span>' in html
    # citation block: BibTeX and plain text from front matter and base_url
    assert "@misc{lovelace2026decaying," in html
    assert "url          = {https://example.org/sample/posts/decay/}," in html
    assert "Ada Lovelace (2026). A decaying loss. Sample Phenomena. " \
           "https://example.org/sample/posts/decay/" in html
    # citations numbered by first appearance, with the references list from the .bib file
    assert '<span class="cite">[<a href="#ref-power2022grokking">1</a>, ' \
           '<a href="#ref-liu2023omnigrok">2</a>]</span>' in html
    assert '<li id="ref-power2022grokking">Alethea Power, Yuri Burda' in html
    # the reproduce downloads are linked from the page
    assert '<a href="reproduce.zip" download>reproduce.zip</a>' in html
    assert '<a href="decay.ipynb" download>decay.ipynb</a>' in html
    # seed-sensitivity table
    assert "<h2>Seed sensitivity</h2>" in html and "<code>final_loss</code>" in html


def test_every_relative_link_resolves(built_sample):
    root, _ = built_sample
    site = root / "site"
    checked = 0
    for html_file in site.rglob("*.html"):
        for link in HREF.findall(html_file.read_text()):
            if link.startswith("#"):
                continue
            if link.startswith(("http:", "https:")):   # external references (arXiv, DOI)
                assert "example.org/sample" not in link, (html_file, link)
                continue
            assert not link.startswith(("/", "//")), (html_file, link)
            target = (html_file.parent / link.split("#")[0]).resolve()
            assert target.is_file(), f"{html_file.relative_to(site)} links to missing {link}"
            checked += 1
    assert checked > 40


def test_downloads_are_the_raw_data_and_code(built_sample):
    root, _ = built_sample
    post = root / "site/posts/decay"
    assert (post / "data/seed-0/scalars.csv").read_text().startswith("step,loss\n0,")
    manifest = (post / "data/seed-0/manifest.json").read_text()
    assert '"seed": 0' in manifest and '"sha256"' in manifest and "wall_time" not in manifest
    assert '"torch"' in manifest and '"python"' in manifest
    with zipfile.ZipFile(post / "data/loss.zip") as zf:
        names = set(zf.namelist())
    assert {"seed-0/scalars.csv", "seed-1/scalars.csv", "seed-0/manifest.json",
            "loss.py", "README.txt"} <= names
    assert "seed-0/arrays/noise.npy" not in names      # the figure never read it
    code = (post / "code/loss.py").read_text()
    assert "def loss_figure(data, fig):" in code and "def train" not in code
    assert "def train(params, seed, log):" in (post / "code/decay.py").read_text()
    assert (post / "code/helpers.py").is_file()
    assert (post / "figures/loss.svg").read_text().lstrip().startswith("<?xml")
    values = (post / "data/values.csv").read_text().splitlines()
    assert values[0] == "run,seed,final_loss,half_life" and values[1].startswith("seed-0,0,")


def test_index_tags_archive_feed(built_sample):
    root, _ = built_sample
    index = page(root, "index.html")
    assert index.index("A decaying loss") < index.index("Notes without an experiment")
    assert "The smallest phenomenon we could find." in index
    assert 'href="tags/optimisation/index.html"' in index
    assert "A decaying loss" in page(root, "tags/toy/index.html")
    assert "Notes without an experiment" not in page(root, "tags/toy/index.html")
    assert "<h2>2026</h2>" in page(root, "archive/index.html")
    feed = ET.fromstring((root / "site/feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [e.findtext("a:id", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert ids == ["https://example.org/sample/posts/decay/",
                   "https://example.org/sample/posts/notes/"]
    assert feed.findtext("a:updated", namespaces=ns) == "2026-01-08T00:00:00Z"


def test_text_post_leaves_code_spans_alone(built_sample):
    root, _ = built_sample
    html = page(root, "posts/notes/index.html")
    assert "<code>{{ figure(\"x\") }}</code>" in html
    assert "Cite this post" in html and "Seed sensitivity" not in html


def test_al_folio_include_renders_a_figure(tmp_path):
    from conftest import make_blog
    from physai_blog.build import build

    root = make_blog(tmp_path / "blog", posts={"2026-01-01-img.md": """\
        ---
        layout: post
        title: Picture
        date: 2026-01-01
        ---

        {% include figure.liquid loading="eager" path="assets/img/pic.svg" class="img-fluid" caption="A picture." %}
        """}, experiments={})
    (root / "assets/img").mkdir(parents=True)
    (root / "assets/img/pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    build(root)
    html = page(root, "posts/img/index.html")
    assert '<img src="../../assets/img/pic.svg" alt="A picture."' in html
    assert "Figure 1.</a> A picture." in html
    assert (root / "site/assets/img/pic.svg").is_file()
