"""The experiment API an author writes against (see DESIGN.md).

    exp = Experiment(params={...}, sweep={"weight_decay": [...]}, seeds=[0, 1, 2])

    @exp.run
    def train(params, seed, log): ...          # one call per (sweep cell, seed)

    @exp.figure("accuracy", caption="...")
    def accuracy(data, fig): ...               # draws from stored data only

    if __name__ == "__main__":
        exp.main()                             # standalone: data + figures into ./out

The arguments of ``Experiment(...)`` and ``@exp.figure(...)`` must be literals: the build reads
them statically (``spec.py``) so that a cached build never imports the script, torch or
matplotlib.  Inside a build the script is imported by ``worker.py`` in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import shutil
import sys
import time
from pathlib import Path

from physai_blog.runtime import checkpoint
from physai_blog.runtime.data import ARRAYS, SCALARS, VALUES, load_data
from physai_blog.runtime.live import Live, write_scalars
from physai_blog.runtime.names import FIGURE_NAME, IDENTIFIER, run_label, sweep_cells


class ObservableError(Exception):
    """An observable the experiment logged is invalid; carries the script's own file:line."""

    def __init__(self, message: str, filename: str, lineno: int):
        super().__init__(message)
        self.filename, self.lineno = filename, lineno


def _user_frame():
    """(file, line) of the first caller outside this module: the experiment's own code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame else ("?", 0)


def _number(name: str, x, what: str) -> float | int:
    try:
        if hasattr(x, "item"):  # torch / numpy scalars
            x = x.item()
        if isinstance(x, bool):
            x = int(x)
        if not isinstance(x, int):
            x = float(x)
    except (TypeError, ValueError):
        raise ObservableError(f"{what} {name!r} is not a number: {x!r}", *_user_frame())
    if isinstance(x, float) and not math.isfinite(x):
        raise ObservableError(f"{what} {name!r} is {x} (not finite)", *_user_frame())
    return x


class Log:
    """Collects one run's observables, then writes them as plain files."""

    def __init__(self, out_dir: Path, device: str = "cpu", checkpoints: Path | None = None,
                 max_checkpoint_bytes: float | None = None, live: Live | None = None):
        self.out_dir = Path(out_dir)
        #: Where to put tensors: "cpu", or "cuda" in a run granted a GPU (``resources``).
        self.device = device
        self._checkpoints = Path(checkpoints) if checkpoints is not None else None
        self._max_checkpoint = max_checkpoint_bytes
        self._rows: list[dict] = []
        self._columns: dict[str, None] = {}
        self._values: dict[str, float] = {}
        self._arrays: dict[str, object] = {}
        self._live = live

    def scalars(self, **row) -> None:
        """Append one row of a time series, e.g. ``log.scalars(step=s, loss=l)``."""
        clean = {}
        for name, x in row.items():
            self._check_name(name, "series")
            clean[name] = _number(name, x, "series")
            self._columns.setdefault(name)
        self._rows.append(clean)
        if self._live is not None:   # the hot path: the same as _flush, without its call
            self._live.update(self._rows, self._columns, self._values)

    def progress(self, step, total=None) -> None:
        """Where the run is (``serve`` shows it with an ETA); ``log.scalars(step=...)`` sets
        the step already, so ``log.progress(total=steps)`` once is enough."""
        if self._live is not None:
            self._live.step, self._live.total = step, total

    def value(self, name: str, x) -> None:
        """A number the post may quote, e.g. ``log.value("t_grok", 1200)``."""
        self._check_name(name, "value")
        self._values[name] = _number(name, x, "value")
        self._flush()

    def array(self, name: str, x) -> None:
        """An array stored as ``arrays/<name>.npy``."""
        import numpy as np

        self._check_name(name, "array")
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        self._arrays[name] = np.ascontiguousarray(np.asarray(x))

    def checkpoint(self, state: dict) -> None:
        """Save ``state`` (any picklable dict: tensors, optimizer state, step...) with the
        observables logged so far and the RNG states, atomically; a run stopped later
        continues from here at the next build (``resume``)."""
        if self._checkpoints is None:
            return
        observables = {"rows": self._rows, "columns": list(self._columns),
                       "values": self._values, "arrays": self._arrays}
        try:
            data = checkpoint.encode(state, observables)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ObservableError(f"checkpoint state is not picklable: {exc}", *_user_frame())
        if self._max_checkpoint is not None and len(data) > self._max_checkpoint:
            raise ObservableError(
                f"checkpoint is {len(data) / 1e6:.1f} MB, over the limit of "
                f"{self._max_checkpoint / 1e6:g} MB (`max_output_mb` covers checkpoints too)",
                *_user_frame())
        checkpoint.write(self._checkpoints, data)
        self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        """What is logged so far, to the live folder ``serve`` shows (throttled there)."""
        if self._live is not None:
            self._live.update(self._rows, self._columns, self._values, force)

    def resume(self):
        """The state of the last ``checkpoint`` of this run, or None (a fresh start).  The
        observables logged before it and the RNG states come back with it."""
        saved = checkpoint.read(self._checkpoints) if self._checkpoints is not None else None
        if saved is None:
            return None
        observables = saved["observables"]
        self._rows, self._values = observables["rows"], observables["values"]
        self._columns = dict.fromkeys(observables["columns"])
        self._arrays = observables["arrays"]
        checkpoint.restore_rng(saved["rng"])
        return saved["state"]

    def _check_name(self, name: str, what: str) -> None:
        if not isinstance(name, str) or not IDENTIFIER.match(name):
            filename, lineno = _user_frame()
            raise ObservableError(
                f"{what} name {name!r} must be an identifier (letters, digits, _)",
                filename, lineno)

    def write(self) -> list[str]:
        """Write the files (deterministic bytes); return their relative paths."""
        import numpy as np

        self.out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        if self._rows:
            write_scalars(self.out_dir / SCALARS, self._rows, list(self._columns))
            written.append(SCALARS)
        (self.out_dir / VALUES).write_text(json.dumps(self._values, sort_keys=True, indent=1) + "\n")
        written.append(VALUES)
        if self._arrays:
            (self.out_dir / ARRAYS).mkdir(exist_ok=True)
            for name, arr in sorted(self._arrays.items()):
                np.save(self.out_dir / ARRAYS / f"{name}.npy", arr, allow_pickle=False)
                written.append(f"{ARRAYS}/{name}.npy")
        return written


