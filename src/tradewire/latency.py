"""Latency SLO reports from Prometheus histograms: per hop and per chain, count, p50, p95, p99, average.

The figures come either from processes' /metrics endpoints (exposition text, merged by
summing buckets) or from a Prometheus server's HTTP API (optionally over a window, with
`increase`). Quantiles are estimated like Prometheus's `histogram_quantile`: linear
interpolation inside the bucket that holds the rank, so they are exact to a bucket's width.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "CHAIN_BUDGET_SECONDS",
    "HOP_AVERAGE_BUDGET_SECONDS",
    "HistogramData",
    "LatencyRow",
    "from_exposition",
    "from_prometheus",
    "rows_from_histograms",
]

HOP_AVERAGE_BUDGET_SECONDS = 0.010
"""SLO: the average latency of every hop stays under 10 ms."""
CHAIN_BUDGET_SECONDS = 0.100
"""SLO: signal-to-execution (the chain ending in execution.order.placed) stays under 100 ms on average."""

HOP = "tradewire_hop_latency_seconds"
CHAIN = "tradewire_chain_latency_seconds"


@dataclass
class HistogramData:
    """A histogram's cumulative buckets (upper bound -> count), total count and sum."""

    buckets: dict[float, float] = field(default_factory=dict)
    count: float = 0.0
    total: float = 0.0

    def add(self, other: HistogramData) -> None:
        """Merge another process's histogram of the same series into this one."""
        for upper, count in other.buckets.items():
            self.buckets[upper] = self.buckets.get(upper, 0.0) + count
        self.count += other.count
        self.total += other.total

    def quantile(self, q: float) -> float | None:
        """The estimated q-quantile (None when empty), as Prometheus's histogram_quantile computes it."""
        bounds = sorted(self.buckets)
        if not bounds or self.count <= 0:
            return None
        rank = q * self.buckets[bounds[-1]]
        previous_bound, previous_count = 0.0, 0.0
        for bound in bounds:
            count = self.buckets[bound]
            if count >= rank:
                if math.isinf(bound):
                    finite = [b for b in bounds if not math.isinf(b)]
                    return finite[-1] if finite else None
                if count == previous_count:
                    return bound
                return previous_bound + (bound - previous_bound) * (rank - previous_count) / (count - previous_count)
            previous_bound, previous_count = bound, count
        return bounds[-1]

    @property
    def mean(self) -> float | None:
        """The average (sum / count), exact (not bucket-limited)."""
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class LatencyRow:
    """One hop (topic, from which agent, to which group) or one chain (by the caused event's topic)."""

    kind: str
    topic: str
    source_agent: str
    group: str
    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    average: float | None
    budget: float | None

    @property
    def ok(self) -> bool | None:
        """Whether the row meets its SLO (None when it has no SLO or no data)."""
        if self.budget is None or self.average is None:
            return None
        return self.average < self.budget

    def to_json(self) -> dict[str, Any]:
        """The row as JSON (seconds)."""
        return {
            "kind": self.kind, "topic": self.topic, "source_agent": self.source_agent, "group": self.group,
            "count": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99, "average": self.average,
            "budget": self.budget, "ok": self.ok,
        }  # fmt: skip


def _chain_budget(topic: str) -> float | None:
    return CHAIN_BUDGET_SECONDS if topic.endswith("execution.order.placed") else None


def rows_from_histograms(
    hops: Mapping[tuple[str, str, str], HistogramData], chains: Mapping[str, HistogramData]
) -> list[LatencyRow]:
    """SLO rows, hops first (by topic, agent, group), then chains (by topic)."""
    rows = []
    for (topic, agent, group), data in sorted(hops.items()):
        rows.append(
            LatencyRow("hop", topic, agent, group, int(data.count), data.quantile(0.5), data.quantile(0.95),
                       data.quantile(0.99), data.mean, HOP_AVERAGE_BUDGET_SECONDS)
        )  # fmt: skip
    for topic, data in sorted(chains.items()):
        rows.append(
            LatencyRow("chain", topic, "", "", int(data.count), data.quantile(0.5), data.quantile(0.95),
                       data.quantile(0.99), data.mean, _chain_budget(topic))
        )  # fmt: skip
    return [row for row in rows if row.count > 0]


def from_exposition(texts: Iterable[str]) -> list[LatencyRow]:
    """Rows from /metrics texts of one or more processes (the same series are summed)."""
    hops: dict[tuple[str, str, str], HistogramData] = defaultdict(HistogramData)
    chains: dict[str, HistogramData] = defaultdict(HistogramData)
    for text in texts:
        per_process_hops: dict[tuple[str, str, str], HistogramData] = defaultdict(HistogramData)
        per_process_chains: dict[str, HistogramData] = defaultdict(HistogramData)
        for family in text_string_to_metric_families(text):
            if family.name not in (HOP, CHAIN):
                continue
            for sample in family.samples:
                labels = sample.labels
                if family.name == HOP:
                    data = per_process_hops[(labels["topic"], labels["source_agent"], labels["group"])]
                else:
                    data = per_process_chains[labels["topic"]]
                if sample.name.endswith("_bucket"):
                    data.buckets[float(labels["le"])] = float(sample.value)
                elif sample.name.endswith("_count"):
                    data.count = float(sample.value)
                elif sample.name.endswith("_sum"):
                    data.total = float(sample.value)
        for key, data in per_process_hops.items():
            hops[key].add(data)
        for topic, data in per_process_chains.items():
            chains[topic].add(data)
    return rows_from_histograms(hops, chains)


def _query(prometheus: str, expression: str, timeout: float) -> list[dict[str, Any]]:
    url = prometheus.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a configured Prometheus URL
        answer = json.loads(response.read())
    if not isinstance(answer, dict) or not isinstance(answer.get("data", {}), dict):
        raise ValueError(f"{prometheus} did not answer like Prometheus's query API")
    if answer.get("status") != "success":
        raise ValueError(f"Prometheus refused {expression!r}: {answer.get('error')}")
    result = answer.get("data", {}).get("result")
    if not isinstance(result, list):
        raise ValueError(f"{prometheus} did not answer like Prometheus's query API")
    return result


def from_prometheus(prometheus: str, *, window: str | None = None, timeout: float = 10.0) -> list[LatencyRow]:
    """Rows from a Prometheus server: totals since start, or the increase over `window` (e.g. 5m)."""

    def expression(metric: str, by: str) -> str:
        inner = f"increase({metric}[{window}])" if window else metric
        return f"sum by ({by}) ({inner})"

    hops: dict[tuple[str, str, str], HistogramData] = defaultdict(HistogramData)
    chains: dict[str, HistogramData] = defaultdict(HistogramData)
    targets: tuple[tuple[str, str, dict[Any, HistogramData]], ...] = (
        (HOP, "topic, source_agent, group", hops),
        (CHAIN, "topic", chains),
    )
    for metric, by, target in targets:
        for suffix, extra in (("_bucket", "le, "), ("_count", ""), ("_sum", "")):
            for series in _query(prometheus, expression(metric + suffix, extra + by), timeout):
                labels = series["metric"]
                topic = labels.get("topic", "")
                key = (topic, labels.get("source_agent", ""), labels.get("group", "")) if metric == HOP else topic
                data = target[key]
                value = float(series["value"][1])
                if suffix == "_bucket":
                    data.buckets[float(labels["le"])] = value
                elif suffix == "_count":
                    data.count = value
                else:
                    data.total = value
    return rows_from_histograms(hops, chains)
