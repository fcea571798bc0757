"""A corpus of broken blogs: every case must fail with one clear line (file and line where there
is one), a non-zero exit, no traceback of physai-blog's own code, and the previous site intact.

Each case is a row of ``CASES``: the files it writes over a small built blog (``None`` deletes a
file, ``bytes`` are written raw), an optional extra setup step, and the text the first line of
the error must contain.  The blog is built once per module and copied for every case (cache
included), so a case costs one cheap failing build.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import FAST_EXPERIMENT, FAST_POST, cli, make_blog

POST = "posts/2026-02-01-fast.md"
EXP = "experiments/fast.py"


def fm(*lines: str, body: str = "Body.\n") -> str:
    """A post: front matter lines between `---`, then the body."""
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def post_with(**replace: str) -> str:
    """FAST_POST with front matter lines replaced or added (key -> full line, "" to drop)."""
    lines = ["title: Fast", "date: 2026-02-01", "experiment: experiments/fast.py"]
    out = []
    for line in lines:
        key = line.split(":")[0]
        if key in replace:
            if replace[key]:
                out.append(replace.pop(key))
            else:
                replace.pop(key)
        else:
            out.append(line)
    out.extend(v for v in replace.values() if v)
    return fm(*out, body='\n{{ figure("curve") }}\n\nTotal: {{ value("total") }}.\n')


def exp_with(old: str, new: str) -> str:
    assert old in FAST_EXPERIMENT, old
    return FAST_EXPERIMENT.replace(old, new)


RUN_BODY = '    log.value("total", float(params["n"]))'


@dataclass
class Case:
    id: str
    files: dict = field(default_factory=dict)
    expect: str = ""
    setup: Callable[[Path], None] | None = None
    also: tuple = ()


def _symlink_loop(root: Path) -> None:
    os.symlink("2026-03-02-b.md", root / "posts" / "2026-03-01-a.md")
    os.symlink("2026-03-01-a.md", root / "posts" / "2026-03-02-b.md")


def _dangling_symlink(root: Path) -> None:
    os.symlink("nowhere.md", root / "posts" / "2026-03-01-a.md")


def _dir_loop(root: Path) -> None:
    os.symlink(".", root / "posts" / "loop.md")


CASES = [
    # -- YAML and the shape of front matter -------------------------------------------------
    Case("bad-yaml-unclosed-list", {POST: fm("title: Fast", "date: 2026-02-01", "tags: [a, b")},
         f"{POST}:5: invalid YAML"),
    Case("bad-yaml-indentation", {POST: fm("title: Fast", "  date: 2026-02-01")},
         f"{POST}:3: invalid YAML"),
    Case("bad-yaml-duplicate-anchor", {POST: fm("title: *nope", "date: 2026-02-01")},
         f"{POST}:2: invalid YAML"),
    Case("front-matter-is-a-list", {POST: fm("- title", "- date")},
         f"{POST}:2: expected a YAML mapping"),
    Case("front-matter-is-a-string", {POST: fm("just some text")},
         f"{POST}:2: expected a YAML mapping"),
    Case("front-matter-not-closed", {POST: "---\ntitle: Fast\ndate: 2026-02-01\n\nBody.\n"},
         f"{POST}:1: front matter is not closed"),
    Case("no-front-matter", {POST: "# Just Markdown\n\nBody.\n"},
         f"{POST}:1: missing front matter"),
    Case("empty-file", {POST: ""}, f"{POST}:1: empty file"),
    Case("whitespace-only-file", {POST: "\n   \n\t\n"}, f"{POST}:1: empty file"),
    Case("non-utf8-post", {POST: b"---\ntitle: Caf\xe9\ndate: 2026-02-01\n---\nBody.\n"},
         f"{POST}:2: not valid UTF-8"),
    Case("utf16-post", {POST: "---\ntitle: x\n---\n".encode("utf-16")},
         f"{POST}:1: not valid UTF-8"),
    # -- missing fields and wrong types, one per front matter key ---------------------------
    Case("missing-title", {POST: fm("date: 2026-02-01")}, f"{POST}:1: missing required key 'title'"),
    Case("missing-date", {POST: fm("title: Fast")}, f"{POST}:1: missing required key 'date'"),
    Case("empty-title", {POST: fm("title: '  '", "date: 2026-02-01")},
         f"{POST}:2: missing required key 'title'"),
    Case("title-is-a-list", {POST: post_with(title="title: [a, b]")}, f"{POST}:2: 'title' must be text"),
    Case("title-is-a-mapping", {POST: post_with(title="title: {a: 1}")},
         f"{POST}:2: 'title' must be text"),
    Case("date-not-a-date", {POST: post_with(date="date: yesterday")},
         f"{POST}:3: 'date' must be a date"),
    Case("date-impossible", {POST: post_with(date="date: 2026-13-45")},
         f"{POST}:3: 'date' must be a date"),
    Case("date-is-a-list", {POST: post_with(date="date: [2026, 1, 1]")},
         f"{POST}:3: 'date' must be a date"),
    Case("description-is-a-mapping", {POST: post_with(description="description: {a: b}")},
         f"{POST}:5: 'description' must be text"),
    Case("tags-is-a-mapping", {POST: post_with(tags="tags: {a: b}")},
         f"{POST}:5: 'tags' must be a list of text"),
    Case("categories-nested-list", {POST: post_with(categories="categories: [[a]]")},
         f"{POST}:5: 'categories' must be a list of text"),
    Case("authors-is-a-number", {POST: post_with(authors="authors: 3")},
         f"{POST}:5: 'authors' must be a list of text"),
    Case("draft-not-boolean", {POST: post_with(draft="draft: maybe")},
         f"{POST}:5: 'draft' must be true or false"),
    Case("timeout-not-a-number", {POST: post_with(timeout="timeout: fast")},
         f"{POST}:5: 'timeout' must be a positive number"),
    Case("timeout-negative", {POST: post_with(timeout="timeout: -1")},
         f"{POST}:5: 'timeout' must be a positive number"),
    Case("tolerance-negative", {POST: post_with(tolerance="tolerance: -0.1")},
         f"{POST}:5: 'tolerance' must be a non-negative number"),
    Case("seeds-not-a-list", {POST: post_with(seeds="seeds: abc")},
         f"{POST}:5: 'seeds' must be a non-empty list of non-negative integers, not 'abc'"),
    Case("seeds-negative", {POST: post_with(seeds="seeds: [0, -1]")},
         f"{POST}:5: 'seeds' must be a non-empty list of non-negative integers, not [0, -1]"),
    Case("seeds-repeated", {POST: post_with(seeds="seeds: [1, 1]")},
         f"{POST}:5: 'seeds': seed 1 is listed twice"),
    Case("params-is-a-list", {POST: post_with(params="params: [1, 2]")},
         f"{POST}:5: 'params' must be a mapping of names to values"),
    Case("params-unknown-key", {POST: post_with(params="params: {m: 3}")},
         f"{POST}:5: params: 'm' is not a parameter of experiments/fast.py"),
    Case("slug-is-a-list", {POST: post_with(slug="slug: [a]")},
         f"{POST}:5: 'slug' must be letters, digits, - and _ (it becomes a URL), not ['a']"),
    Case("experiment-is-a-number", {POST: post_with(experiment="experiment: 3")},
         f"{POST}:4: 'experiment' must be a path to a .py file"),
    Case("experiment-missing", {POST: post_with(experiment="experiment: experiments/nope.py")},
         f"{POST}:4: experiment file 'experiments/nope.py' not found"),
    Case("max-output-not-a-number", {POST: post_with(max_output_mb="max_output_mb: lots")},
         f"{POST}:5: 'max_output_mb' must be a positive number"),
    # -- path traversal in everything that becomes a path ------------------------------------
    Case("slug-traversal", {POST: post_with(slug="slug: ../../x")},
         f"{POST}:5: 'slug' must be letters, digits, - and _ (it becomes a URL), not '../../x'"),
    Case("slug-absolute", {POST: post_with(slug="slug: /etc")},
         f"{POST}:5: 'slug' must be letters, digits, - and _ (it becomes a URL), not '/etc'"),
    Case("experiment-traversal", {POST: post_with(experiment="experiment: ../../x.py")},
         f"{POST}:4: experiment '../../x.py' lies outside the blog folder"),
    Case("experiment-absolute", {POST: post_with(experiment="experiment: /etc/x.py")},
         f"{POST}:4: experiment '/etc/x.py' lies outside the blog folder"),
    Case("figure-name-traversal-in-experiment",
         {EXP: exp_with('@exp.figure("curve"', '@exp.figure("../../x"')},
         f"{EXP}:13: figure name '../../x': use letters, digits"),
    Case("figure-name-traversal-in-post", {POST: FAST_POST.replace('figure("curve")',
                                                                   'figure("../../curve")')},
         f"{POST}:7: unknown figure '../../curve'"),
    Case("include-traversal",
         {POST: FAST_POST + '\n{% include figure.liquid path="../../etc/passwd" %}\n'},
         f"{POST}:11: figure path '../../etc/passwd' lies outside the blog folder"),
    Case("include-absolute-outside",
         {POST: FAST_POST + '\n{% include figure.liquid path="/../x.png" %}\n'},
         f"{POST}:11: figure path '/../x.png' lies outside the blog folder"),
    Case("include-missing", {POST: FAST_POST + '\n{% include figure.liquid path="img/x.png" %}\n'},
         f"{POST}:11: figure file 'img/x.png' not found"),
    # -- several posts ---------------------------------------------------------------------
    Case("duplicate-slug", {"posts/2026-03-01-other.md": post_with(slug="slug: fast")},
         "duplicate slug 'fast'"),
    Case("duplicate-slug-by-name", {"posts/2026-03-01-fast.md": fm("title: B", "date: 2026-03-01")},
         "duplicate slug 'fast'"),
    Case("symlink-loop", setup=_symlink_loop, expect="posts/2026-03-01-a.md: cannot read: "),
    Case("dangling-symlink", setup=_dangling_symlink, expect="posts/2026-03-01-a.md: cannot read: "),
    Case("symlinked-folder-loop", setup=_dir_loop, expect="posts/loop.md: cannot read: "),
    # -- directives ------------------------------------------------------------------------
    Case("unknown-figure", {POST: FAST_POST.replace('figure("curve")', 'figure("curev")')},
         f"{POST}:7: unknown figure 'curev'; did you mean 'curve'?"),
    Case("unknown-value", {POST: FAST_POST.replace('value("total")', 'value("totl")')},
         f"{POST}:9: unknown value 'totl'; did you mean 'total'?"),
    Case("value-not-a-sweep-axis", {POST: FAST_POST.replace('value("total")', 'value("total", n=3)')},
         f"{POST}:9: 'n' is not a sweep axis"),
    Case("value-bad-format", {POST: FAST_POST.replace('value("total")', 'value("total", fmt="q")')},
         f"{POST}:9: value 'total': bad format 'q'"),
    Case("directive-syntax", {POST: FAST_POST.replace('figure("curve")', 'figure("curve"')},
         f"{POST}:7: cannot parse"),
    Case("directive-not-literal", {POST: FAST_POST.replace('figure("curve")', 'figure(open("x"))')},
         f"{POST}:7: arguments of figure() must be literals"),
    Case("unknown-directive", {POST: FAST_POST.replace('figure("curve")', 'figur("curve")')},
         f"{POST}:7: unknown directive figur(); did you mean figure()?"),
    Case("directive-not-a-call", {POST: FAST_POST.replace('{{ figure("curve") }}', "{{ 1 + 2 }}")},
         f"{POST}:7: {{{{ 1 + 2 }}}} is not a directive call"),
    Case("liquid-unsupported", {POST: FAST_POST + "\n{% for x in y %}\n"},
         f"{POST}:11: unsupported Liquid tag"),
    Case("liquid-unbalanced-quote", {POST: FAST_POST + '\n{% include figure.liquid path="x %}\n'},
         f"{POST}:11: cannot parse {{% include"),
    Case("claim-syntax", {POST: FAST_POST + '\n{{ claim("total >", "x") }}\n'},
         f"{POST}:11: cannot parse claim 'total >'"),
    Case("claim-attribute", {POST: FAST_POST + '\n{{ claim("total.__class__ > 1", "x") }}\n'},
         f"{POST}:11: claim 'total.__class__ > 1': Attribute is not allowed"),
    Case("claim-unknown-function", {POST: FAST_POST + '\n{{ claim("eval(total) > 1", "x") }}\n'},
         f"{POST}:11: claim 'eval(total) > 1': unknown function eval()"),
    Case("claim-unknown-name", {POST: FAST_POST + '\n{{ claim("totl > 1", "x") }}\n'},
         f"{POST}:11: unknown value 'totl'"),
    Case("claim-division-by-zero", {POST: FAST_POST + '\n{{ claim("total / 0 > 1", "x") }}\n'},
         f"{POST}:11: claim 'total / 0 > 1' on run seed-0: ZeroDivisionError"),
    Case("claim-huge-power", {POST: FAST_POST + '\n{{ claim("10 ** 10 ** 10 > total", "x") }}\n'},
         f"{POST}:11: claim '10 ** 10 ** 10 > total'"),
    Case("claim-not-a-string", {POST: FAST_POST + '\n{{ claim(1, "x") }}\n'},
         f"{POST}:11: claim() takes an expression and a text"),
    Case("claim-fails", {POST: FAST_POST + '\n{{ claim("total > 10", "big") }}\n'},
         f"{POST}:11: claim fails: total > 10"),
    Case("bad-math", {POST: FAST_POST + "\n$$\\frac{a}{b$$\n"}, f"{POST}:11: cannot typeset math"),
    # -- experiments -----------------------------------------------------------------------
    Case("experiment-syntax-error", {EXP: exp_with("def train(", "def train((")},
         f"{EXP}:7: SyntaxError"),
    Case("experiment-not-utf8", {EXP: FAST_EXPERIMENT.encode().replace(b"A curve", b"A \xff curve")},
         f"{EXP}:13: not valid UTF-8"),
    Case("experiment-empty", {EXP: ""}, f"{EXP}: no `exp = Experiment(...)`"),
    Case("experiment-no-run", {EXP: exp_with("@exp.run\n", "")}, f"{EXP}:3: no @exp.run function"),
    Case("experiment-non-literal-params", {EXP: exp_with('{"n": 5}', 'dict(n=5)')},
         f"{EXP}:3: Experiment(params=...) must be a literal"),
    Case("experiment-sweep-unknown", {EXP: exp_with("seeds=[0]", 'seeds=[0], sweep={"m": [1]}')},
         f"{EXP}:3: sweep key 'm' is not one of the params"),
    Case("experiment-raises", {EXP: exp_with(RUN_BODY, '    raise ValueError("boom")')},
         f"{EXP}:10: ValueError: boom (seed 0, post {POST})"),
    Case("experiment-raises-at-import", {EXP: "import no_such_module_xyz\n" + FAST_EXPERIMENT},
         f"{EXP}:1: ModuleNotFoundError: No module named 'no_such_module_xyz'"),
    Case("experiment-exits", {EXP: exp_with(RUN_BODY, "    import sys; sys.exit(3)")},
         f"{EXP}:10: SystemExit: 3"),
    Case("experiment-kills-itself", {EXP: exp_with(RUN_BODY, "    import os; os._exit(3)")},
         f"{EXP}: the experiment process died with exit code 3 (seed 0, post {POST})"),
    Case("experiment-nan", {EXP: exp_with('float(params["n"])', 'float("nan")')},
         f"{EXP}:10: value 'total' is nan (not finite)"),
    Case("experiment-inf", {EXP: exp_with('float(params["n"])', 'float("inf")')},
         f"{EXP}:10: value 'total' is inf (not finite)"),
    Case("experiment-nan-series", {EXP: exp_with("float(step * step)", 'float("-inf")')},
         f"{EXP}:9: series 'y' is -inf (not finite)"),
    Case("experiment-not-a-number", {EXP: exp_with('float(params["n"])', '"five"')},
         f"{EXP}:10: value 'total' is not a number"),
    Case("experiment-bad-value-name", {EXP: exp_with('log.value("total"', 'log.value("../x"')},
         f"{EXP}:10: value name '../x' must be an identifier"),
    Case("experiment-infinite-loop",
         {EXP: exp_with(RUN_BODY, "    while True:\n        pass"),
          POST: post_with(timeout="timeout: 0.5")},
         f"{POST}:5: experiment {EXP} timed out after 0.5 s (seed 0)"),
    Case("experiment-writes-into-its-output",
         {EXP: exp_with(RUN_BODY, RUN_BODY + '\n    open("../out/extra.txt", "w").write("x")')},
         f"{EXP}: the run wrote extra.txt into its output folder itself"),
    Case("experiment-huge-output",
         {EXP: exp_with(RUN_BODY, RUN_BODY + "\n    import numpy as np\n"
                                             '    log.array("big", np.zeros(100_000))'),
          POST: post_with(max_output_mb="max_output_mb: 0.1")},
         f"{EXP}: the run's output is 0.8 MB, over the limit of 0.1 MB (seed 0, post {POST})"),
    Case("figure-raises", {EXP: exp_with("ax.plot(", 'raise RuntimeError("no plot")\n    ax.plot(')},
         f"{EXP}:16: drawing a figure failed: RuntimeError: no plot"),
    # -- config ----------------------------------------------------------------------------
    Case("config-bad-yaml", {"physai.yaml": "title: [T\n"}, "physai.yaml:2: invalid YAML"),
    Case("config-not-a-mapping", {"physai.yaml": "- a\n- b\n"}, "physai.yaml:1: expected a YAML mapping"),
    Case("config-missing", {"physai.yaml": None}, "physai.yaml: no physai.yaml in"),
    Case("config-empty", {"physai.yaml": ""}, "physai.yaml:1: missing required key 'title'"),
    Case("config-not-utf8", {"physai.yaml": b"title: \xff\n"}, "physai.yaml:1: not valid UTF-8"),
    Case("config-unknown-key", {"physai.yaml": "title: T\ntimeuot: 3\n"},
         "physai.yaml:2: unknown key 'timeuot'; did you mean 'timeout'?"),
    Case("config-title-not-text", {"physai.yaml": "title: [a]\n"},
         "physai.yaml:1: key 'title': expected text"),
    Case("config-timeout-zero", {"physai.yaml": "title: T\ntimeout: 0\n"},
         "physai.yaml:2: key 'timeout': expected a positive number"),
    Case("config-jobs-bool", {"physai.yaml": "title: T\njobs: yes\n"},
         "physai.yaml:2: key 'jobs': expected a positive integer"),
    Case("config-nav-malformed", {"physai.yaml": "title: T\nnav: [{title: a}]\n"},
         "physai.yaml:2: key 'nav': each nav entry needs exactly `title` and `url`"),
    Case("config-executor-unknown", {"physai.yaml": "title: T\nexecutor: slurm\n"},
         "physai.yaml:2: key 'executor': unknown executor 'slurm'"),
    Case("config-figure-style-list", {"physai.yaml": "title: T\nfigure_style: [1]\n"},
         "physai.yaml:2: key 'figure_style': expected a mapping"),
    Case("config-max-output-negative", {"physai.yaml": "title: T\nmax_output_mb: -5\n"},
         "physai.yaml:2: key 'max_output_mb': expected a positive number"),
]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small blog, built once; every case breaks a copy of it (cache included)."""
    root = make_blog(tmp_path_factory.mktemp("bad") / "blog")
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    return root


