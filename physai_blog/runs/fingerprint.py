"""The no-op fast path: a build whose inputs are byte-identical to the last good build's.

The fingerprint hashes the content of every input (config, posts, experiments and the modules
they import, templates, assets, the bibliography), the physai-blog package itself, the library
versions that key runs, and the build options.  When it matches the last successful build and
``site/`` still holds what that build wrote, there is nothing to do: no Markdown, no Jinja, no
YAML is even imported.  Content hashes, not mtimes, so a touched-but-unchanged file costs
nothing and an edit that keeps the mtime is still seen; each file's hash is reused while its
stat signature (with ctime) is unchanged (``digests.py``), so the check stats the inputs
rather than reading them.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import NamedTuple

from physai_blog.paths import PACKAGE
from physai_blog.runs.digests import DIGESTS

INPUT_DIRS = ("posts", "experiments", "templates", "assets")
STATE = "last-build.json"


def _walk(folder: Path | str):
    """Every file under ``folder`` but hidden ones and ``__pycache__``, as path strings."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if not name.startswith("."):
                yield os.path.join(dirpath, name)


def inputs(root: Path, extra: list[str]) -> list[str]:
    """The path of every input of the fingerprint, sorted."""
    paths = [os.path.join(root, "physai.yaml"), *(os.path.join(root, rel) for rel in extra)]
    for name in INPUT_DIRS:
        paths.extend(_walk(os.path.join(root, name)))
    paths.extend(_walk(PACKAGE))
    return sorted(set(paths))


#: The libraries whose version changes what a build makes: the runs (torch, numpy), the
#: figures (matplotlib), the pages (the rest: a new Pygments restyles code, a new Markdown
#: may render a page otherwise).
LIBRARIES = ("torch", "numpy", "matplotlib", "markdown", "jinja2", "markupsafe", "pygments",
             "latex2mathml", "pyyaml")


def installed_versions() -> dict:
    """Installed versions of python and of ``LIBRARIES``, from the dist-info folder names on
    sys.path (importing importlib.metadata costs more than the whole no-op build)."""
    out = {"python": platform.python_version(), **dict.fromkeys(LIBRARIES)}
    pattern = re.compile(rf"^({'|'.join(LIBRARIES)})-([^-]+)\.dist-info$", re.IGNORECASE)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            match = pattern.match(name)
            if match and out[match.group(1).lower()] is None:
                out[match.group(1).lower()] = match.group(2)
    return out


class Started(NamedTuple):
    """What the no-op check learned, for the build it did not skip."""

    fingerprint: str
    extra: list[str]               # the inputs beyond the input folders (experiment modules)
    code: dict[str, str]           # experiment code file -> its digest (hex)
    changed: list[str]             # the experiment code files changed since the last good build
    digests: dict[str, bytes]      # every input's path -> its digest, as the check found it
    head: str = ""                 # what the fingerprint hashes besides files (``head``)
    last: dict | None = None       # the last good build's record, as read (None: none)


def head(options: dict) -> str:
    """The part of the fingerprint that is not a file: the build options and the library
    versions."""
    return hashlib.sha256(json.dumps({"options": options, "versions": installed_versions()},
                                     sort_keys=True).encode()).hexdigest()


def fingerprint(root: Path, extra: list[str], options: dict,
                code: dict | None = None, seen: dict | None = None, top: str | None = None) -> str:
    """The hash of every input; ``code`` (if given) receives the digest of each file under
    ``experiments/`` and of each extra input (the modules the experiments import); ``seen``
    (if given), every input's path and digest (None: missing); ``top``: ``head(options)``,
    if known."""
    h = hashlib.sha256((top or head(options)).encode())
    code_paths = {os.path.join(root, rel) for rel in extra} | \
        set(_walk(os.path.join(root, "experiments")))
    prefix = len(str(root)) + 1
    for path in inputs(root, extra):
        h.update(path.encode() + b"\0")
        digest = DIGESTS.digest(path)
        if seen is not None:
            seen[path] = digest
        digest = digest or b"missing"
        h.update(digest)
        if code is not None and path in code_paths and path.endswith(".py"):
            code[path[prefix:].replace(os.sep, "/")] = digest.hex()
    return h.hexdigest()


def site_seal(site: Path) -> str | None:
    try:
        return hashlib.sha256((site / ".physai-site.json").read_bytes()).hexdigest()
    except OSError:
        return None


def last_state(cache_dir: Path) -> dict:
    """The last good build's record ({}: none)."""
    try:
        state = json.loads((cache_dir / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def check(root: Path, cache_dir: Path, site: Path, options: dict) -> tuple[dict | None, Started]:
    """(the last build's summary if nothing changed since it, else None; what the check
    found, ``Started``: the inputs now, to compare with at the end of this build, and the
    experiment code files that changed since the last good build: all of them when there
    was none)."""
    state = last_state(cache_dir)
    extra = state.get("extra", [])
    code: dict[str, str] = {}
    seen: dict[str, bytes | None] = {}
    DIGESTS.load(cache_dir)
    top = head(options)
    now = fingerprint(root, extra, options, code, seen, top)
    if state and state.get("site") == site_seal(site) and state.get("fingerprint") == now:
        DIGESTS.save(cache_dir, prune=False)   # what a touch taught it, if anything
        return state, Started(now, extra, code, [], seen, top, state)
    DIGESTS.save(cache_dir, prune=False)   # pruned at the end of the build (remember)
    before = state.get("code") if isinstance(state.get("code"), dict) else {}
    changed = sorted(rel for rel, digest in code.items() if before.get(rel) != digest)
    return None, Started(now, extra, code, changed, seen, top, state)


def remember(root: Path, cache_dir: Path, site: Path, options: dict, extra: list[str],
             summary: dict, started: Started, prune: bool = True) -> str | None:
    """Record a successful build as the inputs were when it started: an input changed,
    added or removed while it ran differs from that record, so the next check rebuilds (no
    second pass over every input here).  Unless the build found other extra inputs (an
    experiment's new import): then the inputs it started from are hashed again, and the
    build is recorded, with the new extra inputs, only if they are unchanged.  The
    fingerprint recorded, or None; ``prune``: see ``Digests.save`` (a build that did not
    ask for every file it has keeps the others' digests)."""
    extra = sorted(set(extra))
    now, code = started.fingerprint, started.code
    if extra != sorted(set(started.extra)):
        if fingerprint(root, started.extra, options) != started.fingerprint:
            return None
        code = {}
        now = fingerprint(root, extra, options, code)
    state = {**summary, "extra": extra, "site": site_seal(site), "fingerprint": now,
             "code": code}
    tmp = cache_dir / f".{STATE}.{os.getpid()}"
    tmp.write_text(json.dumps(state, sort_keys=True, indent=1) + "\n")
    os.replace(tmp, cache_dir / STATE)
    DIGESTS.save(cache_dir, prune)
    return now


def forget(cache_dir: Path) -> None:
    try:
        (cache_dir / STATE).unlink()
    except OSError:
        pass
