"""The three input schemas (``physai.yaml``, front matter, ``Experiment(...)``): each key is
declared once, with a type, a default (or REQUIRED) and a one-line doc; the typed objects, the
unknown-key and wrong-type errors (each naming file and line) and the README's reference tables
all follow from it.  ``python tests/test_schema.py`` prints the README section to paste."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from physai_blog.content import schema
from physai_blog.content.config import SITE, SiteConfig, load_config
from physai_blog.content.posts import FRONT_MATTER, Post, read_post
from physai_blog.content.spec import EXPERIMENT, ExperimentSpec, parse_spec
from physai_blog.errors import InputError, InputErrors
from physai_blog.runtime.experiment import Experiment

SCHEMAS = {"SITE": SITE, "FRONT_MATTER": FRONT_MATTER, "EXPERIMENT": EXPERIMENT}
OBJECTS = {"SITE": SiteConfig, "FRONT_MATTER": Post, "EXPERIMENT": ExperimentSpec}
README = Path(__file__).resolve().parents[1] / "README.md"
POST = "posts/2026-01-01-x.md"
SCRIPT = "experiments/x.py"


def options(*names: str):
    return [pytest.param(n, o, id=f"{n}.{o.name}") for n in names for o in SCHEMAS[n].accepted()]


def messages(exc: InputError | InputErrors) -> list[str]:
    return [e.message for e in getattr(exc, "errors", [exc])]


def bad_value(option: schema.Option):
    """A value the option's type rejects (a nested list suits nearly every one)."""
    for value in ([[1]], 3, {"k": [[1]]}):
        try:
            option.type.convert(value)
        except schema.Invalid:
            return value
    raise AssertionError(option)


# -- the declarations ------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMAS)
def test_every_option_has_a_one_line_doc_and_a_default_of_its_type(name):
    for option in SCHEMAS[name].options:
        assert option.doc.strip() and "\n" not in option.doc and option.doc.endswith("."), option
        assert option.required or option.default is not schema.REQUIRED
        if not option.required and option.default is not None and not option.ignored:
            assert option.type.convert(option.fresh_default()) == option.default, option


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_typed_object_has_one_attribute_per_option_with_its_default(name):
    fields = {f.name: f for f in dataclasses.fields(OBJECTS[name])}
    for option in SCHEMAS[name].options:
        if option.ignored:
            assert option.name not in fields
            continue
        field = fields[option.name]
        if option.required:
            assert field.default is field.default_factory is dataclasses.MISSING
        elif field.default_factory is not dataclasses.MISSING:
            assert field.default_factory() == option.default
            assert field.default_factory() is not field.default_factory()  # not shared
        else:
            assert field.default == option.default


def test_al_folio_keys_are_accepted_and_ignored(tmp_path):
    ignored = [o for o in FRONT_MATTER.options if o.ignored]
    assert {o.name for o in ignored} >= {"layout", "giscus_comments", "related_posts", "toc",
                                         "featured", "thumbnail", "pretty_table"}
    assert all("accepted and ignored" in o.doc for o in ignored)
    assert "authors" in FRONT_MATTER and not FRONT_MATTER["authors"].ignored
    post_file = tmp_path / POST
    post_file.parent.mkdir(parents=True)
    post_file.write_text("---\ntitle: T\ndate: 2026-01-01\nlayout: distill\ntoc: [{name: A}]\n"
                         "giscus_comments: true\nauthors: [Ada]\n---\nBody.\n")
    warnings: list[str] = []
    post = read_post(post_file, tmp_path, warnings)
    assert warnings == [] and post.authors == ["Ada"] and not hasattr(post, "layout")


def test_the_runtime_takes_exactly_the_experiment_schema():
    """The runtime ships alone in reproduce.zip and may not import the schema: this keeps its
    ``Experiment(...)`` arguments and their defaults the schema's."""
    parameters = list(inspect.signature(Experiment.__init__).parameters)[1:]
    assert tuple(parameters) == EXPERIMENT.names
    exp = Experiment()
    for option in EXPERIMENT.options:
        assert getattr(exp, option.name) == option.default, option.name


# -- unknown keys: did you mean, with file:line -----------------------------------------------

def test_unknown_config_key(tmp_path):
    (tmp_path / "physai.yaml").write_text("title: T\nauthor: A\ntimeuot: 3\n")
    with pytest.raises(InputError) as info:
        load_config(tmp_path)
    assert messages(info.value) == ["physai.yaml:3: unknown key 'timeuot'; did you mean 'timeout'?"]


def test_unknown_front_matter_key_is_a_warning(tmp_path):
    post_file = tmp_path / POST
    post_file.parent.mkdir(parents=True)
    post_file.write_text("---\ntitle: T\ndate: 2026-01-01\ndraf: true\n---\nBody.\n")
    warnings: list[str] = []
    read_post(post_file, tmp_path, warnings)
    assert warnings == [f"{POST}:4: unknown front matter key 'draf' (ignored); "
                        "did you mean 'draft'?"]


def test_unknown_experiment_argument():
    source = experiment_source("seed=[0]")
    with pytest.raises(InputError) as info:
        parse_spec(source, SCRIPT, Path(SCRIPT))
    assert messages(info.value) == [f"{SCRIPT}:5: unknown Experiment() argument 'seed'; "
                                    "did you mean 'seeds'?"]


# -- wrong types: every option, through its real loader, naming file:line -----------------------

