"""What a reader downloads reruns: the notebook, the bundle, the script alone, verify."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import cli, copy_sample


@pytest.fixture(scope="module")
def bundle(built_sample, tmp_path_factory):
    root, _ = built_sample
    dest = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(root / "site/posts/decay/reproduce.zip") as zf:
        zf.extractall(dest)
    return root, dest / "decay"


def test_bundle_holds_code_data_readme_and_environment(bundle):
    _, folder = bundle
    readme = (folder / "README.md").read_text()
    assert "python code/decay.py --out rerun" in readme
    assert "torch 2." in readme or "torch" in readme
    assert (folder / "requirements.txt").read_text().startswith("torch==")
    for rel in ("code/decay.py", "code/helpers.py", "code/loss.py",
                "code/physai_blog/experiment.py", "data/seed-0/scalars.csv",
                "data/seed-1/manifest.json", "figures/loss.svg", "decay.ipynb"):
        assert (folder / rel).is_file(), rel


def test_figures_redrawn_from_the_bundle_are_byte_identical(bundle):
    root, folder = bundle
    published = (folder / "figures/loss.svg").read_bytes()
    (folder / "figures/loss.svg").unlink()
    env = {"PYTHONPATH": str(folder / "code"), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "code/decay.py", "--figures-only", "--out", "."],
                   cwd=folder, check=True, env=env, capture_output=True)
    assert (folder / "figures/loss.svg").read_bytes() == published


def test_notebook_loads_the_data_and_redraws_every_figure(bundle):
    import nbformat
    from nbclient import NotebookClient

    _, folder = bundle
    nb = nbformat.read(folder / "decay.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    images = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    assert len(images) == 1                       # one per figure of the experiment
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "2 runs; values of the first: {'final_loss'" in printed


def test_notebook_is_valid_and_written_as_nbformat_writes_it(bundle):
    """The notebook is written without nbformat (cheaper); it must be what nbformat
    would write, byte for byte, and pass its schema."""
    import nbformat

    _, folder = bundle
    ours = (folder / "decay.ipynb").read_bytes()
    nb = nbformat.reads(ours.decode(), as_version=4)
    nbformat.validate(nb)
    assert nbformat.writes(nb).encode() + b"\n" == ours


def test_script_runs_on_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    root = copy_sample(tmp_path / "blog")
    out = subprocess.run([sys.executable, "experiments/decay.py", "--out", "alone"], cwd=root,
                         check=True, capture_output=True, text=True).stdout
    assert "seed-0:" in out and "figure loss:" in out
    assert (root / "alone/figures/loss.svg").is_file()
    values = json.loads((root / "alone/data/seed-1/values.json").read_text())
    assert set(values) == {"final_loss", "half_life"}


def test_verify_detects_a_perturbed_published_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    root = copy_sample(tmp_path / "blog")
    assert cli("build", "--root", root).exit_code == 0
    result = cli("verify", "--root", root)
    assert result.exit_code == 0, result.output
    assert "10 of 10 observables match the published data." in result.output
    values = root / "site/posts/decay/data/seed-1/values.json"
    data = json.loads(values.read_text())
    data["final_loss"] *= 1.01
    values.write_text(json.dumps(data))
    result = cli("verify", "--root", root, "decay")
    assert result.exit_code == 1
    drift = [line for line in result.output.splitlines() if "DRIFT" in line]
    assert len(drift) == 1 and drift[0].startswith("decay/seed-1  value final_loss")
    assert "Error: 1 observable(s) drifted from the published data" in result.output
    # a tolerance set by the post absorbs it
    post = root / "posts/2026-01-08-decay.md"
    post.write_text(post.read_text().replace("categories: demo", "categories: demo\ntolerance: 0.02"))
    assert cli("verify", "--root", root, "decay").exit_code == 0


def test_run_command_runs_one_post(tmp_path, monkeypatch):
    monkeypatch.delenv("PHYSAI_TEST_COUNTER", raising=False)
    root = copy_sample(tmp_path / "blog")
    result = cli("run", "--root", root, "decay")
    assert result.exit_code == 0 and "decay: 2 of 2 run(s) executed" in result.output
    assert "seed-0" in result.output and "final_loss=" in result.output
    assert not (root / "site").exists()
    assert "decay: 0 of 2 run(s) executed" in cli("run", "--root", root, "decay").output
