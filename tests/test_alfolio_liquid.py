"""al-folio's Liquid inside a post, built: includes with all their parameters, citations,
links between posts, raw and highlight blocks, site variables, chart fences, front-matter
keys, ``markdown: kramdown``; and each unsupported use as one error line naming file:line."""

from __future__ import annotations

import textwrap

import pytest
from conftest import FAST_EXPERIMENT, make_blog

from physai_blog.build import build
from physai_blog.errors import InputError

BIB = """\
@article{liu2022omnigrok,
  title={Omnigrok: Grokking Beyond Algorithmic Data},
  author={Liu, Ziming and Michaud, Eric J. and Tegmark, Max},
  journal={ICLR},
  year={2023}
}
"""
FIRST = """\
---
layout: post
title: How to begin
date: 2026-01-02
description: a first post
tags: [Physics-of-AI]
categories: AI
giscus_comments: true
related_posts: false
toc:
  sidebar: left
featured: true
thumbnail: assets/img/pic.png
pretty_table: true
authors:
  - name: Ziming Liu
tabs: true
chart:
  plotly: true
mermaid:
  enabled: true
images:
  compare: true
pseudocode: true
typograms: true
map: true
---

Intro line
- top item
  - nested item

In the discovery of the $$t\\sim \\gamma^{-1}$$ law, see {% cite liu2022omnigrok %}.

{% include figure.liquid path="assets/img/pic.png" class="img-fluid rounded" alt="A plot" title="hover" zoomable=true width="300" height="200" loading="eager" %}

{% include figure.liquid path="assets/img/pic.png" caption="With a caption." %}

{% include video.liquid path="assets/video/clip.mp4" class="img-fluid" controls=true autoplay=true loop=true muted=true caption="A clip." %}

{% include video.liquid path="https://www.youtube.com/embed/abc" %}

{% include audio.liquid path="assets/audio/sound.mp3" controls=true %}

The full entry: {% reference liu2022omnigrok %}

See [the next post]({% post_url 2026-01-03-next %}), [again]({% link _posts/2026-01-03-next.md %}),
[a file]({{ site.baseurl }}/assets/img/pic.png) and [it once more]({{ '/assets/img/pic.png' | relative_url }}).
Title: {{ page.title }}.

{% raw %}Liquid shown as is: {{ site.baseurl }} and {% cite nothing %}.{% endraw %}

{% highlight python %}
def f(x):
    return x
{% endhighlight %}

```plotly
{"data": [{"y": [1, 2]}]}
```

```liquid
{% raw %}{% include figure.liquid path="x.png" %}{% endraw %}
```
"""
NEXT = """\
---
layout: post
title: Next
date: 2026-01-03
---

Back to [the first]({% post_url 2026-01-02-first %}).
"""


@pytest.fixture(scope="module")
def alfolio_site(tmp_path_factory):
    root = make_blog(tmp_path_factory.mktemp("alfolio") / "blog",
                     posts={"2026-01-02-first.md": FIRST, "2026-01-03-next.md": NEXT},
                     experiments={},
                     config="title: T\nbase_url: https://example.org/t/\n"
                            "bibliography: refs.bib\nmarkdown: kramdown\n")
    (root / "refs.bib").write_text(BIB)
    for rel in ("assets/img/pic.png", "assets/video/clip.mp4", "assets/audio/sound.mp3"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"\x89PNG not really")
    report = build(root)
    return root, report, (root / "site/posts/first/index.html").read_text()


def test_front_matter_keys_of_al_folio_are_accepted(alfolio_site):
    _, report, _ = alfolio_site
    assert not [w for w in report.warnings if "unknown front matter key" in w]


def test_kramdown_structure_in_a_built_post(alfolio_site):
    _, _, html = alfolio_site
    assert "<p>Intro line</p>\n<ul>\n<li>top item<ul>\n<li>nested item</li>" in html
    assert 'In the discovery of the <span class="math inline">' in html
    assert '<div class="math display">' not in html


