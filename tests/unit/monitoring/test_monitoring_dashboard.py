"""The Grafana dashboard: well formed, on the provisioned Prometheus, reading exported metrics, mounted by Compose."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tradewire.metrics import METRIC_NAMES

DASHBOARD = "monitoring/grafana/dashboards/tradewire.json"
DASHBOARD_PROVIDER = "monitoring/grafana/provisioning/dashboards/tradewire.yml"
DATASOURCES = "monitoring/grafana/provisioning/datasources/prometheus.yml"
PROMETHEUS_CONFIG = "monitoring/prometheus/prometheus.yml"
PROMETHEUS_REF = {"type": "prometheus", "uid": "Prometheus"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
METRIC_IDENTIFIER = re.compile(r"\btradewire_[a-z0-9_]+")
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "${topic}": ".*", "$topic": ".*", "$group": ".*"}


@pytest.fixture(scope="module")
def dashboard(repo_root: Path) -> dict[str, Any]:
    """The dashboard JSON."""
    loaded: dict[str, Any] = json.loads((repo_root / DASHBOARD).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows included (and panels inside collapsed rows)."""
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def metric_names(expr: str) -> set[str]:
    """The tradewire metric families an expression reads (histogram series suffixes removed)."""
    names = set()
    for identifier in METRIC_IDENTIFIER.findall(expr):
        families = [identifier.removesuffix(suffix) for suffix in HISTOGRAM_SUFFIXES if identifier.endswith(suffix)]
        names.add(next((family for family in families if family in METRIC_NAMES), identifier))
    return names


def exprs_by_panel(panels: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The query expressions of every panel that has targets, by panel title."""
    return {panel["title"]: [target["expr"] for target in panel["targets"]] for panel in panels if "targets" in panel}


def with_sample_variables(expr: str) -> str:
    """`expr` with Grafana's variables replaced by values Prometheus accepts."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def slo_lines(panels: list[dict[str, Any]], metric: str) -> dict[str, tuple[str, list[float | None]]]:
    """Threshold display mode and steps of the time-series panels that read `metric`, by title."""
    return {
        panel["title"]: (
            panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"],
            [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]],
        )
        for panel in panels
        if panel["type"] == "timeseries" and any(metric in metric_names(target["expr"]) for target in panel["targets"])
    }


def mounts(service: dict[str, Any], repo_root: Path) -> dict[str, str]:
    """A Compose service's bind mounts: container path -> host path relative to the repository."""
    return {
        volume["target"]: Path(volume["source"]).relative_to(repo_root).as_posix()
        for volume in service.get("volumes", [])
        if volume["type"] == "bind"
    }


def test_dashboard_identity_is_stable(dashboard: dict[str, Any]) -> None:
    """The dashboard keeps its uid, title and schema version, so links and provisioning stay valid."""
    assert {"uid": "tradewire", "title": "tradewire — message flow and latency SLOs", "schemaVersion": 39} == {
        key: dashboard[key] for key in ("uid", "title", "schemaVersion")
    }


def test_panels_have_unique_ids_and_fit_the_24_column_grid(panels: list[dict[str, Any]]) -> None:
    """Every panel has an id of its own and a grid position inside Grafana's 24 columns."""
    ids = [panel["id"] for panel in panels]
    misplaced = [
        panel["title"]
        for panel in panels
        if sorted(panel.get("gridPos", {})) != ["h", "w", "x", "y"]
        or panel["gridPos"]["x"] + panel["gridPos"]["w"] > 24
        or min(panel["gridPos"].values()) < 0
    ]

    assert len(panels) >= 20, "rows and panels for flow, latency, failures and backlog"
    assert sorted(set(ids)) == sorted(ids), "panel ids repeat"
    assert [] == misplaced


def test_every_panel_and_query_uses_the_provisioned_prometheus(
    repo_root: Path, dashboard: dict[str, Any], panels: list[dict[str, Any]]
) -> None:
    """Panels, queries and variables reference the Prometheus data source that Grafana provisioning creates."""
    provisioned = yaml.safe_load((repo_root / DATASOURCES).read_text(encoding="utf-8"))["datasources"]
    references = [panel["datasource"] for panel in panels if panel["type"] != "row"]
    references += [target["datasource"] for panel in panels for target in panel.get("targets", [])]
    references += [variable["datasource"] for variable in dashboard["templating"]["list"]]

    # Grafana resolves a reference's uid by data source uid, then by name: "Prometheus" is the provisioned name.
    assert [{"name": "Prometheus", "type": "prometheus"}] == [
        {"name": source["name"], "type": source["type"]} for source in provisioned
    ]
    assert [] == [reference for reference in references if reference != PROMETHEUS_REF]


def test_topic_and_group_variables_list_values_from_tradewire_metrics(dashboard: dict[str, Any]) -> None:
    """The topic and group variables are multi-value label_values queries over tradewire counters."""
    variables = {
        variable["name"]: (variable["type"], variable["definition"], variable["multi"], variable["includeAll"])
        for variable in dashboard["templating"]["list"]
    }

    assert {
        "topic": ("query", "label_values(tradewire_events_produced_total, topic)", True, True),
        "group": ("query", "label_values(tradewire_events_consumed_total, group)", True, True),
    } == variables


