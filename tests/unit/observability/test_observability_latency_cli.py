"""Specification of `tradewire latency` against real loopback HTTP servers: the SLO table, JSON rows,
exit 0 when every SLO is met, 100 when one is missed, 1 when the metrics cannot be read, 2 on misuse."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

from tradewire.cli import main
from tradewire.metrics import LATENCY_BUCKETS

SIGNALS = "t.trading.signals.generated"
PLACED = "t.execution.order.placed"

Serve = Callable[[dict[tuple[str, str, str], list[float]], dict[str, list[float]]], str]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich sizes tables to $COLUMNS: wide enough that no cell is cut; no metrics port in the environment."""
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("TRADEWIRE_METRICS_PORT", raising=False)


@pytest.fixture
def serve_body() -> Iterator[Callable[[bytes, str], str]]:
    """Starts a loopback HTTP server answering every GET with `body` (status 200); returns its URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(body: bytes, content_type: str) -> str:
        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve_metrics_text(serve_body: Callable[[bytes, str], str]) -> Serve:
    """Serves, on a loopback port, the /metrics text prometheus_client renders for a private registry
    holding the given hop and chain observations; returns its /metrics URL."""

    def serve(hops: dict[tuple[str, str, str], list[float]], chains: dict[str, list[float]]) -> str:
        registry = CollectorRegistry()
        hop = Histogram(
            "tradewire_hop_latency_seconds",
            "hop",
            ["topic", "source_agent", "group"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        chain = Histogram(
            "tradewire_chain_latency_seconds", "chain", ["topic"], buckets=LATENCY_BUCKETS, registry=registry
        )
        for labels, values in hops.items():
            for value in values:
                hop.labels(*labels).observe(value)
        for topic, values in chains.items():
            for value in values:
                chain.labels(topic).observe(value)
        return serve_body(generate_latest(registry), CONTENT_TYPE_LATEST) + "/metrics"

    return serve


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def json_rows(out: str) -> list[dict[str, Any]]:
    """The JSON lines of `tradewire latency --format json`."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


HEALTHY_HOPS = {(SIGNALS, "market-analysis", "risk"): [0.0012] * 8 + [0.004] * 2}
HEALTHY_CHAINS = {PLACED: [0.02, 0.04]}


