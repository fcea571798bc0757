"""``physai-blog doctor``: check a whole blog without running anything; report every problem.

A build stops at the first stage that fails; ``doctor`` goes on and lists every problem it can
find statically, each as ``file:line: message``:

    physai.yaml              every key (types, unknown keys)
    posts/*.md               front matter, duplicate slugs
    experiments              the spec of every experiment a post uses; the post's params
    post bodies              directive syntax, figure names, sweep cells, claim syntax, fit axes,
                             al-folio include paths, math, citations against the bibliography

Where every run of a post is already in the cache, value names are checked and the claims
are evaluated on the cached data too.  Nothing is executed, written or locked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

from physai_blog.paths import CACHE_DIR
from physai_blog.runs.cache import verify_entry
from physai_blog.content.config import SiteConfig, load_config
from physai_blog.content.posts import Post, post_files, read_post
from physai_blog.errors import InputError, PhysaiError
from physai_blog.render.markup import Directive, latex_to_mathml, render_markdown
from physai_blog.runs.plan import RunPlan, plan_runs
from physai_blog.content.spec import ExperimentSpec, load_spec
from physai_blog.render.values import ClaimSyntaxError, Observables, RunValues, check_claim, parse_claim


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    posts: int = 0
    experiments: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def doctor(root: Path | str = ".") -> DoctorReport:
    """Every problem of the blog at ``root`` (drafts included), in file order."""
    root = Path(root).resolve()
    report = DoctorReport()

    def add(exc: PhysaiError) -> None:
        report.problems.extend(e.message for e in getattr(exc, "errors", [exc]))

    try:
        config = load_config(root)
    except PhysaiError as exc:
        add(exc)
        config = SiteConfig(title="?")
    posts: list[Post] = []
    files = post_files(root)
    for path in files:
        try:
            posts.append(read_post(path, root, report.warnings))
        except PhysaiError as exc:
            add(exc)
    by_slug: dict[str, Post] = {}
    for post in posts:
        if post.slug in by_slug:
            report.problems.append(f"{post.rel}:{post.line_of('slug') or 1}: duplicate slug "
                                   f"{post.slug!r}: also used by {by_slug[post.slug].rel}")
        by_slug.setdefault(post.slug, post)
    specs: dict[str, ExperimentSpec] = {}
    for rel in sorted({p.experiment for p in posts if p.experiment}):
        try:
            specs[rel] = load_spec(root / rel, root)
        except PhysaiError as exc:
            add(exc)
    bibliography = _bibliography(root, config)
    if bibliography is not None and config.bibliography:
        try:
            bibliography.entries("physai.yaml", None)
        except PhysaiError as exc:
            add(exc)
            bibliography = None
    for post in posts:
        spec = specs.get(post.experiment) if post.experiment else None
        plans = None
        if spec is not None:
            try:
                plans = plan_runs(post, spec, config.timeout, config.max_output_mb)
            except PhysaiError as exc:
                add(exc)
        checks = StaticChecks(post, root, spec, post.experiment is not None,
                              cached_observables(root, plans, spec), bibliography)
        errors: list[InputError] = []
        try:
            render_markdown(post.body, post.rel, post.body_line, checks.handlers(), checks.math,
                            errors)
        except PhysaiError as exc:  # pragma: no cover - render_markdown collects them all
            errors.append(exc)
        report.problems.extend(e.message for e in errors)
    report.problems = list(dict.fromkeys(report.problems))
    report.posts, report.experiments = len(files), len(specs)
    return report


def _bibliography(root: Path, config: SiteConfig):
    try:
        from physai_blog.render.references import Bibliography
    except ImportError:  # pragma: no cover - citations not part of this build
        return None
    rel = config.bibliography
    return Bibliography(root / rel if rel else None, rel)


def cached_observables(root: Path, plans: list[RunPlan] | None,
                       spec: ExperimentSpec | None) -> Observables | None:
    """The values of every run of a post, when the cache holds them all (read-only)."""
    if not plans or spec is None:
        return None
    runs = []
    for plan in plans:
        folder = root / CACHE_DIR / "runs" / plan.key
        if not folder.is_dir():
            return None
        manifest, _ = verify_entry(folder, plan.key)
        if manifest is None or "values.json" not in manifest["files"]:
            return None
        try:
            values = json.loads((folder / "values.json").read_text())
        except (OSError, ValueError):
            return None
        runs.append(RunValues(plan.label, plan.cell, plan.seed, values, plan.params))
    return Observables(runs, spec.sweep)


class StaticChecks:
    """Directive handlers that check what can be known without running the experiment."""

    def __init__(self, post: Post, root: Path, spec: ExperimentSpec | None, has_experiment: bool,
                 obs: Observables | None, bibliography):
        self.post, self.root, self.spec = post, root, spec
        self.has_experiment = has_experiment
        self.obs = obs
        self.sweep = spec.sweep if spec else {}
        self.bibliography = bibliography
        self.shown: set[str] = set()

    def fail(self, line: int, message: str):
        raise InputError(self.post.rel, line, message)

    def _strings(self, d: Directive, count: int) -> None:
        if len(d.args) != count or not all(isinstance(a, str) for a in d.args):
            self.fail(d.line, f"{d.name}() takes {count} string argument"
                              f"{'s' if count != 1 else ''}")

    def _experiment(self, d: Directive) -> bool:
        """False when nothing more can be checked (the experiment itself is broken)."""
        if not self.has_experiment:
            self.fail(d.line, f"{d.name}() needs an experiment, and this post has none "
                              "(set `experiment:` in the front matter)")
        return self.spec is not None

    def _cell(self, d: Directive, cell: dict) -> None:
        Observables([], self.sweep).select(cell, self.post.rel, d.line)

    def figure(self, d: Directive) -> str:
        self._strings(d, 1)
        if not self._experiment(d):
            return ""
        name = d.args[0]
        if name not in self.spec.figures:
            known = list(self.spec.figures)
            hint = get_close_matches(name, known, 1)
            self.fail(d.line, f"unknown figure {name!r}"
                      + (f"; did you mean {hint[0]!r}?" if hint else "")
                      + f" (figures of {self.spec.rel}: {', '.join(known) or 'none'})")
        if name in self.shown:
            self.fail(d.line, f"figure {name!r} is shown twice in this post")
        self.shown.add(name)
        return ""

    def value(self, d: Directive) -> str:
        self._strings(d, 1)
        if not self._experiment(d):
            return ""
        cell = {k: v for k, v in d.kwargs.items() if k != "fmt"}
        self._cell(d, cell)
        fmt = d.kwargs.get("fmt")
        if fmt is not None:
            try:
                format(1.5, fmt)
            except (ValueError, TypeError) as exc:
                self.fail(d.line, f"value {d.args[0]!r}: bad format {fmt!r} ({exc})")
        free = [a for a in self.sweep if a not in cell and len(self.sweep[a]) > 1]
        if free:
            self.fail(d.line, f"value {d.args[0]!r} varies over the sweep; name a cell, e.g. "
                              f"value({d.args[0]!r}, {free[0]}={self.sweep[free[0]][0]!r})")
        if self.obs is not None:
            self.obs.check_name(d.args[0], self.post.rel, d.line)
        return ""

    def fit(self, d: Directive) -> str:
        self._strings(d, 2)
        if not self._experiment(d):
            return ""
        y, x = d.args
        if x not in self.sweep:
            self.fail(d.line, f"fit over {x!r}: not a sweep axis "
                              f"(sweep axes: {', '.join(self.sweep) or 'none'})")
        self._cell(d, {k: v for k, v in d.kwargs.items() if k not in ("fmt", x)})
        if self.obs is not None:
            self.obs.check_name(y, self.post.rel, d.line)
        return ""

    def param(self, d: Directive) -> str:
        self._strings(d, 1)
        if not self._experiment(d):
            return ""
        name, cell = d.args[0], {k: v for k, v in d.kwargs.items() if k != "fmt"}
        self._cell(d, cell)
        if name not in self.spec.params:
            hint = get_close_matches(name, list(self.spec.params), 1)
            self.fail(d.line, f"unknown parameter {name!r}"
                      + (f"; did you mean {hint[0]!r}?" if hint else "")
                      + f" (params: {', '.join(self.spec.params) or 'none'})")
        if name in self.sweep and name not in cell and len(self.sweep[name]) > 1:
            self.fail(d.line, f"param {name!r} varies over the sweep; name a cell, "
                              f"e.g. param({name!r}, {name}={self.sweep[name][0]!r})")
        return ""

    def claim(self, d: Directive) -> str:
        if len(d.args) not in (1, 2) or not all(isinstance(a, str) for a in d.args):
            self.fail(d.line, 'claim() takes an expression and a text: claim("a > b", "why")')
        if not self._experiment(d):
            return ""
        try:
            parse_claim(d.args[0])
        except ClaimSyntaxError as exc:
            self.fail(d.line, str(exc))
        self._cell(d, dict(d.kwargs))
        if self.obs is not None:
            check = check_claim(self.obs, d.args[0], d.args[-1], dict(d.kwargs), self.post.rel,
                                d.line)
            if not check.holds:
                self.fail(d.line, f"claim fails on the cached data: {d.args[0]} ({d.args[-1]}); "
                                  f"{check.failure_summary()}")
        return ""

    def include_figure(self, d: Directive) -> str:
        from physai_blog.render.page import include_source

        include_source(self.root, d, self.post.rel)
        return ""

    def cite(self, d: Directive) -> str:
        if self.bibliography is None:
            return ""
        from physai_blog.render.references import parse_keys

        for key in parse_keys(d.args[0], self.post.rel, d.line):
            self.bibliography.check(key, self.post.rel, d.line)
        return ""

    def math(self, tex: str, display: bool, line: int) -> str:
        return latex_to_mathml(tex, display, self.post.rel, line)

    def handlers(self) -> dict:
        return {"figure": self.figure, "value": self.value, "claim": self.claim, "fit": self.fit,
                "param": self.param, "include_figure": self.include_figure, "cite": self.cite}

