"""`tradewire harness`: run the agent pipeline over the real broker, with chaos, and prove nothing is lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tradewire.cli.context import EXIT_FINDINGS, EXIT_OK, CliState, console_err, console_out
from tradewire.config import find_config
from tradewire.harness.scenarios import SCENARIOS

__all__ = ["harness"]


@click.group()
def harness() -> None:
    """Simulated agents as processes over Kafka and the registry: scenarios, ledger, latency report."""


@harness.command("scenarios")
def list_scenarios() -> None:
    """List the scenarios with what each does."""
    for scenario in SCENARIOS.values():
        pace = f"bursts of {scenario.burst}" if scenario.burst else f"{scenario.rate:g}/s"
        brokers = f", {scenario.brokers} brokers" if scenario.brokers > 1 else ""
        click.echo(f"{scenario.name:16} {scenario.events} signals, {pace}{brokers}: {scenario.description}")


@harness.command("run")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    required=True,
    type=click.Choice(list(SCENARIOS)),
    help="What to run (repeat to run several in order, e.g. --scenario steady --scenario poison).",
)
@click.option("--events", type=click.IntRange(min=1), default=None, help="Signals to send (default: per scenario).")
@click.option("--rate", type=click.FloatRange(min=0), default=None, help="Signals per second (0: as fast as possible).")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".tradewire/harness"),
    show_default=True,
    help="Where report.json, report.html, journals and logs go (a folder per scenario).",
)
@click.option("--bootstrap", default=None, help="Use this Kafka instead of starting one (no broker scenarios).")
@click.option("--registry", default=None, help="With --bootstrap: the registry URL (default: http://127.0.0.1:8081).")
@click.option(
    "--timeout", type=click.FloatRange(min=10), default=180.0, show_default=True, help="Seconds a scenario may take."
)
@click.option("--keep-stack", is_flag=True, help="Keep the harness's Kafka data after the run (for inspection).")
@click.pass_obj
def run(state: CliState, /, scenarios: tuple[str, ...], report_dir: Path, **settings: Any) -> int:
    """Run scenarios and print each one's ledger and SLO table (exit 100 when one loses or misplaces an event)."""
    from tradewire.harness import report as reports  # noqa: PLC0415 - loaded when a run starts
    from tradewire.harness.run import HarnessOptions, run_scenarios  # noqa: PLC0415

    if settings["registry"] and not settings["bootstrap"]:
        raise click.UsageError("--registry needs --bootstrap (the harness starts its own registry otherwise)")
    found = find_config(Path.cwd()) if state.config_path is None else Path(state.config_path).resolve()
    project = found.parent if found is not None else Path.cwd()
    options = HarnessOptions(scenarios=scenarios, report_dir=report_dir.resolve(), project=project, **settings)
    options.report_dir.mkdir(parents=True, exist_ok=True)
    kafka_log = logging.getLogger("tradewire.kafka")  # broker-down chatter goes to a file, not the terminal
    kafka_log.addHandler(logging.FileHandler(options.report_dir / "harness.log"))
    kafka_log.propagate = False
    err = console_err()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )

    def progress(name: str) -> Callable[[int, int, str], None]:
        task = bar.add_task(f"{name}: signals acknowledged", total=None, status="")

        def update(done: int, total: int, status: str) -> None:
            bar.update(task, completed=done, total=total, status=status)

        return update

    with bar:
        results = run_scenarios(options, say=bar.console.print, progress=progress)
    out = console_out()  # outside a terminal as wide as the ledger needs: one line per hop
    for result in results:
        reports.render_text(result, out)
        out.print(f"report: {result['paths']['html']} (and report.json beside it)")
    failed = [result["scenario"] for result in results if not result["passed"]]
    if failed:
        err.print(f"[red]FAILED:[/] {', '.join(failed)}")
        return EXIT_FINDINGS
    err.print(f"[green]every scenario passed its ledger check[/] ({', '.join(scenarios)})")
    return EXIT_OK
