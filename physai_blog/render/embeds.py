"""Posts that build on posts: ``{{ figure("other-slug:name") }}``,
``{{ value("other-slug:name", ...) }}`` and ``{{ claim("other-slug:expr", "text") }}`` show
another post's published figure or value, or check a claim over its runs, with a link back.

The directive is checked and rendered by that post's own renderer (its experiment, sweep,
figures and values), under the embedding post's file name, so an error names the line that
wrote it; its links then point into the other post's folder.  A page's cache key covers the
runs and figures of every post it embeds (``embedded_slugs``): a change there re-renders it.
"""

from __future__ import annotations

import dataclasses
import re
from html import escape

from physai_blog.errors import InputError

EMBEDS = ("figure", "value", "claim")
EMBED_CALL = re.compile(r"""\b(?:figure|value|claim)\(\s*["']([A-Za-z0-9_.-]+):""")
SLUG = re.compile(r"[A-Za-z0-9_.-]+")
LINKS = re.compile(r'(\b(?:src|href|data-chart)=")(figures/|data/|code/)')
LINK_TAG = re.compile(r"\{%-?\s*(?:post_url|link)\s")


def embedded_slugs(body: str) -> list[str]:
    """The posts a post's body embeds from (a scan of its text: a miss costs a re-render at
    worst never, since an embed it misses fails as an unknown post below)."""
    # A body without any of the three call names has no embed: a substring search is far
    # cheaper than the regex, and a one-post rebuild asks this of every post.
    if not any(f"{name}(" in body for name in EMBEDS):
        return []
    return sorted(set(EMBED_CALL.findall(body)))


def links_posts(body: str) -> bool:
    """Whether a post's body links to other posts (``{% post_url %}`` or ``{% link %}``, in
    any spacing the Liquid parser accepts): its page then depends on their URLs."""
    return "{%" in body and LINK_TAG.search(body) is not None


def split(d) -> tuple[str, str] | None:
    """(slug, name) of an embedding directive, or None for a post's own."""
    if d.name not in EMBEDS or not d.args or not isinstance(d.args[0], str):
        return None
    slug, sep, name = d.args[0].partition(":")
    # A claim's expression may hold a colon of its own (x[1:], a lambda): only a slug counts.
    return (slug, name) if sep and SLUG.fullmatch(slug) else None


def source(d, slug: str, rel: str, renderers: dict, make) -> tuple:
    """(renderer, title, folder) of the post ``d`` embeds from, made once per page.
    ``make(slug)``: that, or None when the post is not built."""
    if slug not in renderers:
        made = make(slug)
        if made is None:
            raise InputError(rel, d.line, f"{d.name}({d.args[0]!r}): there is no published "
                                          f"post {slug!r} to embed from")
        renderer, title, folder = made
        renderer.post = dataclasses.replace(renderer.post, rel=rel)   # errors name this post
        renderer.scope.rel = rel
        renderers[slug] = (renderer, title, folder)
    return renderers[slug]


def back_link(base: str, title: str) -> str:
    return f'<a class="embed-source" href="{escape(base)}index.html">{escape(title)}</a>'


def render_embed(d, slug: str, name: str, rel: str, renderers: dict, make,
                 site_root: str = "../../") -> str:
    """The other post's rendering of ``d`` (with the name alone), its links rebased.
    ``site_root``: from this post's folder to the site's."""
    renderer, title, folder = source(d, slug, rel, renderers, make)
    inner = dataclasses.replace(d, args=[name, *d.args[1:]])
    html = renderer.handle(inner)
    base = site_root + folder
    html = LINKS.sub(lambda m: m.group(1) + base + m.group(2), html)
    back = back_link(base, title)
    if d.name == "figure":
        html = html.replace(' id="fig-', f' id="fig-{escape(slug)}--', 1)
        html = re.sub(r'<a class="fig-num" href="#fig-[^"]*">Figure \d+\.</a>',
                      lambda m: f'<a class="fig-num" href="{escape(base)}index.html#fig-'
                                f'{escape(name)}">From</a> {back}:', html, count=1)
        return html
    return f'{html}<sup class="embed-note">[{back}]</sup>'
