"""What a reader downloads reruns: the notebook, the bundle, the script alone, verify."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import cli, copy_sample, make_blog
from physai_blog.build import build
from physai_blog.runs.fingerprint import installed_versions

# The pin is the version the runs recorded, without its local label ("2.13.0+cpu")
TORCH_VERSION = (installed_versions()["torch"] or "").split("+")[0]
TORCH = f"torch=={TORCH_VERSION}"
CPU_TORCH = f"pip install {TORCH} --index-url https://download.pytorch.org/whl/cpu"


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
    assert f"torch {TORCH_VERSION}" in readme.split("## Environment it ran in")[1]
    for rel in ("code/decay.py", "code/helpers.py", "code/loss.py",
                "code/physai_blog/runtime/experiment.py", "data/seed-0/scalars.csv",
                "data/seed-1/manifest.json", "figures/loss.svg", "decay.ipynb"):
        assert (folder / rel).is_file(), rel


def rerun_commands(readme: str) -> list[str]:
    """The commands of the README's "Rerun everything" block, in order."""
    section = readme.split("## Rerun everything\n\n", 1)[1]
    block = section[:section.index("\n\n")]
    assert all(line.startswith("    ") for line in block.splitlines()), block
    return [line.strip() for line in block.splitlines()]


def test_readme_installs_the_cpu_build_of_torch_before_the_rest(bundle):
    _, folder = bundle
    readme = (folder / "README.md").read_text()
    assert rerun_commands(readme) == [CPU_TORCH, "pip install -r requirements.txt",
                                      "python code/decay.py --out rerun"]
    gpu = " ".join(readme.split())   # the paragraph is wrapped
    assert ("To use a GPU instead, replace the first command: install torch from the default "
            f"index (`pip install {TORCH}`) or from the CUDA index of your choice") in gpu


def test_requirements_alone_never_install_torch(bundle):
    """`pip install -r requirements.txt` on its own must not resolve to a CUDA build: torch is
    left to the README's first command, and a comment says so."""
    _, folder = bundle
    lines = (folder / "requirements.txt").read_text().splitlines()
    assert lines[0].startswith(f"# {TORCH} is installed first, on its own: see README.md")
    requirements = [line for line in lines if not line.startswith("#")]
    assert requirements and not any(line.startswith("torch") for line in requirements)
    assert any(line.startswith("numpy==") for line in requirements)


def test_documented_rerun_command_reproduces_the_published_data(bundle, tmp_path):
    """The README's last command, in the unzipped bundle, with this venv's python (torch,
    numpy and matplotlib already installed: no pip, no network) and nothing on PYTHONPATH:
    the bundled runtime in code/ is what runs."""
    _, published = bundle
    folder = shutil.copytree(published, tmp_path / "decay")
    command = shlex.split(rerun_commands((folder / "README.md").read_text())[-1])
    assert command[0] == "python"
    result = subprocess.run([sys.executable, *command[1:]], cwd=folder, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    for manifest in sorted((folder / "data").glob("*/manifest.json")):
        run = manifest.parent.name
        for rel, meta in json.loads(manifest.read_text())["files"].items():
            rerun = folder / "rerun/data" / run / rel
            assert hashlib.sha256(rerun.read_bytes()).hexdigest() == meta["sha256"], (run, rel)
    assert len(list((folder / "rerun/data").iterdir())) == 2
    assert (folder / "rerun/figures/loss.svg").read_bytes() == \
        (folder / "figures/loss.svg").read_bytes()


def test_bundle_of_an_experiment_without_torch_never_mentions_it(tmp_path):
    root = make_blog(tmp_path / "blog")
    build(root, jobs=1)
    with zipfile.ZipFile(root / "site/posts/fast/reproduce.zip") as zf:
        readme = zf.read("fast/README.md").decode()
        requirements = zf.read("fast/requirements.txt").decode()
    assert "torch" not in readme and "torch" not in requirements
    assert rerun_commands(readme) == ["pip install -r requirements.txt",
                                      "python code/fast.py --out rerun"]


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
