"""Stage 5: HTML.  Post bodies through ``markup`` with the directive handlers, then Jinja2.

All links are relative (``root`` is the way back to the site root), so the site works from
any base path and from ``file://``.  ``base_url`` is used only where an absolute URL is the
point: citations and the Atom feed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import pygments

from physai_blog import __version__
from physai_blog.content.config import SiteConfig
from physai_blog.content.posts import Post, tag_slug
from physai_blog.errors import InputError, PhysaiError
from physai_blog.paths import PACKAGE, THEME, post_dir, up_to_root
from physai_blog.render.citation import absolute_url, citation
from physai_blog.render.directives import Call, Handlers, Scope, check
from physai_blog.render.embeds import back_link, render_embed, source
from physai_blog.render.embeds import split as split_embed
from physai_blog.render.fragments import Fragments
from physai_blog.render.markup import latex_to_mathml, render_markdown
from physai_blog.render.media import AlFolio, FigureRef, figure_html
from physai_blog.render.references import Bibliography, Citations
from physai_blog.render.site_links import relativize
from physai_blog.render.values import (
    ClaimCheck,
    Observables,
    check_claim,
    fit,
    format_number,
    format_values,
    show_number,
    summarize,
)
from physai_blog.runs.digests import DIGESTS

if TYPE_CHECKING:   # a text-only build never loads the figure stage
    from physai_blog.figures.draw import FigurePlan


class ClaimFailed(PhysaiError):
    """A claim in a post does not hold on the data."""


JINJA_CACHE = "jinja"   # in the build's cache: compiled templates


def environment(root: Path, bytecode_dir: Path | None = None) -> jinja2.Environment:
    """Templates of the blog (``templates/``) first, then the built-in theme.  Compiled
    templates are kept in ``bytecode_dir`` (Jinja checks them against their source)."""
    loaders = []
    if (root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(root / "templates")))
    loaders.append(jinja2.FileSystemLoader(str(THEME / "templates")))
    bytecode = None
    if bytecode_dir is not None:
        bytecode_dir.mkdir(parents=True, exist_ok=True)
        bytecode = jinja2.FileSystemBytecodeCache(str(bytecode_dir))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             autoescape=jinja2.select_autoescape(["html", "xml"]),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, bytecode_cache=bytecode)
    env.filters["tag_slug"] = tag_slug
    env.globals["post_dir"] = post_dir
    return env


ADJACENT_CLAIMS = re.compile(r'(<a class="claim [^"]*"[^>]*>.*?</a>)(?=<a class="claim )')


@dataclass
class RenderedPost:
    post: Post
    html: str
    toc: str
    figures: list[FigureRef]
    claims: list[ClaimCheck]
    seed_table: list[dict]
    citation: dict
    url: str
    reading_minutes: int
    has_data: bool
    failed_claims: list[str] = field(default_factory=list)
    extra_files: dict = field(default_factory=dict)
    references: list[dict] = field(default_factory=list)
    links: list = field(default_factory=list)     # [site path, as written, line] (site_links)


class PostRenderer(AlFolio, Handlers):
    """The directive handlers of one post: each directive, checked (``directives.check``),
    rendered with the data."""

    def __init__(self, post: Post, config: SiteConfig, root: Path, obs: Observables | None,
                 figures: dict[str, FigurePlan], experiment_name: str | None, keep_going: bool,
                 bibliography: Bibliography, fragments: Fragments | None = None,
                 posts: dict | None = None, embeds=None):
        super().__init__(Scope(post.rel, root, post.experiment if experiment_name else None,
                               obs.sweep if obs is not None else {}, list(figures),
                               obs.param_names() if obs is not None else [],
                               posts=posts or {}))
        self.post, self.config, self.root = post, config, root
        self.site_root = up_to_root(post_dir(post, config.permalink))   # "../../"
        self.citations = Citations(bibliography, post.rel)
        self.obs, self.figure_plans = obs, figures
        self.experiment_name = experiment_name
        self.keep_going = keep_going
        self.fragments = fragments
        self.figures: list[FigureRef] = []
        self.claims: list[ClaimCheck] = []
        self.failed: list[str] = []
        self.extra_files: dict[str, Path] = {}
        self.embeds, self.embedded = embeds, {}   # other posts' renderers (render/embeds.py)

    def handle(self, d) -> str:
        embed = split_embed(d)
        if embed is None:
            return super().handle(d)
        make = self.embeds or (lambda slug: None)
        if d.name == "claim":
            return self.embedded_claim(d, *embed, make)
        return render_embed(d, *embed, self.post.rel, self.embedded, make, self.site_root)

    def embedded_claim(self, d, slug: str, expr: str, make) -> str:
        """A claim over another post's runs: checked against that post's scope and values,
        but numbered, tabled and failed here, as this post's own claims are."""
        other, title, folder = source(d, slug, self.post.rel, self.embedded, make)
        call = check(dataclasses.replace(d, args=[expr, *d.args[1:]]), other.scope)
        if call is None:
            return ""
        html = self.claim(call, other.obs)
        return f'{html}<sup class="embed-note">[{back_link(self.site_root + folder, title)}]</sup>'

    def figure(self, call: Call) -> str:
        name = call.args[0]
        plan = self.figure_plans[name]
        caption = call.option("caption")
        if caption is None:
            caption = plan.figure.caption
        ref = FigureRef(self.next_number(caption), name, f"figures/{plan.file}", caption,
                        plan.figure.alt or caption or name, f"data/{name}.zip",
                        f"code/{name}.py", f"code/{self.experiment_name}",
                        f"figures/{plan.figure.name}.js")
        self.figures.append(ref)
        return figure_html(ref)

    _figure_html = staticmethod(figure_html)

    def value(self, call: Call) -> str:
        name, fmt, cell = call.args[0], call.option("fmt"), call.cell
        xs = self.obs.value(name, cell, self.post.rel, call.line)
        try:
            text = format_values(xs, fmt)
        except (ValueError, TypeError) as exc:   # "d" passes the static check; a mean is a float
            call.bad_format(fmt, exc)
        s = summarize(xs)
        where = "".join(f", {k}={v}" for k, v in cell.items())
        title = (f"{name}{where}: over {s['n']} seed(s), min {format_number(s['min'])}, "
                 f"max {format_number(s['max'])}") if s["n"] > 1 else f"{name}{where}"
        return f'<a class="value" href="data/values.csv" title="{escape(title)}">{escape(text)}</a>'

    def fit(self, call: Call) -> str:
        """The fitted exponent with its 95 % interval ("−0.82 ± 0.10"), pooled over seeds, as
        in "a = {{ fit(...) }}"; ``show="relation"`` prints "y ∝ x^(...)" instead."""
        y, x = call.args
        result = fit(self.obs, y, x, call.cell, self.post.rel, call.line)
        fmt = call.option("fmt")
        exponent = f"{result.exponent:{fmt}} ± {result.ci95:{fmt}}".replace("-", "−")
        title = (f"{y} ∝ {x}^k: least-squares fit of log {y} on log {x} over "
                 f"{result.points} runs (every seed), 95 % interval")
        text = (f"{escape(y)} ∝ {escape(x)}<sup>{escape(exponent)}</sup>"
                if call.option("show") == "relation" else escape(exponent))
        return f'<span class="fit" title="{escape(title)}">{text}</span>'

    def param(self, call: Call) -> str:
        """A parameter of the experiment (of a cell, for a swept one), linked to the manifest
        of a run that used it."""
        name, fmt, cell = call.args[0], call.option("fmt"), call.cell
        value, run = self.obs.param(name, cell, self.post.rel, call.line)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                text = format_number(value, fmt)
            except (ValueError, TypeError) as exc:
                call.bad_format(fmt, exc)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
        where = "".join(f", {k}={v}" for k, v in cell.items())
        return (f'<a class="param" href="data/{escape(run.label)}/manifest.json" '
                f'title="{escape(f"parameter {name}{where}")}">{escape(text)}</a>')

    def claim(self, call: Call, obs: Observables | None = None) -> str:
        """``obs``: another post's values, for a claim that embeds them."""
        expr, text = call.args[0], call.args[-1]
        result = check_claim(self.obs if obs is None else obs, expr, text, call.cell,
                             self.post.rel, call.line)
        self.claims.append(result)
        number = len(self.claims)
        if not result.holds:
            message = (f"{self.post.rel}:{call.line}: claim fails: {expr} ({text}); "
                       f"{result.failure_summary()}")
            if not self.keep_going:
                raise ClaimFailed(message)
            self.failed.append(message)
        state = "pass" if result.holds else "fail"
        mark = "✓" if result.holds else "✗"
        return (f'<a class="claim claim-{state}" href="#claim-{number}" '
                f'title="{escape(expr)}"><span class="claim-mark">{mark}</span> '
                f"{escape(text)}</a>")

    def cite(self, call: Call) -> str:
        return self.citations.cite(call.result, call.line)

    def math(self, tex: str, display: bool, line: int) -> str:
        return latex_to_mathml(tex, display, self.post.rel, line, self.fragments)


