"""Synthetic corpora for the benchmarks, generated deterministically into a folder.

Corpus T: text posts written in three dialects of the same content (physai-blog / the minimal
baseline: YAML front matter; MkDocs: YAML front matter under docs/; Pelican: its own
``Key: value`` metadata), so every tool renders the same bodies.

Corpus E: experiment posts against the physai-blog experiment API, plus the same scripts as a
sphinx-gallery project and as plain (physai-free) scripts for the overhead comparison.
"""

from __future__ import annotations

import random
import textwrap
import time
from pathlib import Path

WORDS = ("loss grokking network weight decay embedding attention gradient phase transition "
         "circuit feature superposition scaling exponent toy model memorization generalization "
         "optimizer momentum learning rate batch noise spectrum eigenvalue kernel regime lazy "
         "rich sharpness edge stability curvature manifold token residual stream layer norm "
         "activation sparse dictionary probe linear representation symmetry modular addition "
         "fourier frequency plateau spike collapse neural tangent width depth initialization "
         "variance entropy temperature sample data set train test accuracy seed sweep cell "
         "figure measure observe hypothesis mechanism dynamics emerges slowly quickly the a of "
         "and in to is that with for as we this on by at from which").split()
TAGS = ["grokking", "scaling", "optimisation", "toy-models", "interpretability", "dynamics",
        "phase-transitions", "kernels", "sparsity", "notes"]

MATH = [r"\int_0^T L(t)\,dt = \frac{\log(1 + r T)}{r}",
        r"\mathcal{L}(\theta) = \frac{1}{n}\sum_{i=1}^{n} \left(f_\theta(x_i) - y_i\right)^2",
        r"t_{\mathrm{grok}} \propto \lambda^{-\alpha}, \quad \alpha = 0.9 \pm 0.1",
        r"\frac{\partial \theta}{\partial t} = -\eta \nabla_\theta \mathcal{L} - \lambda \theta"]

CODE = '''\
```python
import numpy as np


def decay(step, rate):
    """The toy loss of section {k}."""
    return 1.0 / (1.0 + rate * step)


losses = [decay(s, 0.{k}) for s in range(100)]
print(f"final loss: {{losses[-1]:.3f}}")
```'''


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, n_words: int, k: int) -> str:
    out, count = [], 0
    while count < n_words:
        s = _sentence(rng)
        out.append(s)
        count += len(s.split())
    i = rng.randrange(len(out))
    out[i] = out[i][:-1] + f", see [the reference {k}](https://example.org/ref/{k}.html)."
    j = rng.randrange(len(out))
    out[j] = out[j][:-1] + f" with rate $r_{k} = 0.{k}$."
    return " ".join(out)


