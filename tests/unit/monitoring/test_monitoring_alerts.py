"""The Prometheus alerting rules: accepted and unit-tested by promtool, documented, and built from exported metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tradewire.metrics import LATENCY_BUCKETS, METRIC_NAMES

ALERTS = "monitoring/prometheus/alerts.yml"
ALERTS_TEST = "monitoring/prometheus/alerts_test.yml"
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
METRIC_IDENTIFIER = re.compile(r"\btradewire_[a-z0-9_]+")
SERIES = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>.*)\}$")
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"(?P<value>[^"]*)"')
VALUES_TERM = re.compile(r"^(?P<start>_|-?[0-9.e+-]+?)(?:(?P<step>[+-][0-9.e]+)?x(?P<times>[0-9]+))?$")

EXPECTED_SEVERITIES = {
    "TradewireHopLatencyAverageHigh": "warning",
    "TradewireHopLatencyP99High": "critical",
    "TradewireChainLatencyHigh": "critical",
    "TradewireDeadLettersGrowing": "warning",
    "TradewirePoisonArriving": "critical",
    "TradewireConsumerLagHigh": "warning",
    "TradewireProduceErrors": "critical",
    "TradewireConsumerStalled": "critical",
}


def run_promtool(repo_root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run promtool from the repository root; a missing promtool is a failure, never a skip."""
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail(
            "promtool is not installed: run scripts/ensure-tools.sh (it installs the Debian package prometheus)"
        )
    return subprocess.run(
        [executable, *arguments], cwd=repo_root, capture_output=True, text=True, timeout=120, check=False
    )


def load_yaml(path: Path) -> Any:
    """The parsed YAML document at `path`."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def alert_rules(repo_root: Path) -> dict[str, dict[str, Any]]:
    """The alerting rules of alerts.yml by alert name."""
    groups = load_yaml(repo_root / ALERTS)["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


@pytest.fixture(scope="module")
def rule_tests(repo_root: Path) -> list[dict[str, Any]]:
    """The test groups of alerts_test.yml."""
    tests: list[dict[str, Any]] = load_yaml(repo_root / ALERTS_TEST)["tests"]
    return tests


def metric_names(expr: str) -> set[str]:
    """The tradewire metric families an expression reads (histogram series suffixes removed)."""
    names = set()
    for identifier in METRIC_IDENTIFIER.findall(expr):
        families = [identifier.removesuffix(suffix) for suffix in HISTOGRAM_SUFFIXES if identifier.endswith(suffix)]
        names.add(next((family for family in families if family in METRIC_NAMES), identifier))
    return names


def expand_values(notation: str) -> list[float | None]:
    """promtool's sample notation expanded: `a+bxn` is n+1 samples, `_xn` n missing ones, `axn` n+1 times a."""
    samples: list[float | None] = []
    for term in notation.split():
        match = VALUES_TERM.match(term)
        assert match is not None, f"unsupported sample notation {term!r} in {notation!r}"
        start, step, times = match["start"], match["step"], match["times"]
        if start == "_":
            samples.extend([None] * (int(times) if times else 1))
        elif times is None:
            samples.append(float(start))
        else:
            samples.extend(float(start) + float(step or 0) * index for index in range(int(times) + 1))
    return samples


def histogram_samples(notation: str) -> list[float]:
    """The samples of a histogram series, which has no missing ones."""
    samples = expand_values(notation)
    present = [sample for sample in samples if sample is not None]
    assert len(samples) == len(present), f"a histogram series with missing samples: {notation!r}"
    return present


def test_promtool_check_rules_accepts_the_alerting_rules(repo_root: Path) -> None:
    """`promtool check rules` accepts alerts.yml and finds all eight rules."""
    completed = run_promtool(repo_root, "check", "rules", ALERTS)

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert "SUCCESS: 8 rules found" in completed.stdout, completed.stdout


def test_promtool_unit_tests_of_the_alerting_rules_pass(repo_root: Path) -> None:
    """`promtool test rules alerts_test.yml` passes: every alert fires exactly as expected, and only then."""
    completed = run_promtool(repo_root, "test", "rules", ALERTS_TEST)

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert "SUCCESS" in completed.stdout, completed.stdout


def test_alerts_are_one_group_named_tradewire_with_the_documented_severities(
    repo_root: Path, alert_rules: dict[str, dict[str, Any]]
) -> None:
    """alerts.yml holds one group, `tradewire`, with the eight alerts and their severities."""
    groups = load_yaml(repo_root / ALERTS)["groups"]

    assert ["tradewire"] == [group["name"] for group in groups]
    assert EXPECTED_SEVERITIES == {name: rule["labels"]["severity"] for name, rule in alert_rules.items()}


