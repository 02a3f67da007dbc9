"""Recovery benchmark: the harness's fault scenarios, run several times, summarised.

For each run of each scenario it prints the delivery gap of every injected fault on every hop it
affects (see `tradewire.harness.recovery` for the exact definition), how soon deliveries came back
after the fault was undone (the agent restarted, the broker back), the signal-to-execution and
pooled hop p99, and the duplicates: events handled twice (journaled by a handler twice, the
ledger's "duplicates delivered") and redeliveries dedup suppressed. Then median and worst per
scenario, against the targets (consumer kill -9: gap <= 2 s; broker restart: p99 < 10 s).

Two modes:

* `run`: start the harness (its own Kafka and dev registry on free ports) and run the scenarios;
* `analyse DIR...`: the same figures from report folders of earlier runs (`--report` of
  `tradewire harness run`, or of `run` here), also of older tradewire versions whose reports lack
  the recovery figures or name durations without units: the gaps are worked out again from the
  journals, so a baseline measured on an older commit reads the same way.

Run:     .venv/bin/python bench/recovery.py run [--runs 3] [--scenario consumer-crash] [--events 300]
         [--broker-down 10]   (broker-restart with a longer outage than its 2 s)
Analyse: .venv/bin/python bench/recovery.py analyse /tmp/reports/cc-1 /tmp/reports/cc-2 ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import confluent_kafka

from tradewire.harness.config import PIPELINE
from tradewire.harness.journal import read_journals
from tradewire.harness.ledger import Observations
from tradewire.harness.recovery import affected_hops, fault_gaps
from tradewire.harness.run import Harness, HarnessOptions
from tradewire.harness.scenarios import SCENARIOS, Fault, Scenario

REPO = Path(__file__).resolve().parent.parent
UNDO_KINDS = {"restart"}
NOT_INJECTED = {"restart", "replay", "trip", "reset", "halt", "resume"}
TARGETS = {"consumer-crash": ("gap", 2.0), "broker-restart": ("chain p99", 10.0)}


def _seconds(entry: dict[str, Any], key: str) -> float | None:
    """A figure from a report of any version (`p99_seconds` now, `p99` before units were named)."""
    value = entry.get(f"{key}_seconds", entry.get(key))
    return float(value) if isinstance(value, int | float) else None


def _action(kind: str, target: str) -> tuple[str, str]:
    """The scenario action behind a fault line of the report (for reports without recovery figures)."""
    if kind == "kill":
        if target.startswith("broker"):
            return ("kill-broker" if target == "broker" else "kill-leader"), ""
        return "kill-agent", target.rsplit("-", 1)[0]
    return {
        "join": ("start-agent", target.rsplit("-", 1)[0]),
        "stop": ("stop-registry", ""),
        "poison": ("inject-poison", target),
        "degrade": ("degrade-agent", target.rsplit("-", 1)[0]),
    }.get(kind, (kind, target))


def _gaps_from_journals(folder: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The recovery gaps of a report folder, worked out from its journals (what newer reports carry)."""
    observations = Observations()
    for source, line in read_journals(folder / "run" / "journals"):
        observations.add(source, line)
    t0 = datetime.datetime.fromisoformat(report["started_at"]).timestamp()
    faults = [f for f in report["timeline"]["faults"] if f["kind"] not in ("trip", "reset", "halt", "resume")]
    times = [_seconds(fault, "t") or 0.0 for fault in faults]
    injected = [(t, f) for t, f in zip(times, faults, strict=True) if f["kind"] not in NOT_INJECTED]
    stopped = float(report.get("duration_seconds", 0.0))
    rows = []
    for index, (at, fault) in enumerate(injected):
        window_end = injected[index + 1][0] if index + 1 < len(injected) else stopped
        undo = next(
            (t for t, f in zip(times, faults, strict=True) if f["kind"] in UNDO_KINDS and t > at),
            None,
        )
        action, target = _action(fault["kind"], fault["target"])
        found = fault_gaps(observations, affected_hops(action, target), t0 + at, t0 + window_end)
        for (topic, group), gap in found.items():
            end = gap.end - t0
            rows.append(
                {
                    "fault": f"{fault['kind']} {fault['target']}",
                    "hop": f"{topic} -> {group}",
                    "gap_seconds": gap.seconds,
                    "recovered": gap.recovered,
                    "undone_to_delivery_seconds": end - undo if undo is not None and end > undo else None,
                }
            )
    return rows


