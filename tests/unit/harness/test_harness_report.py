"""Specification of the harness report: exact latency statistics, the timeline buckets, report.json,
the terminal rendering and the self-contained HTML picture."""

from __future__ import annotations

import copy
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tradewire.errors import TradingSystemError
from tradewire.harness.report import (
    ReportError,
    latency_stats,
    load_report,
    render_html,
    render_text,
    timeline,
    write_report,
)

HOSTILE = "<script>alert(1)</script>"
VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


def sample_report(**overrides: Any) -> dict[str, Any]:
    """A small but complete report of the shape the harness writes: two hops, two faults, samples.

    The second hop has no `duplicates_delivered`, as in reports written before the ledger counted them.
    """
    hop_samples = [0.0011, 0.0011, 0.0011, 0.002, 0.004, 0.030]
    chain_samples = [0.015, 0.020, 0.250]
    report: dict[str, Any] = {
        "tradewire_version": "0.1.0",
        "scenario": "poison",
        "description": "corrupt bytes, unknown schema id, wrong type, handler failures",
        "started_at": "2026-11-27T03:00:00+00:00",
        "duration_seconds": 12.3,
        "events": 500,
        "rate": 200.0,
        "passed": True,
        "failures": [],
        "sent": 1000,
        "delivered": 988,
        "duplicates_suppressed": 3,
        "duplicates_delivered": 1,
        "retried": 4,
        "dead_lettered": 10,
        "dead_lettered_by_reason": {"poison": 6, "non-retryable": 2, "exhausted": 2},
        "expected_dead_letters": {"poison": 6, "non-retryable": 2, "exhausted": 2},
        "replayed": 1,
        "lost": 2,
        "hops": [
            {
                "name": "trading.signals.generated -> risk",
                "topic": "trading.signals.generated",
                "from": "market-analysis",
                "group": "risk",
                "sent": 500,
                "delivered": 490,
                "duplicates_suppressed": 3,
                "duplicates_delivered": 1,
                "retried": 4,
                "dead_lettered": 10,
                "dead_lettered_by_reason": {"poison": 6, "non-retryable": 2, "exhausted": 2},
                "replayed": 1,
                "lost": 0,
                "latency": latency_stats(hop_samples[:3], 0.010),
            },
            {
                "name": "risk.signal.assessed -> personality",
                "topic": "risk.signal.assessed",
                "from": "risk",
                "group": "personality",
                "sent": 500,
                "delivered": 498,
                "duplicates_suppressed": 0,
                "retried": 0,
                "dead_lettered": 0,
                "dead_lettered_by_reason": {},
                "replayed": 0,
                "lost": 2,
                "latency": latency_stats(hop_samples[3:], 0.010),
            },
        ],
        "latency": {
            "hop": latency_stats(hop_samples, 0.010),
            "signal_to_execution": latency_stats(chain_samples, 0.100),
        },
        "timeline": timeline(
            sent=[0.1, 0.2, 1.1, 2.5],
            delivered=[0.3, 1.2, 2.6],
            hop=[(0.1, 0.0011), (1.1, 0.002), (2.5, 0.030)],
            chain=[(0.3, 0.015), (2.6, 0.250)],
            faults=[
                {"t_seconds": 1.5, "kind": "restart", "target": "risk", "detail": "pid 1300"},
                {"t_seconds": 0.8, "kind": "kill", "target": "risk", "detail": "SIGKILL pid 1234"},
            ],
        ),
        "samples": {"hop_seconds": hop_samples, "signal_to_execution_seconds": chain_samples},
    }
    report.update(overrides)
    return report


def rendered_text(report: dict[str, Any], **console_options: Any) -> str:
    """What render_text prints on a wide console without colours (unless options ask for them)."""
    out = io.StringIO()
    render_text(report, Console(file=out, width=200, **{"color_system": None, **console_options}))
    return out.getvalue()


def table_row(text: str, label: str, *, separator: str = "│") -> list[str]:
    """The cells of the table row that starts with `label` in rich's box-drawn output (`┃` for a header row)."""
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split(separator)[1:-1]]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{text}")


