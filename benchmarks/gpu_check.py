"""The example blog's grokking sweep on a GPU, against the same sweep on the CPU.

    .venv/bin/python benchmarks/gpu_check.py [--rtol 0.1] [--atol 0.02] [--keep DIR]

Copies the example blog twice (the grokking post only) into a scratch folder and builds it:
once with CUDA hidden (``CUDA_VISIBLE_DEVICES=""``: ``log.device`` is "cpu"), once with
``resources: {gpu: 1}`` in the post's front matter on this machine's GPUs.  Then it checks
that every GPU run's manifest says it ran on CUDA (model, driver, CUDA, cuDNN recorded), and
compares every published value of every run (``data/<run>/values.json``):
``|gpu - cpu| <= rtol * max(|gpu|, |cpu|) + atol``.  Prints one line per run and value that
differs, then a summary; exits 1 on a mismatch, 0 when all agree, 2 when there is no GPU
(``--cpu-only`` runs the second build on the CPU too, to check the script itself).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLUG = "grokking-modular-addition"
POST = "2026-03-02-grokking-modular-addition.md"


def has_gpu() -> bool:
    probe = "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"
    return subprocess.run([sys.executable, "-c", probe]).returncode == 0


def make_blog(dest: Path, gpu: bool) -> Path:
    dest.mkdir(parents=True)
    for name in ("physai.yaml", "references.bib"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "experiments", dest / "experiments",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "posts").mkdir()
    text = (REPO / "posts" / POST).read_text()
    if gpu:   # the front matter's first line is "---": the key goes right after it
        text = text.replace("---\n", "---\nresources: {gpu: 1}\n", 1)
    (dest / "posts" / POST).write_text(text)
    return dest


def build(root: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "physai_blog", "build", "--root", str(root), "-q"],
                   env=env, check=True)
    return time.perf_counter() - start


def runs_of(root: Path) -> dict[str, Path]:
    """The published runs of the grokking post (wherever its permalink puts the post)."""
    found = {}
    for path in sorted((root / "site").rglob("data/*/values.json")):
        if SLUG in path.relative_to(root / "site").parts:
            found[path.parent.name] = path.parent
    return found


def compare(cpu: Path, gpu: Path, rtol: float, atol: float, want_cuda: bool) -> list[str]:
    """One line per problem: a value out of tolerance, a run missing, a run not on CUDA."""
    problems = []
    cpu_runs, gpu_runs = runs_of(cpu), runs_of(gpu)
    if set(cpu_runs) != set(gpu_runs) or not cpu_runs:
        return [f"runs differ: cpu {sorted(cpu_runs)} vs gpu {sorted(gpu_runs)}"]
    for label in sorted(cpu_runs):
        manifest = json.loads((gpu_runs[label] / "manifest.json").read_text())
        if want_cuda and (manifest.get("device") != "cuda" or not manifest.get("gpu")):
            problems.append(f"{label}: ran on {manifest.get('device')}, not cuda")
        a = json.loads((cpu_runs[label] / "values.json").read_text())
        b = json.loads((gpu_runs[label] / "values.json").read_text())
        for name in sorted(set(a) | set(b)):
            if name not in a or name not in b:
                problems.append(f"{label} {name}: only in {'cpu' if name in a else 'gpu'}")
            elif abs(a[name] - b[name]) > rtol * max(abs(a[name]), abs(b[name])) + atol:
                problems.append(f"{label} {name}: cpu {a[name]:.6g} gpu {b[name]:.6g}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtol", type=float, default=0.1)
    parser.add_argument("--atol", type=float, default=0.02)
    parser.add_argument("--keep", type=Path, help="build here and keep the two blogs")
    parser.add_argument("--cpu-only", action="store_true",
                        help="no GPU needed: both builds on the CPU (checks this script)")
    args = parser.parse_args(argv)
    if not args.cpu_only and not has_gpu():
        print("gpu_check: no CUDA GPU visible to torch here; nothing compared")
        return 2
    base = args.keep or Path(tempfile.mkdtemp(prefix="physai-gpu-check-"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("PHYSAI_FAKE_GPUS", None)
    cpu_env = {**env, "CUDA_VISIBLE_DEVICES": ""}
    cpu, gpu = make_blog(base / "cpu", False), make_blog(base / "gpu", True)
    cpu_s = build(cpu, cpu_env)
    gpu_s = build(gpu, cpu_env if args.cpu_only else env)
    problems = compare(cpu, gpu, args.rtol, args.atol, want_cuda=not args.cpu_only)
    for line in problems:
        print(line)
    runs = len(runs_of(cpu))
    print(f"gpu_check: {runs} runs, {len(problems)} problem(s); build time gpu/cpu "
          f"{gpu_s / cpu_s:.2f} ({gpu_s:.1f} s / {cpu_s:.1f} s); rtol {args.rtol}, "
          f"atol {args.atol}; blogs in {base}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