def test_includes_take_every_parameter_and_no_caption_no_label(alfolio_site):
    _, _, html = alfolio_site
    assert ('<figure class="figure" id="fig-pic"><img src="../../assets/img/pic.png" '
            'alt="A plot" loading="eager" class="img-fluid rounded" title="hover" width="300" '
            'height="200" data-zoomable></figure>') in html
    assert 'Figure 1.</a> With a caption.</figcaption>' in html
    assert "Figure 2." not in html
    root = alfolio_site[0]
    # video.liquid and audio.liquid: local files become media, an embed elsewhere a link
    assert ('<figure class="video"><video src="../../assets/video/clip.mp4" class="img-fluid" '
            'autoplay controls muted loop></video><figcaption class="caption">A clip.'
            '</figcaption></figure>') in html
    assert '<a href="https://www.youtube.com/embed/abc">' in html and "<iframe" not in html
    assert '<audio src="../../assets/audio/sound.mp3" controls></audio>' in html
    for rel in ("assets/video/clip.mp4", "assets/audio/sound.mp3", "assets/img/pic.png"):
        assert (root / "site" / rel).is_file()


def test_cite_and_reference_use_the_bibliography(alfolio_site):
    _, _, html = alfolio_site
    assert '<span class="cite">[<a href="#ref-liu2022omnigrok">1</a>]</span>' in html
    assert '<span class="reference">' in html and "Omnigrok" in html


def test_links_between_posts_and_site_variables_are_relative(alfolio_site):
    root, _, html = alfolio_site
    assert '<a href="../../posts/next/index.html">the next post</a>' in html
    assert '<a href="../../posts/next/index.html">again</a>' in html
    assert html.count('href="../../assets/img/pic.png"') == 2
    assert "Title: How to begin." in html
    assert '<a href="../../posts/first/index.html">the first</a>' in \
        (root / "site/posts/next/index.html").read_text()


def test_raw_highlight_and_chart_fences(alfolio_site):
    _, _, html = alfolio_site
    assert "Liquid shown as is: {{ site.baseurl }} and {% cite nothing %}." in html
    assert '<span class="k">def</span>' in html            # the highlight block, highlighted
    assert "{% endhighlight %}" not in html
    assert '<p class="chart-note">An al-folio <code>plotly</code> block' in html
    assert "{% raw %}" not in html and "include figure.liquid path=" in html


def test_a_physai_figure_without_caption_has_no_label(tmp_path):
    root = make_blog(tmp_path / "blog", experiments={
        "fast.py": FAST_EXPERIMENT.replace('caption="A curve."', 'caption=""')})
    build(root)
    html = (root / "site/posts/fast/index.html").read_text()
    assert 'id="fig-curve"' in html and "Figure 1." not in html
    assert '<figcaption><span class="fig-links">' in html
    assert "<li>(curve): " in html


POST = "posts/2026-01-02-p.md"


@pytest.mark.parametrize("line,expected", [
    ("{% for x in posts %}", f"{POST}:6: unsupported Liquid tag {{% for x in posts %}}"),
    ("{% post_url 2026-09-09-nope %}", f"{POST}:6: {{% post_url 2026-09-09-nope %}}: no post "
                                       "'2026-09-09-nope' in posts/"),
    ('{% include figure.liquid path="a.png" captoin="x" %}',
     f"{POST}:6: figure.liquid has no parameter 'captoin'; did you mean 'caption'?"),
    ('{% include youtube.liquid id="x" %}', f"{POST}:6: unsupported include in"),
    ("{{ page.foo }}", f"{POST}:6: unsupported Liquid output {{{{ page.foo }}}}"),
    ("{% raw %} never closed", f"{POST}:6: {{% raw %}} without its {{% endraw %}}"),
    ("{% cite a --file other %}", f"{POST}:6: {{% cite a --file other %}}: write"),
    ("{% link about.md %}", f"{POST}:6: {{% link about.md %}}: only posts and files"),
    ("{% reference nokey %}", f"{POST}:6: unknown citation key 'nokey'"),
])
def test_unsupported_liquid_is_one_error_naming_file_and_line(tmp_path, line, expected):
    post = textwrap.dedent("""\
        ---
        title: P
        date: 2026-01-02
        ---

        """) + line + "\n"
    root = make_blog(tmp_path / "blog", posts={"2026-01-02-p.md": post}, experiments={},
                     config="title: T\nbibliography: refs.bib\n")
    (root / "refs.bib").write_text(BIB)
    (root / "a.png").write_bytes(b"x")
    with pytest.raises(InputError) as info:
        build(root)
    assert str(info.value.message).startswith(expected), info.value.message