def test_every_alert_has_a_templated_summary_description_and_a_runbook(
    alert_rules: dict[str, dict[str, Any]],
) -> None:
    """Every alert's annotations are summary, description (templated with $labels and $value) and runbook."""
    annotation_keys = {name: sorted(rule["annotations"]) for name, rule in alert_rules.items()}
    untemplated = [
        name
        for name, rule in alert_rules.items()
        if "$labels." not in rule["annotations"]["description"] or "$value" not in rule["annotations"]["description"]
    ]
    short_runbooks = [name for name, rule in alert_rules.items() if len(rule["annotations"]["runbook"]) < 80]

    assert {name: ["description", "runbook", "summary"] for name in EXPECTED_SEVERITIES} == annotation_keys
    assert [] == untemplated, "descriptions must say which series and value fired ($labels, $value)"
    assert [] == short_runbooks, "a runbook says what to check and which command to run"


def test_alert_expressions_read_only_metrics_the_runtime_exports(alert_rules: dict[str, dict[str, Any]]) -> None:
    """Every metric an alert expression reads is in tradewire.metrics.METRIC_NAMES, and each reads the right ones."""
    used = {name: sorted(metric_names(rule["expr"])) for name, rule in alert_rules.items()}
    unknown = {name: [metric for metric in metrics if metric not in METRIC_NAMES] for name, metrics in used.items()}

    assert {name: [] for name in alert_rules} == unknown, "alerts read metrics the runtime does not export"
    assert {
        "TradewireHopLatencyAverageHigh": ["tradewire_hop_latency_seconds"],
        "TradewireHopLatencyP99High": ["tradewire_hop_latency_seconds"],
        "TradewireChainLatencyHigh": ["tradewire_chain_latency_seconds"],
        "TradewireDeadLettersGrowing": ["tradewire_dlq_writes_total"],
        "TradewirePoisonArriving": ["tradewire_dlq_writes_total", "tradewire_events_consumed_total"],
        "TradewireConsumerLagHigh": ["tradewire_consumer_lag"],
        "TradewireProduceErrors": ["tradewire_produce_errors_total"],
        "TradewireConsumerStalled": ["tradewire_consumer_lag", "tradewire_events_consumed_total"],
    } == used


def test_every_alert_has_a_firing_and_a_quiet_unit_test(
    alert_rules: dict[str, dict[str, Any]], rule_tests: list[dict[str, Any]]
) -> None:
    """alerts_test.yml expects every alert to fire at least once and to stay quiet at least once."""
    cases: dict[str, set[str]] = defaultdict(set)
    for group in rule_tests:
        for case in group.get("alert_rule_test", []):
            cases[case["alertname"]].add("firing" if case.get("exp_alerts") else "quiet")

    assert {name: {"firing", "quiet"} for name in alert_rules} == dict(cases)


def test_firing_cases_expect_the_exact_labels_and_every_annotation(
    alert_rules: dict[str, dict[str, Any]], rule_tests: list[dict[str, Any]]
) -> None:
    """Each expected alert names its severity and full annotations, so promtool compares them exactly."""
    incomplete = [
        (group["name"], case["alertname"], case["eval_time"])
        for group in rule_tests
        for case in group.get("alert_rule_test", [])
        for expected in case.get("exp_alerts") or []
        if expected["exp_labels"].get("severity") != alert_rules[case["alertname"]]["labels"]["severity"]
        or sorted(expected.get("exp_annotations", {})) != ["description", "runbook", "summary"]
    ]

    assert [] == incomplete


def test_histogram_inputs_are_cumulative_over_every_latency_bucket(rule_tests: list[dict[str, Any]]) -> None:
    """Histogram inputs have every le of LATENCY_BUCKETS plus +Inf, are cumulative at every step, and +Inf == _count."""
    buckets: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[float, list[float]]] = defaultdict(dict)
    counts: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]] = {}
    for group in rule_tests:
        for series in group["input_series"]:
            match = SERIES.match(series["series"])
            assert match is not None, f"unparsable series {series['series']!r}"
            labels = dict(LABEL.findall(match["labels"]))
            le = labels.pop("le", None)
            family = match["name"].removesuffix("_bucket").removesuffix("_count")
            key = (group["name"], family, tuple(sorted(labels.items())))
            if match["name"].endswith("_bucket"):
                assert le is not None, f"a bucket series without le: {series['series']!r}"
                buckets[key][float(le)] = histogram_samples(series["values"])
            elif match["name"].endswith("_count") and match["name"].removesuffix("_count") in METRIC_NAMES:
                counts[key] = histogram_samples(series["values"])
    not_cumulative = [
        key
        for key, by_le in buckets.items()
        for step in zip(*(by_le[le] for le in sorted(by_le)), strict=True)
        if list(step) != sorted(step)
    ]
    inf_differs_from_count = [key for key, by_le in buckets.items() if by_le[float("inf")] != counts.get(key)]

    assert len(buckets) >= 8, "the latency tests feed several histograms"
    assert {key: [*LATENCY_BUCKETS, float("inf")] for key in buckets} == {
        key: sorted(by_le) for key, by_le in buckets.items()
    }
    assert [] == not_cumulative
    assert [] == inf_differs_from_count
