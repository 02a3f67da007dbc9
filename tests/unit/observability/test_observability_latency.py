"""Specification of the latency SLO figures: histogram quantiles as Prometheus estimates them,
merged /metrics texts, and the budgets (hop average < 10 ms, signal-to-execution < 100 ms)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from tradewire.latency import HistogramData, LatencyRow, from_exposition
from tradewire.metrics import LATENCY_BUCKETS

INF = math.inf

QUANTILE_CASES = [
    pytest.param({0.1: 2, 0.2: 6, 0.4: 10, INF: 10}, 0.5, 0.175, id="interpolated-inside-the-bucket-holding-the-rank"),
    pytest.param({0.1: 8, 0.2: 10, INF: 10}, 0.25, 0.03125, id="first-bucket-interpolates-from-zero"),
    pytest.param({0.1: 5, 0.2: 10, INF: 10}, 0.5, 0.1, id="rank-on-a-bucket-edge-is-that-edge"),
    pytest.param({0.1: 5, 0.2: 5, 0.4: 10, INF: 10}, 0.5, 0.1, id="rank-on-an-edge-before-empty-buckets-is-that-edge"),
    pytest.param({0.1: 5, 0.2: 6, INF: 10}, 0.9, 0.2, id="rank-in-the-inf-bucket-is-the-highest-finite-bound"),
    pytest.param({0.1: 0, 0.2: 0, 0.4: 4, INF: 4}, 0.5, 0.3, id="empty-lower-buckets-are-passed-over"),
    pytest.param({0.001: 90, 0.0015: 99, 0.002: 100, INF: 100}, 0.99, 0.0015, id="p99-at-the-edge-of-its-bucket"),
    pytest.param({0.001: 90, 0.0015: 99, 0.002: 100, INF: 100}, 0.995, 0.00175, id="p99.5-halfway-up-its-bucket"),
]


def histogram(buckets: dict[float, float], total: float = 0.0) -> HistogramData:
    """A HistogramData whose count is its +Inf bucket, as Prometheus histograms are."""
    return HistogramData(dict(buckets), buckets[INF], total)


@pytest.mark.parametrize(("buckets", "q", "expected"), QUANTILE_CASES)
def test_quantile_is_interpolated_like_histogram_quantile(
    buckets: dict[float, float], q: float, expected: float
) -> None:
    """The q-quantile is interpolated linearly inside the bucket holding rank q * count (hand-computed)."""
    assert expected == pytest.approx(histogram(buckets).quantile(q), rel=1e-12)


def test_quantile_agrees_with_prometheus_itself(tmp_path: Path) -> None:
    """Prometheus's own histogram_quantile (evaluated by `promtool test rules`) gives the same figures."""
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool not installed: run scripts/ensure-tools.sh"
    series = []
    checks = []
    for index, case in enumerate(QUANTILE_CASES):
        buckets, q, _ = case.values
        assert isinstance(buckets, dict)
        assert isinstance(q, float)
        name = f"case{index}_bucket"
        series += [{"series": f'{name}{{le="{bound:g}"}}', "values": f"{count:g}"} for bound, count in buckets.items()]
        ours = histogram(buckets).quantile(q)
        checks.append(
            {
                "expr": f"abs(histogram_quantile({q!r}, {name}) - {ours!r}) < bool 1e-12",
                "eval_time": "0m",
                "exp_samples": [{"labels": "{}", "value": 1}],
            }
        )
    test_file = tmp_path / "quantiles_test.yml"
    test_file.write_text(
        yaml.safe_dump(
            {
                "rule_files": [],
                "evaluation_interval": "1m",
                "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}],
            }
        )
    )
    completed = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60, check=False
    )
    assert 0 == completed.returncode, completed.stdout + completed.stderr


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(HistogramData(), id="no-buckets"),
        pytest.param(HistogramData({0.1: 0, INF: 0}, 0, 0.0), id="nothing-observed"),
    ],
)
def test_quantile_and_mean_of_an_empty_histogram_are_none(data: HistogramData) -> None:
    """Without observations there is no quantile and no average (None, not 0)."""
    assert (None, None, None) == (data.quantile(0.5), data.quantile(0.99), data.mean)


def test_add_sums_buckets_counts_and_sums() -> None:
    """Merging sums every bucket (bounds of either side kept), the counts and the sums."""
    merged = HistogramData({0.1: 1, 0.2: 3, INF: 4}, 4, 0.5)
    merged.add(HistogramData({0.1: 2, 0.4: 5, INF: 5}, 5, 1.25))
    assert HistogramData({0.1: 3, 0.2: 3, 0.4: 5, INF: 9}, 9, 1.75) == merged


def test_mean_is_sum_over_count_not_bucket_limited() -> None:
    """The average is exact: sum / count, whatever the buckets."""
    assert 0.00123 == pytest.approx(HistogramData({0.1: 4, INF: 4}, 4, 0.00492).mean, rel=1e-12)


# -- /metrics texts -------------------------------------------------------------------------------------