def test_front_matter_markdown_overrides_the_site(tmp_path):
    body = "Intro\n- a\n  - b\n"
    root = make_blog(tmp_path / "blog", experiments={}, posts={
        "2026-01-02-k.md": "---\ntitle: K\ndate: 2026-01-02\nmarkdown: kramdown\n---\n" + body,
        "2026-01-03-p.md": "---\ntitle: P\ndate: 2026-01-03\n---\n" + body})
    build(root)
    kramdown = (root / "site/posts/k/index.html").read_text()
    default = (root / "site/posts/p/index.html").read_text()
    assert "<li>a<ul>\n<li>b</li>" in kramdown
    assert "<p>Intro\n- a\n  - b</p>" in default


def test_post_url_follows_the_permalink_setting(tmp_path):
    root = make_blog(tmp_path / "blog", experiments={}, posts={
        "2025-12-31-old.md": "---\ntitle: Old\ndate: 2025-12-31\n---\n"
                             "See [new]({% post_url 2026-01-02-new %}) and "
                             "[a file]({{ site.baseurl }}/assets/x.pdf).\n",
        "2026-01-02-new.md": "---\ntitle: New\ndate: 2026-01-02\n---\nNew.\n"},
        config="title: T\npermalink: /blog/:year/:title/\n")
    (root / "assets").mkdir()
    (root / "assets/x.pdf").write_bytes(b"%PDF")
    report = build(root)
    html = (root / "site/blog/2025/old/index.html").read_text()
    assert '<a href="../../../blog/2026/new/index.html">new</a>' in html
    assert '<a href="../../../assets/x.pdf">a file</a>' in html
    assert (root / "site/assets/x.pdf").is_file()
    assert not [w for w in report.warnings if "resolves to nothing" in w or "old.md" in w]


def test_doctor_follows_links_between_posts_and_names_a_bad_one(tmp_path):
    from physai_blog.checks.doctor import doctor

    root = make_blog(tmp_path / "blog", experiments={}, posts={
        "2026-01-02-a.md": "---\ntitle: A\ndate: 2026-01-02\n---\n[b]({% post_url 2026-01-03-b %})"
                           "\n\n{% post_url 2026-01-04-c %}\n",
        "2026-01-03-b.md": "---\ntitle: B\ndate: 2026-01-03\nmarkdown: kramdown\n---\n"
                           "{% include figure.liquid path=\"x.png\" %}\n"})
    problems = doctor(root).problems
    assert problems[0].startswith("posts/2026-01-02-a.md:7: {% post_url 2026-01-04-c %}: no post")
    assert problems[1] == "posts/2026-01-03-b.md:6: figure file 'x.png' not found"
    assert len(problems) == 2


def test_physai_directives_work_in_a_kramdown_post_even_inside_lists(tmp_path):
    root = make_blog(tmp_path / "blog", posts={"2026-02-01-fast.md": """\
        ---
        title: Fast
        date: 2026-02-01
        experiment: experiments/fast.py
        markdown: kramdown
        ---

        Results:
        - the figure, in an item:

          {{ figure("curve") }}
        - the total is {{ value("total") }}
          - and {{ claim("total > 3", "it is big") }}
        """})
    build(root)
    html = (root / "site/posts/fast/index.html").read_text()
    assert "<p>Results:</p>\n<ul>\n<li>\n<p>the figure, in an item:</p>\n" \
           '<figure class="figure" id="fig-curve"' in html
    # as kramdown: the item after a loose one keeps its paragraph
    assert '<li>\n<p>the total is <a class="value"' in html
    assert '<ul>\n<li>and <a class="claim claim-pass"' in html
