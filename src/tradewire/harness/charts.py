"""SVG charts of a harness report: the latency histograms and the throughput / latency / faults timeline.

Each chart is one hand-written inline `<svg>` element, drawn from the report's own values (seconds);
every text taken from the report is escaped and the same input always gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BINS_PER_DECADE",
    "CHART_STYLE",
    "HISTOGRAM_HIGH_SECONDS",
    "HISTOGRAM_LOW_SECONDS",
    "as_ms",
    "as_number",
    "css_class",
    "escape",
    "histogram_svg",
    "timeline_svg",
]

HISTOGRAM_LOW_SECONDS = 1e-4
"""The latency histograms' axis runs from 0.1 ms ..."""
HISTOGRAM_HIGH_SECONDS = 5.0
"""... to 5 s; samples under it are counted in the first bin, samples past it in a bar of their own
right of the axis, labelled `> 5 s`."""
BINS_PER_DECADE = 10

_COLORS = {
    "sent": "#2563eb",
    "delivered": "#16a34a",
    "hop_p50_seconds": "#7c3aed",
    "hop_p99_seconds": "#db2777",
    "chain_p99_seconds": "#ea580c",
    "fault": "#dc2626",
    "bar": "#5b7fc7",
}

CHART_STYLE = """
svg{background:#fff;border:1px solid #e5e7eb;max-width:100%;height:auto;font-size:11px}
svg text{fill:#374151}svg text.title{font-size:14px;font-weight:600}svg text.muted{fill:#6b7280}
svg text.nodata{font-size:16px;fill:#9ca3af}
svg line.axis{stroke:#6b7280}svg line.grid{stroke:#eef0f3}
svg line.budget{stroke:#dc2626;stroke-width:2;stroke-dasharray:6 3}svg text.budget{fill:#dc2626;font-weight:600}
svg line.avg{stroke:#111827;stroke-width:1.5}svg text.avg{fill:#111827}
svg rect.over{fill:#b45309}svg text.over{fill:#92400e;font-weight:600}
svg g.fault line{stroke:#dc2626;stroke-width:1.5;stroke-dasharray:4 3}svg g.fault text{fill:#b91c1c;font-weight:600}
""".strip()
"""The CSS rules for the classes the charts use; the page that embeds the charts includes them."""


# -- values and markup, shared with the report's tables --------------------------------------------
def as_number(value: Any) -> float | None:
    """A number from the report as a float; None for None, NaN, infinity or anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def as_ms(value: Any) -> str:
    seconds = as_number(value)
    return "—" if seconds is None else f"{seconds * 1000:.2f}"


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def css_class(css: str) -> str:
    return f' class="{css}"' if css else ""


# -- SVG helpers -----------------------------------------------------------------------------------
def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class _Scale:
    """Maps a domain (linear or log10) onto pixels, clamping to the domain."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        if self.log:
            fraction = math.log10(value / self.low) / math.log10(self.high / self.low)
        else:
            fraction = (value - self.low) / (self.high - self.low)
        return self.start + (self.end - self.start) * fraction


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= raw)


def _linear_ticks(high: float, target: int = 5, *, whole: bool = False) -> list[float]:
    """Ticks 0, step, 2 step ... up to the first at or past `high` (steps of 1, 2 or 5 times a power of 10).

    With `whole` the step is at least 1 (for counts).
    """
    step = max(_nice_step(high, target), 1.0) if whole else _nice_step(high, target)
    return [step * index for index in range(math.ceil(high / step - 1e-9) + 1)]


def _duration(seconds: float) -> str:
    """A short axis label: 0.1 ms, 5 ms, 1 s, 2.5 s."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1000:.3g} ms"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _svg_open(width: int, height: int, label: str) -> str:
    size = f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
    return f'<svg {size} role="img" aria-label="{escape(label)}">'


def _text(x: float, y: float, text: str, *, anchor: str = "start", css: str = "", vertical: bool = False) -> str:
    turn = f' transform="rotate(-90 {_n(x)} {_n(y)})"' if vertical else ""
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{css_class(css)}{turn}>{escape(text)}</text>'


def _x_axis(scale: _Scale, ticks: Iterable[tuple[float, str]], bottom: float, top: float) -> list[str]:
    parts = [f'<line class="axis" x1="{_n(scale.start)}" y1="{_n(bottom)}" x2="{_n(scale.end)}" y2="{_n(bottom)}"/>']
    for value, label in ticks:
        x = scale(value)
        parts.append(f'<line class="grid" x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}"/>')
        parts.append(f'<line class="axis" x1="{_n(x)}" y1="{_n(bottom)}" x2="{_n(x)}" y2="{_n(bottom + 4)}"/>')
        if label:
            parts.append(_text(x, bottom + 16, label, anchor="middle"))
    return parts


def _y_axis(scale: _Scale, ticks: Iterable[tuple[float, str]], left: float, right: float) -> list[str]:
    parts = [f'<line class="axis" x1="{_n(left)}" y1="{_n(scale.start)}" x2="{_n(left)}" y2="{_n(scale.end)}"/>']
    for value, label in ticks:
        y = scale(value)
        parts.append(f'<line class="grid" x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}"/>')
        parts.append(_text(left - 6, y + 4, label, anchor="end"))
    return parts


def _decade_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """Labelled powers of ten in [low, high] and unlabelled 2..9 multiples between them."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for multiple in range(1, 10):
            value = multiple * 10.0**exponent
            if low * (1 - 1e-9) <= value <= high * (1 + 1e-9):
                ticks.append((value, _duration(value) if multiple == 1 else ""))
    return ticks


