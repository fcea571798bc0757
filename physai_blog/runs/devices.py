"""GPUs on this machine, handed to runs one device per run at a time.

A run that declares ``resources: {gpu: N}`` waits for N free devices, runs with
``CUDA_VISIBLE_DEVICES`` set to them (its worker sets it before the script imports torch, so
CUDA only ever sees those), and gives them back when it ends.  The devices are the ids in
``PHYSAI_FAKE_GPUS`` (tests: pretend devices on a CPU machine), else those the build's own
``CUDA_VISIBLE_DEVICES`` lists, else what ``nvidia-smi`` finds.  Without any, such a run runs
on the CPU (``log.device`` says ``"cpu"``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

FAKE_ENV = "PHYSAI_FAKE_GPUS"


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def visible_gpus() -> list[str]:
    """The device ids runs may be given (see the module docstring)."""
    if os.environ.get(FAKE_ENV) is not None:
        return _ids(os.environ[FAKE_ENV])
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return _ids(os.environ["CUDA_VISIBLE_DEVICES"])
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return _ids(out.replace("\n", ","))


def gpus_wanted(resources: dict) -> int:
    for key, value in (resources or {}).items():
        if key.lower() == "gpu":
            return max(0, int(float(value)))
    return 0


class DevicePool:
    """Free device ids; ``acquire(n)`` blocks until n are free (n is capped at the pool's
    size, so a run asking for more than the machine has takes them all rather than hang)."""

    def __init__(self, ids: list[str]):
        self.ids = list(ids)
        self.free = list(ids)
        self.cond = threading.Condition()

    def acquire(self, n: int) -> str | None:
        """The granted ids as ``CUDA_VISIBLE_DEVICES`` text; None when there are no devices."""
        if not self.ids or n <= 0:
            return None
        n = min(n, len(self.ids))
        with self.cond:
            self.cond.wait_for(lambda: len(self.free) >= n)
            granted, self.free = self.free[:n], self.free[n:]
        return ",".join(granted)

    def release(self, granted: str | None) -> None:
        if granted is None:
            return
        with self.cond:
            self.free.extend(_ids(granted))
            self.free.sort(key=self.ids.index)
            self.cond.notify_all()


def gpu_record() -> dict:
    """What a run on a GPU ran with: model, driver, CUDA and cuDNN versions, and the
    determinism flags torch had when it ended (the script may have set them)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    record: dict = {"determinism": {
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }}
    if torch.cuda.is_available():
        record["gpu"] = {"model": torch.cuda.get_device_name(0), "driver": _driver(),
                         "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
                         "count": torch.cuda.device_count()}
    return record


def _driver() -> str | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0].strip() if out.strip() else None
