"""What every stage of a build shares: the report it fills in (more below as the stages
move onto one options object and one context)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    up_to_date: bool = False      # nothing changed since the last build: nothing was done

    @property
    def ok(self) -> bool:
        return not self.failed_claims and not self.errors
