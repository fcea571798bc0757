"""The example blog at the repository root passes validation, without running any experiment.

Cheap checks (no torch, no matplotlib, no training) that catch a broken example post before the
full site build in CI does: the config and bibliography load, every post and experiment spec
parses, and every directive in the prose points at something real: figures defined by the
experiment, values the experiment logs, sweep cells that exist, claims that parse, citation
keys in the bibliography, math that typesets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from physai_blog.pipeline import load_specs
from physai_blog.content.config import load_config
from physai_blog.content.posts import load_posts
from physai_blog.render.markup import latex_to_mathml, render_markdown
from physai_blog.render.references import Bibliography, parse_keys
from physai_blog.render.values import CLAIM_FUNCTIONS, parse_claim

ROOT = Path(__file__).resolve().parent.parent


def logged_values(source: str) -> set[str]:
    """Names passed as literals to ``log.value("name", ...)`` in an experiment's source."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "value" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log" and node.args
                and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value)
    return names


def claim_names(expr: str) -> set[str]:
    """Value names a claim refers to: bare names and the quoted names of at()/exponent()."""
    names = set()
    for node in ast.walk(parse_claim(expr)):
        if isinstance(node, ast.Name) and node.id not in CLAIM_FUNCTIONS:
            names.add(node.id)
        if isinstance(node, ast.Call) and node.func.id in ("at", "exponent") and node.args:
            names.add(node.args[0].value)
    return names


@pytest.fixture(scope="module")
def example():
    warnings: list[str] = []
    config = load_config(ROOT)
    posts = load_posts(ROOT, warnings)
    specs = load_specs(posts, ROOT)
    return config, posts, specs, warnings


def test_config_and_bibliography(example):
    config, posts, _, warnings = example
    assert config.title and config.author != "Anonymous" and config.description
    assert config.base_url.startswith("https://") and config.footer
    assert config.bibliography == "references.bib"
    bib = Bibliography(ROOT / config.bibliography, config.bibliography)
    assert len(bib.entries("references.bib", 1)) >= 5
    assert warnings == []
    assert len(posts) >= 3 and all(p.experiment for p in posts)


def test_every_directive_points_at_something_real(example):
    config, posts, specs, _ = example
    bib = Bibliography(ROOT / config.bibliography, config.bibliography)
    for post in posts:
        spec = specs[post.experiment]
        values = logged_values(spec.source)
        seen = {"figure": [], "claim": [], "value": 0, "cite": 0}

        def check_cell(d):
            for axis, v in d.kwargs.items():
                if axis == "fmt":
                    format(1.5, v)
                    continue
                assert axis in spec.sweep, f"{post.rel}:{d.line}: {axis!r} is not a sweep axis"
                assert v in spec.sweep[axis], f"{post.rel}:{d.line}: {axis}={v!r} not swept"

        def figure(d):
            assert d.args[0] in spec.figures, f"{post.rel}:{d.line}: unknown figure {d.args[0]!r}"
            seen["figure"].append(d.args[0])
            return ""

        def value(d):
            assert d.args[0] in values, f"{post.rel}:{d.line}: {d.args[0]!r} is never logged"
            check_cell(d)
            free = [a for a in spec.sweep if a not in d.kwargs and len(spec.sweep[a]) > 1]
            assert not free, f"{post.rel}:{d.line}: value() must pin the sweep axes {free}"
            seen["value"] += 1
            return ""

        def fit(d):
            assert d.args[0] in values and d.args[1] in spec.sweep, f"{post.rel}:{d.line}"
            check_cell(d)
            return ""

        def claim(d):
            expr = d.args[0]
            unknown = claim_names(expr) - values - set(spec.params)
            assert not unknown, f"{post.rel}:{d.line}: claim {expr!r} uses {sorted(unknown)}"
            check_cell(d)
            seen["claim"].append(expr)
            return ""

        def param(d):
            assert d.args[0] in spec.params, f"{post.rel}:{d.line}: unknown param {d.args[0]!r}"
            check_cell(d)
            return ""

        def cite(d):
            for key in parse_keys(d.args[0], post.rel, d.line):
                bib.check(key, post.rel, d.line)
            seen["cite"] += 1
            return ""

        def math(tex, display, line):
            return latex_to_mathml(tex, display, post.rel, line)

        handlers = {"figure": figure, "value": value, "fit": fit, "claim": claim, "cite": cite,
                    "param": param}
        render_markdown(post.body, post.rel, post.body_line, handlers, math)
        assert len(seen["figure"]) >= 2, f"{post.rel}: fewer than two figures"
        assert len(set(seen["figure"])) == len(seen["figure"]), f"{post.rel}: a figure twice"
        assert set(seen["figure"]) == set(spec.figures), \
            f"{post.rel}: figures defined but not shown: {set(spec.figures) - set(seen['figure'])}"
        assert seen["claim"] and seen["value"] and seen["cite"], post.rel


def test_experiments_are_well_formed(example):
    _, posts, specs, _ = example
    for post in posts:
        spec = specs[post.experiment]
        assert spec.run_function == "train"
        assert len(spec.seeds) >= 3, f"{spec.rel}: seed sensitivity needs several seeds"
        assert spec.sweep, f"{spec.rel}: the examples each sweep one parameter"
        assert "exp.main()" in spec.source
        for fig in spec.figures.values():
            assert fig.caption, f"{spec.rel}:{fig.lineno}: figure {fig.name!r} has no caption"
