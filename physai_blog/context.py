"""What every stage of a build shares: the options asked for, the context the stages run
in, and the report they fill in.  Standard library only: the no-op fast path imports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass
class BuildReport:
    posts: list[str] = field(default_factory=list)
    runs_total: int = 0
    runs_executed: list[str] = field(default_factory=list)
    figures_total: int = 0
    figures_drawn: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_claims: list[str] = field(default_factory=list)
    errors: list = field(default_factory=list)
    write: object = None          # output.WriteReport
    seconds: float = 0.0
    run_seconds: dict[str, float] = field(default_factory=dict)
    run_reasons: dict[str, str] = field(default_factory=dict)   # why each executed run ran
    static_figures: dict[str, str] = field(default_factory=dict)  # why it has no chart
    up_to_date: bool = False      # nothing changed since the last build: nothing was done

    @property
    def ok(self) -> bool:
        return not self.failed_claims and not self.errors


@dataclass(frozen=True)
class BuildOptions:
    """What the person building asked for: one immutable object every stage reads."""

    root: Path
    jobs: int | None = None            # parallel workers (default: physai.yaml, else cores)
    only: str | None = None            # run the experiments of one post only
    keep_going: bool = False           # publish what builds; failing claims marked
    drafts: bool = False               # include posts with `draft: true`
    executor: str | None = None        # "local" or "dask" (default: physai.yaml)
    scheduler: str | None = None       # a Dask scheduler address

    @property
    def fingerprinted(self) -> dict:
        """The options that change the site (the no-op fast path compares them)."""
        return {"drafts": self.drafts}


@dataclass
class Context:
    """Everything a build's stages share besides the options: passed explicitly."""

    options: BuildOptions
    config: object                     # content.config.SiteConfig
    cache: object                      # runs.cache.Cache
    executor: object                   # runs.executor.Executor
    report: BuildReport
    on_event: Callable[[str, object], None]
    jobs: int = 1                      # processes for CPU-bound stages (runs, page rendering)
