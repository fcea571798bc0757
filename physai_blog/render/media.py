"""Figures and media of a post: the HTML of every figure, and al-folio's Liquid handlers.

``AlFolio`` holds the handlers of what ``liquid`` parses (``figure.liquid`` with all its
parameters, ``video.liquid``, ``audio.liquid``, ``{% reference %}``, ``{% link %}``,
``{% post_url %}``, ``{{ site.baseurl }}``...); ``page.PostRenderer`` inherits them.  A media
file's URL is relative to the post's page (``paths.post_dir``); a link is root-relative, as
Jekyll writes it, and ``site_links`` makes it relative (so the site works from ``file://`` and
under any base path) and publishes the file it names.  A figure without a caption gets no "Figure N." label and
no number.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from html import escape
from pathlib import Path

from physai_blog.links import safe_href
from physai_blog.paths import post_dir
from physai_blog.render.citation import absolute_url
from physai_blog.render.directives import Call

TRUE = ("true", "yes", "1", "")


@dataclass
class FigureRef:
    number: int | None               # None: no caption, so no "Figure N." either
    name: str
    src: str
    caption: str
    alt: str
    data: str | None = None
    code: str | None = None
    experiment: str | None = None
    chart: str | None = None          # the interactive chart's script (figures/spec.py)


def figure_html(ref: FigureRef, attributes: str = 'loading="lazy"',
                href: str | None = None) -> str:
    """A figure: the image (a link to ``href``, if given), and a caption numbered "Figure N."
    where it has one (with the data, code and experiment links of an experiment's figure)."""
    links = ""
    if ref.data:
        links = (f'<span class="fig-links"><a href="{ref.data}" download>data</a> · '
                 f'<a href="{ref.code}">code</a> · '
                 f'<a href="{ref.experiment}">experiment</a></span>')
    caption = ""
    if ref.number is not None:
        caption = (f'<a class="fig-num" href="#fig-{escape(ref.name)}">Figure {ref.number}.</a> '
                   f"{escape(ref.caption)}" + (" " if links else ""))
    inner = caption + links
    image = f'<img src="{escape(ref.src)}" alt="{escape(ref.alt)}" {attributes}>'
    if href:
        image = f'<a href="{escape(href)}">{image}</a>'
    chart = f' data-chart="{escape(ref.chart)}"' if ref.chart else ""
    return (f'<figure class="figure" id="fig-{escape(ref.name)}"{chart}>{image}'
            + (f"<figcaption>{inner}</figcaption>" if inner else "") + "</figure>")


def _flag(value) -> bool:
    return value is not None and str(value).strip().lower() in TRUE


class AlFolio:
    """Handlers of al-folio's Liquid, for a renderer with ``post``, ``config``, ``figures``,
    ``extra_files`` and ``citations``."""

    def next_number(self, caption: str) -> int | None:
        return sum(1 for f in self.figures if f.number is not None) + 1 if caption else None

    def site_url(self, rel: str) -> str:
        """``rel`` (a path from the site root) as a URL relative to this post's page."""
        here = post_dir(self.post, self.config.permalink)
        url = posixpath.relpath(rel.rstrip("/") or ".", here.rstrip("/"))
        return url + "/" if rel.endswith("/") and not url.endswith("/") else url

    def include_figure(self, call: Call) -> str:
        rel, source = call.result
        self.extra_files[rel] = source
        caption = call.option("caption")
        ref = FigureRef(self.next_number(caption), Path(rel).stem, self.site_url(rel), caption,
                        call.option("alt") or caption or Path(rel).stem)
        self.figures.append(ref)
        attributes = [f'loading="{escape(call.option("loading") or "lazy")}"']
        for name in ("class", "title", "width", "height", "sizes"):
            if call.option(name):
                attributes.append(f'{name}="{escape(call.option(name))}"')
        if call.option("max-width"):
            attributes.append(f'style="max-width: {escape(call.option("max-width"))}"')
        if _flag(call.option("zoomable")):
            attributes.append("data-zoomable")
        return figure_html(ref, " ".join(attributes), safe_href(call.option("url") or ""))

    def include_video(self, call: Call) -> str:
        return self._media(call, "video", ("autoplay", "controls", "muted", "loop"))

    def include_audio(self, call: Call) -> str:
        return self._media(call, "audio", ("autoplay", "controls", "muted", "loop"))

    def _media(self, call: Call, tag: str, flags: tuple[str, ...]) -> str:
        given = call.kwargs.get       # audio has no width, height or poster
        caption = given("caption")
        figcaption = f'<figcaption class="caption">{escape(caption)}</figcaption>' if caption \
            else ""
        if call.result is None:          # an address elsewhere: the page requests no other site
            url = escape(safe_href(given("path")) or "")
            return (f'<figure class="video-link"><a href="{url}">{url}</a> (a video on '
                    f"another site, linked rather than embedded){figcaption}</figure>")
        rel, source = call.result
        self.extra_files[rel] = source
        attributes = [f'src="{escape(self.site_url(rel))}"']
        for name in ("class", "title", "width", "height"):
            if given(name):
                attributes.append(f'{name}="{escape(given(name))}"')
        if given("poster"):
            attributes.append(f'poster="{escape(given("poster"))}"')
        attributes += [name for name in flags if _flag(given(name))]
        return f'<figure class="{tag}"><{tag} {" ".join(attributes)}></{tag}>{figcaption}</figure>'

    def reference(self, call: Call) -> str:
        key = call.args[0]
        self.citations.bib.check(key, self.post.rel, call.line)
        return f'<span class="reference">{self.citations.bib.formatted([key])[0][1]}</span>'

    def link(self, call: Call) -> str:
        """Root-relative, as Jekyll writes it: ``site_links`` makes it relative to the page
        and publishes the file it names."""
        target = call.result
        rel = target[0] if isinstance(target, tuple) else post_dir(target, self.config.permalink)
        return escape("/" + rel)

    post_url = link

    def liquid(self, call: Call) -> str:
        expr = call.args[0]
        if expr in ("relative_url", "absolute_url"):
            path = call.args[1].lstrip("/")
            if expr == "absolute_url":
                return escape(absolute_url(self.config.base_url, path))
            return escape("/" + path)
        if expr == "site.baseurl":        # the site root: "/x" after it is root-relative
            return ""
        if expr == "site.url":
            return escape(self.config.base_url.rstrip("/"))
        owner = self.config if expr.startswith("site.") else self.post
        value = getattr(owner, expr.split(".", 1)[1], "")
        return escape(str(value if value is not None else ""))