def seed_table(obs: Observables | None) -> list[dict]:
    """Mean, std, min, max over seeds of every value, per sweep cell (the page shows the
    first ``SEED_TABLE_ROWS`` rows, the rest folded: a sweep of 2,000 cells is 2,000 rows)."""
    if obs is None:
        return []
    cells: dict[str, tuple] = {}   # one pass over the runs, not one per cell and value
    for run in obs.runs:   # (a swept value may be a list: the key is its repr)
        cells.setdefault(repr(run.cell), (run.cell, []))[1].append(run)
    rows = []
    for name in obs.names():
        for cell, runs in cells.values():
            xs = [r.values[name] for r in runs if name in r.values]
            if not xs:
                continue
            s = summarize(xs)
            rel_spread = s["std"] / abs(s["mean"]) if s["mean"] else math.nan
            rows.append({"name": name, "cell": ", ".join(f"{k}={v}" for k, v in cell.items()),
                         "n": s["n"], "mean": format_number(s["mean"]),
                         "std": format_number(s["std"]) if s["n"] > 1 else "–",
                         "min": format_number(s["min"]), "max": format_number(s["max"]),
                         "cv": f"{rel_spread:.0%}" if s["n"] > 1 and not math.isnan(rel_spread)
                         else "–"})
    return rows