def apply(root: Path, case: Case) -> None:
    for rel, content in case.files.items():
        path = root / rel
        if content is None:
            path.unlink()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup:
        case.setup(root)


def test_the_corpus_is_large_and_distinct():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, built: Path, tmp_path: Path):
    root = tmp_path / "blog"
    shutil.copytree(built, root, symlinks=True)
    before = snapshot(root / "site")
    apply(root, case)
    result = cli("build", "--root", root)
    assert result.exit_code != 0, result.output
    first = result.output.strip().splitlines()[0]
    assert first == first.strip() and first.startswith("Error: "), result.output
    assert case.expect in first, result.output
    for text in case.also:
        assert text in result.output, result.output
    assert "physai_blog/" not in result.output, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    assert snapshot(root / "site") == before


# -- inputs that must build, safely ----------------------------------------------------------

def test_a_script_title_is_escaped_everywhere(built: Path, tmp_path: Path):
    """A title (and tag, author, description) holding markup never reaches a page as markup:
    not in the post, the index, the tags, the archive, the feed or the citation block."""
    root = tmp_path / "blog"
    shutil.copytree(built, root, symlinks=True)
    evil = "<script>alert(1)</script>"
    (root / POST).write_text(post_with(
        title=f"title: '{evil} & \"q\"'", description=f"description: '{evil}'",
        tags=f"tags: ['{evil}', '../../x']", authors=f"authors: ['{evil}']"))
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    site = root / "site"
    pages = [p for p in site.rglob("*") if p.suffix in (".html", ".xml", ".json", ".txt")]
    assert any(p.name == "feed.xml" for p in pages)
    for page in pages:
        assert "<script>alert" not in page.read_text(errors="replace"), page
    post_html = (site / "posts/fast/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in post_html
    assert "&lt;script&gt;" in (site / "feed.xml").read_text()
    tag_pages = sorted(p.parent.name for p in (site / "tags").glob("*/index.html"))
    assert all(".." not in t and "/" not in t for t in tag_pages), tag_pages
    assert all(site in p.resolve().parents for p in site.rglob("*"))


def test_a_script_title_is_escaped_in_the_notebook(built: Path, tmp_path: Path):
    root = tmp_path / "blog"
    shutil.copytree(built, root, symlinks=True)
    (root / POST).write_text(post_with(title="title: '<script>alert(1)</script>'"))
    assert cli("build", "--root", root).exit_code == 0
    assert "<script>alert" not in (root / "site/posts/fast/fast.ipynb").read_text()


def test_an_experiment_writing_outside_its_folder_cannot_touch_the_site(built: Path,
                                                                        tmp_path: Path):
    """A run's current directory is a scratch folder, thrown away; it can still reach the
    site by a relative path, but the next site is written from scratch, without it."""
    root = tmp_path / "blog"
    shutil.copytree(built, root, symlinks=True)
    (root / EXP).write_text(exp_with(RUN_BODY, RUN_BODY + '''
    open("scratch.txt", "w").write("x")
    open("../scratch.txt", "w").write("x")
    open("../../../../site/evil.html", "w").write("<script>evil()</script>")'''))
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    assert not (root / "site/evil.html").exists()
    assert not any(p.name == "scratch.txt" for p in (root / "site").rglob("*"))
    assert not any(p.name == "scratch.txt" for p in (root / ".physai-cache").rglob("*"))
    from physai_blog.runs.cache import verify_entry

    for kind in ("runs", "figures"):
        for entry in (root / ".physai-cache" / kind).iterdir():
            assert verify_entry(entry, entry.name)[0] is not None, entry


def test_a_stray_file_in_the_site_is_removed_by_the_next_build(built: Path, tmp_path: Path):
    root = tmp_path / "blog"
    shutil.copytree(built, root, symlinks=True)
    before = snapshot(root / "site")
    (root / "site/evil.html").write_text("<script>evil()</script>")
    (root / "site/index.html").write_text("defaced")
    result = cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    assert snapshot(root / "site") == before
