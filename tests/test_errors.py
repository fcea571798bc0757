"""Every error a user will hit: one clear line naming file and line, non-zero exit, no
internal traceback, and the previous site left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FAST_EXPERIMENT, FAST_POST, cli, make_blog


def site_snapshot(root: Path) -> dict:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.fixture
def blog(tmp_path):
    """A built blog: each test breaks it and checks the error and the untouched site."""
    root = make_blog(tmp_path / "blog")
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    return root


def fails_with(root: Path, expected: str, *more: str) -> str:
    before = site_snapshot(root)
    result = cli("build", "--root", root)
    assert result.exit_code != 0
    first = result.output.strip().splitlines()[0]
    assert first.startswith("Error: ") and expected in first, result.output
    for text in more:
        assert text in result.output, result.output
    assert "physai_blog/" not in result.output          # no internal traceback
    assert site_snapshot(root) == before                 # nothing lost
    return result.output


def write_post(root: Path, text: str, name: str = "2026-02-01-fast.md") -> None:
    (root / "posts" / name).write_text(text)


def test_bad_yaml_names_file_and_line(blog):
    write_post(blog, "---\ntitle: Fast\ndate: 2026-02-01\ntags: [a, b\n---\nbody\n")
    fails_with(blog, "posts/2026-02-01-fast.md:5: invalid YAML")


def test_missing_title(blog):
    write_post(blog, "---\ndate: 2026-02-01\n---\nbody\n")
    fails_with(blog, "posts/2026-02-01-fast.md:1: missing required key 'title'")


def test_missing_date(blog):
    write_post(blog, "---\ntitle: Fast\n---\nbody\n")
    fails_with(blog, "posts/2026-02-01-fast.md:1: missing required key 'date'")


def test_wrong_type_names_the_key(blog):
    write_post(blog, "---\ntitle: Fast\ndate: 2026-02-01\ndraft: maybe\n---\nbody\n")
    fails_with(blog, "posts/2026-02-01-fast.md:4: 'draft' must be true or false")


def test_unknown_figure_lists_the_known_ones(blog):
    write_post(blog, FAST_POST.replace('figure("curve")', 'figure("curev")'))
    fails_with(blog, "posts/2026-02-01-fast.md:7: unknown figure 'curev'; did you mean 'curve'?")


def test_unknown_value(blog):
    write_post(blog, FAST_POST.replace('value("total")', 'value("totl")'))
    fails_with(blog, "posts/2026-02-01-fast.md:9: unknown value 'totl'; did you mean 'total'?")


def test_experiment_exception_shows_the_scripts_own_traceback(blog):
    script = blog / "experiments/fast.py"
    script.write_text(FAST_EXPERIMENT.replace(
        '    log.value("total", float(params["n"]))',
        '    log.value("total", helper(params))\n\n\ndef helper(params):\n'
        '    return params["missing"]'))
    output = fails_with(blog, "experiments/fast.py:14: KeyError: 'missing' (seed 0, post "
                              "posts/2026-02-01-fast.md)",
                        'File "experiments/fast.py", line 10, in train',
                        'File "experiments/fast.py", line 14, in helper',
                        'return params["missing"]')
    assert "worker.py" not in output and "experiment.py" not in output


def test_experiment_timeout(blog):
    write_post(blog, FAST_POST.replace("experiment: experiments/fast.py",
                                       "experiment: experiments/fast.py\ntimeout: 1"))
    (blog / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace(
        "    for step in", "    while True:\n        pass\n    for step in"))
    fails_with(blog, "posts/2026-02-01-fast.md:5: experiment experiments/fast.py timed out "
                     "after 1 s (seed 0)")


def test_nan_value_names_the_line_that_logged_it(blog):
    (blog / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace(
        'float(params["n"])', 'float("nan")'))
    fails_with(blog, "experiments/fast.py:10: value 'total' is nan (not finite)")


def test_experiment_syntax_error(blog):
    (blog / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace("def train(", "def train(("))
    fails_with(blog, "experiments/fast.py:7: SyntaxError")


def test_failing_claim(blog):
    write_post(blog, FAST_POST + '\n{{ claim("total > 10", "the total is large") }}\n')
    fails_with(blog, "posts/2026-02-01-fast.md:11: claim fails: total > 10 (the total is "
                     "large); false on 1 of 1 runs, e.g. seed-0: total = 5")


def test_bad_config(blog):
    (blog / "physai.yaml").write_text("title: T\ntimeuot: 3\n")
    fails_with(blog, "physai.yaml:2: unknown key 'timeuot'; did you mean 'timeout'?")


def test_directive_syntax_error(blog):
    write_post(blog, FAST_POST.replace('{{ figure("curve") }}', '{{ figure("curve" }}'))
    fails_with(blog, "posts/2026-02-01-fast.md:7: cannot parse {{ figure(\"curve\" }}")


def test_bad_math(blog):
    write_post(blog, FAST_POST + "\n$$\\frac{a}{b$$\n")
    fails_with(blog, "posts/2026-02-01-fast.md:11: cannot typeset math")


def test_errors_of_several_posts_are_reported_together(blog):
    write_post(blog, "---\ndate: 2026-02-01\n---\n", "2026-02-02-a.md")
    write_post(blog, "---\ntitle: B\n---\n", "2026-02-03-b.md")
    output = fails_with(blog, "posts/2026-02-02-a.md:1: missing required key 'title'")
    assert "posts/2026-02-03-b.md:1: missing required key 'date'" in output


def test_unknown_front_matter_key_is_a_warning(blog):
    write_post(blog, FAST_POST.replace("title: Fast", "title: Fast\nsubtitle: x"))
    result = cli("build", "--root", blog)
    assert result.exit_code == 0
    assert "warning: posts/2026-02-01-fast.md:3: unknown front matter key 'subtitle'" in result.output


def test_second_build_at_once_is_refused(blog):
    from physai_blog.runs.cache import Cache
    from physai_blog.errors import CacheLocked

    with Cache(blog / ".physai-cache").lock():
        with pytest.raises(CacheLocked, match="another physai-blog build .* is using"):
            with Cache(blog / ".physai-cache").lock():
                pass


def test_unknown_citation_key(blog):
    (blog / "refs.bib").write_text("@article{power2022grokking, title={Grokking}, "
                                   "author={Power, Alethea}, year={2022}, journal={arXiv}}\n")
    (blog / "physai.yaml").write_text((blog / "physai.yaml").read_text() + "bibliography: refs.bib\n")
    write_post(blog, FAST_POST + "\nAs in [@power2022grokkin].\n")
    fails_with(blog, "posts/2026-02-01-fast.md:11: unknown citation key 'power2022grokkin'; "
                     "did you mean 'power2022grokking'? (not in refs.bib)")


def test_al_folio_include_may_not_point_into_the_output(blog):
    write_post(blog, FAST_POST + '\n{% include figure.liquid path="site/index.html" %}\n')
    fails_with(blog, "posts/2026-02-01-fast.md:11: figure path 'site/index.html' points into "
                     "site/, which is not a source of the site")


def test_output_size_cap_from_the_config(blog):
    (blog / "physai.yaml").write_text((blog / "physai.yaml").read_text() + "max_output_mb: 0.000001\n")
    (blog / "experiments/fast.py").write_text(FAST_EXPERIMENT.replace('"n": 5', '"n": 6'))
    fails_with(blog, "experiments/fast.py: the run's output is 0.0 MB, over the limit of 1e-06 MB")


def test_failures_in_workers_forked_from_the_zygote(tmp_path):
    """Several runs at once go through the fork server: a raise, a hang past the timeout and a
    hard exit are each reported, and nothing is cached for them."""
    experiment = FAST_EXPERIMENT.replace('seeds=[0]', 'seeds=[0, 1, 2, 3, 4]').replace(
        "    for step in range(params[\"n\"]):",
        "    import os, signal, time\n"
        "    if seed == 1:\n        raise ValueError('seed one is bad')\n"
        "    if seed == 2:\n        time.sleep(60)\n"
        "    if seed == 3:\n        os._exit(3)\n"
        "    if seed == 4:\n        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    for step in range(params[\"n\"]):")
    post = FAST_POST.replace("experiment: experiments/fast.py",
                             "experiment: experiments/fast.py\ntimeout: 3")
    root = make_blog(tmp_path / "blog", {"2026-02-01-fast.md": post}, {"fast.py": experiment})
    result = cli("build", "--root", root, "--jobs", "2")
    assert result.exit_code == 1
    out = result.output
    assert "experiments/fast.py:10: ValueError: seed one is bad (seed 1, post " in out
    assert "timed out after 3 s (seed 2)" in out
    # Real exit codes from the fork server, never a guess (it reaps and reports them).
    assert "experiments/fast.py: the experiment process died with exit code 3 (seed 3, post " in out
    assert "experiments/fast.py: the experiment process died, killed by SIGKILL (seed 4, " in out
    assert len(list((root / ".physai-cache/runs").iterdir())) == 1     # seed 0 only