def test_text_table_shows_every_row_and_exit_0_when_every_slo_is_met(
    serve_metrics_text: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table has a row per hop and chain with count, p50/p95/p99/avg in ms and the verdict; exit 0."""
    url = serve_metrics_text(HEALTHY_HOPS, HEALTHY_CHAINS)
    code = main(["latency", "--metrics", url])
    captured = capsys.readouterr()
    lines = [" ".join(line.replace("│", " ").split()) for line in captured.out.splitlines()]
    assert 0 == code, captured.err
    assert f"hop {SIGNALS} market-analysis risk 10 1.31 4.50 4.90 1.76 avg < 10 ms pass" in lines, captured.out
    assert f"chain {PLACED} — — 2 25.00 47.50 49.50 30.00 avg < 100 ms pass" in lines, captured.out
    assert "every SLO met" in captured.err


def test_json_rows_carry_every_figure_in_seconds(serve_metrics_text: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    """`--format json` prints one JSON object per row, figures in seconds."""
    url = serve_metrics_text(HEALTHY_HOPS, HEALTHY_CHAINS)
    code = main(["latency", "--metrics", url, "--format", "json"])
    rows = json_rows(capsys.readouterr().out)
    assert 0 == code
    assert [("hop", SIGNALS, 10, True), ("chain", PLACED, 2, True)] == [
        (row["kind"], row["topic"], row["count"], row["ok"]) for row in rows
    ]
    hop = rows[0]
    assert [0.0013125, 0.0045, 0.0049, 0.00176, 0.010] == pytest.approx(
        [hop["p50"], hop["p95"], hop["p99"], hop["average"], hop["budget"]], rel=1e-9
    )


@pytest.mark.parametrize(
    ("hops", "chains", "missed"),
    [
        pytest.param({(SIGNALS, "market-analysis", "risk"): [0.02] * 3}, HEALTHY_CHAINS, "hop", id="hop-average-20ms"),
        pytest.param(HEALTHY_HOPS, {PLACED: [0.3]}, "chain", id="signal-to-execution-300ms"),
    ],
)
def test_a_missed_slo_exits_100(
    hops: dict[tuple[str, str, str], list[float]],
    chains: dict[str, list[float]],
    missed: str,
    serve_metrics_text: Serve,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An average over its budget is a finding: FAIL in the table, ok false in JSON, exit 100."""
    url = serve_metrics_text(hops, chains)
    text_code = main(["latency", "--metrics", url])
    text = capsys.readouterr()
    json_code = main(["latency", "--metrics", url, "--format", "json"])
    rows = json_rows(capsys.readouterr().out)
    assert (100, 100) == (text_code, json_code)
    assert [missed] == [row["kind"] for row in rows if row["ok"] is False]
    assert "FAIL" in text.out
    assert "1 SLO(s) missed" in text.err


def test_several_endpoints_are_merged(serve_metrics_text: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    """Repeating --metrics sums the same series of several processes."""
    first = serve_metrics_text({(SIGNALS, "market-analysis", "risk"): [0.0012] * 8}, {})
    second = serve_metrics_text({(SIGNALS, "market-analysis", "risk"): [0.004] * 2}, {})
    code = main(["latency", "--metrics", first, "--metrics", second, "--format", "json"])
    [row] = json_rows(capsys.readouterr().out)
    assert (0, 10) == (code, row["count"])
    assert [0.0013125, 0.00176] == pytest.approx([row["p50"], row["average"]], rel=1e-9)


def test_metrics_port_from_the_environment_is_the_default(
    serve_metrics_text: Serve, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --metrics, http://127.0.0.1:$TRADEWIRE_METRICS_PORT/metrics is read."""
    url = serve_metrics_text(HEALTHY_HOPS, {})
    monkeypatch.setenv("TRADEWIRE_METRICS_PORT", url.rsplit(":", 1)[1].split("/")[0])
    code = main(["latency", "--format", "json"])
    assert (0, [10]) == (code, [row["count"] for row in json_rows(capsys.readouterr().out)])


def test_no_observations_yet_is_said_and_exits_0(serve_metrics_text: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    """An endpoint without latency observations prints no rows and says so."""
    code = main(["latency", "--metrics", serve_metrics_text({}, {}), "--format", "json"])
    captured = capsys.readouterr()
    assert (0, "", "no latency observed yet") == (code, captured.out, captured.err.strip())


def test_neither_metrics_nor_prometheus_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --metrics, --prometheus or TRADEWIRE_METRICS_PORT there is nothing to read: exit 2."""
    code = main(["latency"])
    err = " ".join(capsys.readouterr().err.split())
    assert (2, True) == (
        code,
        "pass --metrics URL or --prometheus URL (or set TRADEWIRE_METRICS_PORT)" in err,
    ), err


@pytest.mark.parametrize("option", ["--metrics", "--prometheus"])
def test_unreachable_url_exits_1_saying_why(option: str, closed_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    """A closed loopback port: exit 1, 'cannot read latency metrics' and the refusal, no traceback."""
    suffix = "/metrics" if option == "--metrics" else ""
    code = main(["latency", option, f"http://127.0.0.1:{closed_port}{suffix}"])
    err = " ".join(capsys.readouterr().err.split())
    assert (1, True, True) == (code, "cannot read latency metrics:" in err, "Connection refused" in err), err


@pytest.mark.parametrize(
    ("option", "answer", "reason"),
    [
        pytest.param(
            "--metrics", (b"<html><body>[/nope]</body></html>", "text/html"), "invalid metric name", id="metrics-html"
        ),
        pytest.param("--metrics", (b"hello world\n", "text/plain"), "could not convert string", id="metrics-nonsense"),
        pytest.param("--prometheus", (b"<html>not json</html>", "text/html"), "Expecting value", id="prometheus-html"),
        pytest.param(
            "--prometheus", (b"[1, 2, 3]", "application/json"), "did not answer like Prometheus", id="prometheus-list"
        ),
        pytest.param(
            "--prometheus",
            (b'{"status": "error", "error": "bad query"}', "application/json"),
            "Prometheus refused",
            id="prometheus-refusal",
        ),
    ],
)
def test_garbage_answer_exits_1_saying_why(
    option: str,
    answer: tuple[bytes, str],
    reason: str,
    serve_body: Callable[[bytes, str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A URL answering something other than metrics (or a Prometheus API answer): exit 1 with the reason."""
    code = main(["latency", option, serve_body(*answer)])
    err = " ".join(capsys.readouterr().err.split())
    assert (1, True, True) == (code, "cannot read latency metrics:" in err, reason in err), err


def test_prometheus_metrics_text_is_not_mistaken_for_the_query_api(
    serve_metrics_text: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    """--prometheus pointed at a /metrics endpoint (a common slip) fails with exit 1, not a traceback."""
    url = serve_metrics_text(HEALTHY_HOPS, {}).removesuffix("/metrics")
    code = main(["latency", "--prometheus", url])
    assert (1, True) == (code, "cannot read latency metrics:" in capsys.readouterr().err)


def test_console_script_smoke(serve_metrics_text: Serve) -> None:
    """`python -m tradewire latency --format json` in a subprocess: JSON rows on stdout, exit 100 on a miss."""
    url = serve_metrics_text({(SIGNALS, "market-analysis", "risk"): [0.05]}, {})
    completed = subprocess.run(
        [sys.executable, "-m", "tradewire", "latency", "--metrics", url, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rows = json_rows(completed.stdout)
    assert (100, [(SIGNALS, 1, False)]) == (
        completed.returncode,
        [(row["topic"], row["count"], row["ok"]) for row in rows],
    ), completed.stderr


LONG_TOPIC = "tradewire.prod.eu-west-1.trading.signals.generated.for.the.momentum.strategy.desk"
LONG_AGENT = "market-analysis-momentum-eu-west-1-instance-0042"
LONG_GROUP = "risk-assessment-momentum-eu-west-1-consumer-group"
LONG_CHAIN = "tradewire.prod.eu-west-1.execution.order.placed.for.the.momentum.strategy.desk"


@pytest.mark.parametrize("columns", [None, "80"], ids=["no-COLUMNS", "COLUMNS-80"])
def test_a_table_written_to_a_pipe_keeps_every_name_whole(
    columns: str | None,
    serve_metrics_text: Serve,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Outside a terminal the table is as wide as its cells need, whatever $COLUMNS says: long topic, agent
    and group names are printed whole, never cut to `tradi…`."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    url = serve_metrics_text({(LONG_TOPIC, LONG_AGENT, LONG_GROUP): [0.0012] * 10}, {LONG_CHAIN: [0.02, 0.04]})
    code = main(["latency", "--metrics", url])
    out = capsys.readouterr().out
    rows = [line.replace("│", " ").split() for line in out.splitlines()]
    assert (0, "…" in out) == (code, False)
    assert [["hop", LONG_TOPIC, LONG_AGENT, LONG_GROUP, "10"], ["chain", LONG_CHAIN, "—", "—", "2"]] == [
        row[:5] for row in rows if row and row[0] in ("hop", "chain")
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--metrics", "127.0.0.1:9400/metrics"],
            "Invalid value for '--metrics': expected an http:// or https:// URL, not '127.0.0.1:9400/metrics'",
            id="metrics-without-scheme",
        ),
        pytest.param(
            ["--metrics", "file:///etc/passwd"],
            "Invalid value for '--metrics': expected an http:// or https:// URL, not 'file:///etc/passwd'",
            id="metrics-file-url",
        ),
        pytest.param(
            ["--prometheus", "localhost:9090"],
            "Invalid value for '--prometheus': expected an http:// or https:// URL, not 'localhost:9090'",
            id="prometheus-without-scheme",
        ),
        pytest.param(
            ["--prometheus", "http://127.0.0.1:9090", "--window", "five minutes"],
            "Invalid value for '--window': expected a Prometheus duration such as 30s, 5m or 1h30m, not 'five minutes'",
            id="window-not-a-duration",
        ),
        pytest.param(
            ["--metrics", "http://127.0.0.1:9400/metrics", "--window", "5m"],
            "--window needs --prometheus (a /metrics endpoint only has totals since start)",
            id="window-without-prometheus",
        ),
        pytest.param(
            ["--metrics", "http://127.0.0.1:9400/metrics", "--prometheus", "http://127.0.0.1:9090"],
            "--metrics and --prometheus are alternatives; pass one",
            id="both-sources",
        ),
    ],
)
def test_a_malformed_option_is_a_usage_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A URL without http(s)://, a window that is not a Prometheus duration, or options that do not go together
    exit 2 naming the option, before anything is fetched (a file:// URL used to be read)."""
    code = main(["latency", *argv])
    err = " ".join(capsys.readouterr().err.split())
    assert (2, True) == (code, err.endswith(f"Error: {message}")), err


def test_a_metrics_port_that_is_not_a_number_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRADEWIRE_METRICS_PORT=abc exits 2 naming the variable, not 1 with a URL error."""
    monkeypatch.setenv("TRADEWIRE_METRICS_PORT", "abc")
    code = main(["latency"])
    err = " ".join(capsys.readouterr().err.split())
    assert (2, True) == (code, err.endswith("Error: TRADEWIRE_METRICS_PORT must be a port number, not 'abc'")), err