def experiment_source(argument: str) -> str:
    base = "" if argument.startswith("params=") else '    params={"n": 1},\n'
    return ("from physai_blog import Experiment\n\nexp = Experiment(\n" + base
            + f"    {argument},\n)\n\n\n@exp.run\ndef train(params, seed, log):\n    pass\n")


@pytest.mark.parametrize("name, option", options("SITE"))
def test_config_wrong_type(tmp_path, name, option):
    value = bad_value(option)
    lines = {"title": "T", option.name: value}
    (tmp_path / "physai.yaml").write_text("".join(f"{k}: {v!r}\n" for k, v in lines.items()))
    with pytest.raises(InputError) as info:
        load_config(tmp_path)
    line = list(lines).index(option.name) + 1
    assert messages(info.value)[0].startswith(f"physai.yaml:{line}: key {option.name!r}: ")


@pytest.mark.parametrize("name, option", options("FRONT_MATTER"))
def test_front_matter_wrong_type(tmp_path, name, option):
    value = bad_value(option)
    lines = {"title": "T", "date": "2026-01-01", option.name: value}
    post_file = tmp_path / POST
    post_file.parent.mkdir(parents=True)
    post_file.write_text("---\n" + "".join(f"{k}: {v!r}\n" for k, v in lines.items())
                         + "---\nBody.\n")
    with pytest.raises(InputError) as info:
        read_post(post_file, tmp_path, [])
    line = list(lines).index(option.name) + 2
    assert messages(info.value)[0].startswith(f"{POST}:{line}: {option.name!r} ")


@pytest.mark.parametrize("name, option", options("EXPERIMENT"))
def test_experiment_wrong_type(name, option):
    source = experiment_source(f"{option.name}={bad_value(option)!r}")
    with pytest.raises(InputError) as info:
        parse_spec(source, SCRIPT, Path(SCRIPT))
    line = 4 if option.name == "params" else 5
    assert messages(info.value)[0].startswith(f"{SCRIPT}:{line}: Experiment({option.name}=...) ")


@pytest.mark.parametrize("load, expected", [
    ("config", "physai.yaml:2: key 'timeout': expected a positive number of seconds, got [[1]]"),
    ("post", f"{POST}:4: 'draft' must be true or false, not [[1]]"),
    ("experiment",
     f"{SCRIPT}:5: Experiment(timeout=...) must be a positive number of seconds, not [[1]]"),
])
def test_a_wrong_type_names_the_type_and_the_value(tmp_path, load, expected):
    post_file = tmp_path / POST
    post_file.parent.mkdir(parents=True)
    (tmp_path / "physai.yaml").write_text("title: T\ntimeout: [[1]]\n")
    post_file.write_text("---\ntitle: T\ndate: 2026-01-01\ndraft: [[1]]\n---\nBody.\n")
    with pytest.raises(InputError) as info:
        if load == "config":
            load_config(tmp_path)
        elif load == "post":
            read_post(post_file, tmp_path, [])
        else:
            parse_spec(experiment_source("timeout=[[1]]"), SCRIPT, Path(SCRIPT))
    assert messages(info.value) == [expected]


def test_all_errors_of_one_input_are_reported_in_file_order(tmp_path):
    (tmp_path / "physai.yaml").write_text("jobs: 0\nexecutor: slurm\nnav: [{title: a}]\n")
    with pytest.raises(InputErrors) as info:
        load_config(tmp_path)
    assert messages(info.value) == [
        "physai.yaml:1: key 'jobs': expected a positive integer, got 0",
        "physai.yaml:2: key 'executor': unknown executor 'slurm'; available: local, dask",
        "physai.yaml:3: key 'nav': each nav entry needs exactly `title` and `url`",
        "physai.yaml:1: missing required key 'title'"]


def test_null_means_not_given():
    values, errors = FRONT_MATTER.validate({"title": "T", "date": "2026-01-01", "tags": None,
                                            "draft": None}, {}, POST)
    assert errors == [] and values["tags"] == [] and values["draft"] is False
    _, errors = SITE.validate({"title": None}, {"title": 4}, "physai.yaml")
    assert [e.message for e in errors] == ["physai.yaml:4: missing required key 'title'"]


# -- the README's reference tables ------------------------------------------------------------

def readme_tables() -> str:
    """The generated part of the README: one table per schema, between markers."""
    return "\n".join(f"<!-- schema: {name} -->\n{schema.markdown_table(s)}<!-- /schema -->\n"
                     for name, s in SCHEMAS.items())


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_readme_lists_exactly_the_schemas_keys(name):
    found = re.search(rf"<!-- schema: {name} -->\n(.*?)<!-- /schema -->", README.read_text(),
                      re.S)
    if found is None:
        pytest.skip(f"README.md has no {name} table yet (python tests/test_schema.py prints it)")
    assert found.group(1) == schema.markdown_table(SCHEMAS[name])


def test_markdown_table_has_a_row_per_key():
    table = schema.markdown_table(SITE).splitlines()
    assert len(table) == 2 + len(SITE.options)
    assert table[2] == ("| `title` | text | required | Name of the blog: the header, page "
                        "titles, the feed. |")
    assert "| `timeout` | a positive number of seconds | `600.0` |" in "\n".join(table)


# -- the shape of the code --------------------------------------------------------------------

def test_no_function_of_the_content_schemas_is_over_60_lines():
    folder = Path(schema.__file__).parent
    for name in ("config.py", "posts.py", "spec.py", "front_matter.py", "yamlio.py", "schema.py"):
        for node in ast.walk(ast.parse((folder / name).read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno < 60, (name, node.name)


if __name__ == "__main__":
    print(readme_tables(), end="")