def _no_data(x: float, y: float) -> str:
    return _text(x, y, "no data", anchor="middle", css="nodata")


# -- the latency distribution ----------------------------------------------------------------------
def _bins(samples: Iterable[float]) -> tuple[list[int], int]:
    """Counts per log-spaced bin from HISTOGRAM_LOW_SECONDS to HISTOGRAM_HIGH_SECONDS (the first bin
    takes the samples under it), and how many samples are past HISTOGRAM_HIGH_SECONDS."""
    size = math.ceil(round(math.log10(HISTOGRAM_HIGH_SECONDS / HISTOGRAM_LOW_SECONDS) * BINS_PER_DECADE, 9))
    counts = [0] * size
    over = 0
    low = math.log10(HISTOGRAM_LOW_SECONDS)
    for sample in samples:
        if sample > HISTOGRAM_HIGH_SECONDS:
            over += 1
            continue
        index = math.floor((math.log10(sample) - low) * BINS_PER_DECADE) if sample > 0 else 0
        counts[min(max(index, 0), size - 1)] += 1
    return counts, over


def _over_range_bar(count: int, largest: float, span: tuple[float, float], y: _Scale, bottom: float) -> list[str]:
    """The bar of the samples past the axis, right of it (`span`: its x from, to): labelled `> 5 s`
    below and its count above."""
    x0, x1 = span
    y0 = y(count)
    middle = (x0 + x1) / 2
    high = _duration(HISTOGRAM_HIGH_SECONDS)
    return [
        f'<rect class="over" x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(bottom - y0)}">'
        f"<title>past {escape(high)}: {count} (the longest {escape(_duration(largest))})</title></rect>",
        _text(middle, y0 - 4, _count(count), anchor="middle", css="over"),
        _text(middle, bottom + 16, f"> {high}", anchor="middle", css="over"),
    ]


def _marker_labels(average: float | None, budget: float | None, x: _Scale) -> list[tuple[str, float, str, bool]]:
    """(css, position, label, leftwards?) for the average and budget lines.

    The two labels point away from each other (so they never overlap), unless one would leave the chart.
    """
    wanted = []
    if average is not None:
        wanted.append(("avg", average, f"avg {as_ms(average)} ms", budget is not None and average < budget))
    if budget is not None:
        wanted.append(
            ("budget", budget, f"budget: avg < {budget * 1000:g} ms", average is not None and average >= budget)
        )
    markers = []
    for css, value, label, away_left in wanted:
        at, width = x(max(value, x.low)), len(label) * 6.6 + 8
        fits = at - width >= x.start if away_left else at + width <= x.end
        markers.append((css, at, label, away_left == fits))
    return markers


