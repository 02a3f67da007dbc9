"""The harness report: exact latency statistics, the per-bucket timeline, `report.json`, the terminal
rendering and a self-contained HTML picture.

A report is a plain JSON-able dict (its shape is built by `tradewire.harness.run`); every duration
in it is in seconds and says so in its key (`p99_seconds`, `budget_seconds`, `t_seconds`, ...).
The HTML page is one file with inline SVG charts (`tradewire.harness.charts`): no scripts, no
stylesheets, fonts or images from elsewhere, and every text taken from the report is escaped.
The same report always renders to the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradewire.errors import TradingSystemError
from tradewire.harness.charts import CHART_STYLE, as_ms, as_number, css_class, escape, histogram_svg, timeline_svg
from tradewire.harness.ledger import COUNTS

__all__ = [
    "REQUIRED_KEYS",
    "ReportError",
    "latency_stats",
    "load_report",
    "render_html",
    "render_text",
    "timeline",
    "write_report",
]

REQUIRED_KEYS = ("sent", "delivered", "duplicates_suppressed", "dead_lettered", "lost", "latency")
"""Top-level keys without which a file is not a harness report."""


class ReportError(TradingSystemError, ValueError):
    """A report file is missing, is not JSON, or lacks what every harness report has."""


# -- statistics ------------------------------------------------------------------------------------
def _percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values by linear interpolation between closest ranks.

    The rank is q * (n - 1) (numpy's default "linear" method, Hyndman & Fan type 7), so
    the median of [1, 2, 3, 4] is 2.5 and every quantile of one sample is that sample.
    """
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


STAT_KEYS = ("p50_seconds", "p95_seconds", "p99_seconds", "max_seconds", "average_seconds")
"""The figures of a latency statistic, in the order the SLO table shows them."""


def latency_stats(samples: Sequence[float], budget: float | None) -> dict[str, Any]:
    """Exact count, p50, p95, p99, max and average of raw samples (seconds), against an average budget
    (`budget_seconds`).

    `ok` is whether the average is strictly under the budget; it is None without samples or
    without a budget, and every figure is None without samples.
    """
    ordered = sorted(float(sample) for sample in samples)
    if not ordered:
        return {"count": 0, **dict.fromkeys(STAT_KEYS), "budget_seconds": budget, "ok": None}
    average = math.fsum(ordered) / len(ordered)
    return {
        "count": len(ordered),
        "p50_seconds": _percentile(ordered, 0.50),
        "p95_seconds": _percentile(ordered, 0.95),
        "p99_seconds": _percentile(ordered, 0.99),
        "max_seconds": ordered[-1],
        "average_seconds": average,
        "budget_seconds": budget,
        "ok": None if budget is None else average < budget,
    }


def timeline(
    *,
    sent: Iterable[float] = (),
    delivered: Iterable[float] = (),
    hop: Iterable[tuple[float, float]] = (),
    chain: Iterable[tuple[float, float]] = (),
    faults: Iterable[Mapping[str, Any]] = (),
    bucket_seconds: float = 1.0,
) -> dict[str, Any]:
    """The report's `timeline`: observations counted per time bucket, with the faults beside them.

    Times are seconds since the run started; observations before 0 (the warm-up) are left out.
    `sent` and `delivered` are the times of single events (counted per bucket); `hop` and
    `chain` are (time, seconds) latency observations, summarised per bucket as hop p50 and
    p99 and chain p99 (None in a bucket without any). Buckets run from 0 to the last
    observation. `faults` are {t_seconds, kind, target, detail} mappings, returned sorted by time.
    """
    if not bucket_seconds > 0:
        raise ValueError(f"bucket_seconds must be positive, not {bucket_seconds!r}")
    buckets: dict[int, dict[str, list[float]]] = {}

    def bucket(at: float) -> dict[str, list[float]]:
        index = math.floor(at / bucket_seconds)
        return buckets.setdefault(index, {"sent": [], "delivered": [], "hop": [], "chain": []})

    for name, times in (("sent", sent), ("delivered", delivered)):
        for at in times:
            if at >= 0:
                bucket(at)[name].append(at)
    for name, points in (("hop", hop), ("chain", chain)):
        for at, seconds in points:
            if at >= 0:
                bucket(at)[name].append(seconds)
    empty: dict[str, list[float]] = {"sent": [], "delivered": [], "hop": [], "chain": []}
    series = []
    for index in range(max(buckets) + 1 if buckets else 0):
        values = buckets.get(index, empty)
        hops, chains = sorted(values["hop"]), sorted(values["chain"])
        series.append(
            {
                "t_seconds": round(index * bucket_seconds, 6),
                "sent": len(values["sent"]),
                "delivered": len(values["delivered"]),
                "hop_p50_seconds": _percentile(hops, 0.50) if hops else None,
                "hop_p99_seconds": _percentile(hops, 0.99) if hops else None,
                "chain_p99_seconds": _percentile(chains, 0.99) if chains else None,
            }
        )
    listed = [
        {
            "t_seconds": float(fault["t_seconds"]),
            "kind": str(fault.get("kind", "")),
            "target": str(fault.get("target", "")),
            "detail": str(fault.get("detail", "")),
        }
        for fault in faults
    ]
    listed.sort(key=lambda fault: (fault["t_seconds"], fault["kind"], fault["target"]))
    return {"bucket_seconds": bucket_seconds, "series": series, "faults": listed}


