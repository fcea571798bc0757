"""al-folio both ways: ``import alfolio`` (tests/alfolio_site into a physai blog that builds
at once) and ``export alfolio`` (the sample blog into a copy of that site, built by Debian's
``jekyll``: every image and download resolves, the site's own posts are untouched)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import cli
from physai_blog.alfolio.exporter import MANIFEST, export_alfolio
from physai_blog.alfolio.importer import import_alfolio
from physai_blog.errors import PhysaiError

SITE = Path(__file__).parent / "alfolio_site"
HOW_TO = "_posts/2026-01-02-physics-of-ai-how-to-begin.md"
MINDSET = "_posts/2026-01-01-physics-of-ai.md"
BUILT = shutil.ignore_patterns("_site", ".jekyll-cache")   # a jekyll build run by hand


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    src = Path(shutil.copytree(SITE, tmp_path_factory.mktemp("src") / "site", ignore=BUILT))
    before = tree(src)
    dest = tmp_path_factory.mktemp("dest") / "blog"
    result = cli("import", "alfolio", src, dest)
    return src, before, dest, result


def test_import_copies_posts_assets_bibliography_and_settings(imported):
    src, before, dest, result = imported
    assert result.exit_code == 0, result.output
    assert tree(src) == before                                   # SRC only read
    for rel in (HOW_TO, MINDSET):
        assert (dest / "posts" / Path(rel).name).read_bytes() == (SITE / rel).read_bytes()
    for rel in ("assets/img/blogs/physics-of-ai.png",
                "assets/img/blogs/physics-of-ai-recipe/physics-of-ai-recipe.png",
                "_bibliography/papers.bib"):
        assert (dest / rel).read_bytes() == (SITE / rel).read_bytes(), rel
    assert (dest / "physai.yaml").read_text() == (
        'title: "Jane\'s notes"\nauthor: "Jane Doe"\n'
        'description: "Phenomenology of toy models"\n'
        'base_url: "https://jane.example.org/notes/"\npermalink: "/blog/:year/:title/"\n'
        'markdown: "kramdown"\nbibliography: "_bibliography/papers.bib"\n')
    assert "imported 2 post(s) and 6 file(s)" in result.output


def test_an_imported_blog_builds_at_once_and_keeps_every_url(imported):
    _, _, dest, result = imported
    site = dest / "site"
    page = (site / "blog/2026/physics-of-ai-how-to-begin/index.html").read_text()
    assert (site / "blog/2026/physics-of-ai/index.html").is_file()
    assert 'href="../../../blog/2026/physics-of-ai/index.html"' in page
    assert 'src="../../../assets/img/blogs/physics-of-ai-recipe/physics-of-ai-recipe.png"' \
        in page
    assert (site / "assets/img/blogs/physics-of-ai-recipe/physics-of-ai-recipe.png").is_file()
    assert "https://jane.example.org/notes/blog/2026/physics-of-ai-how-to-begin/" in page
    # the one link of the seeds to a post that is not in the site
    assert ("warning: posts/2026-01-01-physics-of-ai.md:98: link "
            "'/blog/2026/feature-learning-1/' resolves to nothing") in result.output


def test_import_refuses_what_is_not_al_folio_and_a_folder_in_use(tmp_path):
    with pytest.raises(PhysaiError, match="not an al-folio site .it needs _config.yml"):
        import_alfolio(tmp_path, tmp_path / "out")
    (tmp_path / "used").mkdir()
    (tmp_path / "used/x.txt").write_text("mine")
    with pytest.raises(PhysaiError, match="already exists and is not empty"):
        import_alfolio(SITE, tmp_path / "used")
    assert (tmp_path / "used/x.txt").read_text() == "mine"


def test_import_keeps_a_named_permalink_style_as_folders(tmp_path):
    src = Path(shutil.copytree(SITE, tmp_path / "site", ignore=BUILT))
    config = src / "_config.yml"
    config.write_text(config.read_text().replace("permalink: /blog/:year/:title/",
                                                 "permalink: pretty"))
    made = import_alfolio(src, tmp_path / "blog")
    assert 'permalink: "/:categories/:year/:month/:day/:title/"' in \
        (tmp_path / "blog/physai.yaml").read_text()
    assert made.notes == []


# -- export ------------------------------------------------------------------------------------

@pytest.fixture
def alfolio(tmp_path):
    return Path(shutil.copytree(SITE, tmp_path / "site", ignore=BUILT))


def test_export_refuses_a_folder_that_is_not_a_jekyll_site(built_sample, tmp_path):
    root, _ = built_sample
    result = cli("export", "alfolio", tmp_path, "--root", root)
    assert result.exit_code == 1
    assert f"{tmp_path}: not a Jekyll site (no _config.yml)" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_needs_a_build(alfolio, tmp_path):
    blog = tmp_path / "blog"
    shutil.copytree(Path(__file__).parent / "sample", blog)
    with pytest.raises(PhysaiError, match="no built posts to export; run `physai-blog build`"):
        export_alfolio(blog, alfolio)


def test_export_writes_posts_and_every_download_under_one_folder_each(built_sample, alfolio):
    root, _ = built_sample
    done = export_alfolio(root, alfolio)
    assert done.posts == ["decay", "notes"]
    post = (alfolio / "_posts/2026-01-08-decay.md").read_text()
    assert post.startswith('---\nlayout: "post"\ntitle: "A decaying loss"\ndate: 2026-01-08\n')
    assert ('{% include figure.liquid path="assets/physai/decay/figures/loss.svg" '
            'alt="Loss against step; band = min..max over seeds." caption="Figure 1. Loss '
            'against step; band = min..max over seeds."') in post
    for rel in ("reproduce.zip", "decay.ipynb", "data/values.csv", "data/loss.zip",
                "code/loss.py", "code/decay.py", "figures/loss.svg", "data/seed-0/manifest.json"):
        assert (alfolio / "assets/physai/decay" / rel).is_file(), rel
        assert f"{{{{ site.baseurl }}}}/assets/physai/decay/{rel}" in post or \
            rel.startswith(("figures/", "data/seed-0"))
    for section in ('id="references"', 'id="claims"', 'id="seed-sensitivity"',
                    'id="downloads"', 'id="cite"'):
        assert section in post
    assert 'id="explore"' not in post                   # needs this tool's own scripts
    notes = (alfolio / "_posts/2026-01-02-notes.md").read_text()
    assert '{% raw %}{{{% endraw %} figure("x") }}' in notes   # Liquid never reads our text
    owned = json.loads((alfolio / MANIFEST).read_text())["posts"]
    assert sorted(owned) == ["decay", "notes"] and len(owned["decay"]) == len(done.written) - \
        len(owned["notes"])


def test_re_export_replaces_only_its_own_files(built_sample, alfolio):
    root, _ = built_sample
    export_alfolio(root, alfolio)
    theirs = alfolio / "assets/physai/decay/mine.txt"
    theirs.write_text("the site owner's")
    manifest = json.loads((alfolio / MANIFEST).read_text())
    stale = alfolio / "assets/physai/decay/old.csv"           # written by an earlier export
    stale.write_text("old")
    manifest["posts"]["decay"]["assets/physai/decay/old.csv"] = \
        hashlib.sha256(b"old").hexdigest()
    (alfolio / MANIFEST).write_text(json.dumps(manifest))
    done = export_alfolio(root, alfolio, only="decay")
    assert done.posts == ["decay"] and done.removed == ["assets/physai/decay/old.csv"]
    assert theirs.read_text() == "the site owner's" and not stale.exists()
    assert "assets/physai/decay/mine.txt" not in done.written


def test_export_stops_before_a_file_it_did_not_write_or_one_edited_since(built_sample, alfolio):
    root, _ = built_sample
    export_alfolio(root, alfolio)
    page = alfolio / "_posts/2026-01-08-decay.md"
    page.write_text(page.read_text() + "\nAn edit by hand.\n")
    with pytest.raises(PhysaiError, match="2026-01-08-decay.md: changed since physai-blog "
                                          "exported it; nothing was exported"):
        export_alfolio(root, alfolio)
    page.unlink()
    page.write_text("someone else's post")
    (alfolio / MANIFEST).unlink()
    before = tree(alfolio)
    with pytest.raises(PhysaiError, match="2026-01-08-decay.md: exists and was not written by "
                                          "physai-blog export; nothing was exported"):
        export_alfolio(root, alfolio)
    assert tree(alfolio) == before


def jekyll_build(site: Path) -> Path:
    """Debian's jekyll builds the al-folio-shaped site; its _site/."""
    run = subprocess.run(["jekyll", "build", "--quiet"], cwd=site, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return site / "_site"


def links_resolve(built: Path, page: str) -> list[str]:
    """Every link and image of the page under the site's baseurl (/notes) is a built file."""
    urls = re.findall(r'(?:href|src)="(/notes/[^"#]*)', page)
    for url in urls:
        path = built / url.removeprefix("/notes/")
        assert path.is_file() or (path / "index.html").is_file(), url
    return urls


@pytest.mark.skipif(shutil.which("jekyll") is None,
                    reason="Debian's jekyll is not installed (make setup installs it as root)")
def test_an_exported_site_builds_with_jekyll_and_every_link_resolves(built_sample, alfolio):
    root, _ = built_sample
    mine = {rel: (alfolio / rel).read_bytes() for rel in (HOW_TO, MINDSET)}
    export_alfolio(root, alfolio)
    built = jekyll_build(alfolio)
    page = (built / "blog/2026/decay/index.html").read_text()
    assert '<figcaption class="caption">Figure 1. Loss against step' in page
    assert "0.104 ± 0.012 (n=2)" in page and "Cite this post" in page
    assert len(links_resolve(built, page)) > 10
    assert {rel: (alfolio / rel).read_bytes() for rel in mine} == mine
    assert (built / "blog/2026/physics-of-ai-how-to-begin/index.html").is_file()


@pytest.mark.skipif(shutil.which("jekyll") is None,
                    reason="Debian's jekyll is not installed (make setup installs it as root)")
def test_a_round_trip_keeps_links_between_posts(imported, alfolio):
    """An imported blog exported into an al-folio site without those posts: a link between
    two posts becomes Jekyll's post_url, and resolves in the built site."""
    _, _, blog, _ = imported
    for post in (alfolio / "_posts").iterdir():
        post.unlink()
    export_alfolio(blog, alfolio)
    text = (alfolio / HOW_TO).read_text()
    assert 'href="{% post_url 2026-01-01-physics-of-ai %}"' in text
    assert 'path="assets/physai/physics-of-ai-how-to-begin/files/assets/img/blogs/' \
           'physics-of-ai-recipe/physics-of-ai-recipe.png"' in text
    built = jekyll_build(alfolio)
    page = (built / "blog/2026/physics-of-ai-how-to-begin/index.html").read_text()
    assert 'href="/notes/blog/2026/physics-of-ai/"' in page
    links_resolve(built, page)


def test_a_stopped_export_is_run_again(built_sample, alfolio, monkeypatch):
    """Stopped after its manifest and some files: the next export finishes it."""
    from physai_blog.alfolio import exporter

    root, _ = built_sample
    real, calls = exporter._write, []

    def stop_after_three(target, value):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(target)
        return real(target, value)

    monkeypatch.setattr(exporter, "_write", stop_after_three)
    with pytest.raises(KeyboardInterrupt):
        export_alfolio(root, alfolio)
    monkeypatch.setattr(exporter, "_write", real)
    done = export_alfolio(root, alfolio)
    assert done.posts == ["decay", "notes"] and (alfolio / "_posts/2026-01-08-decay.md").is_file()
    owned = json.loads((alfolio / MANIFEST).read_text())["posts"]
    assert all(isinstance(d, str) for files in owned.values() for d in files.values())