def text_post(i: int, n_words: int = 1500) -> dict:
    """One post of corpus T: ~n_words words, headings, a list, a code block, $$ math, links."""
    rng = random.Random(1000 + i)
    sections = []
    per_section = int(n_words * 0.85) // 5
    for k in range(1, 6):
        parts = [f"## Section {k}: {rng.choice(WORDS)} {rng.choice(WORDS)}", "",
                 _paragraph(rng, per_section // 2, k), ""]
        if k == 2:
            parts += [f"- {_sentence(rng)}" for _ in range(5)] + [""]
        if k == 3:
            parts += [CODE.format(k=k), ""]
        if k == 4:
            parts += ["$$" + MATH[i % len(MATH)] + "$$", ""]
        parts += [_paragraph(rng, per_section // 2, k), ""]
        sections.append("\n".join(parts))
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    return {"slug": f"post-{i:03d}", "title": f"Post {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
            "date": f"2025-{month:02d}-{day:02d}", "tags": rng.sample(TAGS, 2),
            "description": _sentence(rng), "body": "\n".join(sections)}


def yaml_front(post: dict, extra: str = "") -> str:
    return (f"---\ntitle: \"{post['title']}\"\ndate: {post['date']}\n"
            f"description: \"{post['description']}\"\ntags: [{', '.join(post['tags'])}]\n"
            f"{extra}---\n\n")


def write_text_corpus(base: Path, n_posts: int, n_words: int) -> dict[str, Path]:
    """Write corpus T for every tool; return the root folder of each."""
    posts = [text_post(i, n_words) for i in range(n_posts)]
    roots = {name: base / name for name in ("physai", "pelican", "mkdocs")}
    # physai-blog (also read by the minimal baseline script)
    (roots["physai"] / "posts").mkdir(parents=True)
    (roots["physai"] / "physai.yaml").write_text(
        "title: Benchmark Blog\nauthor: Bench Author\nbase_url: https://example.org/bench/\n"
        "description: Corpus T of the benchmarks.\n")
    for p in posts:
        (roots["physai"] / "posts" / f"{p['date']}-{p['slug']}.md").write_text(
            yaml_front(p) + p["body"])
    # Pelican: its own metadata format, as pelican-quickstart sets a project up.
    content = roots["pelican"] / "content"
    content.mkdir(parents=True)
    for p in posts:
        (content / f"{p['slug']}.md").write_text(
            f"Title: {p['title']}\nDate: {p['date']}\nTags: {', '.join(p['tags'])}\n"
            f"Slug: {p['slug']}\nSummary: {p['description']}\n\n{p['body']}")
    (roots["pelican"] / "pelicanconf.py").write_text(textwrap.dedent("""\
        AUTHOR = "Bench Author"
        SITENAME = "Benchmark Blog"
        SITEURL = ""
        PATH = "content"
        TIMEZONE = "UTC"
        DEFAULT_LANG = "en"
        FEED_ALL_ATOM = "feeds/all.atom.xml"
        RELATIVE_URLS = True
        DEFAULT_PAGINATION = False
        """))
    # MkDocs: YAML front matter under docs/, navigation generated from the files.
    docs = roots["mkdocs"] / "docs" / "posts"
    docs.mkdir(parents=True)
    (roots["mkdocs"] / "docs" / "index.md").write_text("# Benchmark Blog\n\nCorpus T.\n")
    for p in posts:
        (docs / f"{p['slug']}.md").write_text(yaml_front(p) + f"# {p['title']}\n\n" + p["body"])
    (roots["mkdocs"] / "mkdocs.yml").write_text(
        "site_name: Benchmark Blog\nmarkdown_extensions:\n  - codehilite\n  - toc\n")
    return roots


# ---------------------------------------------------------------------------------------------
# Corpus E

COMPUTE = '''\
    rng = np.random.default_rng(seed)
    x = rng.random(params["n"])
    for step in range(params["steps"]):
        x = params["r"] * x * (1.0 - x)
        if step % 50 == 0:
            {record}
'''

EXPERIMENT = '''\
"""
Experiment {i}: a logistic-map population
=========================================

A toy computation of about {target} s of numpy, and one figure drawn from its stored data.
"""

import numpy as np

from physai_blog import Experiment

exp = Experiment(params={{"r": {r!r}, "n": {n}, "steps": {steps}}}, seeds=[0])


@exp.run
def train(params, seed, log):
{compute}    log.value("final_mean", float(x.mean()))
    log.value("final_std", float(x.std()))


@exp.figure("population", caption="Mean population against step.")
def population(data, fig):
    ax = fig.add_subplot()
    ax.plot(*data.run.series("mean"), lw={lw!r})
    ax.set_xlabel("step")
    ax.set_ylabel("mean population")


if __name__ == "__main__":
    import sys

    # Experiment.main() reads __main__.__file__, which sphinx-gallery's __main__ lacks.
    if not hasattr(sys.modules["__main__"], "__file__"):
        sys.modules["__main__"].__file__ = "exp{i}.py"
    exp.main()
'''

PLAIN = '''\
"""The computation of experiment {i} as a plain script: no physai-blog, no figure."""

import csv
import json
import sys
import time

import numpy as np


def train(params, seed, rows):
{compute}    return {{"final_mean": float(x.mean()), "final_std": float(x.std())}}


if __name__ == "__main__":
    start = time.perf_counter()
    rows = []
    values = train({{"r": {r!r}, "n": {n}, "steps": {steps}}}, 0, rows)
    with open("plain-{i}.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with open("plain-{i}.json", "w") as fh:
        json.dump(values, fh)
    print(json.dumps({{"compute_s": time.perf_counter() - start}}))
'''

POST = '''\
---
title: "Experiment {i}: a logistic-map population"
date: 2026-01-{day:02d}
description: A toy computation and its figure.
tags: [toy-models]
experiment: experiments/exp{i}.py
---

The population settles after a transient; its mean ends at
{{{{ value("final_mean", fmt=".4f") }}}} with spread {{{{ value("final_std", fmt=".4f") }}}}.

{{{{ figure("population") }}}}

{{{{ claim("final_std >= 0", "the spread is not negative") }}}}
'''

SWEEP_EXPERIMENT = '''\
"""A sweep of {cells} CPU-bound cells of about {target} s each."""

import numpy as np

from physai_blog import Experiment

exp = Experiment(params={{"r": 3.7, "n": {n}, "steps": {steps}, "k": 0}},
                 sweep={{"k": {ks!r}}}, seeds=[0])


@exp.run
def train(params, seed, log):
    seed = seed + params["k"]
{compute}    log.value("final_mean", float(x.mean()))


if __name__ == "__main__":
    exp.main()
'''


def calibrate_steps(seconds: float, n: int = 100_000) -> int:
    """Steps of the logistic map on n floats that take about ``seconds`` here (best of 3)."""
    import numpy as np

    x = np.random.default_rng(0).random(n)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        y = x
        for _ in range(100):
            y = 3.7 * y * (1.0 - y)
        best = min(best, time.perf_counter() - start)
    return max(50, int(round(seconds / (best / 100) / 50)) * 50)


def write_experiment_corpus(base: Path, n_exp: int, seconds: float, steps: int,
                            n: int = 100_000) -> dict[str, Path]:
    """Corpus E as a physai-blog blog, a sphinx-gallery project and plain scripts."""
    blog, sphinx, plain = base / "physai", base / "sphinx", base / "plain"
    for d in (blog / "posts", blog / "experiments", sphinx / "examples", plain):
        d.mkdir(parents=True)
    (blog / "physai.yaml").write_text(
        "title: Experiment Blog\nauthor: Bench Author\nbase_url: https://example.org/e/\n")
    record_log = 'log.scalars(step=step, mean=float(x.mean()), std=float(x.std()))'
    record_plain = 'rows.append((step, float(x.mean()), float(x.std())))'
    for i in range(n_exp):
        fields = dict(i=i, r=3.6 + 0.02 * i, n=n, steps=steps, target=seconds)
        script = EXPERIMENT.format(**fields, lw=1.0,
                                   compute=COMPUTE.format(record=record_log))
        (blog / "experiments" / f"exp{i}.py").write_text(script)
        (sphinx / "examples" / f"exp{i}.py").write_text(script)
        (blog / "posts" / f"2026-01-{i + 1:02d}-exp{i}.md").write_text(POST.format(i=i, day=i + 1))
        (plain / f"plain{i}.py").write_text(
            PLAIN.format(**fields, compute=COMPUTE.format(record=record_plain)))
    (sphinx / "examples" / "README.rst").write_text("Experiments\n===========\n\nCorpus E.\n")
    (sphinx / "index.rst").write_text("Corpus E\n========\n\n.. toctree::\n\n   auto_examples/index\n")
    (sphinx / "conf.py").write_text(textwrap.dedent("""\
        project = "Corpus E"
        extensions = ["sphinx_gallery.gen_gallery"]
        sphinx_gallery_conf = {
            "examples_dirs": "examples",
            "gallery_dirs": "auto_examples",
            "filename_pattern": r".*",
        }
        exclude_patterns = ["_build", "examples"]
        """))
    return {"physai": blog, "sphinx": sphinx, "plain": plain}


def write_sweep_blog(base: Path, cells: int, seconds: float, steps: int,
                     n: int = 100_000) -> Path:
    (base / "posts").mkdir(parents=True)
    (base / "experiments").mkdir()
    (base / "physai.yaml").write_text("title: Sweep\nauthor: Bench Author\n")
    (base / "experiments" / "sweep.py").write_text(SWEEP_EXPERIMENT.format(
        cells=cells, target=seconds, n=n, steps=steps, ks=list(range(cells)),
        compute=COMPUTE.format(record="pass")))
    (base / "posts" / "2026-02-01-sweep.md").write_text(
        "---\ntitle: Sweep\ndate: 2026-02-01\n---\n\n"
        "Mean at k=0: {{ value(\"final_mean\", k=0, fmt=\".4f\") }}.\n")
    return base
