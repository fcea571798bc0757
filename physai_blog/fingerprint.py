"""The no-op fast path: a build whose inputs are byte-identical to the last good build's.

The fingerprint hashes the content of every input (config, posts, experiments and the modules
they import, templates, assets, the bibliography), the physai-blog package itself, the library
versions that key runs, and the build options.  When it matches the last successful build and
``site/`` still holds what that build wrote, there is nothing to do: no Markdown, no Jinja, no
YAML is even imported.  Content hashes, not mtimes, so a touched-but-unchanged file costs
nothing and an edit that keeps the mtime is still seen.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
from pathlib import Path

INPUT_DIRS = ("posts", "experiments", "templates", "assets")
STATE = "last-build.json"
PACKAGE = Path(__file__).parent


def _walk(folder: Path):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _versions() -> dict:
    """Installed versions from the dist-info folder names (importlib.metadata costs more
    than the whole no-op build)."""
    out = {"python": platform.python_version(), "torch": None, "numpy": None,
           "matplotlib": None}
    pattern = re.compile(r"^(torch|numpy|matplotlib)-([^-]+)\.dist-info$")
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            match = pattern.match(name)
            if match and out[match.group(1)] is None:
                out[match.group(1)] = match.group(2)
    return out


def fingerprint(root: Path, extra: list[str], options: dict) -> str:
    h = hashlib.sha256(json.dumps({"options": options, "versions": _versions()},
                                  sort_keys=True).encode())
    paths = [root / "physai.yaml", *(root / rel for rel in extra)]
    for name in INPUT_DIRS:
        paths.extend(_walk(root / name))
    paths.extend(_walk(PACKAGE))
    for path in sorted(set(paths)):
        h.update(str(path).encode() + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def _site_seal(site: Path) -> str | None:
    try:
        return hashlib.sha256((site / ".physai-site.json").read_bytes()).hexdigest()
    except OSError:
        return None


def _state(cache_dir: Path) -> dict:
    try:
        state = json.loads((cache_dir / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def check(root: Path, cache_dir: Path, site: Path, options: dict) -> tuple[dict | None, tuple]:
    """(the last build's summary if nothing changed since it, else None; the inputs now, to
    compare with at the end of this build)."""
    state = _state(cache_dir)
    extra = state.get("extra", [])
    now = fingerprint(root, extra, options)
    if state and state.get("site") == _site_seal(site) and state.get("fingerprint") == now:
        return state, (now, extra)
    return None, (now, extra)


def remember(root: Path, cache_dir: Path, site: Path, options: dict, extra: list[str],
             summary: dict, started: tuple) -> None:
    """Record a successful build, unless an input changed while it ran."""
    now = fingerprint(root, started[1], options)
    if now != started[0]:
        return
    extra = sorted(set(extra))
    if extra != sorted(set(started[1])):   # the usual case reuses the hash just computed
        now = fingerprint(root, extra, options)
    state = {**summary, "extra": extra, "site": _site_seal(site), "fingerprint": now}
    tmp = cache_dir / f".{STATE}.{os.getpid()}"
    tmp.write_text(json.dumps(state, sort_keys=True, indent=1) + "\n")
    os.replace(tmp, cache_dir / STATE)


def forget(cache_dir: Path) -> None:
    try:
        (cache_dir / STATE).unlink()
    except OSError:
        pass