def figures(folder: Path) -> dict[str, Any]:
    """What this benchmark prints about one run, from its report folder."""
    report = json.loads((folder / "report.json").read_text())
    recovery = report.get("recovery", {}).get("gaps")
    gaps = recovery if recovery is not None else _gaps_from_journals(folder, report)
    pipeline = {f"{topic} -> {group}" for topic, group in PIPELINE}
    hops = [hop for hop in report["hops"] if hop["name"] in pipeline]
    return {
        "folder": str(folder),
        "scenario": report["scenario"],
        "version": report.get("tradewire_version", "?"),
        "passed": report["passed"],
        "gaps": gaps,
        "chain_p99_seconds": _seconds(report["latency"]["signal_to_execution"], "p99"),
        "hop_p99_seconds": _seconds(report["latency"]["hop"], "p99"),
        "handled_twice": sum(int(hop.get("duplicates_delivered", 0)) for hop in hops),
        "handled_twice_risk": next(
            (int(hop.get("duplicates_delivered", 0)) for hop in hops if hop["group"] == "risk"), 0
        ),
        "suppressed": sum(int(hop.get("duplicates_suppressed", 0)) for hop in hops),
        "handled": sum(int(hop.get("delivered", 0)) for hop in hops),
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_table(runs: list[dict[str, Any]]) -> None:
    columns = ("run", "scenario", "fault", "hop", "gap s", "after undo s", "chain p99 s", "hop p99 s")
    print("| " + " | ".join((*columns, "handled twice", "suppressed")) + " |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for index, run in enumerate(runs, 1):
        gaps = run["gaps"] or [{"fault": "—", "hop": "—", "gap_seconds": None, "undone_to_delivery_seconds": None}]
        for position, gap in enumerate(gaps):
            first = position == 0
            flag = "" if gap.get("recovered", True) else " (open)"
            print(
                f"| {index} | {run['scenario']} | {gap['fault']} | {gap['hop']} | {_fmt(gap['gap_seconds'])}{flag} | "
                f"{_fmt(gap['undone_to_delivery_seconds'])} | "
                f"{_fmt(run['chain_p99_seconds']) if first else ''} | "
                f"{_fmt(run['hop_p99_seconds']) if first else ''} | "
                f"{run['handled_twice'] if first else ''} | {run['suppressed'] if first else ''} |"
            )
    print()
    for scenario in sorted({run["scenario"] for run in runs}):
        chosen = [run for run in runs if run["scenario"] == scenario]
        longest = [max((g["gap_seconds"] for g in run["gaps"]), default=0.0) for run in chosen]
        chain = [run["chain_p99_seconds"] for run in chosen if run["chain_p99_seconds"] is not None]
        twice = [run["handled_twice"] for run in chosen]
        line = (
            f"{scenario}: {len(chosen)} runs; longest gap median {statistics.median(longest):.2f} s, "
            f"worst {max(longest):.2f} s; chain p99 median {statistics.median(chain):.2f} s, worst {max(chain):.2f} s; "
            f"handled twice {twice} (of {[run['handled'] for run in chosen]} handled)"
        )
        kind, limit = TARGETS.get(scenario, (None, 0.0))
        if kind == "gap":
            line += f"; target gap <= {limit:g} s: {'met' if max(longest) <= limit else 'MISSED'} in the worst run"
        elif kind == "chain p99":
            line += f"; target p99 < {limit:g} s: {'met' if max(chain) < limit else 'MISSED'} in the worst run"
        print(line)


def environment() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"tradewire {metadata.version('tradewire')}, confluent-kafka {metadata.version('confluent-kafka')} "
        f"(librdkafka {confluent_kafka.libversion()[0]}), load average {load:.2f}"
    )


def _longer_outage(scenario: Scenario, seconds: float) -> Scenario:
    """broker-restart with the broker down `seconds` before its restart (no p99 target: the outage is the point)."""
    return Scenario(
        scenario.name,
        f"the broker is SIGKILLed mid-run and restarted {seconds:g} s later",
        events=scenario.events,
        rate=scenario.rate,
        faults=(Fault(0.4, "kill-broker", "", duration=seconds),),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the fault scenarios and summarise them")
    run.add_argument("--runs", type=int, default=3)
    run.add_argument("--scenario", action="append", dest="scenarios")
    run.add_argument("--events", type=int, default=None)
    run.add_argument("--out", type=Path, default=None, help="where the report folders go (default: a temp dir)")
    run.add_argument(
        "--broker-down",
        type=float,
        default=None,
        help="broker-restart only: seconds the broker stays down before its restart (the scenario's: 2)",
    )
    analyse = commands.add_parser("analyse", help="summarise report folders of earlier runs")
    analyse.add_argument("folders", nargs="+", type=Path)
    analyse.add_argument("--json", type=Path, default=None)
    options = parser.parse_args(argv)
    print(environment())
    if options.command == "analyse":
        folders = [folder if (folder / "report.json").exists() else next(folder.glob("*/report.json")).parent
                   for folder in options.folders]  # fmt: skip
        runs = [figures(folder) for folder in folders]
        print_table(runs)
        if options.json:
            options.json.write_text(json.dumps(runs, indent=2))
        return 0
    scenarios = tuple(options.scenarios or ("consumer-crash", "broker-restart"))
    out = options.out or Path(tempfile.mkdtemp(prefix="tradewire-recovery-"))
    runs = []
    for index in range(options.runs):
        harness_options = HarnessOptions(
            scenarios=(), report_dir=out / f"run-{index + 1}", project=REPO, events=options.events, timeout=240
        )
        with Harness(harness_options, say=lambda line: print(line, file=sys.stderr)) as harness:
            for name in scenarios:
                scenario = SCENARIOS[name]
                if name == "broker-restart" and options.broker_down is not None:
                    scenario = _longer_outage(scenario, options.broker_down)
                report = harness.run(scenario)
                runs.append(figures(Path(report["paths"]["json"]).parent))
    print(f"report folders under {out}")
    print_table(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
