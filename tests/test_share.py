"""``cache push`` / ``cache pull``: results shared through a folder or an S3 store, verified.

The sample blog is built once and pushed; a fresh clone that pulls builds with 0 runs and 0
figures drawn and publishes the same bytes.  A store entry whose object was tampered with or
removed, or whose manifest names a path outside the entry, is refused and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli, copy_sample, free_port, runs_counted
from physai_blog.build import build
from physai_blog.runs.cache import canonical

DECAY_RUNS = 2


def snapshot(root: Path) -> dict:
    site = root / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """The built sample blog and a folder store it was pushed to."""
    base = tmp_path_factory.mktemp("share")
    root = copy_sample(base / "origin")
    build(root)
    result = cli("cache", "push", base / "store", "--root", root)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pushed 3 entries (")   # 2 runs, 1 figure
    return root, base / "store"


def clone_and_pull(tmp_path: Path, store: str):
    clone = copy_sample(tmp_path / "clone")
    result = cli("cache", "pull", store, "--root", clone)
    assert result.exit_code == 0, result.output
    return clone, result.output


def test_a_fresh_clone_that_pulls_builds_with_no_run(pushed, tmp_path, sample):
    origin, store = pushed
    _, counter = sample
    clone, output = clone_and_pull(tmp_path, str(store))
    assert "pulled 3 entries (0 already here, 0 refused)" in output
    report = build(clone)
    assert runs_counted(counter) == 0 and report.runs_executed == []
    assert report.figures_drawn == []
    assert snapshot(clone) == snapshot(origin)
    again = cli("cache", "push", store, "--root", clone)
    assert "pushed 0 entries (0 file(s) uploaded, 3 already in" in again.output


def _object_of(store: Path, kind: str, name: str) -> tuple[str, Path]:
    for entry in sorted((store / kind).glob("*.json")):
        files = json.loads(entry.read_text())["files"]
        if name in files:
            sha = files[name]["sha256"]
            return entry.stem, store / "objects" / sha[:2] / sha
    raise AssertionError(f"no {name} in {kind}")


@pytest.mark.parametrize("damage", ["tampered", "missing"])
def test_a_damaged_store_entry_is_refused_and_recomputed(pushed, tmp_path, sample, damage):
    origin, pristine = pushed
    _, counter = sample
    store = tmp_path / "store"
    subprocess.run(["cp", "-r", str(pristine), str(store)], check=True)
    key, obj = _object_of(store, "runs", "values.json")
    if damage == "tampered":
        obj.chmod(0o644)
        obj.write_bytes(obj.read_bytes().replace(b"0", b"1", 1))
        why = "values.json fails its sha256"
    else:
        obj.unlink()
        why = "values.json is missing from the store"
    clone, output = clone_and_pull(tmp_path, str(store))
    assert f"entry runs/{key[:12]}… refused ({why}); the build recomputes it" in output
    assert "pulled 2 entries (0 already here, 1 refused)" in output
    assert not (clone / ".physai-cache/runs" / key).exists()
    report = build(clone)
    assert runs_counted(counter) == 1 and len(report.runs_executed) == 1
    assert snapshot(clone) == snapshot(origin)


def test_a_manifest_naming_a_path_outside_its_entry_is_refused(pushed, tmp_path):
    _, pristine = pushed
    store = tmp_path / "store"
    subprocess.run(["cp", "-r", str(pristine), str(store)], check=True)
    key, _ = _object_of(store, "runs", "values.json")
    path = store / "runs" / f"{key}.json"
    manifest = json.loads(path.read_text())
    manifest["files"]["../../escaped.txt"] = manifest["files"]["values.json"]
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    manifest["checksum"] = hashlib.sha256(canonical(body)).hexdigest()  # not a signature
    path.write_text(json.dumps(manifest))
    clone, output = clone_and_pull(tmp_path, str(store))
    assert "refused (unsafe file name '../../escaped.txt')" in output
    assert not list(tmp_path.rglob("escaped.txt"))


@pytest.fixture
def s3(monkeypatch, tmp_path):
    """A local S3-compatible server (moto's server mode) with an empty bucket."""
    pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    port = free_port()
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.1)
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
        fs.mkdir("physai-share")
        yield "s3://physai-share/blog-cache"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_push_and_pull_through_an_s3_store(pushed, tmp_path, sample, s3):
    origin, _ = pushed
    _, counter = sample
    result = cli("cache", "push", s3, "--root", origin)
    assert result.output.startswith("pushed 3 entries ("), result.output
    clone, output = clone_and_pull(tmp_path, s3)
    assert "pulled 3 entries (0 already here, 0 refused)" in output
    report = build(clone)
    assert runs_counted(counter) == 0 and report.figures_drawn == []
    assert snapshot(clone) == snapshot(origin)


def test_a_store_at_an_unknown_protocol_is_one_clear_line(tmp_path):
    root = copy_sample(tmp_path / "blog")
    result = cli("cache", "pull", "nosuch://bucket/x", "--root", root)
    assert result.exit_code != 0
    assert result.output.startswith("Error: nosuch://bucket/x: ")
    assert "Traceback" not in result.output
    assert os.listdir(root / ".physai-cache") == ["lock"]