class StrictTagParser(HTMLParser):
    """Collects tag nesting errors, the text inside each SVG and the fault markers' labels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.svg_texts: list[list[str]] = []
        self.fault_labels: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value) for name, value in attrs)
        if tag == "svg":
            self.svg_texts.append([])
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, name, value) for name, value in attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "svg" in self.stack and self.stack[-1] == "text":
            self.svg_texts[-1].append(data)
            if "g" in self.stack:
                self.fault_labels.append(data)


def html_table_rows(page: str, heading: str) -> list[list[str]]:
    """The text of every cell, header row first, of the table that follows `<h2>heading</h2>`."""
    table = re.search(rf"<h2>{re.escape(heading)}</h2><table>(.*?)</table>", page, re.S)
    assert table is not None, f"no table under {heading!r}"
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1))]


def parsed(page: str) -> StrictTagParser:
    parser = StrictTagParser()
    parser.feed(page)
    parser.close()
    return parser


# -- latency_stats ---------------------------------------------------------------------------------
def test_latency_stats_of_0_to_100_have_exact_percentiles() -> None:
    """With 101 samples 0..100 every percentile falls on a sample: p50 50, p95 95, p99 99."""
    samples = [float(value) for value in reversed(range(101))]

    stats = latency_stats(samples, 60.0)

    assert {
        "count": 101,
        "p50_seconds": 50.0,
        "p95_seconds": 95.0,
        "p99_seconds": 99.0,
        "max_seconds": 100.0,
        "average_seconds": 50.0,
        "budget_seconds": 60.0,
        "ok": True,
    } == stats


def test_latency_stats_interpolate_linearly_between_closest_ranks() -> None:
    """Between ranks the percentile is interpolated: of 1, 2, 3, 4 the p50 is 2.5 and the p95 3.85."""
    stats = latency_stats([4.0, 1.0, 3.0, 2.0], None)

    assert {
        "count": 4,
        "p50_seconds": 2.5,
        "p95_seconds": 3.85,
        "p99_seconds": 3.97,
        "max_seconds": 4.0,
        "average_seconds": 2.5,
        "budget_seconds": None,
        "ok": None,
    } == pytest.approx(stats)


def test_latency_stats_of_one_sample_are_that_sample() -> None:
    """One sample is its own p50, p95, p99, max and average."""
    stats = latency_stats([0.007], 0.010)

    assert {
        "count": 1,
        "p50_seconds": 0.007,
        "p95_seconds": 0.007,
        "p99_seconds": 0.007,
        "max_seconds": 0.007,
        "average_seconds": 0.007,
        "budget_seconds": 0.010,
        "ok": True,
    } == stats


def test_latency_stats_without_samples_are_none_and_keep_the_budget() -> None:
    """No samples: count 0, every figure None, and no verdict on the budget."""
    stats = latency_stats([], 0.100)

    assert {
        "count": 0,
        "p50_seconds": None,
        "p95_seconds": None,
        "p99_seconds": None,
        "max_seconds": None,
        "average_seconds": None,
        "budget_seconds": 0.100,
        "ok": None,
    } == stats


@pytest.mark.parametrize(
    ("samples", "budget", "ok"),
    [
        pytest.param([0.010], 0.010, False, id="an-average-equal-to-the-budget-fails"),
        pytest.param([0.005, 0.0151], 0.010, False, id="an-average-just-over-fails"),
        pytest.param([0.0099999], 0.010, True, id="an-average-just-under-passes"),
        pytest.param([0.5], None, None, id="without-a-budget-there-is-no-verdict"),
    ],
)
def test_latency_stats_pass_only_when_the_average_is_strictly_under_the_budget(
    samples: list[float], budget: float | None, ok: bool | None
) -> None:
    """`ok` is average < budget, so the boundary itself fails."""
    assert ok == latency_stats(samples, budget)["ok"]


# -- timeline --------------------------------------------------------------------------------------
def test_timeline_counts_per_bucket_and_summarises_latency_with_none_for_empty_buckets() -> None:
    """Events are counted per second; a bucket without latency observations has None; the warm-up is left out."""
    result = timeline(
        sent=[-0.5, 0.1, 0.5, 1.2],
        delivered=[0.6, 3.9],
        hop=[(0.2, 0.001), (0.3, 0.003), (1.5, 0.002)],
        chain=[(1.1, 0.020)],
    )

    assert 1.0 == result["bucket_seconds"]
    expected = [
        {
            "t_seconds": 0.0,
            "sent": 2,
            "delivered": 1,
            "hop_p50_seconds": 0.002,
            "hop_p99_seconds": 0.00298,
            "chain_p99_seconds": None,
        },
        {
            "t_seconds": 1.0,
            "sent": 1,
            "delivered": 0,
            "hop_p50_seconds": 0.002,
            "hop_p99_seconds": 0.002,
            "chain_p99_seconds": 0.020,
        },
        {
            "t_seconds": 2.0,
            "sent": 0,
            "delivered": 0,
            "hop_p50_seconds": None,
            "hop_p99_seconds": None,
            "chain_p99_seconds": None,
        },
        {
            "t_seconds": 3.0,
            "sent": 0,
            "delivered": 1,
            "hop_p50_seconds": None,
            "hop_p99_seconds": None,
            "chain_p99_seconds": None,
        },
    ]
    assert [pytest.approx(point) for point in expected] == result["series"]


def test_timeline_sorts_faults_by_time_and_uses_the_bucket_size() -> None:
    """Faults come back sorted by time with all four fields; half-second buckets start every 0.5 s."""
    result = timeline(
        sent=[0.2, 0.7],
        faults=[
            {"t_seconds": 5.0, "kind": "restart", "target": "risk"},
            {"t_seconds": 3.2, "kind": "kill", "target": "risk", "detail": "SIGKILL pid 1234"},
        ],
        bucket_seconds=0.5,
    )

    assert [0.0, 0.5] == [point["t_seconds"] for point in result["series"]]
    assert [
        {"t_seconds": 3.2, "kind": "kill", "target": "risk", "detail": "SIGKILL pid 1234"},
        {"t_seconds": 5.0, "kind": "restart", "target": "risk", "detail": ""},
    ] == result["faults"]


def test_timeline_without_observations_has_an_empty_series() -> None:
    """Nothing observed: no buckets at all."""
    assert {"bucket_seconds": 1.0, "series": [], "faults": []} == timeline()


def test_timeline_rejects_a_bucket_that_is_not_positive() -> None:
    """A zero bucket cannot divide time."""
    with pytest.raises(ValueError, match=r"bucket_seconds must be positive, not 0"):
        timeline(bucket_seconds=0)


# -- report.json -----------------------------------------------------------------------------------
def test_write_report_creates_the_directory_and_load_report_reads_the_same_report(tmp_path: Path) -> None:
    """report.json (sorted keys, indented, samples included) and report.html are written; the JSON loads back."""
    report = sample_report()
    directory = tmp_path / "reports" / "poison"

    json_path, html_path = write_report(report, directory)

    assert (directory / "report.json", directory / "report.html") == (json_path, html_path)
    assert json.dumps(report, sort_keys=True, indent=2) + "\n" == json_path.read_text(encoding="utf-8")
    assert render_html(report) == html_path.read_text(encoding="utf-8")
    assert report == load_report(json_path)


def test_load_report_of_a_missing_file_names_it(tmp_path: Path) -> None:
    """A missing file is a ReportError (a TradingSystemError) naming the path."""
    path = tmp_path / "nowhere" / "report.json"

    with pytest.raises(ReportError, match=re.escape(f"{path}: no such report file")) as raised:
        load_report(path)

    assert isinstance(raised.value, TradingSystemError)


def test_load_report_of_invalid_json_says_where(tmp_path: Path) -> None:
    """Invalid JSON is reported with its line and column."""
    path = tmp_path / "report.json"
    path.write_text('{"sent": 1,\n  oops}', encoding="utf-8")

    with pytest.raises(ReportError, match=re.escape(f"{path}: not valid JSON (line 2, column 3: ")):
        load_report(path)


def test_load_report_lists_the_missing_keys(tmp_path: Path) -> None:
    """A JSON object without the ledger's keys is not a harness report; the message lists what is missing."""
    report = sample_report()
    del report["delivered"], report["lost"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    with pytest.raises(ReportError, match=re.escape(f"{path}: not a harness report: missing key(s) delivered, lost")):
        load_report(path)


def test_load_report_of_a_json_array_is_not_a_report(tmp_path: Path) -> None:
    """Valid JSON that is not an object is refused."""
    path = tmp_path / "report.json"
    path.write_text("[1, 2]", encoding="utf-8")

    with pytest.raises(ReportError, match=re.escape("not a harness report (a JSON object is expected, not list)")):
        load_report(path)


# -- terminal --------------------------------------------------------------------------------------
def test_render_text_shows_a_ledger_row_per_hop_and_the_totals() -> None:
    """Each hop has a row with its counts and dead letters by reason; the total row carries the report's totals."""
    text = rendered_text(sample_report())

    assert [
        "trading.signals.generated -> risk",
        "500",
        "490",
        "3",
        "1",
        "4",
        "10 (poison 6, non-retryable 2, exhausted 2)",
        "1",
        "0",
    ] == table_row(text, "trading.signals.generated -> risk")
    assert ["risk.signal.assessed -> personality", "500", "498", "0", "0", "0", "0", "0", "2"] == table_row(
        text, "risk.signal.assessed -> personality"
    )
    assert [
        "total",
        "1000",
        "988",
        "3",
        "1",
        "4",
        "10 (poison 6, non-retryable 2, exhausted 2)",
        "1",
        "2",
    ] == table_row(text, "total")
    assert "expected dead letters: poison 6, non-retryable 2, exhausted 2" in text


def test_render_text_ledger_shows_duplicates_delivered_right_after_duplicates_suppressed() -> None:
    """The ledger has a "duplicates delivered" column after "duplicates suppressed"; a row without the count shows 0."""
    text = rendered_text(sample_report())

    headers = table_row(text, "hop", separator="┃")
    column = headers.index("duplicates delivered")

    assert "duplicates suppressed" == headers[column - 1]
    assert ["1", "0", "1"] == [
        table_row(text, label)[column]
        for label in ("trading.signals.generated -> risk", "risk.signal.assessed -> personality", "total")
    ]


def test_render_text_highlights_lost_events_in_red() -> None:
    """A lost count above 0 is bold red; a 0 is plain."""
    text = rendered_text(sample_report(), color_system="standard", force_terminal=True)

    red_counts = re.findall(r"\x1b\[1;31m *(\d+)\x1b\[0m", text)

    assert ["2", "2"] == red_counts  # the second hop's row and the total row


def test_render_text_shows_the_slo_table_in_milliseconds() -> None:
    """Per hop, pooled hops and signal-to-execution: count, p50, p95, p99, max, average in ms, budget, result."""
    report = sample_report()
    report["latency"]["signal_to_execution"] = latency_stats([0.150, 0.250], 0.100)

    text = rendered_text(report)

    assert ["all hops (pooled)", "6", "1.55", "23.50", "28.70", "30.00", "6.55", "avg < 10 ms", "pass"] == table_row(
        text, "all hops (pooled)"
    )
    assert [
        "signal -> execution",
        "2",
        "200.00",
        "245.00",
        "249.00",
        "250.00",
        "200.00",
        "avg < 100 ms",
        "FAIL",
    ] == table_row(text, "signal -> execution")


def test_render_text_lists_the_faults_and_says_passed() -> None:
    """Faults are listed with time, kind, target and detail; a passing report ends PASSED."""
    text = rendered_text(sample_report())

    assert ["0.8", "kill", "risk", "SIGKILL pid 1234"] == table_row(text, "0.8")
    assert ["1.5", "restart", "risk", "pid 1300"] == table_row(text, "1.5")
    assert "PASSED poison" == text.rstrip().splitlines()[-1]


def test_render_text_says_failed_with_every_reason() -> None:
    """A failing report ends FAILED with its failures, printed verbatim (rich markup in them is not interpreted)."""
    failures = ["hop signal -> risk: 2 lost", "[red]unexpected dead letter[/red] x (poison)"]

    text = rendered_text(sample_report(passed=False, failures=failures, timeline=timeline()))

    assert [
        "faults: none injected",
        "the verdict judges the ledger; latency SLOs met: 3 of 4 (reported, not judged)",
        "FAILED poison: 2 failure(s)",
        "  - hop signal -> risk: 2 lost",
        "  - [red]unexpected dead letter[/red] x (poison)",
    ] == text.rstrip().splitlines()[-5:]


# -- HTML ------------------------------------------------------------------------------------------
def test_render_html_is_well_formed_with_a_distribution_and_a_timeline_chart() -> None:
    """Every tag closes in order; there are two histograms and one timeline, each an inline SVG."""
    page = render_html(sample_report())

    parser = parsed(page)

    assert ([], []) == (parser.errors, parser.stack)
    labels = [value for tag, name, value in parser.attributes if tag == "svg" and name == "aria-label"]
    assert [
        "latency distribution: every pipeline hop (pooled)",
        "latency distribution: signal -> execution",
        "timeline: throughput, latency and faults",
    ] == labels


def test_render_html_draws_one_labelled_marker_per_fault() -> None:
    """Each fault is a vertical marker in the timeline labelled with its kind and target."""
    page = render_html(sample_report())

    assert 2 == page.count('<g class="fault">')
    assert ["kill risk", "restart risk"] == parsed(page).fault_labels


def test_render_html_draws_the_slo_budget_at_its_place_on_the_log_axis() -> None:
    """Each histogram has a labelled budget line, placed exactly on its axis tick (10 ms and 100 ms)."""
    page = render_html(sample_report())
    hop_chart, chain_chart, _ = re.findall(r"<svg.*?</svg>", page, re.S)

    for chart, label in ((hop_chart, "10 ms"), (chain_chart, "100 ms")):
        budget_x = re.search(r'<line class="budget" x1="([\d.]+)"', chart)
        tick_x = re.search(rf'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">{label}</text>', chart)
        assert budget_x is not None and tick_x is not None
        assert tick_x.group(1) == budget_x.group(1)
        assert f"budget: avg &lt; {label}</text>" in chart


def test_render_html_bins_samples_per_tenth_of_a_decade_and_gives_samples_past_the_axis_a_labelled_bar() -> None:
    """Three samples of 1.1 ms share the 1 ms to 1.26 ms bin; samples past 5 s are not in the last bin
    but in a bar of their own right of the axis, labelled "> 5 s" with its count."""
    report = sample_report(
        samples={"hop_seconds": [0.0011, 0.0011, 0.0011, 4.5, 12.0, 60.0], "signal_to_execution_seconds": []}
    )

    page = render_html(report)
    hop_chart = re.findall(r"<svg.*?</svg>", page, re.S)[0]

    assert "<title>1 ms to 1.26 ms: 3</title>" in hop_chart
    assert "<title>3.98 s to 5 s: 1</title>" in hop_chart
    assert "<title>past 5 s: 2 (the longest 60 s)</title>" in hop_chart
    over = parsed(hop_chart).svg_texts[0]
    assert ["2", "> 5 s"] == [text for text in over if text in ("2", "> 5 s")][-2:]
    bar_x = float(re.search(r'<rect class="over" x="([\d.]+)"', hop_chart).group(1))  # type: ignore[union-attr]
    axis_end = max(float(x) for x in re.findall(r'<line class="axis" x1="[\d.]+" y1="[\d.]+" x2="([\d.]+)"', hop_chart))
    assert bar_x > axis_end


def test_render_html_has_no_external_references() -> None:
    """No scripts, links, imports or URLs: the page works offline as one file."""
    page = render_html(sample_report())

    attributes = {name for _, name, _ in parsed(page).attributes}
    assert set() == attributes & {"src", "href", "xlink:href", "action"}
    for forbidden in ("<script", "<link", "url(", "@import", "http://", "https://"):
        assert forbidden not in page


def test_render_html_escapes_everything_taken_from_the_report() -> None:
    """A hostile scenario name, description, hop name, fault and failure text appear only escaped."""
    report = sample_report(scenario=HOSTILE, description=HOSTILE, passed=False, failures=[HOSTILE])
    report["hops"][0]["name"] = HOSTILE
    report["timeline"]["faults"].append({"t_seconds": 2.0, "kind": HOSTILE, "target": "risk", "detail": HOSTILE})
    report["dead_lettered_by_reason"] = {HOSTILE: 1}

    page = render_html(report)

    assert HOSTILE not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ([], []) == (parsed(page).errors, parsed(page).stack)


def test_render_html_says_no_data_for_empty_samples_and_an_empty_timeline() -> None:
    """Without samples each histogram says "no data"; without a series both timeline panels do."""
    report = sample_report(samples={"hop_seconds": [], "signal_to_execution_seconds": []}, timeline=timeline())
    report["latency"] = {"hop": latency_stats([], 0.010), "signal_to_execution": latency_stats([], 0.100)}

    page = render_html(report)

    assert [1, 1, 2] == [texts.count("no data") for texts in parsed(page).svg_texts]


def test_render_html_shows_the_verdict_and_the_failures() -> None:
    """The header says PASSED or FAILED (styled green or red) and a failing page lists why."""
    passing = render_html(sample_report())
    failing = render_html(sample_report(passed=False, failures=["hop signal -> risk: 2 lost"]))

    assert '<header class="passed">' in passing
    assert '<span class="verdict">PASSED</span>' in passing
    assert '<header class="failed">' in failing
    assert '<span class="verdict">FAILED</span>' in failing
    assert '<ul class="failures"><li>hop signal -&gt; risk: 2 lost</li></ul>' in failing


def test_render_html_ledger_shows_duplicates_delivered_right_after_duplicates_suppressed() -> None:
    """The HTML ledger has a "duplicates delivered" column after "duplicates suppressed"; a missing count shows 0."""
    headers, *rows = html_table_rows(render_html(sample_report()), "Ledger")

    column = headers.index("duplicates delivered")

    assert "duplicates suppressed" == headers[column - 1]
    assert [
        ("trading.signals.generated -&gt; risk", "1"),
        ("risk.signal.assessed -&gt; personality", "0"),
        ("total", "1"),
    ] == [(row[0], row[column]) for row in rows]


def test_render_html_tables_mark_lost_events_and_missed_slos() -> None:
    """The ledger marks a lost count above 0 and the SLO table a missed budget."""
    report = sample_report()
    report["latency"]["signal_to_execution"] = latency_stats([0.150, 0.250], 0.100)

    page = render_html(report)

    assert '<tr class="total"><td>total</td>' in page
    assert '<td class="n bad">2</td></tr></tbody>' in page
    assert '<td class="bad">FAIL</td>' in page


def test_render_html_is_deterministic_and_does_not_change_the_report(tmp_path: Path) -> None:
    """The same report renders to the same bytes every time and is left as it was."""
    report = sample_report()
    before = copy.deepcopy(report)

    first, _ = write_report(report, tmp_path / "first")
    second, _ = write_report(report, tmp_path / "second")

    assert render_html(report) == render_html(copy.deepcopy(report))
    assert (tmp_path / "first" / "report.html").read_bytes() == (tmp_path / "second" / "report.html").read_bytes()
    assert first.read_bytes() == second.read_bytes()
    assert before == report


# -- recovery ----------------------------------------------------------------------------------------
RECOVERY = {
    "gaps": [
        {
            "fault": "kill risk-1",
            "t_seconds": 2.4,
            "hop": "trading.signals.generated -> risk",
            "gap_seconds": 1.623,
            "from_seconds": 2.38,
            "to_seconds": 4.003,
            "recovered": True,
            "undone_to_delivery_seconds": 0.55,
            "target_seconds": 2.0,
            "ok": True,
        },
        {
            "fault": "kill broker",
            "t_seconds": 6.0,
            "hop": "risk.signal.assessed -> personality",
            "gap_seconds": 3.0,
            "from_seconds": 6.0,
            "to_seconds": 9.0,
            "recovered": False,
            "undone_to_delivery_seconds": None,
            "target_seconds": None,
            "ok": None,
        },
    ],
    "targets": [
        {
            "name": "delivery gap after kill risk-1",
            "measured_seconds": 1.623,
            "limit_seconds": 2.0,
            "comparison": "<=",
            "ok": True,
        },
        {
            "name": "signal -> execution p99",
            "measured_seconds": 12.5,
            "limit_seconds": 10.0,
            "comparison": "<",
            "ok": False,
        },
    ],
}


def test_render_text_shows_each_fault_s_delivery_gap_and_the_recovery_targets_with_their_result() -> None:
    """A row per fault and hop: when, which fault, the gap in seconds, its stretch and how soon after
    the undo deliveries came back; then each target with pass or FAIL."""
    text = rendered_text(sample_report(recovery=RECOVERY))

    assert ["2.40", "kill risk-1", "trading.signals.generated -> risk", "1.62", "2.38", "4.00", "0.55"] == table_row(
        text, "2.40"
    )
    assert [
        "6.00",
        "kill broker",
        "risk.signal.assessed -> personality",
        "3.00 (not recovered)",
        "6.00",
        "9.00",
        "—",
    ] == (table_row(text, "6.00"))
    assert ["delivery gap after kill risk-1", "1.62", "≤ 2 s", "pass"] == table_row(
        text, "delivery gap after kill risk-1"
    )
    assert ["signal -> execution p99", "12.50", "< 10 s", "FAIL"] == table_row(text, "signal -> execution p99")


def test_render_text_says_what_the_verdict_judges_and_how_the_timings_came_out() -> None:
    """Before PASSED: the verdict is the ledger's, the SLOs and recovery targets are counted, not judged."""
    text = rendered_text(sample_report(recovery=RECOVERY))

    assert [
        "the verdict judges the ledger; latency SLOs met: 3 of 4; recovery targets met: 1 of 2 (reported, not judged)",
        "PASSED poison",
    ] == text.rstrip().splitlines()[-2:]


def test_render_html_has_the_delivery_gaps_and_the_recovery_targets_marked() -> None:
    """The page has both tables; a missed target is marked like a missed SLO, and the header says what is judged."""
    page = render_html(sample_report(recovery=RECOVERY))

    gaps = html_table_rows(page, "Delivery gaps")
    targets = html_table_rows(page, "Recovery targets")

    assert ["t s", "fault", "hop", "delivery gap s", "from s", "to s", "after undo s"] == gaps[0]
    assert ["2.40", "kill risk-1", "trading.signals.generated -&gt; risk", "1.62", "2.38", "4.00", "0.55"] == gaps[1]
    assert [
        ["recovery target", "measured s", "target", "result"],
        ["delivery gap after kill risk-1", "1.62", "≤ 2 s", "pass"],
        ["signal -&gt; execution p99", "12.50", "&lt; 10 s", "FAIL"],
    ] == targets
    assert '<td class="bad">FAIL</td>' in page
    assert "recovery targets met: 1 of 2 (reported, not judged)</p></header>" in page


def test_a_report_without_faults_has_no_recovery_tables() -> None:
    """No gaps and no targets: neither table appears."""
    page = render_html(sample_report(recovery={"gaps": [], "targets": []}))

    assert [False, False] == [heading in page for heading in ("<h2>Delivery gaps</h2>", "<h2>Recovery targets</h2>")]


def test_every_duration_in_a_report_names_its_unit_in_its_key() -> None:
    """Latency statistics, the timeline, the faults, the samples and the recovery figures: every
    non-integer number sits under a key ending in `_seconds` (the run's rate is not a duration)."""
    report = sample_report(recovery=RECOVERY)

    def unitless(value: object, key: str = "") -> list[str]:
        if isinstance(value, dict):
            return [name for child, item in value.items() for name in unitless(item, child)]
        if isinstance(value, list):
            return [name for item in value for name in unitless(item, key)]
        if isinstance(value, float) and not key.endswith("_seconds") and key != "rate":
            return [key]
        return []

    assert [] == unitless(json.loads(json.dumps(report)))
