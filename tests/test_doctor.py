"""``physai-blog doctor``: every problem of a blog at once, without running an experiment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CONFIG, FAST_EXPERIMENT, FAST_POST, cli, copy_sample, make_blog
from physai_blog.build import build
from physai_blog.checks.doctor import doctor
from physai_blog.errors import PhysaiError

SWEEP_EXPERIMENT = FAST_EXPERIMENT.replace(
    'Experiment(params={"n": 5}, seeds=[0])',
    'Experiment(params={"n": 5, "lr": 0.1}, sweep={"lr": [0.1, 1.0]}, seeds=[0, 1])')

BROKEN = {
    # 5 problems in one post, each on its own line
    "2026-02-01-fast.md": '''\
---
title: Fast
date: 2026-02-01
experiment: experiments/fast.py
---

{{ figure("curev") }}
{{ value("total") }}
{{ value("total", lr=3.0) }}
{{ claim("total >", "x") }}
{{ fit("total", "n") }}
{% include figure.liquid path="../../etc/passwd" %}
$\\frac{a}{b$
{{ figure("curve" }}
''',
    # a front matter error in a second post
    "2026-02-02-bad.md": "---\ntitle: [x]\ndate: 2026-02-02\n---\nBody.\n",
    # a duplicate slug
    "2026-02-03-fast.md": "---\ntitle: Again\ndate: 2026-02-03\nexperiment: none\n---\nB.\n",
    # a broken experiment
    "2026-02-04-other.md": "---\ntitle: O\ndate: 2026-02-04\nexperiment: experiments/o.py\n"
                           "---\n{{ figure('x') }}\n",
}


def test_doctor_reports_every_problem_at_once(tmp_path):
    root = make_blog(tmp_path / "blog", posts=BROKEN,
                     experiments={"fast.py": SWEEP_EXPERIMENT, "o.py": "def f(:\n"},
                     config=CONFIG + "timeuot: 3\n")
    report = doctor(root)
    post = "posts/2026-02-01-fast.md"
    expected = [
        "physai.yaml:4: unknown key 'timeuot'; did you mean 'timeout'?",
        "posts/2026-02-02-bad.md:2: 'title' must be text",
        "posts/2026-02-03-fast.md:1: duplicate slug 'fast'",
        "experiments/o.py:1: SyntaxError",
        f"{post}:7: unknown figure 'curev'; did you mean 'curve'?",
        f"{post}:8: value 'total' varies over the sweep; name a cell, e.g. value('total', lr=0.1)",
        f"{post}:9: lr=3.0 is not in the sweep lr: [0.1, 1.0]",
        f"{post}:10: cannot parse claim 'total >'",
        f"{post}:11: fit over 'n': not a sweep axis (sweep axes: lr)",
        f"{post}:12: figure path '../../etc/passwd' lies outside the blog folder",
        f"{post}:13: cannot typeset math",
        f"{post}:14: cannot parse {{{{ figure(\"curve\" }}}}",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in report.problems), (text, report.problems)
    assert len(report.problems) == len(expected), report.problems
    assert not (root / ".physai-cache").exists() and not (root / "site").exists()


def test_doctor_cli_exit_code_and_output(tmp_path):
    root = make_blog(tmp_path / "blog", posts=BROKEN,
                     experiments={"fast.py": SWEEP_EXPERIMENT, "o.py": "def f(:\n"})
    result = cli("doctor", "--root", root)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == ("Error: 11 problem(s) found in physai.yaml, 4 post(s), "
                         "1 experiment(s)"), result.output
    assert all(line.startswith(("posts/", "experiments/")) for line in lines[:-1]), lines
    assert "Traceback" not in result.output and "physai_blog/" not in result.output


def test_doctor_on_a_good_blog_runs_nothing(tmp_path, monkeypatch):
    root = copy_sample(tmp_path / "blog")
    counter = tmp_path / "runs.txt"
    monkeypatch.setenv("PHYSAI_TEST_COUNTER", str(counter))
    result = cli("doctor", "--root", root)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("No problems found in physai.yaml, 2 post(s), "
                                          "1 experiment(s).")
    assert not counter.exists() and not (root / ".physai-cache").exists()


def test_doctor_checks_value_names_and_claims_against_the_cache(tmp_path):
    root = make_blog(tmp_path / "blog")
    assert cli("build", "--root", root).exit_code == 0
    post = root / "posts/2026-02-01-fast.md"
    post.write_text(FAST_POST.replace('value("total")', 'value("totl")')
                    + '\n{{ claim("total > 10", "big") }}\n{{ claim("total > 1", "ok") }}\n')
    report = doctor(root)
    assert report.problems == [
        "posts/2026-02-01-fast.md:9: unknown value 'totl'; did you mean 'total'? "
        "(values: total)",
        "posts/2026-02-01-fast.md:11: claim fails on the cached data: total > 10 (big); false "
        "on 1 of 1 runs, e.g. seed-0: total = 5"], report.problems


def test_doctor_missing_config_and_bibliography(tmp_path):
    root = make_blog(tmp_path / "blog", config=CONFIG + "bibliography: refs.bib\n")
    (root / "posts/2026-02-01-fast.md").write_text(FAST_POST + "\nAs shown [@nobody].\n")
    report = doctor(root)
    assert report.problems == ["physai.yaml: bibliography 'refs.bib' not found"], report.problems
    shutil.rmtree(root / "posts")
    (root / "physai.yaml").unlink()
    assert doctor(root).problems[0].startswith("physai.yaml: no physai.yaml in")
    assert doctor(Path(tmp_path / "nowhere")).problems


# One directive each, and the message both ``doctor`` and the build give (one set of rules).
SAME_MESSAGE = [
    ('{{ value("total", "lr") }}', "value() takes 1 positional argument (name), got 2"),
    ("{{ figure(3) }}", "figure(): the positional arguments must be strings"),
    ('{{ claim("total > 1", "x", "y") }}',
     'claim() takes an expression and a text: claim("a > b", "why")'),
    ('{{ figure("curve", captoin="x") }}',
     "figure() has no option 'captoin'; did you mean 'caption'? (options: caption)"),
    ('{{ figure("curve", caption=3) }}', "figure(): caption must be a string, not 3"),
    ('{{ figure("curv") }}',
     "unknown figure 'curv'; did you mean 'curve'? (figures of experiments/fast.py: curve)"),
    ('{{ figure("curve") }} {{ figure("curve") }}', "figure 'curve' is shown twice in this post"),
    ('{{ value("total") }}',
     "value 'total' varies over the sweep; name a cell, e.g. value('total', lr=0.1)"),
    ('{{ value("total", lr=0.1, n=5) }}', "'n' is not a sweep axis (sweep axes: lr)"),
    ('{{ value("total", lr=0.1, fmt="q") }}', "value 'total': bad format 'q'"),
    ('{{ param("lr") }}', "param 'lr' varies over the sweep; name a cell, e.g. param('lr', lr=0.1)"),
    ('{{ param("lrr", lr=0.1) }}', "unknown parameter 'lrr'; did you mean 'lr'? (params: lr, n)"),
    ('{{ param("n", fmt="q") }}', "param 'n': bad format 'q'"),
    ('{{ fit("total", "n") }}', "fit over 'n': not a sweep axis (sweep axes: lr)"),
    ('{{ fit("total", "lr", show="both") }}',
     "fit(): show must be \"exponent\" or \"relation\", not 'both'"),
    ('{{ fit("total", "lr", fmt="q") }}', "fit('total', 'lr'): bad format 'q'"),
    ('{{ claim("total >", "x") }}', "cannot parse claim 'total >'"),
    ('{{ claim("total > 1", "x", lr=3.0) }}', "lr=3.0 is not in the sweep lr: [0.1, 1.0]"),
]


def test_doctor_and_the_build_share_the_directive_rules(tmp_path):
    post = FAST_POST.split("\n\n", 1)[0] + "\n\n"       # front matter; the body is line 7
    root = make_blog(tmp_path / "blog", posts={"2026-02-01-fast.md": post + "Body.\n"},
                     experiments={"fast.py": SWEEP_EXPERIMENT.replace(
                         'data.run.series("y")', '[0, 1]')})
    build(root)                                              # the runs, cached once
    path = root / "posts/2026-02-01-fast.md"
    for body, message in SAME_MESSAGE:
        path.write_text(post + body + "\n")
        expected = f"posts/2026-02-01-fast.md:7: {message}"
        with pytest.raises(PhysaiError) as caught:
            build(root)
        assert caught.value.message.startswith(expected), (body, caught.value.message)
        problems = doctor(root).problems
        assert len(problems) == 1 and problems[0].startswith(expected), (body, problems)
    path.write_text(post + '{{ fit("total", "lr", fmt=None, show="relation") }} '
                           '{{ param("n", fmt="d") }} {{ value("total", lr=1.0, fmt=".1f") }}\n')
    assert doctor(root).problems == []
    build(root)
