"""Parameters as first-class observables: selections know their cells, ``{{ param() }}`` in
prose, params in claims, and ``exponent()`` meaning what ``fit()`` means."""

from __future__ import annotations

import re

import pytest

from conftest import make_blog
from physai_blog.build import build
from physai_blog.runtime.data import AmbiguousParam, load_data
from physai_blog.errors import PhysaiError
from physai_blog.render.values import Observables, RunValues, check_claim

EXPERIMENT = '''\
from physai_blog import Experiment

exp = Experiment(params={"lr": 0.05, "k": 2, "steps": 6, "opt": "sgd"},
                 sweep={"lr": [0.05, 0.1]}, seeds=[0, 1])


@exp.run
def train(params, seed, log):
    for step in range(params["steps"]):
        log.scalars(step=step, loss=1.0 / (1 + params["lr"] * step) + 0.001 * seed)
    log.value("final", 10.0 * params["k"] + seed)
    log.value("t", (1.0 + 0.01 * seed) / params["lr"])


@exp.figure("loss", caption="Loss.")
def loss(data, fig):
    ax = fig.add_subplot()
    for lr in (0.05, 0.1):
        sel = data.select(lr=lr)
        assert sel.params["lr"] == lr, sel.params["lr"]
        sel.band(ax, "loss", label=f"lr={sel.params['lr']}")
    EXTRA
'''
POST = '''\
---
title: Params
date: 2026-03-01
experiment: experiments/p.py
---

{{ figure("loss") }}

Base k = {{ param("k") }}, optimizer {{ param("opt") }}, steps {{ param("steps", fmt=".1f") }};
the fast cell uses lr = {{ param("lr", lr=0.1) }}.

{{ claim("final > 3 * k", "final exceeds three times k") }}
{{ claim("t * lr > 0.99", "t is about 1/lr", lr=0.1) }}
BODY
'''


def blog(tmp_path, body="", extra="pass"):
    return make_blog(tmp_path / "blog", {"2026-03-01-params.md": POST.replace("BODY", body)},
                     {"p.py": EXPERIMENT.replace("EXTRA", extra)})


def test_selections_params_and_claims_over_params(tmp_path):
    root = blog(tmp_path)
    report = build(root)
    assert report.ok and report.runs_total == 4
    html = (root / "site/posts/params/index.html").read_text()
    assert '<a class="param" href="data/lr-0.05_seed-0/manifest.json" title="parameter k">2</a>' \
        in html
    assert '>sgd</a>' in html and '>6.0</a>' in html
    assert re.search(r'<a class="param" href="data/lr-0.1_seed-0/manifest.json" '
                     r'title="parameter k, lr=0.1">|title="parameter lr, lr=0.1">0.1</a>', html)
    assert (root / "site/posts/params/data/lr-0.1_seed-0/manifest.json").exists()
    # params are not logged as values: values.csv has no k or lr column besides the sweep axis
    header = (root / "site/posts/params/data/values.csv").read_text().splitlines()[0]
    assert header == "run,lr,seed,final,t"


def test_reading_a_swept_param_over_several_cells_is_an_error_at_the_users_line(tmp_path):
    root = blog(tmp_path, extra='ax.set_title(str(data.params["lr"]))')
    with pytest.raises(PhysaiError) as caught:
        build(root)
    message = caught.value.message
    line = EXPERIMENT.replace("EXTRA", 'ax.set_title(str(data.params["lr"]))').splitlines().index(
        '    ax.set_title(str(data.params["lr"]))') + 1
    assert message.startswith(f"experiments/p.py:{line}: drawing a figure failed: "
                              "params['lr'] differs between the cells of this selection "
                              "(lr=0.05, lr=0.1); select one cell first, e.g. "
                              "data.select(lr=0.05).params['lr']"), message


def test_params_of_a_selection_unit():
    entries = [(None, f"lr-{lr}_seed-{s}", {"lr": lr, "k": 2}, {"lr": lr}, s)
               for lr in (0.05, 0.1) for s in (0, 1)]
    data = load_data(entries, {"lr": [0.05, 0.1]}, {"lr": 0.05, "k": 2})
    assert data.params["k"] == 2 and "lr" in data.params and len(data.params) == 2
    assert data.select(lr=0.1).params["lr"] == 0.1
    assert dict(data.select(lr=0.05).params) == {"lr": 0.05, "k": 2}
    for read in (lambda: data.params["lr"], lambda: data.params.get("lr"),
                 lambda: dict(data.params)):
        with pytest.raises(AmbiguousParam, match=r"differs between the cells"):
            read()
    with pytest.raises(KeyError):
        data.params["nope"]


@pytest.mark.parametrize("body, message", [
    ('{{ param("lr") }}', "param 'lr' varies over the sweep; name a cell, "
                          "e.g. param('lr', lr=0.05)"),
    ('{{ param("kk") }}', "unknown parameter 'kk'; did you mean 'k'?"),
    ('{{ param("k", lr=0.3) }}', "lr=0.3 is not in the sweep lr: [0.05, 0.1]"),
    ('{{ claim("final > kk", "x") }}', "unknown value 'kk'; did you mean 'k'?"),
    ('{{ claim("opt > 1", "x") }}', "parameter 'opt' is 'sgd', not a number"),
])
def test_param_errors_name_the_post_line(tmp_path, body, message):
    root = blog(tmp_path, body=body)
    with pytest.raises(PhysaiError) as caught:
        build(root)
    line = POST.replace("BODY", body).splitlines().index(body) + 1
    assert caught.value.message.startswith(f"posts/2026-03-01-params.md:{line}: ")
    assert message in caught.value.message, caught.value.message


def test_doctor_checks_param_without_running(tmp_path):
    from physai_blog.checks.doctor import doctor

    body = '{{ param("kk") }} {{ param("lr") }}'
    root = blog(tmp_path, body=body)
    problems = [str(p) for p in doctor(root).problems]
    line = POST.replace("BODY", body).splitlines().index(body) + 1
    where = f"posts/2026-03-01-params.md:{line}: "
    assert any(p.startswith(where + "unknown parameter 'kk'; did you mean 'k'?")
               for p in problems), problems


def two_x_values(seeds=(0, 1, 2)):
    rows = [RunValues(f"wd-{wd}_seed-{s}", {"wd": wd}, s, {"t": (1 + 0.01 * s) / wd})
            for wd in (0.5, 1.0) for s in seeds]
    return Observables(rows, {"wd": [0.5, 1.0]})


def test_exponent_with_two_x_values_is_pooled_like_fit():
    check = check_claim(two_x_values(), "exponent('t', 'wd') < -0.9", "x", {}, "p.md", 4)
    assert check.holds


def test_per_seed_exponent_error_names_exponent_and_its_numbers():
    with pytest.raises(PhysaiError) as caught:
        check_claim(two_x_values(), "exponent('t', 'wd', per_seed=True) < 0", "x", {}, "p.md", 4)
    assert caught.value.message == (
        "p.md:4: exponent('t', 'wd') (seed 0 only): a power-law fit needs at least 3 positive "
        "points at 2 or more x values; it had 2 of 2 point(s) positive, at x = 0.5, 1")
