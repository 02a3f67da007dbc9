"""What a harness run tells its agent processes (a JSON file each agent reads at start-up)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewire.errors import TradingSystemError

__all__ = ["DERIVED", "PIPELINE", "ROLES", "HarnessError", "HarnessOptions", "RunConfig", "derived_id"]

ROLES = ("market-analysis", "risk", "personality", "execution", "learning", "circuit-breaker")
"""Every simulated agent; each consumes in its own group, named like the role."""

PIPELINE = (
    ("trading.signals.generated", "risk"),
    ("risk.signal.assessed", "personality"),
    ("personality.variance.applied", "execution"),
    ("execution.order.filled", "learning"),
)
"""The hops of the trading chain: (topic, consuming group). Health and breaker hops come on top."""

DERIVED = {
    ("trading.signals.generated", "risk"): (("risk.signal.assessed", "assessed"),),
    ("risk.signal.assessed", "personality"): (("personality.variance.applied", "variance"),),
    ("personality.variance.applied", "execution"): (
        ("execution.order.filled", "filled"),
        ("execution.order.rejected", "rejected"),
    ),
    ("execution.order.filled", "learning"): (("learning.feedback.recorded", "feedback"),),
}
"""What each pipeline handler sends for an event it handled: (topic, derivation), any one of them."""


def derived_id(cause: uuid.UUID, what: str) -> uuid.UUID:
    """The id of the event `what` derived from `cause` (the same on every re-run of the handler)."""
    return uuid.uuid5(cause, what)


@dataclass(frozen=True)
class RunConfig:
    """One run of one scenario, as every agent of it sees it."""

    run_id: str
    prefix: str
    bootstrap: str
    registry: str
    directory: str
    """The run's directory: journals/, state/, logs/ and the `go` file live under it."""
    events: int = 1000
    rate: float = 200.0
    """Signals per second (0: as fast as the producer takes them)."""
    burst: int = 0
    """When > 0: signals go in bursts of this many, as fast as possible, one burst per second."""
    chaos: dict[str, str] = field(default_factory=dict)
    """Signal index (as text) -> how risk's handler fails it: transient, reject or exhaust."""
    slow_ms: dict[str, float] = field(default_factory=dict)
    """Role -> extra milliseconds its pipeline handler takes."""
    warmup: int = 20
    """Signals sent before the measured run (connections, schema ids and caches warm up); in the ledger,
    not in the latency figures."""
    health_interval: float = 1.0
    degrade_seconds: float = 2.0
    """How long an agent reports FAILING after a SIGUSR1 (the breaker scenario)."""
    retry_base: float = 0.05
    """Backoff base of the harness's handlers (the runtime default is 1 s; runs stay short)."""
    retries: int = 4
    cooldown_seconds: float = 1.5
    """The breaker resets no sooner than this after tripping, and only once the agent is healthy."""

    @property
    def journals(self) -> Path:
        return Path(self.directory) / "journals"

    @property
    def warmup_file(self) -> Path:
        """Created by the harness once every consumer group is assigned: the market sends its warm-up."""
        return Path(self.directory) / "warmup"

    @property
    def go_file(self) -> Path:
        """Created by the harness once the warm-up went through the whole chain: the measured run starts."""
        return Path(self.directory) / "go"

    def state_dir(self, role: str, instance: int) -> Path:
        return Path(self.directory) / "state" / f"{role}-{instance}"

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> RunConfig:
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)


class HarnessError(TradingSystemError):
    """The harness could not run a scenario (the stack or an agent did not come up, a bad option)."""


@dataclass(frozen=True)
class HarnessOptions:
    """What `tradewire harness run` was asked."""

    scenarios: tuple[str, ...]
    report_dir: Path
    project: Path
    events: int | None = None
    rate: float | None = None
    bootstrap: str | None = None
    registry: str | None = None
    timeout: float = 180.0
    keep_stack: bool = False
