"""Property-based tests: whatever an author writes, the pure stages either succeed or raise a
``PhysaiError`` (one line naming file and line); never another exception.

Front matter goes through ``content`` (as data and as YAML text), bodies through
``markup.render_markdown`` with handlers that call the real claim and value checks on a fixed
set of observables, and claims through ``values``.  No experiment runs, so examples are fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physai_blog.render import markup
from physai_blog.render import values
from physai_blog.content.posts import KNOWN_KEYS, post_from_front_matter, read_post
from physai_blog.errors import InputError, PhysaiError
from physai_blog.runtime.names import SLUG
from physai_blog.render.values import Observables, RunValues

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
REL = "posts/2026-02-01-fuzz.md"

# -- front matter --------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.dates(min_value=dt.date(1, 1, 1)), st.sampled_from(["../../x", "/etc/passwd", "none",
                                                           "experiments/x.py", "<script>",
                                                           "2026-13-45", "", " "]))
yaml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
keys = st.one_of(st.sampled_from(sorted(KNOWN_KEYS)), st.text(max_size=12))
front_matter = st.dictionaries(keys, yaml_values, max_size=8)


def _post(tmp: Path, data: dict):
    root = tmp
    (root / "experiments").mkdir(exist_ok=True)
    lines = {k: i + 2 for i, k in enumerate(data)}
    warnings: list[str] = []
    return post_from_front_matter(data, lines, root / REL, REL, root, "Body.\n", 10, warnings)


@SETTINGS
@given(data=front_matter)
def test_front_matter_values_never_crash(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fm")
    try:
        post = _post(tmp, data)
    except PhysaiError as exc:
        assert exc.message.startswith(REL), exc.message
        for error in getattr(exc, "errors", [exc]):
            assert error.message.startswith(f"{REL}:"), error.message  # every one has a line
        return
    assert post.title and isinstance(post.date, dt.date)
    assert SLUG.match(post.slug) and ".." not in post.slug and "/" not in post.slug
    if post.experiment is not None:
        assert not Path(post.experiment).is_absolute() and ".." not in Path(post.experiment).parts


def _dump(data: dict) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return ""


@SETTINGS
@given(data=front_matter, noise=st.text(max_size=40), where=st.integers(0, 400))
def test_post_files_never_crash(tmp_path_factory, data, noise, where):
    """Whole files: valid YAML with random values, then the same with random text spliced in."""
    tmp = tmp_path_factory.mktemp("file")
    (tmp / "posts").mkdir()
    text = "---\n" + _dump(data) + "---\nBody.\n"
    for variant in (text, text[:where] + noise + text[where:]):
        path = tmp / REL
        path.write_text(variant, encoding="utf-8")
        try:
            read_post(path, tmp, [])
        except PhysaiError as exc:
            assert exc.message.startswith(REL), exc.message


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_post_bytes_never_crash(tmp_path_factory, raw):
    tmp = tmp_path_factory.mktemp("bytes")
    (tmp / "posts").mkdir()
    (tmp / REL).write_bytes(b"---\n" + raw)
    try:
        read_post(tmp / REL, tmp, [])
    except PhysaiError as exc:
        assert exc.message.startswith(REL), exc.message


# -- Markdown bodies with directives -------------------------------------------------------

OBS = Observables(
    [RunValues("wd-0.1_seed-0", {"wd": 0.1}, 0, {"loss": 0.5, "t": 100.0, "zero": 0.0}),
     RunValues("wd-0.1_seed-1", {"wd": 0.1}, 1, {"loss": 0.4, "t": 120.0, "zero": 0.0}),
     RunValues("wd-1.0_seed-0", {"wd": 1.0}, 0, {"loss": 0.2, "t": 10.0, "zero": 0.0}),
     RunValues("wd-1.0_seed-1", {"wd": 1.0}, 1, {"loss": 0.1, "t": 12.0, "zero": 0.0}),
     RunValues("wd-3.0_seed-0", {"wd": 3.0}, 0, {"loss": 0.05, "t": 1.0, "zero": 0.0})],
    {"wd": [0.1, 1.0, 3.0]})


def _handlers():
    """Stand-ins for render's handlers that still run the real value and claim checks."""

    def figure(d):
        if len(d.args) != 1 or d.args[0] not in ("curve", "loss"):
            raise InputError(REL, d.line, f"unknown figure {d.args!r}")
        return "<figure></figure>"

    def value(d):
        if len(d.args) != 1 or not isinstance(d.args[0], str):
            raise InputError(REL, d.line, "value() takes one name")
        cell = {k: v for k, v in d.kwargs.items() if k != "fmt"}
        xs = OBS.value(d.args[0], cell, REL, d.line)
        try:
            return values.format_values(xs, d.kwargs.get("fmt"))
        except (ValueError, TypeError) as exc:
            raise InputError(REL, d.line, f"bad format ({exc})")

    def claim(d):
        if len(d.args) not in (1, 2) or not all(isinstance(a, str) for a in d.args):
            raise InputError(REL, d.line, "claim() takes an expression and a text")
        values.check_claim(OBS, d.args[0], d.args[-1], dict(d.kwargs), REL, d.line)
        return "<claim>"

    def fit(d):
        if len(d.args) != 2 or not all(isinstance(a, str) for a in d.args):
            raise InputError(REL, d.line, "fit() takes two names")
        values.fit(OBS, d.args[0], d.args[1], {}, REL, d.line)
        return "<fit>"

    def include_figure(d):
        if "path" not in d.kwargs:
            raise InputError(REL, d.line, "needs path")
        return "<figure></figure>"

    return {"figure": figure, "value": value, "claim": claim, "fit": fit,
            "include_figure": include_figure}