class Experiment:
    """An experiment: default params, an optional sweep, seeds, one run function, figures."""

    def __init__(self, params: dict | None = None, sweep: dict | None = None,
                 seeds: list[int] | None = None, timeout: float | None = None,
                 tolerance: float | None = None, resources: dict | None = None):
        self.params = dict(params or {})
        self.sweep = {k: list(v) for k, v in (sweep or {}).items()}
        self.seeds = list(seeds if seeds is not None else [0])
        self.timeout = timeout
        self.tolerance = tolerance
        self.resources = dict(resources or {})
        self.run_function = None
        self.figures: dict[str, dict] = {}

    def run(self, fn):
        """Decorator: the function called once per (sweep cell, seed)."""
        self.run_function = fn
        return fn

    def figure(self, name: str, caption: str = "", alt: str | None = None, format: str = "svg",
               size: tuple | None = None):
        """Decorator: a function ``(data, fig)`` drawing one figure from the stored data."""
        if not FIGURE_NAME.match(name):
            raise ValueError(f"figure name {name!r}: use letters, digits, - and _")

        def register(fn):
            self.figures[name] = {"function": fn, "caption": caption, "alt": alt,
                                  "format": format, "size": size}
            return fn

        return register

    def cells(self) -> list[dict]:
        return sweep_cells(self.sweep)

    # -- standalone use: `python experiments/x.py` ----------------------------------------------
    def main(self, argv: list[str] | None = None) -> None:
        """Run every cell and seed here, then draw every figure into ``./out/<name>/``."""
        module = sys.modules.get(getattr(self.run_function, "__module__", ""), None)
        script = Path(getattr(module, "__file__", None) or "experiment")  # none in a notebook
        parser = argparse.ArgumentParser(description=f"Run {script.name} on its own.")
        parser.add_argument("--out", default=str(Path("out") / script.stem),
                            help="output folder (default: ./out/<script>)")
        parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")],
                            default=self.seeds, help="comma-separated seeds")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                            help="override a parameter (JSON value)")
        parser.add_argument("--figures-only", action="store_true",
                            help="redraw figures from the data already in --out")
        args = parser.parse_args(argv)
        overrides = {}
        for item in args.set:
            key, _, raw = item.partition("=")
            try:
                overrides[key] = json.loads(raw)
            except json.JSONDecodeError:
                overrides[key] = raw
        out = Path(args.out)
        entries = []
        for cell in self.cells():
            for seed in args.seeds:
                params = {**self.params, **overrides, **cell}
                label = run_label(cell, seed)
                if not args.figures_only:
                    start = time.perf_counter()
                    saved = out / "checkpoints" / label
                    execute_run(self, params, seed, out / "data" / label, checkpoints=saved)
                    shutil.rmtree(saved, ignore_errors=True)
                    print(f"{label}: {time.perf_counter() - start:.1f} s", flush=True)
                entries.append((out / "data" / label, label, params, cell, seed))
        data = load_data(entries, self.sweep, {**self.params, **overrides})
        for name in self.figures:
            path = draw_figure(self, name, data, out / "figures")
            print(f"figure {name}: {path}", flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def execute_run(exp: Experiment, params: dict, seed: int, out_dir: Path,
                device: str = "cpu", checkpoints: Path | None = None,
                max_checkpoint_bytes: float | None = None,
                live: Live | None = None) -> list[str]:
    """Seed, call the run function, write its observables; return the files written.
    ``checkpoints``: the run's checkpoint folder (``log.checkpoint``/``log.resume``)."""
    if exp.run_function is None:
        raise RuntimeError("the experiment has no @exp.run function")
    seed_everything(seed)
    log = Log(out_dir, device, checkpoints, max_checkpoint_bytes, live)
    try:
        exp.run_function(dict(params), seed, log)
    finally:   # no late write from the live timer once the run is over
        if live is not None:
            live.close()
    return log.write()


def draw_figure(exp: Experiment, name: str, data, out_dir: Path, style: dict | None = None,
                on_drawn=None) -> Path:
    """Draw one figure from ``data`` into ``out_dir/<name>.<fmt>`` with reproducible bytes;
    ``on_drawn(fig)`` sees the drawn figure before it is closed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entry = exp.figures[name]
    fmt = entry["format"]
    rc = {"svg.hashsalt": f"physai-{name}", "svg.fonttype": "path", **(style or {})}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.{fmt}"
    with matplotlib.rc_context(rc):
        fig = plt.figure(figsize=entry["size"] or (6.4, 4.0))
        try:
            entry["function"](data, fig)
            # No dates, no software versions: the same data gives the same bytes.
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            if fmt == "pdf":
                metadata = {"CreationDate": None, "ModDate": None, "Producer": None}
            fig.savefig(path, format=fmt, metadata=metadata, bbox_inches="tight", dpi=150)
            if on_drawn is not None:
                on_drawn(fig)
        finally:
            plt.close(fig)
    return path
