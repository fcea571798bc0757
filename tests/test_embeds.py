"""Posts that build on posts: another post's figure and value, embedded with a link back,
re-rendered when that post's results change, and a clear error for what does not exist."""

from __future__ import annotations

import pytest

from conftest import FAST_EXPERIMENT, FAST_POST, make_blog
from physai_blog.build import build
from physai_blog.errors import PhysaiError

NEXT = '''\
---
title: Next
date: 2026-02-02
---

Building on the last post:

{{ figure("fast:curve", caption="The curve of the first post.") }}

Its total was {{ value("fast:total") }}.
'''


def blog(tmp_path, body=NEXT):
    return make_blog(tmp_path / "blog", {"2026-02-01-fast.md": FAST_POST,
                                         "2026-02-02-next.md": body})


def test_a_post_embeds_another_posts_figure_and_value_with_a_link_back(tmp_path):
    root = blog(tmp_path)
    build(root)
    html = (root / "site/posts/next/index.html").read_text()
    assert '<img src="../../posts/fast/figures/curve.svg"' in html
    assert 'data-chart="../../posts/fast/figures/curve.js"' in html
    assert 'href="../../posts/fast/data/curve.zip"' in html and 'href="../../posts/fast/code/curve.py"' in html
    assert '<a class="embed-source" href="../../posts/fast/index.html">Fast</a>' in html
    assert 'id="fig-fast--curve"' in html and "The curve of the first post." in html
    assert '<a class="value" href="../../posts/fast/data/values.csv"' in html and ">5<" in html
    assert "assets/chart.js" in html          # the embedded figure is interactive here too
    assert (root / "site/posts/fast/figures/curve.js").exists()

    # A change in the source post's results re-renders the post that embeds them.
    (root / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace('"n": 5', '"n": 7'))
    build(root)
    assert ">7<" in (root / "site/posts/next/index.html").read_text()


@pytest.mark.parametrize("body, message", [
    ('{{ figure("nope:curve") }}', "there is no published post 'nope' to embed from"),
    ('{{ figure("fast:curv") }}', "unknown figure 'curv'; did you mean 'curve'?"),
    ('{{ value("fast:totl") }}', "unknown value 'totl'"),
])
def test_an_embed_of_what_does_not_exist_names_the_embedding_line(tmp_path, body, message):
    root = blog(tmp_path, NEXT.replace('{{ figure("fast:curve", caption="The curve of the '
                                       'first post.") }}', body))
    with pytest.raises(PhysaiError) as err:
        build(root)
    assert "posts/2026-02-02-next.md:8" in str(err.value.message) and message in err.value.message


def test_doctor_leaves_embeds_to_the_build(tmp_path):
    from conftest import cli

    root = blog(tmp_path)
    build(root)
    result = cli("doctor", "--root", root)
    assert "needs an experiment" not in result.output and "unknown figure" not in result.output


CLAIMS = NEXT + '''
{{ claim("fast:total >= 5", "the first post's total is at least five") }}
'''


def test_a_claim_over_another_posts_runs_is_checked_and_failed_here(tmp_path):
    root = blog(tmp_path, CLAIMS)
    build(root)
    html = (root / "site/posts/next/index.html").read_text()
    assert '<span class="claim-mark">✓</span> the first post&#x27;s total is at least five</a>' \
           '<sup class="embed-note">[<a class="embed-source" href="../../posts/fast/index.html">' \
           'Fast</a>]</sup>' in html
    assert 'id="claim-1"' in html and "total = 5" in html      # tabled here, with its numbers
    # The source post's runs change: the claim is checked again, and now fails at its line.
    (root / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace('"n": 5', '"n": 4'))
    with pytest.raises(PhysaiError) as err:
        build(root)
    assert "posts/2026-02-02-next.md:12: claim fails: total >= 5" in err.value.message


@pytest.mark.parametrize("body, message", [
    ('{{ claim("fast:totl > 1", "t") }}', "totl"),
    ('{{ claim("gone:total > 1", "t") }}', "there is no published post 'gone' to embed from"),
])
def test_a_claim_over_what_does_not_exist_names_the_embedding_line(tmp_path, body, message):
    root = blog(tmp_path, NEXT + "\n" + body + "\n")
    with pytest.raises(PhysaiError) as err:
        build(root)
    assert "posts/2026-02-02-next.md:12" in err.value.message and message in err.value.message


def test_a_colon_inside_a_claims_own_expression_is_not_an_embed(tmp_path):
    """`total[1:]` is this post's claim (and an error of its own), not an embed from `total[1`."""
    root = make_blog(tmp_path / "blog", {"2026-02-01-fast.md": FAST_POST + (
        '\n{{ claim("total[1:] == 5", "a slice") }}\n')})
    with pytest.raises(PhysaiError) as err:
        build(root)
    assert "posts/2026-02-01-fast.md:11: claim 'total[1:] == 5'" in err.value.message
    assert "embed" not in err.value.message


@pytest.mark.parametrize("body", [
    "No call here, though figures and values are named.",
    'Plain {{ figure("loss") }} and {{ value("k2", k=1) }}.',
    'From {{ figure( "other:loss") }}, {{ value(\'b-2:k2\', k=1) }}, {{ claim("c_3:x[1:]", "t") }}.',
    "A figure(without a quote) and claim(x: y).",
])
def test_the_embed_scan_skips_bodies_without_a_call_and_finds_the_same(body):
    """The substring pre-check of embedded_slugs equals the full regex scan."""
    from physai_blog.render.embeds import EMBED_CALL, embedded_slugs

    assert embedded_slugs(body) == sorted(set(EMBED_CALL.findall(body)))
