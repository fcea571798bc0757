"""Seeds and sweeps: each (cell, seed) cached on its own; cells addressed from prose."""

from __future__ import annotations

import re

from conftest import cli, make_blog
from physai_blog.build import build

EXPERIMENT = '''\
import os

from physai_blog import Experiment

exp = Experiment(params={"wd": 1.0, "scale": 100.0},
                 sweep={"wd": [0.5, 1.0, 2.0]}, seeds=[0, 1, 2])


@exp.run
def train(params, seed, log):
    with open(os.environ["PHYSAI_TEST_COUNTER"], "a") as fh:
        fh.write(f"{params['wd']} {seed}\\n")
    t = params["scale"] / params["wd"] * (1 + 0.01 * seed)
    for step in range(5):
        log.scalars(step=step, loss=t / (step + 1))
    log.value("t_grok", t)
    log.value("t_mem", t / 10)


@exp.figure("loss", caption="Loss per weight decay.")
def loss(data, fig):
    ax = fig.add_subplot()
    for cell, runs in data.by_cell():
        runs.band(ax, "loss", label=f"wd={cell['wd']}")
    ax.legend()
'''
POST = '''\
---
title: Sweep
date: 2026-03-01
tags: [sweep]
experiment: experiments/sweep.py
---

{{ figure("loss") }}

At wd = 1: {{ value("t_grok", wd=1.0, fmt=".1f") }}. Fit: {{ fit("t_grok", "wd") }}.

{{ claim("t_grok / t_mem > 5", "generalization comes much later") }}
{{ claim("-1.2 < exponent('t_grok', 'wd') < -0.8", "t ~ 1/wd") }}
{{ claim("t_grok > 150", "slow at small wd", wd=0.5) }}
'''


def counted(path):
    return path.read_text().splitlines() if path.exists() else []


def test_sweep_cells_values_fits_and_extension(tmp_path, monkeypatch):
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    root = make_blog(tmp_path / "blog", {"2026-03-01-sweep.md": POST}, {"sweep.py": EXPERIMENT})
    report = build(root)
    assert len(counted(counter)) == 9 and report.runs_total == 9
    html = (root / "site/posts/sweep/index.html").read_text()
    assert ">101.0 ± 1.0 (n=3)</a>" in html
    assert re.search(r'<span class="fit" title="t_grok ∝ wd\^k[^"]*">−1\.00 ± 0\.0\d</span>',
                     html)
    assert html.count('class="claim claim-pass"') == 3
    assert "<td>t_grok</td>" not in html and "<code>t_grok</code></td><td>wd=0.5</td><td>3</td>" in html
    for label in ("wd-0.5_seed-0", "wd-2.0_seed-2"):
        assert (root / f"site/posts/sweep/data/{label}/values.json").is_file()

    # one more sweep value: exactly the three new (cell, seed) runs execute
    script = root / "experiments/sweep.py"
    script.write_text(script.read_text().replace('[0.5, 1.0, 2.0]', '[0.5, 1.0, 2.0, 4.0]'))
    report = build(root)
    assert sorted(report.runs_executed) == [f"sweep/wd-4.0_seed-{s}" for s in range(3)]
    assert counted(counter)[9:] == ["4.0 0", "4.0 1", "4.0 2"] or \
        sorted(counted(counter)[9:]) == ["4.0 0", "4.0 1", "4.0 2"]
    assert report.figures_drawn == ["sweep/loss"]

    # one more seed in the front matter: only the new seed's runs execute
    post = root / "posts/2026-03-01-sweep.md"
    post.write_text(post.read_text().replace("tags: [sweep]", "tags: [sweep]\nseeds: [0, 1, 2, 3]"))
    report = build(root)
    assert len(report.runs_executed) == 4 and len(counted(counter)) == 16


def test_failing_claim_with_keep_going_is_published_marked(tmp_path, monkeypatch):
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(tmp_path / "runs.txt"))
    post = POST + '\n{{ claim("t_grok > 60", "always slow") }}\n'
    root = make_blog(tmp_path / "blog", {"2026-03-01-sweep.md": post}, {"sweep.py": EXPERIMENT})
    result = cli("build", "--root", root)
    assert result.exit_code == 1 and not (root / "site").exists()
    assert ("Error: posts/2026-03-01-sweep.md:16: claim fails: t_grok > 60 (always slow); "
            "false on 3 of 9 runs, e.g. wd-2.0_seed-0: t_grok = 50") in result.output
    result = cli("build", "--root", root, "--keep-going")
    assert result.exit_code == 1 and "claim fails: t_grok > 60" in result.output
    html = (root / "site/posts/sweep/index.html").read_text()
    assert '<a class="claim claim-fail" href="#claim-4"' in html
    assert "FAILS on 6 of 9 runs" in html
