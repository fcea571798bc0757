"""Posts that build on posts: ``{{ figure("other-slug:name") }}`` and
``{{ value("other-slug:name", ...) }}`` show another post's published figure or value, with a
link back to it.

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

EMBEDS = ("figure", "value")
EMBED_CALL = re.compile(r"""\b(?:figure|value)\(\s*["']([A-Za-z0-9_.-]+):""")
LINKS = re.compile(r'(\b(?:src|href|data-chart)=")(figures/|data/|code/)')


def embedded_slugs(body: str) -> list[str]:
    """The posts a post's body embeds from (a scan of its text: a miss costs a re-render at
    worst never, since an embed it misses fails as an unknown post below)."""
    return sorted(set(EMBED_CALL.findall(body)))


def split(d) -> tuple[str, str] | None:
    """(slug, name) of an embedding directive, or None for a post's own."""
    if d.name not in EMBEDS or not d.args or not isinstance(d.args[0], str):
        return None
    slug, sep, name = d.args[0].partition(":")
    return (slug, name) if sep else None


def render_embed(d, slug: str, name: str, rel: str, renderers: dict, make,
                 site_root: str = "../../") -> str:
    """The other post's rendering of ``d`` (with the name alone), its links rebased.
    ``make(slug)``: (the other post's renderer, its title, its folder in the site) or None
    when it is not built; ``site_root``: from this post's folder to the site's."""
    if slug not in renderers:
        made = make(slug)
        if made is None:
            raise InputError(rel, d.line, f"{d.name}({d.args[0]!r}): there is no published "
                                          f"post {slug!r} to embed from")
        renderer, title, folder = made
        renderer.post = dataclasses.replace(renderer.post, rel=rel)   # errors name this post
        renderer.scope.rel = rel
        renderers[slug] = (renderer, title, folder)
    renderer, title, folder = renderers[slug]
    inner = dataclasses.replace(d, args=[name, *d.args[1:]])
    html = renderer.handle(inner)
    base = site_root + folder
    html = LINKS.sub(lambda m: m.group(1) + base + m.group(2), html)
    back = f'<a class="embed-source" href="{escape(base)}index.html">{escape(title)}</a>'
    if d.name == "figure":
        html = html.replace(' id="fig-', f' id="fig-{escape(slug)}--', 1)
        html = re.sub(r'<a class="fig-num" href="#fig-[^"]*">Figure \d+\.</a>',
                      lambda m: f'<a class="fig-num" href="{escape(base)}index.html#fig-'
                                f'{escape(name)}">From</a> {back}:', html, count=1)
        return html
    return f'{html}<sup class="embed-note">[{back}]</sup>'