def page_url(post: Post, config: SiteConfig) -> str:
    """A post page's address: its folder under the site's base URL."""
    return absolute_url(config.base_url, post_dir(post, config.permalink))


def render_post_body(post: Post, config: SiteConfig, root: Path, obs: Observables | None,
                     figures: dict[str, FigurePlan], experiment_name: str | None,
                     keep_going: bool, bibliography: Bibliography,
                     converter=None, fragments: Fragments | None = None,
                     posts: dict | None = None, embeds=None,
                     make_renderer=PostRenderer) -> RenderedPost:
    """``fragments``: the post's formulas and code blocks kept from its last render;
    ``posts``: every post of the blog (by slug), for links between them; ``embeds(slug)``:
    another post's renderer, for what this one embeds from it; ``make_renderer``: a
    PostRenderer's class (serve's, for a post whose runs still train)."""
    renderer = make_renderer(post, config, root, obs, figures, experiment_name, keep_going,
                             bibliography, fragments, posts, embeds)
    html, toc = render_markdown(post.body, post.rel, post.body_line, renderer.handlers(),
                                renderer.math, converter=converter, fragments=fragments,
                                dialect=post.markdown or config.markdown)
    html = ADJACENT_CLAIMS.sub(r"\1 ", html)   # two claims in a row read as two
    html, linked, links = relativize(html, post, config, root, post.body, post.body_line)
    renderer.extra_files.update(linked)
    url = page_url(post, config)
    authors = post.authors or [config.author]
    words = len(post.body.split())
    return RenderedPost(post=post, html=html, toc=toc, figures=renderer.figures,
                        claims=renderer.claims, seed_table=seed_table(obs),
                        citation=citation(post.title, authors, post.date, config.title, url),
                        url=url, reading_minutes=max(1, round(words / 220)),
                        has_data=obs is not None, failed_claims=renderer.failed,
                        extra_files=renderer.extra_files,
                        references=renderer.citations.references(), links=links)


def claim_rows(check: ClaimCheck) -> list[dict]:
    return [{"run": row["run"], "holds": row["holds"],
             "numbers": ", ".join(f"{k} = {show_number(v)}" for k, v in row["numbers"].items())}
            for row in check.rows]


def render_post_page(env: jinja2.Environment, config: SiteConfig, item: RenderedPost) -> bytes:
    root = up_to_root(post_dir(item.post, config.permalink))
    return render_template(env, "post.html", site=config, nav=config.nav, root=root,
                           page_title=item.post.title, post=item.post, r=item,
                           claim_rows=claim_rows)


