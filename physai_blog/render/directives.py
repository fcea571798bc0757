"""The directives of a post, declared once, and every check of them that needs no data.

``RULES`` says of each directive what it takes: its positional arguments, its keyword options
(each with its check), what the other keywords are (a sweep cell, an error, or ignored),
whether it needs an experiment, which sweep axes it must pin, and its own check (a figure the
experiment draws, a claim that parses, ...).  ``check`` applies them against a ``Scope``,
what is known of the post without running anything: its experiment's sweep, figures and
params.  Both the renderer (``render.page.PostRenderer``, with the data) and ``doctor``
(``checks.doctor.StaticChecks``, with the cached data when there is some) are ``Handlers``:
each directive is checked here first, and their handlers get the checked ``Call``.

Nothing of ``markup`` is imported here, so that ``markup`` can take ``CALLS`` from this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Callable, NoReturn

from physai_blog.errors import InputError
from physai_blog.render.references import parse_keys
from physai_blog.render.values import ClaimSyntaxError, Observables, parse_claim


@dataclass(frozen=True)
class Option:
    """A keyword option of a directive; ``check(call, name, value)`` fails a bad value."""

    name: str
    default: object = None
    check: Callable | None = None
    doc: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    positional: tuple[str, ...]
    doc: str
    optional: int = 0              # how many of the last positional arguments may be left out
    options: tuple[Option, ...] = ()
    others: str = "error"          # the other keywords: "cell" (a sweep cell), "error", "ignore"
    experiment: bool = True        # needs the post's experiment
    pin: str = ""                  # sweep axes to pin: "all" of them, or the parameter's "own"
    axis: str = ""                 # the positional argument that names a sweep axis
    check: Callable | None = None  # its own check(call, scope); what it returns is call.result
    syntax: str = "call"           # "call": {{ name(...) }}; else the syntax it comes from
    block: bool = False            # alone on a line, it is a block of its own
    label: str = "{name}()"        # names one call in messages; formatted with the arguments
    usage: str = ""                # the arity message, where a generic one would not help


@dataclass
class Scope:
    """What the checks know of one post."""

    rel: str
    root: Path
    experiment: str | None = None      # the post's experiment; None: it has none
    sweep: dict | None = None          # None: the experiment could not be read
    figures: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)   # figure names shown so far
    posts: dict = field(default_factory=dict)      # every post of the blog, by its slug


def posts_by_name(posts: dict) -> dict:
    """The posts a ``{% post_url %}`` or ``{% link %}`` may name (``posts``: by slug): by file
    name without its extension (``2026-01-02-slug``), and by slug.  Made only when a post
    links to another (once per post of the blog: made for every page, it grew with the
    square of the blog)."""
    named = {post.slug: post for post in posts.values()}
    named.update({post.rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]: post
                  for post in posts.values()})
    return named


@dataclass
class Call:
    """One directive, checked: its rule, and its sweep cell."""

    rule: Rule
    directive: object              # markup.Directive
    rel: str
    cell: dict = field(default_factory=dict)
    result: object = None          # what the rule's own check returned

    @property
    def name(self) -> str:
        return self.directive.name

    @property
    def args(self) -> list:
        return self.directive.args

    @property
    def kwargs(self) -> dict:
        return self.directive.kwargs

    @property
    def line(self) -> int:
        return self.directive.line

    def option(self, name: str):
        """The option's value, or its default (also where it is given as None)."""
        value = self.kwargs.get(name)
        if value is None:
            return next(o.default for o in self.rule.options if o.name == name)
        return value

    def fail(self, message: str) -> NoReturn:
        raise InputError(self.rel, self.line, message)

    def bad_format(self, fmt, exc: Exception) -> NoReturn:
        self.fail(f"{self.rule.label.format(*self.args, name=self.name)}: bad format {fmt!r} "
                  f"({exc})")


# -- option checks ---------------------------------------------------------------------------

def text(call: Call, option: str, value) -> None:
    if not isinstance(value, str):
        call.fail(f"{call.name}(): {option} must be a string, not {value!r}")


def one_of(*choices: str) -> Callable:
    def check(call: Call, option: str, value) -> None:
        if value not in choices:
            call.fail(f"{call.name}(): {option} must be "
                      + " or ".join(f'"{c}"' for c in choices) + f", not {value!r}")
    return check


def number_format(*samples: float) -> Callable:
    """A format spec that formats at least one of ``samples`` (the kinds of number it gets)."""
    def check(call: Call, option: str, fmt) -> None:
        errors = []
        for sample in samples:
            try:
                format(sample, fmt)
                return
            except (ValueError, TypeError) as exc:
                errors.append(exc)
        call.bad_format(fmt, errors[0])
    return check


# -- the directives' own checks --------------------------------------------------------------