def test_panel_queries_read_only_exported_metrics_and_every_one_of_them(
    dashboard: dict[str, Any], panels: list[dict[str, Any]]
) -> None:
    """Every metric a query or variable reads is in METRIC_NAMES, and every exported metric is on the dashboard."""
    exprs = [expr for panel_exprs in exprs_by_panel(panels).values() for expr in panel_exprs]
    exprs += [variable["definition"] for variable in dashboard["templating"]["list"]]
    used = set().union(*(metric_names(expr) for expr in exprs))

    assert [] == sorted(used - set(METRIC_NAMES)), "queries read metrics the runtime does not export"
    assert [] == sorted(set(METRIC_NAMES) - used), "exported metrics missing from the dashboard"


def test_hop_latency_panels_draw_the_10_ms_slo_line(panels: list[dict[str, Any]]) -> None:
    """Both hop latency graphs (quantiles and average) show the 10 ms SLO as a dashed threshold line."""
    assert {
        "Hop latency p50 / p95 / p99 by topic (SLO line: 10 ms)": ("dashed", [None, 0.01]),
        "Average hop latency by topic and group (SLO < 10 ms)": ("dashed", [None, 0.01]),
    } == slo_lines(panels, "tradewire_hop_latency_seconds")


def test_chain_latency_panels_draw_the_100_ms_slo_line(panels: list[dict[str, Any]]) -> None:
    """The signal-to-execution graphs show the 100 ms SLO as a dashed threshold line."""
    assert {
        "Signal-to-execution latency p50 / p99 and average (SLO line: 100 ms)": ("dashed", [None, 0.1]),
        "Chain latency p99 by caused event's topic": ("dashed", [None, 0.1]),
    } == slo_lines(panels, "tradewire_chain_latency_seconds")


def test_signal_to_execution_panel_plots_p50_p99_and_average_of_placed_orders(panels: list[dict[str, Any]]) -> None:
    """The signal-to-execution graph queries execution.order.placed (any environment prefix) for p50, p99, average."""
    exprs = exprs_by_panel(panels)["Signal-to-execution latency p50 / p99 and average (SLO line: 100 ms)"]
    selector = 'tradewire_chain_latency_seconds_{}{{topic=~".*execution\\\\.order\\\\.placed"}}[$__rate_interval]'

    assert [
        f"histogram_quantile(0.5, sum by (topic, le) (rate({selector.format('bucket')})))",
        f"histogram_quantile(0.99, sum by (topic, le) (rate({selector.format('bucket')})))",
        f"sum by (topic) (rate({selector.format('sum')}))\n/\nsum by (topic) (rate({selector.format('count')}))",
    ] == exprs


def test_every_panel_query_is_valid_promql(repo_root: Path, panels: list[dict[str, Any]], tmp_path: Path) -> None:
    """promtool parses every panel query (Grafana's variables replaced by sample values) as a recording rule."""
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail(
            "promtool is not installed: run scripts/ensure-tools.sh (it installs the Debian package prometheus)"
        )
    rules = [
        {"record": f"dashboard:query_{number}", "expr": with_sample_variables(expr), "labels": {"panel": title}}
        for title, exprs in exprs_by_panel(panels).items()
        for number, expr in enumerate(exprs)
    ]
    rule_file = tmp_path / "dashboard_queries.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")

    completed = subprocess.run(
        [executable, "check", "rules", str(rule_file)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert f"SUCCESS: {len(rules)} rules found" in completed.stdout, completed.stdout


def test_grafana_provisions_dashboards_from_the_mounted_directory(repo_root: Path) -> None:
    """The dashboard provider loads files from /var/lib/grafana/dashboards, where Compose mounts the JSON."""
    providers = yaml.safe_load((repo_root / DASHBOARD_PROVIDER).read_text(encoding="utf-8"))["providers"]

    assert [("tradewire", "file", "/var/lib/grafana/dashboards")] == [
        (provider["name"], provider["type"], provider["options"]["path"]) for provider in providers
    ]


def test_compose_mounts_dashboards_provisioning_and_alerting_rules(
    repo_root: Path, compose_config: dict[str, Any]
) -> None:
    """Compose mounts the dashboards and provisioning into Grafana, and alerts.yml next to prometheus.yml."""
    services = compose_config["services"]
    prometheus_config = yaml.safe_load((repo_root / PROMETHEUS_CONFIG).read_text(encoding="utf-8"))

    assert {
        "/etc/grafana/provisioning": "monitoring/grafana/provisioning",
        "/var/lib/grafana/dashboards": "monitoring/grafana/dashboards",
    } == mounts(services["grafana"], repo_root)
    assert {
        "/etc/prometheus/prometheus.yml": "monitoring/prometheus/prometheus.yml",
        "/etc/prometheus/alerts.yml": "monitoring/prometheus/alerts.yml",
    } == mounts(services["prometheus"], repo_root)
    # rule_files resolve relative to the configuration file: /etc/prometheus/alerts.yml in the container.
    assert ["alerts.yml"] == prometheus_config["rule_files"]