def _math(tex: str, display: bool, line: int) -> str:
    return markup.latex_to_mathml(tex, display, REL, line)


names = st.sampled_from(["loss", "t", "zero", "wd", "nope", "", "../x", "curve"])
literals = st.one_of(names, st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([0.1, 1.0, 3.0, 7.0]), st.text(max_size=6))
operators = st.sampled_from(["+", "-", "*", "/", "**", "%", "//", "<", ">", "==", "!=", "<=",
                             " and ", " or ", ",", "(", ")", "not ", "."])
functions = st.sampled_from(["mean", "std", "median", "min", "max", "abs", "log", "exp", "sqrt",
                             "at", "exponent", "eval", "__import__", "open", ""])


@st.composite
def claim_expressions(draw):
    parts = []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(draw(names))
        elif kind == 1:
            parts.append(repr(draw(literals)))
        elif kind == 2:
            parts.append(draw(operators))
        else:
            args = draw(st.lists(st.one_of(names, names.map(repr), literals.map(repr)),
                                 max_size=3))
            kwargs = draw(st.lists(st.sampled_from(["wd=1.0", "wd=7", "x=1", "wd='a'"]),
                                   max_size=1))
            parts.append(f"{draw(functions)}({', '.join(args + kwargs)})")
    return " ".join(parts)


@st.composite
def directives(draw):
    name = draw(st.sampled_from(["figure", "value", "claim", "fit", "table", "figur", ""]))
    args = draw(st.lists(st.one_of(literals.map(repr), claim_expressions().map(repr)),
                         max_size=3))
    kwargs = draw(st.lists(st.sampled_from(["fmt='.2f'", "fmt='q'", "wd=1.0", "wd=0.5",
                                            "caption='c'", "**{}", "x=y"]), max_size=2))
    inner = f"{name}({', '.join(args + kwargs)})"
    if draw(st.booleans()):
        inner = draw(st.sampled_from([inner[:-1], inner + ")", inner.replace("(", "[", 1)]))
    return "{{ " + inner + " }}"


pieces = st.one_of(
    directives(),
    st.sampled_from(['{% include figure.liquid path="a.png" %}', "{% include x %}",
                     '{% include figure.liquid path="../../etc/passwd" caption="c" %}',
                     '{% include figure.liquid path="x %}', "{% for %}", "{%%}", "{{}}",
                     "{{", "}}", "{%", "%}"]),
    st.sampled_from(["$x$", "$$\\frac{a}{b}$$", "$\\frac{a}{b$", "$a_{1}^{2}$", "$$", "$",
                     "$\\alpha + \\notacommand$", "$}{$", "$$\\begin{matrix} a \\end{matrix}$$",
                     "\\$5", "$ x $", "$\\sqrt[3]{x}$"]),
    st.sampled_from(["```", "```python", "~~~", "    code", "`inline {{ x }}`", "``", "\n",
                     "\n\n", "# Heading", "- item", "> quote", "[link](x)", "[@key]", "<b>",
                     "<script>alert(1)</script>", "&amp;", "*", "_", "|a|b|\n|-|-|"]),
    st.text(max_size=12),
)


@SETTINGS
@given(parts=st.lists(pieces, max_size=12), separators=st.lists(st.sampled_from([" ", "\n", ""]),
                                                                min_size=12, max_size=12))
def test_markdown_bodies_never_crash(parts, separators):
    body = "".join(p + s for p, s in zip(parts, separators))
    try:
        html, _ = markup.render_markdown(body, REL, 7, _handlers(), _math)
    except PhysaiError as exc:
        assert exc.message.startswith(f"{REL}:"), exc.message
        line = int(exc.message[len(REL) + 1:].split(":")[0])
        assert 7 <= line <= 7 + body.count("\n"), (exc.message, body)
        return
    assert "physaitoken" not in html, html


# -- claims ----------------------------------------------------------------------------------

@SETTINGS
@given(expr=st.one_of(claim_expressions(), st.text(max_size=40)),
       cell=st.sampled_from([{}, {"wd": 1.0}, {"wd": 0.5}, {"x": 1}]))
def test_claims_never_crash(expr, cell):
    try:
        values.parse_claim(expr)
    except values.ClaimSyntaxError:
        pass
    try:
        check = values.check_claim(OBS, expr, "text", cell, REL, 3)
    except PhysaiError as exc:
        assert exc.message.startswith(f"{REL}:3: "), exc.message
        return
    for row in check.rows:
        assert isinstance(row["holds"], bool)
        for number in row["numbers"].values():
            assert not isinstance(number, int) or abs(number) < 10**400


def test_pathological_claims():
    """Found by hand: each would hang, eat memory or raise a raw exception before."""
    for expr in ["10 ** 10 ** 10 > 1", "'a' * 10 ** 9", "loss < 'a'", "min() > 0",
                 "at(loss, wd=1.0) > 0", "mean(nope) > 0", "-" * 5000 + "1", "(" * 300 + "1" + ")" * 300,
                 "exp(1000) > 1", "log(0)", "sqrt(-1)", "at('loss', wd=x) > 0", "max('a', 1)",
                 "loss ** -1 > 0", "zero ** -1 > 0", "not 'a'", "abs(**{})"]:
        try:
            values.check_claim(OBS, expr, "t", {"wd": 1.0}, REL, 3)
        except PhysaiError as exc:
            assert exc.message.startswith(f"{REL}:3: "), (expr, exc.message)