def histogram_svg(title: str, samples: Sequence[float], stats: Mapping[str, Any]) -> str:
    """Counts per log-spaced latency bin, with the average and the SLO budget as vertical lines."""
    width, height, left, right, top, bottom = 540, 276, 56, 16, 62, 234
    over_slot = 40  # room right of the axis for the bar of the samples past it
    x = _Scale(HISTOGRAM_LOW_SECONDS, HISTOGRAM_HIGH_SECONDS, left, width - right - over_slot, log=True)
    parts = [_svg_open(width, height, f"latency distribution: {title}"), _text(left, 18, title, css="title")]
    parts.append(_text((left + width - right) / 2, height - 8, "latency (log scale)", anchor="middle", css="muted"))
    parts += _x_axis(x, _decade_ticks(HISTOGRAM_LOW_SECONDS, HISTOGRAM_HIGH_SECONDS), bottom, top)
    if not samples:
        parts += [_no_data((left + width - right) / 2, (top + bottom) / 2), "</svg>"]
        return "".join(parts)
    figures = ", ".join(
        f"{key} {_duration(value)}"
        for key in ("p50", "p95", "p99", "max")
        if (value := as_number(stats.get(f"{key}_seconds"))) is not None
    )
    parts.append(_text(left, 36, f"{len(samples):,} samples" + (f": {figures}" if figures else ""), css="muted"))
    counts, over = _bins(samples)
    count_ticks = _linear_ticks(max([*counts, over]), 4, whole=True)
    y = _Scale(0, count_ticks[-1], bottom, top)
    parts += _y_axis(y, [(tick, _count(tick)) for tick in count_ticks], left, width - right)
    parts.append(_text(14, (top + bottom) / 2, "count", anchor="middle", css="muted", vertical=True))
    for index, count in enumerate(counts):
        if count:
            edge_low = HISTOGRAM_LOW_SECONDS * 10 ** (index / BINS_PER_DECADE)
            edge_high = min(HISTOGRAM_LOW_SECONDS * 10 ** ((index + 1) / BINS_PER_DECADE), HISTOGRAM_HIGH_SECONDS)
            x0, x1, y0 = x(edge_low), x(edge_high), y(count)
            parts.append(
                f'<rect fill="{_COLORS["bar"]}" x="{_n(x0 + 0.5)}" y="{_n(y0)}" width="{_n(max(x1 - x0 - 1, 0.5))}" '
                f'height="{_n(bottom - y0)}"><title>{escape(_duration(edge_low))} to {escape(_duration(edge_high))}: '
                f"{count}</title></rect>"
            )
    if over:
        parts += _over_range_bar(over, max(samples), (x.end + 8, width - right - 4), y, bottom)
    average, budget = as_number(stats.get("average_seconds")), as_number(stats.get("budget_seconds"))
    for css, at, label, leftwards in _marker_labels(average, budget, x):
        parts.append(f'<line class="{css}" x1="{_n(at)}" y1="{_n(top - 14)}" x2="{_n(at)}" y2="{_n(bottom)}"/>')
        parts.append(
            _text(at - 5 if leftwards else at + 5, top - 6, label, anchor="end" if leftwards else "start", css=css)
        )
    parts.append("</svg>")
    return "".join(parts)


