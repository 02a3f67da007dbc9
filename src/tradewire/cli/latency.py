"""`tradewire latency`: the SLO table per hop and per chain, from metrics endpoints or Prometheus."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tradewire.cli.context import EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, console_err, console_out
from tradewire.latency import LatencyRow, from_exposition, from_prometheus

__all__ = ["latency"]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.2f}"


_PROMETHEUS_DURATION = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|y))+\Z")


def _http_urls(_context: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse anything but http(s)://host URLs (a typo, or file:// that would read a local file)."""
    for url in value if isinstance(value, tuple) else [value] if value is not None else []:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise click.BadParameter(f"expected an http:// or https:// URL, not {url!r}", param=param)
    return value


def _duration(_context: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _PROMETHEUS_DURATION.match(value):
        raise click.BadParameter(f"expected a Prometheus duration such as 30s, 5m or 1h30m, not {value!r}", param=param)
    return value


@click.command()
@click.option(
    "--metrics",
    "endpoints",
    multiple=True,
    metavar="URL",
    callback=_http_urls,
    help="A process's /metrics URL (repeat for several; default: 127.0.0.1:$TRADEWIRE_METRICS_PORT).",
)
@click.option("--prometheus", metavar="URL", default=None, callback=_http_urls, help="Ask a Prometheus server instead.")
@click.option(
    "--window",
    default=None,
    metavar="DURATION",
    callback=_duration,
    help="With --prometheus: only the last DURATION (e.g. 5m).",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def latency(endpoints: tuple[str, ...], prometheus: str | None, window: str | None, output_format: str) -> int:
    """Per hop and per chain: count, p50, p95, p99, average, against the SLOs (exit 100 when one is missed)."""
    if prometheus and endpoints:
        raise click.UsageError("--metrics and --prometheus are alternatives; pass one")
    if window and not prometheus:
        raise click.UsageError("--window needs --prometheus (a /metrics endpoint only has totals since start)")
    try:
        if prometheus:
            rows = from_prometheus(prometheus, window=window)
        else:
            if not endpoints:
                port = os.environ.get("TRADEWIRE_METRICS_PORT")
                if not port:
                    raise click.UsageError("pass --metrics URL or --prometheus URL (or set TRADEWIRE_METRICS_PORT)")
                if not port.isdigit() or not 0 < int(port) < 65536:
                    raise click.UsageError(f"TRADEWIRE_METRICS_PORT must be a port number, not {port!r}")
                endpoints = (f"http://127.0.0.1:{port}/metrics",)
            texts = []
            for url in endpoints:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - user-given metrics URL
                    texts.append(response.read().decode())
            rows = from_exposition(texts)
    except (urllib.error.URLError, OSError, ValueError) as error:
        console_err().print(f"[red]cannot read latency metrics:[/] {escape(str(error))}")
        return EXIT_FAILURE
    if output_format == "json":
        for row in rows:
            click.echo(json.dumps(row.to_json(), sort_keys=True))
    else:
        _table(rows)
    missed = [row for row in rows if row.ok is False]
    if not rows:
        console_err().print("no latency observed yet")
    elif missed:
        console_err().print(f"[red]{len(missed)} SLO(s) missed[/]")
    else:
        console_err().print("[green]every SLO met[/]")
    return EXIT_FINDINGS if missed else EXIT_OK


def _table(rows: list[LatencyRow]) -> None:
    table = Table("kind", "topic", "from", "group", "count", "p50 ms", "p95 ms", "p99 ms", "avg ms", "SLO", "result")
    for row in rows:
        result = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "—"}[row.ok]
        budget = f"avg < {row.budget * 1000:g} ms" if row.budget is not None else "—"
        table.add_row(row.kind, row.topic, row.source_agent or "—", row.group or "—", str(row.count), _ms(row.p50),
                      _ms(row.p95), _ms(row.p99), _ms(row.average), budget, result)  # fmt: skip
    console_out().print(table)
