"""A running post's page inside ``serve``: its numbers from the observables logged so far.

While a post's runs train, ``preview.py`` renders its page here, in serve's process, from the
``preview.json`` the build wrote beside each run (``runs/plan.py``): a finished run's values
come from the cache, a running run's from its live folder (``runtime/live.py``), a run not
started yet has none.  A number drawn from an unfinished run is marked (class
``physai-running``, a title with the step and how many seeds it is from); a value, fit or
claim that the runs have not logged enough for yet is pending (``physai-pending``): never
failed, and it stops nothing.  The page goes to ``.physai-cache/preview/<slug>/``, never
``site/``; the build's own page replaces it when the runs end.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from physai_blog.content.config import load_config
from physai_blog.content.posts import load_posts, read_post
from physai_blog.content.spec import load_spec
from physai_blog.errors import InputError, where
from physai_blog.figures.draw import FigurePlan
from physai_blog.paths import CACHE_DIR, post_dir
from physai_blog.render.embeds import embedded_slugs, links_posts
from physai_blog.render.embeds import split as split_embed
from physai_blog.render.markup import Converters
from physai_blog.render.page import (
    PostRenderer,
    environment,
    render_post_body,
    render_post_page,
)
from physai_blog.render.references import Bibliography
from physai_blog.render.values import (
    ClaimCheck,
    Observables,
    RunValues,
    check_claim,
    format_number,
    parse_claim,
)
from physai_blog.runs.cache import Cache
from physai_blog.runs.plan import plan_runs

FINISHED, RUNNING, WAITING = "finished", "running", "not started"

STYLE = """<style id="physai-provisional-style">/* physai-blog serve: runs still training */
#physai-provisional{margin:0 0 1rem;padding:.6rem .8rem;border:1px dashed #b7791f;
border-radius:6px;background:rgba(255,196,0,.12);font:13px/1.5 system-ui,sans-serif}
.physai-running{background:rgba(255,196,0,.22);border-bottom:1px dashed #b7791f}
.physai-running::after{content:"running";margin-left:.3em;padding:0 .3em;border-radius:3px;
background:#0d2b1a;color:#e9ffef;font:10px/1.6 ui-monospace,Menlo,monospace}
.physai-pending{font-style:italic;color:#8a6100;border-bottom:1px dotted currentColor}
#claims,#seed-sensitivity{outline:1px dashed #b7791f;outline-offset:.4rem}
</style>"""

# The theme's list of claims and its count in the post's header (post.html); a blog's own
# template may differ, and then only the banner and the marks in the prose say "running".
CLAIM_ITEM = re.compile(r'<li id="claim-(\d+)" class="claim-(?:pass|fail)">(\s*<span '
                        r'class="claim-mark">)[^<]*(</span>(?:(?!</li>).)*?— )(?:holds|FAILS) '
                        r'on \d+ of \d+ runs\.', re.S)
CLAIM_COUNT = re.compile(r'<a class="(?:checked|failing)" href="#claims">[^<]*</a>')


@dataclass(frozen=True)
class RunState:
    """One run of a post that trains: the folder of its observables and how far it got."""

    label: str
    path: Path            # its cache entry (finished), else its live folder
    status: str
    step: float | None = None
    total: float | None = None

    @property
    def at(self) -> str:
        if self.status != RUNNING:
            return self.status
        if self.step is None:
            return "started"
        return f"step {format_number(self.step)}" + (
            f" of {format_number(self.total)}" if self.total else "")


def run_states(preview: dict, cache_root: Path, progress: dict) -> list[RunState]:
    """Each run of ``preview``: finished (its cache entry is there), running (its live folder
    reports progress) or not started.  ``progress``: live key -> ``live.running``'s entry."""
    cache, out = Cache(cache_root), []
    for path, label, *_ in preview["runs"]:
        key = Path(path).name   # the run's key: its entry's folder, or its live folder
        done = cache.path("runs", key)
        if (done / "manifest.json").is_file():   # an entry is committed whole (a rename)
            out.append(RunState(label, done, FINISHED))
        elif key in progress:
            out.append(RunState(label, cache.live(key), RUNNING, progress[key].get("step"),
                                progress[key].get("total")))
        else:
            out.append(RunState(label, cache.live(key), WAITING))
    return out


def read_values(folder: Path) -> dict:
    """A run's values so far ({} before it logged any, or while it is being replaced)."""
    try:
        values = json.loads((folder / "values.json").read_text())
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def partial_observables(preview: dict, states: list[RunState]) -> Observables:
    return Observables([RunValues(label, cell, seed, read_values(state.path), params)
                        for (_, label, params, cell, seed), state in zip(preview["runs"], states)],
                       preview["sweep"])


def claim_names(tree: ast.AST) -> set[str]:
    """The values and params a claim reads: its bare names and its quoted ones (``at``,
    ``exponent``), not its functions."""
    functions = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in functions} | \
        {node.value for node in ast.walk(tree)
         if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def message(exc: InputError) -> str:
    """An input error's message without its file:line (the page is the post's own)."""
    return exc.message.removeprefix(f"{where(exc.path, exc.line)}: ")


class ProvisionalRenderer(PostRenderer):
    """The directive handlers of a post whose runs train: numbers from the runs so far,
    each with an id (the open page swaps them by it), marked unless every run is finished."""

    def __init__(self, *args, states: dict[str, RunState]):
        super().__init__(*args)
        self.states = states
        self.marks = 0
        self.claim_states: dict[int, tuple[str, str, str]] = {}   # number -> class, mark, text

    def handle(self, d) -> str:
        if split_embed(d) is None:
            return super().handle(d)
        try:   # another post's figure or number, as its last build has it (``embedded``)
            return super().handle(d)
        except InputError as exc:
            return self.pending(f"from another post: {message(exc)}")

    def next_id(self) -> str:
        self.marks += 1
        return f"physai-live-{self.marks}"

    def progress(self, runs: list[RunValues]) -> str:
        """Where ``runs`` are: "seed-1 at step 120 of 500, 1 not started, 1 finished"."""
        states = [self.states[r.label] for r in runs]
        moving = [s for s in states if s.status == RUNNING]
        parts = [s.at if len(moving) == 1 else f"{s.label} at {s.at}" for s in moving[:3]]
        parts += ["…"] if len(moving) > 3 else []
        for status in (WAITING, FINISHED):
            count = sum(s.status == status for s in states)
            parts += [f"{count} {status}"] if count else []
        return ", ".join(parts)

    def note(self, runs: list[RunValues], logged: int, what: str) -> str | None:
        """The title of a number from ``runs``, ``logged`` of which have it: "running: step
        120 of 500, from 2 of 3 seeds"; None when they have all finished (the build's)."""
        if all(self.states[r.label].status == FINISHED for r in runs):
            return None
        return (f"running: {self.progress(runs)}, from {logged} of {len(runs)} "
                f"{what}{'s' if len(runs) != 1 else ''}")

    def mark(self, html: str, note: str | None) -> str:
        """The build's rendering of a number with its id, and marked when ``note``."""
        html = html.replace(' class="', f' id="{self.next_id()}" class="'
                            + ("physai-running " if note else ""), 1)
        return html if note is None else html.replace(' title="', f' title="{escape(note)}; ', 1)

    def pending(self, why: str) -> str:
        return (f'<span id="{self.next_id()}" class="physai-pending" '
                f'title="{escape("pending: " + why)}">pending</span>')

    def value(self, call) -> str:
        name = call.args[0]
        runs = self.obs.select(call.cell, self.post.rel, call.line)
        logged = sum(name in r.values for r in runs)
        if not logged:
            return self.pending(f"no run has logged {name!r} yet ({self.progress(runs)})")
        return self.mark(super().value(call), self.note(runs, logged, "seed"))

    def fit(self, call) -> str:
        runs = self.obs.select(call.cell, self.post.rel, call.line)
        try:
            html = super().fit(call)
        except InputError as exc:   # too few points logged so far
            return self.pending(f"{message(exc)} ({self.progress(runs)})")
        return self.mark(html, self.note(runs, sum(call.args[0] in r.values for r in runs),
                                         "run"))

    def claim(self, call, obs: Observables | None = None) -> str:
        """Checked on the runs that have logged what it reads; pending while none has.
        ``obs``: another post's values (finished), for a claim that embeds them."""
        if obs is not None:
            return super().claim(call, obs)
        expr, text, rel = call.args[0], call.args[-1], self.post.rel
        tree = parse_claim(expr)
        names = claim_names(tree)
        runs = self.obs.select(call.cell, rel, call.line)
        if any(isinstance(node, ast.Call) and node.func.id in ("at", "exponent")
               for node in ast.walk(tree)):
            runs = self.obs.runs   # it reads other cells too: final when they all are
        ready = [r for r in self.obs.runs if names <= r.values.keys() | r.params.keys()]
        ready_ids = {id(r) for r in ready}
        logged = sum(id(r) in ready_ids for r in runs)
        final = all(self.states[r.label].status == FINISHED for r in runs)
        number, check = len(self.claims) + 1, None
        why = f"no run has logged {', '.join(sorted(names - set(self.obs.param_names())))} yet"
        if logged or final:   # once final, as the build checks it (its error, if any)
            try:
                check = check_claim(self.obs if final else Observables(ready, self.obs.sweep),
                                    expr, text, call.cell, rel, call.line)
            except InputError as exc:
                why = message(exc)
        if check is None:
            self.claims.append(ClaimCheck(expr, text, call.cell, []))
            why = f"pending: {why} ({self.progress(runs)})"
            self.claim_states[number] = ("claim-pending physai-pending", "…", why)
            return (f'<a id="{self.next_id()}" class="claim claim-pending physai-pending" '
                    f'href="#claim-{number}" title="{escape(why)}"><span class="claim-mark">'
                    f'…</span> {escape(text)}</a>')
        self.claims.append(check)
        return self.checked(number, check, self.note(runs, logged, "run"))

    def checked(self, number: int, check: ClaimCheck, note: str | None) -> str:
        mark = "✓" if check.holds else "✗"
        state = f"claim-{'pass' if check.holds else 'fail'}"
        title = check.expr
        if note is not None:   # never "fails": the runs have not all finished
            holding = sum(row["holds"] for row in check.rows)
            title = (f"{note}; {'holds' if check.holds else 'false'} so far on {holding} of "
                     f"{len(check.rows)}: {check.expr}")
            state = "claim-running physai-running"
            self.claim_states[number] = (state, mark, title)
        return (f'<a id="{self.next_id()}" class="claim {state}" href="#claim-{number}" '
                f'title="{escape(title)}"><span class="claim-mark">{mark}</span> '
                f"{escape(check.text)}</a>")


def render_page(root: Path, preview: dict, states: list[RunState], env=None,
                converter: Converters | None = None) -> tuple[bytes, str]:
    """The post's page from what its runs logged so far, with its banner and its marks, and
    its folder in the site; a PhysaiError when it cannot be rendered now (an edit under way).
    ``env``, ``converter``: kept by the caller from one page to the next (compiling the
    templates is most of a page's time; Jinja notices an edited one)."""
    config = load_config(root)
    post = read_post(root / preview["post"], root, [])
    spec = load_spec(root / preview["experiment"], root)
    bib = config.bibliography
    bibliography = Bibliography(root / bib if bib else None, bib)
    posts, embeds = None, None
    if links_posts(post.body) or embedded_slugs(post.body):
        posts = {p.slug: p for p in load_posts(root, [], include_drafts=True)}
        embeds = embedded(root, config, bibliography, posts)
    made = []

    def make(*args) -> ProvisionalRenderer:
        made.append(ProvisionalRenderer(*args, states={s.label: s for s in states}))
        return made[-1]

    item = render_post_body(post, config, root, partial_observables(preview, states),
                            figure_plans(spec), spec.path.name, True, bibliography,
                            converter or Converters(), None, posts, embeds, make_renderer=make)
    html = render_post_page(env or environment(root), config, item).decode()
    html = mark_claims(html, made[0].claim_states, item.claims)
    layout = hashlib.sha256(post.body.encode()).hexdigest()[:16]
    return provisional(html, banner(states), layout).encode(), post_dir(post, config.permalink)


def figure_plans(spec) -> dict[str, FigurePlan]:
    """What a page needs of each figure: its name, file, caption (its key is the build's)."""
    return {name: FigurePlan(spec, figure, [], "") for name, figure in spec.figures.items()}


def embedded(root: Path, config, bibliography: Bibliography, posts: dict):
    """``make(slug)`` for the posts this one embeds from: their renderer with the values of
    their last build (every run of theirs in the cache; else None, and the embed is pending)."""
    cache = Cache(root / CACHE_DIR)

    def make(slug: str):
        post = posts.get(slug)
        if post is None or not post.experiment:
            return None
        spec = load_spec(root / post.experiment, root)
        plans = plan_runs(post, spec, config.timeout, config.max_output_mb)
        if not all((cache.path("runs", p.key) / "manifest.json").is_file() for p in plans):
            return None
        obs = Observables([RunValues(p.label, p.cell, p.seed,
                                     read_values(cache.path("runs", p.key)), p.params)
                           for p in plans], spec.sweep)
        return (PostRenderer(post, config, root, obs, figure_plans(spec), spec.path.name, True,
                             bibliography, posts=posts), post.title,
                post_dir(post, config.permalink))
    return make


def mark_claims(html: str, states: dict, claims: list[ClaimCheck]) -> str:
    """The list of claims and their count in the header, as the runs so far have them."""
    def item(m: re.Match) -> str:
        if int(m.group(1)) not in states:
            return m.group(0)
        cls, mark, text = states[int(m.group(1))]
        return f'<li id="claim-{m.group(1)}" class="{cls}">{m.group(2)}{mark}{m.group(3)}' \
               f'{escape(text)}.'

    html = CLAIM_ITEM.sub(item, html)
    if not states:
        return html
    pending = sum(cls.startswith("claim-pending") for cls, _, _ in states.values())
    holding = sum(c.holds for c in claims if c.rows)
    count = (f'<a id="physai-live-claims" class="physai-running" href="#claims">{holding} of '
             f'{len(claims)} claims hold so far, {pending} pending</a>')
    return CLAIM_COUNT.sub(lambda m: count, html, count=1)


def banner(states: list[RunState]) -> str:
    finished = sum(s.status == FINISHED for s in states)
    moving = [s for s in states if s.status == RUNNING]
    waiting = sum(s.status == WAITING for s in states)
    parts = [f"{finished} of {len(states)} runs finished"]
    if moving:
        shown = ", ".join(f"{s.label} at {s.at}" for s in moving[:3])
        parts.append(f"{len(moving)} training ({shown}{', …' if len(moving) > 3 else ''})")
    if waiting:
        parts.append(f"{waiting} not started")
    return (f"<strong>Provisional</strong> (serve only): {escape('; '.join(parts))}. Numbers "
            "marked <span class=\"physai-running\">running</span> come from what the runs "
            "have logged so far; <span class=\"physai-pending\">pending</span> ones wait for "
            "a value not logged yet. The build's page replaces this one when the runs end; "
            "the published site holds only finished runs.")


def provisional(html: str, text: str, layout: str) -> str:
    """The page with its style and its banner, whose ``data-version`` tells the open page
    that it changed (a digest of the rest) and ``data-layout`` that the post's text did."""
    html = re.sub(r"(?i)</head>", lambda m: STYLE + m.group(0), html, count=1)
    box = (f'<div id="physai-provisional" role="status" data-layout="{layout}" '
           f'data-version="">{text}</div>')
    at = re.search(r"(?i)<article\b[^>]*>", html) or re.search(r"(?i)<body\b[^>]*>", html)
    end = at.end() if at else 0
    html = html[:end] + box + html[end:]
    version = hashlib.sha256(html.encode()).hexdigest()[:16]
    return html.replace('data-version=""', f'data-version="{version}"', 1)