# -- files -----------------------------------------------------------------------------------------
def write_report(report: Mapping[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write `report.json` (sorted keys, indented, samples included) and `report.html`; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "report.json", directory / "report.html"
    json_path.write_text(json.dumps(report, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def load_report(path: Path) -> dict[str, Any]:
    """Read a `report.json`; raise `ReportError` naming the file when it is missing, not JSON or not a report."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot read the report: {error}") from error
    try:
        report = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from error
    if not isinstance(report, dict):
        raise ReportError(f"{path}: not a harness report (a JSON object is expected, not {type(report).__name__})")
    missing = [key for key in REQUIRED_KEYS if key not in report]
    if missing:
        raise ReportError(f"{path}: not a harness report: missing key(s) {', '.join(missing)}")
    if not isinstance(report["latency"], dict):
        raise ReportError(f"{path}: not a harness report: 'latency' must be an object")
    return report


# -- shared by both renderings ---------------------------------------------------------------------
def _int(value: Any) -> int:
    return int(as_number(value) or 0)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _passed(report: Mapping[str, Any]) -> bool:
    return bool(report.get("passed", not report.get("failures") and not _int(report.get("lost"))))


def _reasons(counts: Any) -> str:
    """`poison 6, exhausted 2` from {reason: count}."""
    return ", ".join(f"{reason} {count}" for reason, count in _mapping(counts).items())


_LEDGER_COLUMNS = COUNTS
_LEDGER_HEADERS = (
    "hop",
    "sent",
    "delivered",
    "duplicates suppressed",
    "duplicates delivered",
    "retried",
    "dead-lettered",
    "replayed",
    "lost",
)
_SLO_HEADERS = ("latency", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "avg ms", "budget", "result")
_FAULT_HEADERS = ("t s", "fault", "target", "detail")
_GAP_HEADERS = ("t s", "fault", "hop", "delivery gap s", "from s", "to s", "after undo s")
_TARGET_HEADERS = ("recovery target", "measured s", "target", "result")
_GAP_ALIGN, _TARGET_ALIGN = "rllrrrr", "lrll"
# column alignment per table: l(eft) for text, r(ight) for figures
_LEDGER_ALIGN, _SLO_ALIGN, _FAULT_ALIGN = "lrrrrrlrr", "lrrrrrrll", "rlll"


def _ledger_rows(report: Mapping[str, Any]) -> list[tuple[str, list[str], int]]:
    """(label, cells, lost) per hop, then the total row (from the report's own totals)."""
    rows: list[tuple[str, Mapping[str, Any]]] = [
        (str(hop.get("name", "?")), hop) for hop in report.get("hops") or [] if isinstance(hop, dict)
    ]
    rows.append(("total", report))
    dead_lettered = _LEDGER_COLUMNS.index("dead_lettered")
    result = []
    for label, row in rows:
        cells = [str(_int(row.get(column))) for column in _LEDGER_COLUMNS]
        reasons = _reasons(row.get("dead_lettered_by_reason"))
        if reasons:
            cells[dead_lettered] += f" ({reasons})"
        result.append((label, cells, _int(row.get("lost"))))
    return result


def _slo_rows(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], bool]]:
    """(label, LatencyStats, summary?) per hop, then every pipeline hop pooled, then signal-to-execution."""
    rows: list[tuple[str, Mapping[str, Any], bool]] = [
        (str(hop.get("name", "?")), hop["latency"], False)
        for hop in report.get("hops") or []
        if isinstance(hop, dict) and isinstance(hop.get("latency"), dict)
    ]
    latency = _mapping(report.get("latency"))
    for key, label in (("hop", "all hops (pooled)"), ("signal_to_execution", "signal -> execution")):
        if isinstance(latency.get(key), dict):
            rows.append((label, latency[key], True))
    return rows


def _slo_cells(stats: Mapping[str, Any]) -> list[str]:
    budget = as_number(stats.get("budget_seconds"))
    return [
        str(_int(stats.get("count"))),
        *(as_ms(stats.get(key)) for key in STAT_KEYS),
        "—" if budget is None else f"avg < {budget * 1000:g} ms",
    ]


def _result(ok: Any) -> tuple[str, str]:
    """The SLO result word and its style: pass, FAIL, or a dash without data or budget."""
    if ok is True:
        return "pass", "green"
    if ok is False:
        return "FAIL", "bold red"
    return "—", ""


def _faults(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [fault for fault in _mapping(report.get("timeline")).get("faults") or [] if isinstance(fault, dict)]


def _seconds(value: Any) -> str:
    number = as_number(value)
    return "—" if number is None else f"{number:.2f}"


def _recovery(report: Mapping[str, Any]) -> tuple[list[list[str]], list[tuple[list[str], Any]]]:
    """The delivery gap rows and the recovery target rows (cells, ok) of the report's `recovery`."""
    recovery = _mapping(report.get("recovery"))
    gaps = []
    for gap in recovery.get("gaps") or []:
        if not isinstance(gap, dict):
            continue
        figure = _seconds(gap.get("gap_seconds")) + ("" if gap.get("recovered", True) else " (not recovered)")
        gaps.append(
            [
                _seconds(gap.get("t_seconds")),
                str(gap.get("fault", "")),
                str(gap.get("hop", "")),
                figure,
                *(_seconds(gap.get(key)) for key in ("from_seconds", "to_seconds", "undone_to_delivery_seconds")),
            ]
        )
    targets = []
    for target in recovery.get("targets") or []:
        if not isinstance(target, dict):
            continue
        limit = as_number(target.get("limit_seconds"))
        comparison = "≤" if target.get("comparison") == "<=" else "<"
        cells = [
            str(target.get("name", "")),
            _seconds(target.get("measured_seconds")),
            "—" if limit is None else f"{comparison} {limit:g} s",
        ]
        targets.append((cells, target.get("ok")))
    return gaps, targets


def _judged(report: Mapping[str, Any]) -> str:
    """What the verdict covers, and how the timings it does not judge came out."""
    slos = [stats.get("ok") is True for _, stats, _ in _slo_rows(report) if stats.get("ok") is not None]
    targets = [ok is True for _, ok in _recovery(report)[1] if ok is not None]
    parts = ["the verdict judges the ledger"]
    if slos:
        parts.append(f"latency SLOs met: {sum(slos)} of {len(slos)}")
    if targets:
        parts.append(f"recovery targets met: {sum(targets)} of {len(targets)}")
    return "; ".join(parts) + (" (reported, not judged)" if slos or targets else "")


def _fault_cells(fault: Mapping[str, Any]) -> list[str]:
    return [
        f"{as_number(fault.get('t_seconds')) or 0.0:.1f}",
        *(str(fault.get(key, "")) for key in ("kind", "target", "detail")),
    ]


# -- terminal --------------------------------------------------------------------------------------
def _rich_table(title: str, headers: Sequence[str], align: str) -> Table:
    """A table with a bold title; `align` has an l or r per column."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for header, side in zip(headers, align, strict=True):
        table.add_column(header, justify="right" if side == "r" else "left")
    return table


def render_text(report: Mapping[str, Any], console: Console) -> None:
    """Print the ledger, the SLO table, the faults and a PASSED / FAILED verdict with the reasons."""
    scenario = str(report.get("scenario", "?"))
    console.print(Text.assemble(("scenario ", "bold"), (scenario, "bold cyan"), f": {report.get('description', '')}"))
    run = f"{report.get('events', '?')} events at {report.get('rate', '?')}/s"
    console.print(Text(f"{report.get('duration_seconds', '?')} s, {run}"))
    ledger = _rich_table("ledger", _LEDGER_HEADERS, _LEDGER_ALIGN)
    rows = _ledger_rows(report)
    for index, (label, cells, lost) in enumerate(rows):
        ledger.add_row(
            Text(label),
            *(Text(cell) for cell in cells[:-1]),
            Text(cells[-1], style="bold red" if lost else ""),
            style="bold" if index == len(rows) - 1 else "",
            end_section=index == len(rows) - 2,
        )
    console.print(ledger)
    expected = _reasons(report.get("expected_dead_letters"))
    if expected:
        console.print(Text(f"expected dead letters: {expected}"))
    slo = _rich_table("latency SLOs", _SLO_HEADERS, _SLO_ALIGN)
    slo_rows = _slo_rows(report)
    for index, (label, stats, summary) in enumerate(slo_rows):
        word, style = _result(stats.get("ok"))
        last_hop = not summary and index + 1 < len(slo_rows) and slo_rows[index + 1][2]
        figures = (Text(cell) for cell in _slo_cells(stats))
        slo.add_row(Text(label), *figures, Text(word, style=style), end_section=last_hop)
    console.print(slo)
    faults = _faults(report)
    if faults:
        table = _rich_table("faults", _FAULT_HEADERS, _FAULT_ALIGN)
        for fault in faults:
            table.add_row(*(Text(cell) for cell in _fault_cells(fault)))
        console.print(table)
    else:
        console.print("faults: none injected")
    gaps, targets = _recovery(report)
    if gaps:
        table = _rich_table("delivery gaps", _GAP_HEADERS, _GAP_ALIGN)
        for cells in gaps:
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
    if targets:
        table = _rich_table("recovery targets", _TARGET_HEADERS, _TARGET_ALIGN)
        for cells, ok in targets:
            word, style = _result(ok)
            table.add_row(*(Text(cell) for cell in cells), Text(word, style=style))
        console.print(table)
    console.print(Text(_judged(report)))
    if _passed(report):
        console.print(Text.assemble(("PASSED", "bold green"), f" {scenario}"))
    else:
        failures = [str(failure) for failure in report.get("failures") or []]
        console.print(Text.assemble(("FAILED", "bold red"), f" {scenario}: {len(failures)} failure(s)"))
        for failure in failures:
            console.print(Text(f"  - {failure}"))


# -- the page --------------------------------------------------------------------------------------
_PAGE_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;
color:#1f2937;padding:0 16px}
header{border-left:8px solid;padding:4px 16px;margin-bottom:16px}
header.passed{border-color:#16a34a}header.failed{border-color:#dc2626}
h1{margin:0 0 4px;font-size:22px}h2{font-size:17px;margin:24px 0 8px}
.verdict{font-weight:700;padding:2px 10px;border-radius:4px;color:#fff;font-size:15px;margin-left:8px}
.passed .verdict{background:#16a34a}.failed .verdict{background:#dc2626}
.facts{color:#4b5563;margin:4px 0}.facts b{color:#1f2937}
ul.failures{color:#991b1b}
table{border-collapse:collapse;font-size:13px;margin-bottom:8px}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left;white-space:nowrap}
th{background:#f3f4f6}.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:700;border-top:2px solid #9ca3af}
td.bad{color:#dc2626;font-weight:700}td.good{color:#16a34a}
.charts{display:flex;flex-wrap:wrap;gap:12px}
""".strip()


_Cell = str | tuple[str, str]
"""A table cell: its text, or (text, css class)."""


def _table_html(headers: Sequence[str], align: str, rows: Iterable[Sequence[_Cell]], *, total: bool = False) -> str:
    """A table (`align` has an l or r per column); with `total` the last row is styled as a total."""
    listed = list(rows)
    body = []
    for index, cells in enumerate(listed):
        tds = []
        for side, cell in zip(align, cells, strict=True):
            text, css = cell if isinstance(cell, tuple) else (cell, "")
            classes = " ".join(name for name in ("n" if side == "r" else "", css) if name)
            tds.append(f"<td{css_class(classes)}>{escape(text)}</td>")
        body.append(f"<tr{css_class('total' if total and index == len(listed) - 1 else '')}>{''.join(tds)}</tr>")
    head = "".join(
        f"<th{css_class('n' if side == 'r' else '')}>{escape(header)}</th>"
        for side, header in zip(align, headers, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _header_html(report: Mapping[str, Any]) -> str:
    verdict = "PASSED" if _passed(report) else "FAILED"
    totals = ", ".join(
        f"{escape(header)} <b>{_int(report.get(key))}</b>"
        for key, header in zip(_LEDGER_COLUMNS, _LEDGER_HEADERS[1:], strict=True)
        if key != "duplicates_delivered"  # the headline keeps its counts; the ledger table has this one
    )
    facts = (
        f"started {escape(report.get('started_at', '?'))}, ran <b>{escape(report.get('duration_seconds', '?'))} s</b>, "
        f"{escape(report.get('events', '?'))} events at {escape(report.get('rate', '?'))}/s, "
        f"tradewire {escape(report.get('tradewire_version', '?'))}"
    )
    failures = "".join(f"<li>{escape(failure)}</li>" for failure in report.get("failures") or [])
    return (
        f'<header class="{verdict.lower()}"><h1>{escape(report.get("scenario", "?"))}'
        f'<span class="verdict">{verdict}</span></h1><p class="facts">{escape(report.get("description", ""))}</p>'
        f'<p class="facts">{facts}</p><p class="facts">{totals}</p>'
        f'<p class="facts">{escape(_judged(report))}</p></header>'
        + (f'<h2>Failures</h2><ul class="failures">{failures}</ul>' if failures else "")
    )


def _tables_html(report: Mapping[str, Any]) -> str:
    ledger: list[list[_Cell]] = [
        [label, *cells[:-1], (cells[-1], "bad" if lost else "")] for label, cells, lost in _ledger_rows(report)
    ]
    parts = ["<h2>Ledger</h2>", _table_html(_LEDGER_HEADERS, _LEDGER_ALIGN, ledger, total=True)]
    expected = _reasons(report.get("expected_dead_letters"))
    if expected:
        parts.append(f'<p class="facts">expected dead letters: {escape(expected)}</p>')
    slo: list[list[_Cell]] = []
    for label, stats, _ in _slo_rows(report):
        word, style = _result(stats.get("ok"))
        slo.append([label, *_slo_cells(stats), (word, {"green": "good", "bold red": "bad"}.get(style, ""))])
    parts += ["<h2>Latency SLOs</h2>", _table_html(_SLO_HEADERS, _SLO_ALIGN, slo)]
    faults: list[list[_Cell]] = [list(_fault_cells(fault)) for fault in _faults(report)]
    if faults:
        parts += ["<h2>Faults</h2>", _table_html(_FAULT_HEADERS, _FAULT_ALIGN, faults)]
    gaps, targets = _recovery(report)
    if gaps:
        parts += ["<h2>Delivery gaps</h2>", _table_html(_GAP_HEADERS, _GAP_ALIGN, gaps)]
    if targets:
        rows: list[list[_Cell]] = []
        for cells, ok in targets:
            word, style = _result(ok)
            rows.append([*cells, (word, {"green": "good", "bold red": "bad"}.get(style, ""))])
        parts += ["<h2>Recovery targets</h2>", _table_html(_TARGET_HEADERS, _TARGET_ALIGN, rows)]
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page: header and verdict, latency histograms, timeline, tables."""
    verdict = "PASSED" if _passed(report) else "FAILED"
    latency, samples = _mapping(report.get("latency")), _mapping(report.get("samples"))
    histograms = []
    for key, title in (("hop", "every pipeline hop (pooled)"), ("signal_to_execution", "signal -> execution")):
        values = [value for value in map(as_number, samples.get(f"{key}_seconds") or []) if value is not None]
        histograms.append(histogram_svg(title, values, _mapping(latency.get(key))))
    sections = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>tradewire harness: {escape(report.get('scenario', '?'))} {verdict}</title>",
        f"<style>\n{_PAGE_STYLE}\n{CHART_STYLE}\n</style></head><body>",
        _header_html(report),
        '<h2>Latency distribution</h2><div class="charts">',
        *histograms,
        "</div>",
        f"<h2>Timeline</h2>\n{timeline_svg(_mapping(report.get('timeline')))}",
        _tables_html(report),
        "</body></html>\n",
    ]
    return "\n".join(sections)
