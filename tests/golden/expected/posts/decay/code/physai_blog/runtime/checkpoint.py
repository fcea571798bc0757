"""A run's checkpoint: what ``log.checkpoint(state)`` saves and ``log.resume()`` gives back.

One file, ``checkpoint.pkl`` in the run's checkpoint folder (``.physai-cache/checkpoints/<run
key>/`` in a build, ``<out>/checkpoints/<label>/`` standalone), written atomically: a temporary
file, fsync, rename, fsync of the folder.  A build killed at any moment leaves the previous
checkpoint or the new one, never half of one.  It holds the author's state, the observables
logged so far and the RNG states of python, numpy and torch (CPU and every CUDA device), so a
run resumed from it logs exactly what an uninterrupted run would have.

A checkpoint is scratch of one run: it is outside the run's output (never published, never
hashed into a key) and the build deletes it once the run's output is in the cache.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
from pathlib import Path

FILE = "checkpoint.pkl"
FORMAT = 1


def rng_states() -> dict:
    """The global RNG states of python, numpy and torch (those the script has imported)."""
    states: dict = {"python": random.getstate()}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        states["numpy"] = numpy.random.get_state()
    torch = sys.modules.get("torch")
    if torch is not None:
        states["torch"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng(states: dict) -> None:
    random.setstate(states["python"])
    numpy = sys.modules.get("numpy")
    if numpy is not None and "numpy" in states:
        numpy.random.set_state(states["numpy"])
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in states:
        torch.set_rng_state(states["torch"])
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["cuda"])


def encode(state, observables: dict) -> bytes:
    return pickle.dumps({"format": FORMAT, "state": state, "rng": rng_states(),
                         "observables": observables}, protocol=pickle.HIGHEST_PROTOCOL)


def write(folder: Path, data: bytes) -> None:
    """``data`` as ``folder/checkpoint.pkl``, atomically and durably."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{FILE}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / FILE)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(folder: Path) -> dict | None:
    """The saved checkpoint, or None when there is none (or it cannot be read: the run then
    starts over, which is slower but never wrong)."""
    try:
        data = (folder / FILE).read_bytes()
    except OSError:
        return None
    try:
        saved = pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "no checkpoint"
        print(f"physai-blog: checkpoint {folder / FILE} unreadable "
              f"({exc.__class__.__name__}); the run starts over", file=sys.stderr)
        return None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        return None
    return saved