def _did_you_mean(name: str, known: list[str]) -> str:
    hint = get_close_matches(name, known, 1)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def known_figure(call: Call, scope: Scope) -> None:
    name = call.args[0]
    if name not in scope.figures:
        call.fail(f"unknown figure {name!r}{_did_you_mean(name, scope.figures)} (figures of "
                  f"{scope.experiment}: {', '.join(scope.figures) or 'none'})")
    if name in scope.shown:
        call.fail(f"figure {name!r} is shown twice in this post")
    scope.shown.add(name)


def known_param(call: Call, scope: Scope) -> None:
    name = call.args[0]
    if name not in scope.params:
        call.fail(f"unknown parameter {name!r}{_did_you_mean(name, scope.params)} "
                  f"(params: {', '.join(scope.params) or 'none'})")


def sweep_axis(call: Call, scope: Scope) -> None:
    x = call.args[call.rule.positional.index(call.rule.axis)]
    if x not in scope.sweep:
        call.fail(f"fit over {x!r}: not a sweep axis "
                  f"(sweep axes: {', '.join(scope.sweep) or 'none'})")


def claim_parses(call: Call, scope: Scope) -> None:
    try:
        parse_claim(call.args[0])
    except ClaimSyntaxError as exc:
        call.fail(str(exc))


def citation_keys(call: Call, scope: Scope) -> list[str]:
    return parse_keys(call.args[0], call.rel, call.line)


def included_file(call: Call, scope: Scope) -> tuple[str, Path] | None:
    """(site path, file) of an al-folio include (None: a video's ``http(s)://`` address)."""
    kind = call.name.removeprefix("include_")
    known = [o.name for o in call.rule.options]
    for key in call.kwargs:
        if key not in known:
            call.fail(f"{kind}.liquid has no parameter {key!r}{_did_you_mean(key, known)} "
                      f"(parameters: {', '.join(known)})")
    path = call.kwargs.get("path")
    if kind == "video" and path and path.startswith(("http://", "https://")):
        return None
    rel, source = include_source(scope.root, call.directive, call.rel, kind)
    scope.shown.add(Path(rel).stem)        # its figure id: a figure() of that name clashes
    return rel, source


def include_source(root: Path, d, post_rel: str, kind: str = "figure",
                   key: str = "path") -> tuple[str, Path]:
    """(site path, file) of an al-folio include or link; a file of the blog's sources."""
    def fail(message: str):
        raise InputError(post_rel, d.line, message)

    path = d.kwargs.get(key) if key else d.args[0]
    if not path:
        fail(f"{{% include {kind}.liquid %}} needs path=\"...\"")
    rel = path.lstrip("/")
    source = (root / rel).resolve()
    if not source.is_relative_to(root.resolve()) or ".." in Path(rel).parts:
        fail(f"{kind} path {path!r} lies outside the blog folder")
    first = Path(rel).parts[0] if Path(rel).parts else ""
    if first in ("site", "templates") or any(p.startswith(".") for p in Path(rel).parts):
        fail(f"{kind} path {path!r} points into {first or 'a hidden folder'}/, which is not a "
             "source of the site")
    if not source.is_file():
        fail(f"{kind} file {path!r} not found")
    return rel, source


def linked(call: Call, scope: Scope):
    """What ``{% post_url name %}`` or ``{% link path %}`` points to: a post, or a file."""
    target = call.args[0]
    name = Path(target).stem if call.name == "link" else Path(target).name
    if call.name == "post_url" or Path(target).parts[:1] in (("_posts",), ("posts",)):
        named = posts_by_name(scope.posts)
        post = named.get(name)
        if post is None:
            call.fail(f"{{% {call.name} {target} %}}: no post {name!r} in posts/"
                      f"{_did_you_mean(name, list(named))}")
        return post
    if target.endswith((".md", ".markdown", ".html")):
        call.fail(f"{{% link {target} %}}: only posts and files can be linked "
                  "(a page of an al-folio site is not part of this blog)")
    return include_source(scope.root, call.directive, call.rel, "linked", key="")


# -- the table -------------------------------------------------------------------------------

def _media(*names: str) -> tuple[Option, ...]:
    """The parameters of an al-folio include: ``path`` and the given ones, all text."""
    return tuple(Option(name, "" if name == "caption" else None, text)
                 for name in ("path", *names))


NUMBER_FMT = Option("fmt", None, number_format(1.5, 1), "format spec of the number, e.g. \".3g\"")

RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("figure", ("name",), "a figure of the experiment, numbered, with its links",
         options=(Option("caption", None, text, "instead of the experiment's caption"),),
         check=known_figure, block=True),
    Rule("value", ("name",), "a logged value, mean ± std over the seeds of one sweep cell",
         options=(NUMBER_FMT,), others="cell", pin="all", label="value {0!r}"),
    Rule("param", ("name",), "a parameter (of one sweep cell, when it is swept)",
         options=(NUMBER_FMT,), others="cell", pin="own", check=known_param,
         label="param {0!r}"),
    Rule("claim", ("expr", "text"), "a claim checked on every run in scope", optional=1,
         others="cell", check=claim_parses,
         usage='an expression and a text: claim("a > b", "why")'),
    Rule("fit", ("y", "x"), "the fitted power-law exponent of y over the sweep axis x",
         options=(Option("fmt", ".2f", number_format(1.5), "format spec of the exponent"),
                  Option("show", "exponent", one_of("exponent", "relation"),
                         '"relation": y ∝ x^(...)')),
         others="cell", axis="x", check=sweep_axis, label="fit({0!r}, {1!r})"),
    Rule("cite", ("keys",), "[@key] citations", experiment=False, check=citation_keys,
         syntax="cite"),
    Rule("include_figure", (), "{% include figure.liquid path=... %}, al-folio's figure",
         options=_media("caption", "alt", "class", "title", "zoomable", "width", "height",
                        "loading", "max-width", "sizes", "cache_bust", "url"),
         others="ignore", experiment=False, check=included_file, syntax="liquid", block=True),
    Rule("include_video", (), "{% include video.liquid path=... %}, al-folio's video",
         options=_media("caption", "class", "title", "width", "height", "autoplay", "controls",
                        "muted", "loop", "poster"),
         others="ignore", experiment=False, check=included_file, syntax="liquid", block=True),
    Rule("include_audio", (), "{% include audio.liquid path=... %}, al-folio's audio",
         options=_media("caption", "class", "title", "autoplay", "controls", "muted", "loop"),
         others="ignore", experiment=False, check=included_file, syntax="liquid", block=True),
    Rule("reference", ("key",), "{% reference key %}: one entry of the bibliography",
         experiment=False, syntax="liquid"),
    Rule("link", ("path",), "{% link path %}: the URL of a post or file", experiment=False,
         check=linked, syntax="liquid"),
    Rule("post_url", ("name",), "{% post_url name %}: the URL of a post", experiment=False,
         check=linked, syntax="liquid"),
    Rule("liquid", ("expr", "path"), "{{ site.baseurl }} and other Liquid output", optional=1,
         experiment=False, syntax="liquid"),
)}
CALLS = tuple(name for name, rule in RULES.items() if rule.syntax == "call")
BLOCKS = frozenset(name for name, rule in RULES.items() if rule.block)


# -- the checks ------------------------------------------------------------------------------

def check(d, scope: Scope) -> Call | None:
    """``d`` checked against its rule; None where nothing can be (the experiment is broken)."""
    rule = RULES[d.name]
    call = Call(rule, d, scope.rel)
    _arity(call)
    if rule.experiment:
        if scope.experiment is None:
            call.fail(f"{d.name}() needs an experiment, and this post has none "
                      "(set `experiment:` in the front matter)")
        if scope.sweep is None:
            return None
    _options(call)
    if rule.check is not None:
        call.result = rule.check(call, scope)
    if rule.others == "cell":
        if rule.axis:
            call.cell.pop(call.args[rule.positional.index(rule.axis)], None)
        Observables([], scope.sweep).select(call.cell, call.rel, call.line)
        _pinned(call, scope.sweep)
    return call


def _arity(call: Call) -> None:
    rule, count = call.rule, len(call.args)
    names = rule.positional
    if not len(names) - rule.optional <= count <= len(names):
        call.fail(f"{call.name}() takes {rule.usage}" if rule.usage else
                  f"{call.name}() takes {len(names)} positional argument"
                  f"{'s' if len(names) != 1 else ''}"
                  + (f" ({', '.join(names)})" if names else "") + f", got {count}")
    if not all(isinstance(a, str) for a in call.args):
        call.fail(f"{call.name}() takes {rule.usage}" if rule.usage else
                  f"{call.name}(): the positional arguments must be strings")


def _options(call: Call) -> None:
    """Check each option given; the other keywords become the cell (or an error)."""
    options = {o.name: o for o in call.rule.options}
    for key, value in call.kwargs.items():
        option = options.get(key)
        if option is None:
            if call.rule.others == "cell":
                call.cell[key] = value
            elif call.rule.others == "error":
                call.fail(f"{call.name}() has no option {key!r}{_did_you_mean(key, list(options))}"
                          f" (options: {', '.join(options) or 'none'})")
        elif value is not None and option.check is not None:
            option.check(call, key, value)


def _pinned(call: Call, sweep: dict) -> None:
    """A value (a swept param) differs between cells: the call must name one."""
    name, rule = call.args[0], call.rule
    axes = list(sweep) if rule.pin == "all" else [name] if rule.pin == "own" else []
    free = [a for a in axes if a in sweep and a not in call.cell and len(sweep[a]) > 1]
    if free:
        call.fail(f"{rule.name} {name!r} varies over the sweep; name a cell, e.g. "
                  f"{rule.name}({name!r}, {free[0]}={sweep[free[0]][0]!r})")


class Handlers:
    """Directive handlers for ``markup.render_markdown``: each directive is checked first
    (``check``), then given, as a ``Call``, to the method of its name (none: nothing more)."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def handle(self, d) -> str:
        call = check(d, self.scope)
        handler = getattr(self, d.name, None)
        return handler(call) if call is not None and handler is not None else ""

    def handlers(self) -> dict:
        return dict.fromkeys(RULES, self.handle)
