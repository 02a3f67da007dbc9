"""`tradewire dev up | down | status`: a real Kafka and the dev registry on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console

from tradewire.cli.context import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliState, console_err
from tradewire.config import find_config
from tradewire.devstack.ports import MAX_PORT, StackConflictError
from tradewire.devstack.stack import DevStack, StackOptions
from tradewire.errors import TradingSystemError
from tradewire.topics import ensure_contract_topics, events_of_catalog

__all__ = ["dev"]


def _project(state: CliState) -> Path:
    if state.config_path is not None:
        return Path(state.config_path).resolve().parent
    found = find_config(Path.cwd())
    return found.parent if found is not None else Path.cwd()


@click.group()
def dev() -> None:
    """Run a real Apache Kafka (KRaft, from Maven Central) and the dev registry locally."""


_PORT = click.IntRange(1, MAX_PORT)


@dev.command()
@click.option(
    "--brokers",
    type=click.Choice(["1", "3"]),
    default="1",
    show_default=True,
    help="3 = replication factor 3 and min.insync.replicas 2, for failover tests.",
)
@click.option(
    "--kafka-port",
    type=_PORT,
    default=None,
    help="Port of the first broker; node i listens on kafka-port + 2(i-1).  [default: the last stack's, else 9092]",
)
@click.option(
    "--controller-port",
    type=_PORT,
    default=None,
    help="Port of the first broker's KRaft controller; node i's is controller-port + 2(i-1).  "
    "[default: kafka-port + 1, or the last stack's when --kafka-port is not given either]",
)
@click.option(
    "--registry-port",
    type=_PORT,
    default=None,
    help="Port of the dev registry.  [default: the last stack's, else 8081]",
)
@click.option("--no-registry", is_flag=True, help="Start Kafka only.")
@click.pass_obj
def up(
    state: CliState,
    /,
    *,
    brokers: str,
    kafka_port: int | None,
    controller_port: int | None,
    registry_port: int | None,
    no_registry: bool,
) -> int:
    """Start the stack (or report it already runs) and print where things listen.

    Every port is checked before anything starts; a port in use or needed twice, or another broker count
    than the running stack's, exits 2 naming it.
    """
    options = StackOptions(
        _project(state),
        kafka_port,
        registry_port,
        int(brokers),
        registry=not no_registry,
        controller_port=controller_port,
    )
    stack = DevStack(options)
    err = console_err()
    try:
        status = stack.up(say=err.print)
    except StackConflictError as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        return EXIT_USAGE
    kafka_time = status.timings.get("kafka", 0.0)
    count = len(status.brokers)
    verb = "already running" if status.already_running else f"ready in {kafka_time:.1f} s"
    click.echo(f"kafka     {status.bootstrap}  ({count} broker{'s' if count > 1 else ''}, {verb})")
    click.echo(f"controller {status.controllers}  (KRaft quorum, not for clients)")
    if status.registry_url:
        registry_time = status.timings.get("registry")
        verb = f"ready in {registry_time:.1f} s" if registry_time is not None else "already running"
        click.echo(f"registry  {status.registry_url}  ({verb})")
    err.print(f"stack up in {status.timings.get('total', 0.0):.1f} s; stop it with `tradewire dev down`")
    exports = f"export TRADEWIRE_BOOTSTRAP_SERVERS={status.bootstrap}"
    if status.registry_url:
        exports += f" TRADEWIRE_REGISTRY_URL={status.registry_url}"
    click.echo(exports)
    _create_contract_topics(state, status.bootstrap, err)
    return EXIT_OK


def _create_contract_topics(state: CliState, bootstrap: str, err: Console) -> None:
    """Once Kafka is up, the project's contract topics, made as `tradewire topics apply` makes them (under
    $TRADEWIRE_TOPIC_PREFIX); a project without contracts gets none, and a failure is a warning, not a failed up."""
    if state.config_path is None and find_config(Path.cwd()) is None:
        return
    try:
        catalog = state.catalog()
        events = events_of_catalog(catalog, state.config.namespace)
        if not events:
            return
        prefix = os.environ.get("TRADEWIRE_TOPIC_PREFIX", "")
        synced = ensure_contract_topics(bootstrap, events, state.config.topics, prefix=prefix)
    except TradingSystemError as error:
        err.print(f"[yellow]warning:[/] contract topics not created ({error}); see `tradewire topics plan`")
        return
    created = synced.plan.count("create")
    err.print(
        f"topics: {created} contract topic(s) created, {len(synced.plan.topics) - created} already there "
        "(`tradewire topics plan` shows them)"
    )


@dev.command()
@click.option("--wipe", is_flag=True, help="Also delete the brokers' data (topics, offsets, registered schemas).")
@click.pass_obj
def down(state: CliState, wipe: bool) -> int:
    """Stop what `dev up` started, and nothing else."""
    stack = DevStack(StackOptions(_project(state)))
    stopped = stack.down(wipe=wipe)
    for item in stopped:
        click.echo(f"stopped {item}")
    if not stopped:
        click.echo("nothing was running")
    if wipe:
        click.echo("wiped the dev data")
    return EXIT_OK


@dev.command()
@click.pass_obj
def status(state: CliState) -> int:
    """Tell what runs (exit 1 when the stack is not fully up: a broker or the registry is down)."""
    current = DevStack(StackOptions(_project(state))).status()
    if not current.brokers:
        click.echo("kafka     not running")
        return EXIT_FAILURE
    for node_id, pid in sorted(current.brokers.items()):
        click.echo(f"kafka     node {node_id}: {'running (pid ' + str(pid) + ')' if pid else 'not running'}")
    click.echo(f"kafka     {current.bootstrap}  (controller {current.controllers})")
    if current.registry_url:
        click.echo(f"registry  {current.registry_url} (pid {current.registry_pid})")
    elif current.expected_registry_url:
        click.echo(
            f"registry  not running (expected at {current.expected_registry_url}; `tradewire dev up` restarts it)"
        )
    else:
        click.echo("registry  not started (--no-registry)")
    if not current.running:
        console_err().print("[red]the stack is not fully up[/]; `tradewire dev up` starts what is missing")
        return EXIT_FAILURE
    return EXIT_OK
