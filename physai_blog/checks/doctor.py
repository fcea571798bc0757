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
from pathlib import Path

from physai_blog.content.config import SiteConfig, load_config
from physai_blog.content.posts import Post, post_files, read_post
from physai_blog.content.spec import ExperimentSpec, load_spec
from physai_blog.errors import InputError, PhysaiError
from physai_blog.paths import CACHE_DIR
from physai_blog.render.directives import Call, Handlers, Scope
from physai_blog.render.embeds import split as split_embed
from physai_blog.render.markup import latex_to_mathml, render_markdown
from physai_blog.render.references import Bibliography
from physai_blog.render.values import Observables, RunValues, check_claim
from physai_blog.runs.cache import verify_entry
from physai_blog.runs.plan import RunPlan, plan_runs


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
        checks = StaticChecks(post, root, spec, cached_observables(root, plans, spec),
                              bibliography, by_slug)
        errors: list[InputError] = []
        try:
            render_markdown(post.body, post.rel, post.body_line, checks.handlers(), checks.math,
                            errors, dialect=post.markdown or config.markdown)
        except PhysaiError as exc:  # pragma: no cover - render_markdown collects them all
            errors.append(exc)
        report.problems.extend(e.message for e in errors)
    report.problems = list(dict.fromkeys(report.problems))
    report.posts, report.experiments = len(files), len(specs)
    return report


def _bibliography(root: Path, config: SiteConfig) -> Bibliography:
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


class StaticChecks(Handlers):
    """Directive handlers that check what can be known without running the experiment: the
    shared checks of ``directives``, then names and claims against the cached values."""

    def __init__(self, post: Post, root: Path, spec: ExperimentSpec | None,
                 obs: Observables | None, bibliography: Bibliography | None,
                 posts: dict | None = None):
        super().__init__(Scope(post.rel, root, post.experiment, spec.sweep if spec else None,
                               list(spec.figures) if spec else [],
                               sorted(spec.params) if spec else [],
                               posts=posts or {}))
        self.obs = obs
        self.bibliography = bibliography

    def handle(self, d) -> str:
        if split_embed(d) is not None:   # another post's figure or value: the build checks it
            return ""
        return super().handle(d)

    def value(self, call: Call) -> str:
        if self.obs is not None:
            self.obs.check_name(call.args[0], call.rel, call.line)
        return ""

    def fit(self, call: Call) -> str:
        if self.obs is not None:
            self.obs.check_name(call.args[0], call.rel, call.line)
        return ""

    def claim(self, call: Call) -> str:
        if self.obs is not None:
            expr, text = call.args[0], call.args[-1]
            check = check_claim(self.obs, expr, text, call.cell, call.rel, call.line)
            if not check.holds:
                call.fail(f"claim fails on the cached data: {expr} ({text}); "
                          f"{check.failure_summary()}")
        return ""

    def cite(self, call: Call) -> str:
        if self.bibliography is not None:
            for key in call.result:
                self.bibliography.check(key, call.rel, call.line)
        return ""

    def reference(self, call: Call) -> str:
        if self.bibliography is not None:
            self.bibliography.check(call.args[0], call.rel, call.line)
        return ""

    def math(self, tex: str, display: bool, line: int) -> str:
        return latex_to_mathml(tex, display, self.scope.rel, line)