def render_template(env: jinja2.Environment, name: str, **context) -> bytes:
    """A page from a template; a template's own error (the blog's override, usually) is one
    line naming the template file and line, never a traceback."""
    import traceback  # edge: only to locate a template's error

    try:
        return env.get_template(name).render(**context).encode()
    except jinja2.TemplateError as exc:
        where = [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__)
                 if f.filename.endswith((".html", ".xml"))]
        filename = getattr(exc, "filename", None) or (where[-1][0] if where else name)
        line = getattr(exc, "lineno", None) or (where[-1][1] if where else None)
        path = Path(filename)
        shown = f"{path.parent.name}/{path.name}" if path.parent != THEME / "templates" \
            else f"the built-in template {path.name}"
        raise InputError(shown, line, f"template error: {exc.message or exc}") from None


@dataclass
class CachedPage:
    """A post page in the cache: what the site-wide pages and the report need of it."""

    post: Post
    url: str
    failed_claims: list = field(default_factory=list)
    extra_files: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    sha256: str = ""          # of the page's bytes in the cache


def templates_digest(root: Path) -> str:
    """Every template and static file of the theme and of the blog, and the package's code
    and version (each file by its sha256, known from its stat signature if hashed before)."""
    h = hashlib.sha256(__version__.encode())
    for folder in (str(THEME), str(root / "templates"), str(PACKAGE)):
        files = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            files.extend(os.path.join(dirpath, name) for name in filenames)
        for path in sorted(files, key=lambda p: os.path.relpath(p, folder).split(os.sep)):
            digest = DIGESTS.digest(path)
            if digest is not None:
                h.update(os.path.relpath(path, folder).encode() + b"\0" + digest)
    return h.hexdigest()


def render_site(env: jinja2.Environment, config: SiteConfig, rendered: list[RenderedPost],
                build_date) -> dict[str, bytes]:
    """The site-wide pages: index, tags, archive, feed (post pages: ``render_post_page``)."""
    files: dict[str, bytes] = {}
    posts = [r.post for r in rendered]
    common = {"site": config, "nav": config.nav}
    tags: dict[str, list[Post]] = {}
    for post in posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    files["index.html"] = render_template(env, "index.html", **common, root="",
                                          page_title=config.title, posts=posts, tags=sorted(tags))
    for tag, tagged in sorted(tags.items()):
        files[f"tags/{tag_slug(tag)}/index.html"] = render_template(
            env, "tag.html", **common, root="../../", page_title=f"Tag: {tag}", tag=tag,
            posts=tagged)
    years: dict[int, list[Post]] = {}
    for post in posts:
        years.setdefault(post.date.year, []).append(post)
    files["archive/index.html"] = render_template(
        env, "archive.html", **common, root="../", page_title="Archive",
        years=sorted(years.items(), reverse=True))
    files["feed.xml"] = render_template(
        env, "feed.xml", **common, posts=rendered, updated=build_date,
        site_url=absolute_url(config.base_url, ""),
        feed_url=absolute_url(config.base_url, "feed.xml"))
    return files


def theme_assets(cache_root: Path | None = None) -> dict[str, bytes]:
    """The theme's static files, plus the code-highlighting CSS for light and dark mode
    (kept in ``cache_root`` for the Pygments version that made it, when given)."""
    files = {f"assets/{p.name}": p.read_bytes() for p in sorted((THEME / "static").iterdir())
             if p.is_file()}
    files["assets/pygments.css"] = pygments_css(cache_root)
    return files


def pygments_css(cache_root: Path | None = None) -> bytes:
    """Pygments' CSS for the ``friendly`` (light) and ``monokai`` (dark) styles.  Making it
    loads Pygments' HTML formatter and both styles (~5 ms in a fresh process), so a build
    keeps it in the cache, checksummed, by Pygments' version; a damaged copy is remade."""
    path = cache_root / "pygments-css.json" if cache_root is not None else None
    if path is not None:
        try:
            kept = json.loads(path.read_bytes())
            css = kept["css"].encode()
            if kept["pygments"] == pygments.__version__ and \
                    kept["sha256"] == hashlib.sha256(css).hexdigest():
                return css
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")
    dark = "\n".join("  " + line for line in dark.splitlines())
    css = f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n".encode()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"pygments": pygments.__version__, "css": css.decode(),
                                       "sha256": hashlib.sha256(css).hexdigest()}))
            os.replace(tmp, path)
        except OSError:
            pass
    return css
