"""What a build did: functions compiled and taken from caches, trampolines, time per phase.

`BuildReport` is filled in by the stages of a build (`session.py`) and given back with the image;
`short()` is the one line `wasmbuild build --summary` prints, `summary()` the full account of `-v`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class BuildReport:
    functions: int = 0
    compiled: int = 0
    cached: int = 0
    trampolines: int = 0
    trampolines_compiled: int = 0
    remote_hits: int | None = None  # with a remote cache: functions it gave us, misses, uploads, errors
    remote_misses: int = 0
    remote_uploads: int = 0
    remote_errors: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the cache's (CacheStats.warnings), to be shown

    def short(self) -> str:
        """One concise line: what was compiled and what came from a cache."""
        remote = f", {self.remote_hits} from the remote cache" if self.remote_hits else ""
        return f"{self.functions} functions ({self.compiled} compiled, {self.cached} from cache{remote})"

    def summary(self) -> str:
        phases = ", ".join(f"{k} {v:.3f}s" for k, v in self.seconds.items())
        remote = ""
        if self.remote_hits is not None:
            remote = (f"; remote cache: {self.remote_hits} hits, {self.remote_misses} misses, "
                      f"{self.remote_uploads} uploads, {self.remote_errors} errors")
        return (f"{self.functions} functions ({self.compiled} compiled, {self.cached} from cache), "
                f"{self.trampolines} trampolines ({self.trampolines_compiled} compiled, "
                f"{self.trampolines - self.trampolines_compiled} reused){remote}; {phases}")

    def add_time(self, phase: str, start: float) -> float:
        """Add the time since `start` to `phase`; gives the time now, the start of the next phase."""
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - start
        return now

    def add_seconds(self, seconds: dict[str, float]) -> None:
        for phase, s in seconds.items():
            self.seconds[phase] = self.seconds.get(phase, 0.0) + s
