"""Write a site that differs from ``site/`` in a few files' bytes (no file added or
removed): the body-edit build's write (``body_edit.py``).

``write.py`` brings the back buffer up to date by checking each of its files against its
record; this takes the list the last write kept of where the back buffer (the site before
last) differs from ``site/`` (``fresh``), so only those files and the changed ones are put
into it.  Every other file of the back buffer is checked by one ``lstat`` against its
record, and its folders by their stat (``tree.py``): a file changed, replaced, added or
removed there (or in ``site/`` through a hard link) makes this decline, and the full write
repairs it; then the back buffer is swapped in as ``write.py`` does.  None (nothing
swapped) wherever this cannot vouch for the result.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from physai_blog import sealed
from physai_blog.output import tree
from physai_blog.output.write import (
    BACK,
    RECORD,
    SITE_MANIFEST,
    WriteReport,
    WriteState,
    is_known,
    load_state,
    manifest_of,
    recover,
    stat_record,
    swap,
    usable_back,
)


@dataclass
class Patchable:
    """The site as the last write left it: its manifest and that write's records."""

    site: Path
    state: Path                # the write's records (``write.py``)
    back: Path
    text: bytes                # the manifest of site/, as written
    digests: dict              # ... as read: site rel -> sha256
    recorded: WriteState       # ... whose ``fresh`` is a list, its ``manifest`` this one's


def patchable(site: Path, state: Path) -> Patchable | None:
    """What ``patch_site`` starts from, read before anything is rendered; None where only a
    full write can do: records of another site/ than this one (a write stopped after its
    swap), no list of where the back buffer differs, no usable back buffer, or one holding a
    file or folder the site has not (a file the last write removed, one written there, a
    stopped build's leftover)."""
    recover(site)
    try:
        text = (site / SITE_MANIFEST).read_bytes()
        digests = json.loads(text)
    except (OSError, ValueError):
        return None
    recorded = load_state(state)
    back = state.with_name(BACK)
    if recorded.fresh is None or recorded.manifest != hashlib.sha256(text).hexdigest() or \
            not isinstance(digests, dict) or not usable_back(back, site):
        return None
    # The back buffer's folders by their stat where it matches their record (tree.py)
    entries, folders = tree.known_listing(back, recorded.trees.get("back")) or \
        tree.listing(back)
    files = {*digests, SITE_MANIFEST}
    if not all(entries.values()) or not entries.keys() <= files or \
            not files - entries.keys() <= {*recorded.fresh} or \
            not folders <= {folder for rel in files for folder in tree.ancestors(rel)}:
        return None
    return Patchable(site, state, back, text, digests, recorded)


def patch_site(target: Patchable, pages: dict[str, tuple[str, str]]) -> WriteReport | None:
    """Swap in ``site/`` with ``pages`` (site rel -> (a cache file, its sha256), each a file
    ``site/`` already has) replaced; None where the full write is needed."""
    site, back, old = target.site, target.back, target.digests
    known, trees = target.recorded.known, target.recorded.trees
    if any(rel not in old for rel in pages):
        return None
    digests = {**old, **{rel: sha256 for rel, (_, sha256) in pages.items()}}
    changed = sorted(rel for rel in pages if old[rel] != digests[rel])
    if not changed:
        return WriteReport(0, len(digests), 0, False)
    manifest = manifest_of(digests)
    digests[SITE_MANIFEST] = hashlib.sha256(manifest).hexdigest()
    sync = {*target.recorded.fresh, *changed, SITE_MANIFEST}
    linked = [rel for rel in sync if rel not in pages and rel != SITE_MANIFEST]
    if not all(is_known(known, rel, f"{back}/{rel}", digest)
               for rel, digest in digests.items() if rel not in sync) or \
            not all(is_known(known, rel, f"{site}/{rel}", digests[rel]) for rel in linked):
        return None
    try:
        for rel in sorted(sync):
            _put(back, rel, manifest if rel == SITE_MANIFEST else
                 pages[rel][0] if rel in pages else f"{site}/{rel}")
    except OSError:   # a folder where a file belongs...: the full write repairs the back buffer
        return None
    after = dict(known)
    cut = RECORD.size
    for rel in sync:   # the new file's record, and the old site's (the next back buffer's)
        was = (target.recorded.manifest if rel == SITE_MANIFEST else old[rel]).encode()
        record = stat_record(f"{back}/{rel}") + digests[rel].encode()
        after[rel] = [record, *(r for r in known.get(rel, ()) if r[cut:] == was and r != record)]
    touched = {folder for rel in sync for folder in tree.ancestors(rel)}
    record = tree.record(back, digests, trees.get("back"), touched)
    swap(site, back, back)
    sealed.write(target.state, {"site": after, "sources": target.recorded.sources,
                                "trees": {"site": record, "back": trees.get("site")},
                                "fresh": sorted({*changed, SITE_MANIFEST}),
                                "manifest": digests[SITE_MANIFEST]})
    return WriteReport(len(changed), len(digests) - 1 - len(changed), 0, True)


def _put(back: Path, rel: str, value: bytes | str) -> None:
    """Replace ``back/rel`` by a hard link of the file ``value`` (or its bytes) in one
    rename."""
    target = f"{back}/{rel}"
    tmp = f"{target}.{os.getpid()}.tmp"
    os.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
    try:
        if isinstance(value, bytes):
            with open(tmp, "wb") as fh:
                fh.write(value)
        else:
            try:
                os.link(value, tmp)
            except OSError:
                with open(tmp, "wb") as fh:
                    fh.write(Path(value).read_bytes())
        os.replace(tmp, target)
    finally:
        if os.path.lexists(tmp):    # rename() of two links to one file does nothing
            os.unlink(tmp)