def exposition(
    hops: dict[tuple[str, str, str], list[float]] | None = None,
    chains: dict[str, list[float]] | None = None,
) -> str:
    """The /metrics text a process with these observations serves (prometheus_client's own output)."""
    registry = CollectorRegistry()
    hop = Histogram(
        "tradewire_hop_latency_seconds",
        "hop",
        ["topic", "source_agent", "group"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    chain = Histogram("tradewire_chain_latency_seconds", "chain", ["topic"], buckets=LATENCY_BUCKETS, registry=registry)
    unrelated = Counter("tradewire_events_produced_total", "produced", ["topic", "agent"], registry=registry)
    unrelated.labels("t.trading.signals.generated", "market-analysis").inc(7)
    for labels, values in (hops or {}).items():
        for value in values:
            hop.labels(*labels).observe(value)
    for topic, values in (chains or {}).items():
        for value in values:
            chain.labels(topic).observe(value)
    return generate_latest(registry).decode()


SIGNALS = "t.trading.signals.generated"
PLACED = "t.execution.order.placed"


def test_rows_from_one_process_give_count_quantiles_and_exact_average() -> None:
    """8 hops at 1.2 ms and 2 at 4 ms: p50 1.3125 ms, p95 4.5 ms, p99 4.9 ms (interpolated), average 1.76 ms."""
    text = exposition(hops={(SIGNALS, "market-analysis", "risk"): [0.0012] * 8 + [0.004] * 2})
    [row] = from_exposition([text])
    assert ("hop", SIGNALS, "market-analysis", "risk", 10, 0.010, True) == (
        row.kind,
        row.topic,
        row.source_agent,
        row.group,
        row.count,
        row.budget,
        row.ok,
    )
    assert [0.0013125, 0.0045, 0.0049, 0.00176] == pytest.approx([row.p50, row.p95, row.p99, row.average], rel=1e-9)


def test_texts_of_two_processes_are_summed_series_by_series() -> None:
    """The same series from two processes merge (counts, buckets and sums add); others stay apart."""
    first = exposition(
        hops={(SIGNALS, "market-analysis", "risk"): [0.0012] * 8},
        chains={PLACED: [0.02]},
    )
    second = exposition(
        hops={(SIGNALS, "market-analysis", "risk"): [0.004] * 2, (SIGNALS, "market-analysis", "learning"): [0.0002]},
        chains={PLACED: [0.04]},
    )
    rows = from_exposition([first, second])
    assert [("hop", "learning", 1), ("hop", "risk", 10), ("chain", "", 2)] == [
        (row.kind, row.group, row.count) for row in rows
    ]
    risk, chain = rows[1], rows[2]
    assert [0.0013125, 0.00176] == pytest.approx([risk.p50, risk.average], rel=1e-9)
    assert [0.025, 0.03] == pytest.approx([chain.p50, chain.average], rel=1e-9)  # 20 ms is in (15, 25]


@pytest.mark.parametrize(
    ("hops", "chains", "expected"),
    [
        pytest.param([0.009], {}, [("hop", 0.010, True)], id="hop-average-under-10ms-passes"),
        pytest.param([0.011], {}, [("hop", 0.010, False)], id="hop-average-over-10ms-fails"),
        pytest.param([0.010], {}, [("hop", 0.010, False)], id="hop-average-of-exactly-10ms-fails"),
        pytest.param([], {PLACED: [0.09]}, [("chain", 0.100, True)], id="signal-to-execution-under-100ms-passes"),
        pytest.param([], {PLACED: [0.2]}, [("chain", 0.100, False)], id="signal-to-execution-over-100ms-fails"),
        pytest.param([], {"t.risk.signal.assessed": [4.0]}, [("chain", None, None)], id="other-chains-have-no-budget"),
    ],
)
def test_budgets(hops: list[float], chains: dict[str, list[float]], expected: list[tuple[str, float, bool]]) -> None:
    """Every hop's average must stay under 10 ms; chains ending in execution.order.placed under 100 ms."""
    text = exposition(hops={(SIGNALS, "market-analysis", "risk"): hops}, chains=chains)
    assert expected == [(row.kind, row.budget, row.ok) for row in from_exposition([text])]


def test_series_without_observations_and_other_metrics_give_no_rows() -> None:
    """A text with only other metrics (or none at all) has no latency rows."""
    assert ([], []) == (from_exposition([exposition()]), from_exposition([""]))


def test_row_as_json_is_in_seconds_with_its_verdict() -> None:
    """The JSON form names every figure, in seconds, and the verdict."""
    row = LatencyRow("chain", PLACED, "", "", 3, 0.02, 0.03, 0.04, 0.025, 0.1)
    assert {
        "kind": "chain",
        "topic": PLACED,
        "source_agent": "",
        "group": "",
        "count": 3,
        "p50": 0.02,
        "p95": 0.03,
        "p99": 0.04,
        "average": 0.025,
        "budget": 0.1,
        "ok": True,
    } == row.to_json()