# -- the timeline ----------------------------------------------------------------------------------
def _path(points: Sequence[tuple[float, float] | None], color: str, *, width: float = 1.8, dashed: bool = False) -> str:
    """A line through the points, broken where a point is None; a lone point becomes a dot."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    parts = []
    for run in runs:
        if len(run) == 1:
            parts.append(f'<circle cx="{_n(run[0][0])}" cy="{_n(run[0][1])}" r="2" fill="{color}"/>')
        elif run:
            line = " ".join(f"{_n(px)},{_n(py)}" for px, py in run)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="{width}"{dash} points="{line}"/>')
    return "".join(parts)


def _fault_rows(labels: Sequence[tuple[float, str]], right_edge: float) -> list[tuple[float, str, int]]:
    """(text x, anchor, row) per fault label, staggered over up to 6 rows so neighbouring labels do not overlap."""
    ends: list[float] = []
    placed = []
    for at, label in labels:
        width = len(label) * 6.6 + 8
        flip = at + 4 + width > right_edge
        start = at - 4 - width if flip else at + 4
        row = next((index for index, end in enumerate(ends) if end < start), None)
        if row is None and len(ends) < 6:
            ends.append(0.0)
            row = len(ends) - 1
        elif row is None:
            row = min(range(len(ends)), key=ends.__getitem__)
        ends[row] = start + width
        placed.append((at - 4 if flip else at + 4, "end" if flip else "start", row))
    return placed


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for key, label in entries:
        dash = ' stroke-dasharray="4 3"' if key in ("fault", "chain_p99_seconds") else ""
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(y - 4)}" x2="{_n(x + 18)}" y2="{_n(y - 4)}" stroke="{_COLORS[key]}" '
            f'stroke-width="2.5"{dash}/>{_text(x + 22, y, label)}'
        )
        x += 34 + len(label) * 6.6
    return "".join(parts)


def _throughput_panel(series: Sequence[Mapping[str, Any]], x: _Scale, bucket: float, top: float, bottom: float) -> str:
    """Sent and delivered events per second, per bucket (plotted at the bucket's middle)."""
    parts = [_text(16, (top + bottom) / 2, "events / s", anchor="middle", css="muted", vertical=True)]
    rates = {key: [as_number(point.get(key)) for point in series] for key in ("sent", "delivered")}
    peak = max([value / bucket for column in rates.values() for value in column if value is not None] or [0.0])
    if peak <= 0:
        return "".join([*parts, _no_data((x.start + x.end) / 2, (top + bottom) / 2)])
    y = _Scale(0, _linear_ticks(peak, 4)[-1], bottom, top)
    parts += _y_axis(y, [(tick, _count(tick)) for tick in _linear_ticks(y.high, 4)], x.start, x.end)
    middles = [x((as_number(point.get("t_seconds")) or 0.0) + bucket / 2) for point in series]
    for key, width in (("sent", 3.0), ("delivered", 1.5)):
        points = [None if v is None else (at, y(v / bucket)) for at, v in zip(middles, rates[key], strict=True)]
        parts.append(_path(points, _COLORS[key], width=width))
    return "".join(parts)


def _latency_panel(series: Sequence[Mapping[str, Any]], x: _Scale, bucket: float, top: float, bottom: float) -> str:
    """Hop p50 and p99 and chain p99 per bucket, on a log scale spanning the decades the data needs."""
    parts = [_text(16, (top + bottom) / 2, "latency (log)", anchor="middle", css="muted", vertical=True)]
    keys = ("hop_p50_seconds", "hop_p99_seconds", "chain_p99_seconds")
    columns = {key: [as_number(point.get(key)) for point in series] for key in keys}
    values = [value for column in columns.values() for value in column if value is not None and value > 0]
    if not values:
        return "".join([*parts, _no_data((x.start + x.end) / 2, (top + bottom) / 2)])
    low = 10.0 ** max(math.floor(math.log10(min(values))), -6)
    high = max(10.0 ** math.ceil(math.log10(max(values))), low * 10)
    y = _Scale(low, high, bottom, top, log=True)
    parts += _y_axis(y, [(tick, label) for tick, label in _decade_ticks(low, high) if label], x.start, x.end)
    middles = [x((as_number(point.get("t_seconds")) or 0.0) + bucket / 2) for point in series]
    for key in keys:
        points = [None if v is None else (at, y(max(v, low))) for at, v in zip(middles, columns[key], strict=True)]
        parts.append(_path(points, _COLORS[key], dashed=key == "chain_p99_seconds"))
    return "".join(parts)


def timeline_svg(timeline: Mapping[str, Any]) -> str:
    """Throughput above latency on one time axis, with a labelled vertical marker per fault across both."""
    series = [point for point in timeline.get("series", []) if isinstance(point, dict)]
    faults = [fault for fault in timeline.get("faults", []) if isinstance(fault, dict)]
    bucket = max(as_number(timeline.get("bucket_seconds")) or 1.0, 1e-3)
    width, left, right, panel, gap = 1040, 64, 24, 150, 34
    times = [(as_number(point.get("t_seconds")) or 0.0) + bucket for point in series] + [
        (as_number(f.get("t_seconds")) or 0.0) + bucket for f in faults
    ]
    x = _Scale(0, max([*times, bucket]), left, width - right)
    fault_labels = [f"{fault.get('kind', '')} {fault.get('target', '')}" for fault in faults]
    fault_xs = [x(as_number(fault.get("t_seconds")) or 0.0) for fault in faults]
    placed = _fault_rows(list(zip(fault_xs, fault_labels, strict=True)), width - right)
    band_top = 34
    throughput_top = band_top + 14 * (max((row for _, _, row in placed), default=-1) + 1) + 12
    latency_top = throughput_top + panel + gap
    latency_bottom = latency_top + panel
    height = latency_bottom + 46
    legend = [
        ("sent", "sent /s"),
        ("delivered", "delivered /s"),
        ("hop_p50_seconds", "hop p50"),
        ("hop_p99_seconds", "hop p99"),
        ("chain_p99_seconds", "signal -> execution p99"),
        ("fault", "fault"),
    ]
    ticks = [(tick, f"{tick:g} s") for tick in _linear_ticks(x.high, 10) if tick <= x.high * (1 + 1e-9)]
    parts = [
        _svg_open(width, height, "timeline: throughput, latency and faults"),
        _text(left, 18, "timeline", css="title"),
        _legend(legend, left + 90, 18),
        *_x_axis(x, [(tick, "") for tick, _ in ticks], throughput_top + panel, throughput_top),
        _throughput_panel(series, x, bucket, throughput_top, throughput_top + panel),
        *_x_axis(x, ticks, latency_bottom, latency_top),
        _latency_panel(series, x, bucket, latency_top, latency_bottom),
        _text((left + width - right) / 2, height - 8, "seconds since the run started", anchor="middle", css="muted"),
    ]
    for fault, at, label, (label_x, anchor, row) in zip(faults, fault_xs, fault_labels, placed, strict=True):
        label_y = band_top + 11 + 14 * row
        tip = f"{as_number(fault.get('t_seconds')) or 0.0:.1f} s {label}: {fault.get('detail', '')}"
        parts.append(
            f'<g class="fault"><title>{escape(tip)}</title><line x1="{_n(at)}" y1="{_n(label_y - 10)}" x2="{_n(at)}" '
            f'y2="{_n(latency_bottom)}"/>{_text(label_x, label_y, label, anchor=anchor)}</g>'
        )
    parts.append("</svg>")
    return "".join(parts)
