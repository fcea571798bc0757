"""The golden site: ``tests/sample`` built and compared file by file with the checked-in
expected output under ``tests/golden/`` (pelican's habit).

After an intended change to the output, regenerate it with one command and review the diff:

    .venv/bin/python tests/test_golden.py && git diff tests/golden

Layout of ``tests/golden/`` (every path below is a path of the built ``site/``):

- ``expected/<path>``: each text file (html, css, js, csv, json, xml, py, md, bib, txt, svg,
  ipynb ...), stored as text after ``normalise()``, so a review diff is a plain text diff.
- ``expected/<path>.listing.txt``: each zip (figure data zips, ``reproduce.zip``, notebook
  zips), listed member by member: name, size, sha256, compression, date and mode, then the
  text of each text member (normalised too) unless it is byte-identical to a file of the site,
  which is then named (``= posts/x/code/x.py``) instead of repeated.
- ``binaries.sha256``: the sha256 of every other file (``.npy``, ``.png`` ...), in
  ``sha256sum`` format.
- ``README.md``: this layout and the library versions of the last regeneration (not compared;
  shown next to a failure when they differ from the running ones).

The set of files must match exactly: a missing or an extra file fails, naming it.  A differing
file fails with the first lines of a unified diff of the normalised text.

Figures are compared strictly: the SVG text, with only matplotlib's version string in its
metadata normalised.  The sample's one SVG is 18 KB; the package pins ``svg.hashsalt`` and
``svg.fonttype: path`` (glyphs drawn from matplotlib's bundled DejaVu font), so its text depends
on matplotlib's renderer only, which a patch release hardly ever changes; if one does, the
diff shows it and the command above takes it in.

Only the environment-dependent fields are normalised (the comments above ``normalise()`` list
each one and why: library versions, platform, device, the run key that hashes the versions,
and the sha256 of the files holding them); everything else is compared byte for byte, since
the build is deterministic (``tests/test_determinism.py``) and any other change is a change to
review.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from conftest import copy_sample

from physai_blog.build import build

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = "expected"
BINARIES = "binaries.sha256"
LISTING = ".listing.txt"
REGEN = ".venv/bin/python tests/test_golden.py && git diff tests/golden"
TEXT_SUFFIXES = {".html", ".css", ".js", ".csv", ".json", ".xml", ".py", ".md", ".bib", ".txt",
                 ".svg", ".ipynb", ".yaml", ".yml", ".toml", ".tex"}
INLINE_TEXT_LIMIT = 64 * 1024   # a zip's text member longer than this is listed by sha256 only
DIFF_LINES = 40
# Shown next to a failure, to tell a change of the package from a change of a library.
LIBRARIES = ("numpy", "torch", "matplotlib", "pygments", "markdown", "jinja2", "latex2mathml",
             "pybtex", "nbformat", "nbconvert")


# --- normalisation: the environment-dependent fields, and nothing else ---------------------

# The environment a run ran in, as the worker records it in each run's ``manifest.json``
# (``versions``) and in the run key's inputs (``inputs.versions``).  A fresh machine (CI: a clean
# clone, a fresh venv from pyproject.toml) may differ in each:
#   python:     the interpreter CI happens to have (requires-python is a range);
#   numpy, matplotlib: unpinned (pyproject.toml gives lower bounds), so a fresh venv may get a
#               newer patch release;
#   torch:      the same release (the Makefile installs torch==2.13.0), but its local label
#               ("+cpu", "+cu128" or none) depends on the index it came from and the machine;
#   platform:   platform.platform(): the kernel version and the libc.
# "physai-blog" is NOT normalised: it is the version in this checkout's pyproject.toml, the
# same on every machine, and a version bump changes the published output anyway (the copy of
# physai_blog/__init__.py in each post's code/ holds __version__).
ENV_VERSIONS = ("python", "numpy", "torch", "matplotlib", "platform")
# ``device`` and ``device_name``: where the worker ran ("cpu" / platform.processor(), or "cuda" /
# the GPU's name when torch sees one): the machine, not the output of the experiment.
# ``key``: the run key, sha256 of the run's inputs, which include ``inputs.versions`` above.
ENV_MANIFEST_FIELDS = ("device", "device_name", "key")
# Not normalised because not published: wall time (artifacts.UNPUBLISHED leaves it out of the
# published manifests, and the pages print no timing), absolute paths (none is published:
# test_golden_site asserts it), dates (taken from the posts' front matter).

# ``.physai-site.json`` holds the sha256 of every file written; that of a file normalised here,
# and that of every zip (deflate's bytes depend on the zlib the interpreter links, and the
# members hold the fields above), depends on the machine too.  Zips are compared through
# their listing (_listing), member by member.
ENV_SITE_HASH = "<sha256 of an environment-dependent file: checked, then normalised>"
# The figure's SVG metadata names the matplotlib that drew it (unpinned, as above).
SVG_CREATOR = re.compile(r"(<dc:title>Matplotlib v)[^,<]*(, https://matplotlib\.org/</dc:title>)")
# reproduce.zip's requirements.txt and README.md pin the versions the runs ran with (torch
# without its local label); its README's "Environment it ran in" line prints ENV_VERSIONS.
PIN = re.compile(r"\b(numpy|torch|matplotlib)==[^\s`,;]+")
ENV_LINE = re.compile(r"(## Environment it ran in\n\n)([^\n]*)")
ENV_ITEM = re.compile(r"\b(" + "|".join(ENV_VERSIONS) + r") [^,\n]+")

_JSON_FORMATS = [dict(indent=indent, sort_keys=sort_keys, ensure_ascii=ascii_, separators=sep)
                 for indent in (1, 0, 2, 4, None) for sort_keys in (True, False)
                 for ascii_ in (False, True) for sep in (None, (",", ":"))]


def _edit_json(where: str, text: str, edit) -> str:
    """``edit`` the parsed JSON in place and serialise it exactly as the package did: the format
    is the one that reproduces the original text byte for byte, so only the edited fields can
    differ from the original."""
    obj = json.loads(text)
    for fmt in _JSON_FORMATS:
        dumped = json.dumps(obj, **fmt)
        for end in ("\n", ""):
            if dumped + end == text:
                edit(obj)
                return json.dumps(obj, **fmt) + end
    raise AssertionError(f"{where}: no json.dumps format reproduces this file byte for byte; "
                         "add the package's to _JSON_FORMATS in tests/test_golden.py")


def _normalise_manifest(obj) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("versions"), dict):
        return   # not a run manifest
    for versions in (obj["versions"], (obj.get("inputs") or {}).get("versions")):
        for name in ENV_VERSIONS:
            if isinstance(versions, dict) and name in versions:
                versions[name] = f"<{name}>"
    for name in ENV_MANIFEST_FIELDS:
        if name in obj:
            obj[name] = f"<{name}>"


def normalise(where: str, data: bytes) -> bytes:
    """The bytes of the text file ``where`` (a site path, or ``<zip path>!<member>``) with its
    environment-dependent fields replaced by placeholders; everything else byte for byte."""
    name = where.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    in_reproduce = where.split("!", 1)[0].endswith("reproduce.zip") and "!" in where
    text = data.decode("utf-8")
    if name == "manifest.json":
        text = _edit_json(where, text, _normalise_manifest)
    if name.endswith(".svg"):
        text = SVG_CREATOR.sub(r"\1<matplotlib>\2", text)
    if in_reproduce and name in ("requirements.txt", "README.md"):
        text = PIN.sub(lambda m: f"{m.group(1)}==<{m.group(1)}>", text)
    if in_reproduce and name == "README.md":
        text = ENV_LINE.sub(lambda m: m.group(1) + ENV_ITEM.sub(r"\1 <\1>", m.group(2)), text)
    return text.encode("utf-8")


def _normalise_site_hashes(text: str, env_dependent: dict[str, str]) -> str:
    """``.physai-site.json`` (the sha256 of every file the build wrote): the hash of a file
    whose bytes depend on the environment (``env_dependent``: path -> its real sha256) depends
    on it too.  Each such hash is replaced only where it is the file's real sha256 (a wrong one
    stays, and shows in the diff)."""
    def edit(obj):
        for path, digest in env_dependent.items():
            if obj.get(path) == digest:
                obj[path] = ENV_SITE_HASH
    return _edit_json(".physai-site.json", text, edit)


# --- the golden tree: what tests/golden holds for a built site -----------------------------

def _is_text(path: str) -> bool:
    return Path(path).suffix in TEXT_SUFFIXES


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated",
                zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}


def _listing(rel: str, data: bytes, site: dict[str, bytes]) -> bytes:
    """A readable stand-in for the zip ``rel``.  Its own bytes are not compared: deflate's output
    depends on the zlib the interpreter links, and members hold environment fields; each
    member's (normalised) content is compared instead, with the zip's order, names, compression,
    dates and modes."""
    by_content = {}
    for path in sorted(site):
        by_content.setdefault(site[path], path)
    zf = zipfile.ZipFile(io.BytesIO(data))
    rows, texts = [], []
    for info in zf.infolist():
        raw = zf.read(info)
        body = normalise(f"{rel}!{info.filename}", raw) if _is_text(info.filename) else raw
        same = f"  = {by_content[raw]}" if raw in by_content else ""
        mark = "  [normalised]" if body != raw else ""
        rows.append(f"{len(body):>8}  {_sha(body)}  "
                    f"{_COMPRESSION.get(info.compress_type, info.compress_type)}  "
                    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}  ".format(*info.date_time)
                    + f"{info.external_attr >> 16 & 0o7777:04o}  {info.filename}{mark}{same}")
        if not same and _is_text(info.filename) and len(body) <= INLINE_TEXT_LIMIT:
            text = body.decode("utf-8")   # a text member must be UTF-8 (normalise() too)
            texts.append(f"\n=== {info.filename}{mark}\n{text}"
                         + ("" if text.endswith("\n") else "\n[no newline at end]\n"))
    head = [f"# {rel}: a zip, listed member by member by tests/test_golden.py:",
            "# size, sha256 (of the member after normalise(), marked [normalised] where that",
            "# changed it), compression, date, mode, name; '= path' where the member has the",
            "# bytes of that file of the site.  Then the text of every other text member.",
            f"# {len(rows)} members, in archive order; zip comment: {zf.comment!r}",
            "", *rows]
    return ("\n".join(head) + "\n" + "".join(texts)).encode("utf-8")


def golden_tree(site: Path) -> dict[str, bytes]:
    """What ``tests/golden`` should hold for the built ``site``: path under tests/golden ->
    bytes."""
    files = {p.relative_to(site).as_posix(): p.read_bytes()
             for p in sorted(site.rglob("*")) if p.is_file()}
    tree, binaries, env_dependent = {}, [], {}
    for rel, data in files.items():
        assert not rel.endswith(LISTING), f"{rel}: a site file named like a zip listing"
        if rel == ".physai-site.json":
            continue   # last: it needs to know which files are environment-dependent
        if rel.endswith(".zip"):
            tree[f"{EXPECTED}/{rel}{LISTING}"] = _listing(rel, data, files)
            env_dependent[rel] = _sha(data)
        elif _is_text(rel):
            body = normalise(rel, data)
            tree[f"{EXPECTED}/{rel}"] = body
            if body != data:
                env_dependent[rel] = _sha(data)
        else:
            binaries.append(f"{_sha(data)}  {rel}\n")
    if ".physai-site.json" in files:
        text = _normalise_site_hashes(files[".physai-site.json"].decode("utf-8"), env_dependent)
        tree[f"{EXPECTED}/.physai-site.json"] = text.encode("utf-8")
    tree[BINARIES] = "".join(binaries).encode("utf-8")
    return tree


def _site_paths(tree: dict[str, bytes]) -> dict[str, str]:
    """Site path -> where tests/golden keeps it (a path, or ``binaries.sha256``)."""
    out = {}
    for path, data in tree.items():
        if path == BINARIES:
            for line in data.decode("utf-8").splitlines():
                out[line.split("  ", 1)[1]] = BINARIES
        elif path.startswith(EXPECTED + "/"):
            rel = path[len(EXPECTED) + 1:]
            out[rel[:-len(LISTING)] if rel.endswith(".zip" + LISTING) else rel] = path
    return out


def _read_golden() -> dict[str, bytes]:
    tree = {p.relative_to(GOLDEN).as_posix(): p.read_bytes()
            for p in sorted((GOLDEN / EXPECTED).rglob("*")) if p.is_file()}
    if (GOLDEN / BINARIES).exists():
        tree[BINARIES] = (GOLDEN / BINARIES).read_bytes()
    return tree


def _library_versions() -> str:
    found = [f"python {sys.version.split()[0]}"]
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def _parse_versions(line: str) -> dict[str, str]:
    return dict(item.split(" ", 1) for item in line.split(", ") if " " in item)


def _readme() -> str:
    return (
        "# Golden site\n\n"
        "`tests/sample` as built, normalised and compared file by file by `tests/test_golden.py`\n"
        "(its docstring says what is normalised and why). After an intended change to the\n"
        "output, regenerate and review the diff:\n\n"
        f"    {REGEN}\n\n"
        "- `expected/<path>`: each text file of the built `site/`, normalised\n"
        "- `expected/<path>.listing.txt`: each zip, member by member\n"
        "- `binaries.sha256`: the sha256 of every other file (`sha256sum` format)\n\n"
        "Not compared: the libraries of the last regeneration, shown next to a failure when\n"
        "they differ from the running ones.\n\n"
        f"Regenerated with: {_library_versions()}\n")


# --- the test ---------------------------------------------------------------------------

def _diff(golden_path: str, want: bytes, got: bytes) -> str:
    lines = list(difflib.unified_diff(
        want.decode("utf-8", "replace").splitlines(keepends=True),
        got.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"tests/golden/{golden_path}", tofile="built, normalised"))
    shown = [line if line.endswith("\n") else line + "\n[no newline at end]\n"
             for line in lines[:DIFF_LINES]]
    more = f"... ({len(lines) - DIFF_LINES} more diff lines)\n" if len(lines) > DIFF_LINES else ""
    return "".join(shown) + more


def _binary_digests(data: bytes) -> dict[str, str]:
    return {line.split("  ", 1)[1]: line.split("  ", 1)[0]
            for line in data.decode("utf-8").splitlines()}


def compare(want: dict[str, bytes], got: dict[str, bytes]) -> list[str]:
    """Every difference between the golden tree ``want`` and the built one ``got``."""
    problems = []
    want_paths, got_paths = _site_paths(want), _site_paths(got)
    for rel in sorted(set(want_paths) - set(got_paths)):
        problems.append(f"missing from the build (tests/golden/{want_paths[rel]}): {rel}")
    for rel in sorted(set(got_paths) - set(want_paths)):
        problems.append(f"extra file in the build (not in tests/golden): {rel}")
    common = set(want_paths) & set(got_paths)
    wanted, built = _binary_digests(want.get(BINARIES, b"")), _binary_digests(got[BINARIES])
    for rel in sorted(common):
        if want_paths[rel] == BINARIES and got_paths[rel] == BINARIES:
            if wanted[rel] != built[rel]:
                problems.append(f"{rel} differs (tests/golden/{BINARIES}): sha256 "
                                f"{wanted[rel]} -> {built[rel]}")
        elif want_paths[rel] != got_paths[rel]:
            problems.append(f"{rel}: kept as {got_paths[rel]} now, was {want_paths[rel]}")
        elif want[want_paths[rel]] != got[got_paths[rel]]:
            problems.append(f"{rel} differs:\n"
                            + _diff(want_paths[rel], want[want_paths[rel]], got[got_paths[rel]]))
    return problems


def _assert_no_local_paths(site: Path, local: list[str]) -> None:
    """A published absolute path would differ on every machine: none may appear (a zip's
    members are searched too)."""
    needles = [p.encode() for p in local]
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        blobs = [(path.relative_to(site).as_posix(), path.read_bytes())]
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                blobs += [(f"{blobs[0][0]}!{n}", zf.read(n)) for n in zf.namelist()]
        for where, data in blobs:
            for needle in needles:
                assert needle not in data, f"{where} holds the local path {needle.decode()}"


def test_golden_site(tmp_path):
    root = copy_sample(tmp_path / "blog")
    build(root, jobs=2)
    _assert_no_local_paths(root / "site", [str(tmp_path), sys.prefix])
    problems = compare(_read_golden(), golden_tree(root / "site"))
    if problems:
        shown = problems[:12]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more differences")
        readme = GOLDEN / "README.md"
        recorded = re.search(r"Regenerated with: (.*)", readme.read_text()) if readme.exists() \
            else None
        if recorded:
            then, now = _parse_versions(recorded.group(1)), _parse_versions(_library_versions())
            changed = [f"{name} {then.get(name)} -> {now.get(name)}"
                       for name in sorted(set(then) | set(now)) if then.get(name) != now.get(name)]
            if changed:
                shown.append("libraries differ from the golden's (tests/golden/README.md): "
                             + ", ".join(changed))
        shown.append(f"if the change is intended, regenerate and review the diff:\n    {REGEN}")
        raise AssertionError("the built tests/sample differs from tests/golden:\n\n"
                             + "\n\n".join(shown))


# --- regeneration -----------------------------------------------------------------------

def regenerate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_sample(Path(tmp) / "blog")
        build(root, jobs=2)
        _assert_no_local_paths(root / "site", [tmp, sys.prefix])
        tree = golden_tree(root / "site")
    shutil.rmtree(GOLDEN / EXPECTED, ignore_errors=True)
    for path, data in tree.items():
        (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
        (GOLDEN / path).write_bytes(data)
    (GOLDEN / "README.md").write_text(_readme())
    size = sum(p.stat().st_size for p in GOLDEN.rglob("*") if p.is_file())
    print(f"wrote {len(tree)} files ({size / 1024:.0f} KiB) under {GOLDEN}; review: "
          "git status tests/golden && git diff tests/golden")


if __name__ == "__main__":
    regenerate()
