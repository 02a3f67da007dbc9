"""`tradewire topics plan | apply | drift`: the contract topics on a cluster.

`plan` says what `apply` would create or change (and what it refuses, with the reason);
`apply` does it through Kafka's Admin API, idempotently, and waits until every topic has
leaders; `drift` names every difference between the cluster and the contracts, including
topics no contract declares. Exit codes: 0 done / nothing refused / no drift, 100 something
refused (plan, apply) or drift found, 1 Kafka unreachable or a change failed, 2 bad options.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from tradewire.cli.context import EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, CliState, console_err
from tradewire.errors import ConfigError
from tradewire.settings import DEFAULT_BOOTSTRAP
from tradewire.topics import (
    CLIENT_CONFIG_PREFIXES,
    Applied,
    Cap,
    Change,
    ClusterState,
    Plan,
    TopicAdmin,
    TopicPlan,
    check_prefix,
    contract_topics,
    drift,
    events_of_catalog,
    plan,
)
from tradewire.topics.admin import KAFKA_LOG

__all__ = ["topics"]

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def topics() -> None:
    """The contract topics on a cluster: plan, apply, drift (settings from `topics` in tradewire.yaml)."""


def _options(function: F) -> F:
    for option in reversed(
        [
            click.option(
                "--bootstrap-servers",
                metavar="HOST:PORT[,...]",
                envvar="TRADEWIRE_BOOTSTRAP_SERVERS",
                default=DEFAULT_BOOTSTRAP,
                show_default=True,
                help="Kafka to look at (default: $TRADEWIRE_BOOTSTRAP_SERVERS).",
            ),
            click.option(
                "--topic-prefix",
                metavar="PREFIX",
                envvar="TRADEWIRE_TOPIC_PREFIX",
                default="",
                help="Put in front of every topic name, as producers and consumers do (default: "
                "$TRADEWIRE_TOPIC_PREFIX); drift then looks only at topics starting with it.",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0.1),
                default=15.0,
                show_default=True,
                help="Seconds to wait for Kafka's answers and for new topics' leaders.",
            ),
            click.option(
                "-X",
                "--client-config",
                "client_settings",
                metavar="KEY=VALUE",
                multiple=True,
                help=f"A librdkafka setting for the admin client, a key starting with "
                f"{', '.join(CLIENT_CONFIG_PREFIXES[:-1])} or {CLIENT_CONFIG_PREFIXES[-1]} (SASL, TLS); repeatable. "
                "Prefer --command-config for secrets: the command line shows in `ps`.",
            ),
            click.option(
                "--command-config",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=None,
                help="A file of librdkafka settings for the admin client, one KEY=VALUE a line (# comments).",
            ),
            click.option(
                "--format",
                "output_format",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
            ),
        ]
    ):
        function = option(function)
    return function


def _client_config(settings: Sequence[str], command_config: Path | None) -> dict[str, str]:
    lines: list[tuple[str, str]] = []
    if command_config is not None:
        for number, line in enumerate(command_config.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append((f"{command_config}:{number}", line.strip()))
    lines.extend(("-X", setting) for setting in settings)
    config: dict[str, str] = {}
    for where, line in lines:
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key:
            raise click.UsageError(f"{where}: expected KEY=VALUE, found {line!r}")
        if not key.startswith(CLIENT_CONFIG_PREFIXES):
            raise click.UsageError(
                f"{where}: {key!r} is not a client setting tradewire passes on; allowed: librdkafka keys starting "
                f"with {', '.join(CLIENT_CONFIG_PREFIXES)}"
            )
        config[key] = value.strip()
    return config


class _Session:
    """One command's view: the contracts' specs on the cluster, and what the cluster has."""

    def __init__(self, state: CliState, options: dict[str, Any]) -> None:
        try:
            self.prefix = check_prefix(options["topic_prefix"])
        except ConfigError as error:
            raise click.BadParameter(str(error), param_hint="--topic-prefix") from None
        self.bootstrap: str = options["bootstrap_servers"]
        self.output_format: str = options["output_format"]
        client_config = _client_config(options["client_settings"], options["command_config"])
        catalog = state.catalog()
        broken = sorted(schema_file.path for schema_file in catalog if not schema_file.ok)
        if broken:
            raise ConfigError(
                f"schema file(s) {', '.join(broken)} do not parse, so their topics are unknown; "
                "fix them first (`tradewire lint` says where)"
            )
        self.events = events_of_catalog(catalog, state.config.namespace)
        _quiet_librdkafka()
        self.admin = TopicAdmin(self.bootstrap, timeout=options["timeout"], client_config=client_config)
        self.cluster: ClusterState = self.admin.observe(self.prefix + topic for topic in self.events)
        specs, self.caps = contract_topics(
            self.events, state.config.topics, prefix=self.prefix, brokers=self.cluster.brokers
        )
        self.plan: Plan = plan(specs, self.cluster.topics)

    def where(self) -> str:
        plural = "s" if self.cluster.brokers != 1 else ""
        prefix = f", prefix {self.prefix!r}" if self.prefix else ""
        return f"{self.bootstrap} ({self.cluster.brokers} broker{plural}{prefix})"


def _quiet_librdkafka() -> None:
    """The command reports Kafka's failures itself; librdkafka's own retries would only repeat them on stderr."""
    if not KAFKA_LOG.handlers:
        KAFKA_LOG.addHandler(logging.NullHandler())
        KAFKA_LOG.propagate = False


# -- rendering -------------------------------------------------------------------------------------------
def _describe(change: Change) -> str:
    text = f"{change.what} {change.new}" if change.old is None else f"{change.what} {change.old} -> {change.new}"
    if change.refused:
        return f"{text}: {change.refused}"
    if change.warning:
        return f"{text} (warning: {change.warning})"
    return text


_PAST = {"create": "created", "update": "updated", "refused": "refused", "unchanged": "unchanged"}


def _lines(topic: TopicPlan, *, done: bool, error: str = "") -> list[tuple[str, str]]:
    """(verb, detail) lines of one topic."""
    name_of = (lambda action: _PAST[action]) if done else (lambda action: action)
    if error:
        return [("failed", error)]
    if topic.action == "create":
        return [(name_of("create"), ", ".join(f"{c.what} {c.new}" for c in topic.changes))]
    if topic.action == "unchanged":
        return [(name_of("unchanged"), "")]
    lines = [(name_of("update"), _describe(change)) for change in topic.applicable]
    lines += [("refused", _describe(change)) for change in topic.refused]
    return lines


def _print_topics(session: _Session, applied: list[Applied] | None) -> None:
    width = max((len(topic.spec.name) for topic in session.plan.topics), default=0)
    errors = {item.topic.spec.name: item.error for item in applied or []}
    for topic in session.plan.topics:
        for verb, detail in _lines(topic, done=applied is not None, error=errors.get(topic.spec.name, "")):
            click.echo(f"{verb:<9}  {topic.spec.name:<{width}}  {detail}".rstrip())
    for cap in session.caps:
        click.echo(f"note: {cap.describe()}")


def _summary(session: _Session, applied: list[Applied] | None) -> dict[str, int]:
    """Topics to create, to update, with a refused change (they may also be updated), unchanged; failed."""
    failed = {item.topic.spec.name for item in applied or [] if item.error}
    counts = dict.fromkeys(("create", "update", "refused", "unchanged"), 0)
    for topic in session.plan.topics:
        if topic.spec.name in failed:
            continue
        if topic.action in ("create", "update", "unchanged"):
            counts[topic.action] += 1
        if topic.refused:
            counts["refused"] += 1
    if applied is not None:
        counts["failed"] = len(failed)
    return counts


def _json_document(session: _Session, applied: list[Applied] | None) -> dict[str, Any]:
    errors = {item.topic.spec.name: item.error for item in applied or []}

    def change(item: Change) -> dict[str, Any]:
        return {"what": item.what, "from": item.old, "to": item.new, "refused": item.refused, "warning": item.warning}

    def topic(item: TopicPlan) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "topic": item.spec.name,
            "event_topic": item.spec.event_topic,
            "domain": item.spec.domain,
            "action": item.action,
            "changes": [change(c) for c in item.changes],
        }
        if applied is not None:
            entry["error"] = errors.get(item.spec.name, "")
        return entry

    def cap(item: Cap) -> dict[str, Any]:
        return {
            "brokers": item.brokers,
            "declared_replication_factor": item.declared_replication_factor,
            "replication_factor": item.replication_factor,
            "declared_min_insync_replicas": item.declared_min_insync_replicas,
            "min_insync_replicas": item.min_insync_replicas,
            "topics": list(item.topics),
        }

    return {
        "bootstrap_servers": session.bootstrap,
        "prefix": session.prefix,
        "brokers": session.cluster.brokers,
        "caps": [cap(c) for c in session.caps],
        "topics": [topic(t) for t in session.plan.topics],
        "summary": _summary(session, applied),
    }


def _counts(counts: dict[str, int], *, done: bool) -> str:
    words = ("created", "updated") if done else ("to create", "to update")
    text = f"{counts['create']} {words[0]}, {counts['update']} {words[1]}, {counts['refused']} refused"
    text += f", {counts['unchanged']} unchanged"
    if done:
        text += f", {counts['failed']} failed"
    return text


# -- commands ---------------------------------------------------------------------------------------------
@topics.command("plan")
@_options
@click.pass_obj
def plan_command(state: CliState, /, **options: Any) -> int:
    """Say what apply would create or change, and what it would refuse (exit 100) with the reason."""
    session = _Session(state, options)
    if session.output_format == "json":
        click.echo(json.dumps(_json_document(session, None), indent=2))
    else:
        _print_topics(session, None)
    counts = _summary(session, None)
    console_err().print(f"plan for {session.where()}: {_counts(counts, done=False)}")
    return EXIT_FINDINGS if session.plan.refused else EXIT_OK


@topics.command("apply")
@_options
@click.pass_obj
def apply_command(state: CliState, /, **options: Any) -> int:
    """Create and change the contract topics (never what plan refuses); wait until the brokers show them."""
    session = _Session(state, options)
    applied = session.admin.apply(session.plan)
    if session.output_format == "json":
        click.echo(json.dumps(_json_document(session, applied), indent=2))
    else:
        _print_topics(session, applied)
    counts = _summary(session, applied)
    err = console_err()
    if counts["failed"]:
        err.print(f"[red]apply at {session.where()} failed[/]: {_counts(counts, done=True)}")
        return EXIT_FAILURE
    if session.plan.empty and not session.plan.refused:
        err.print(f"nothing to change: the {len(session.plan.topics)} contract topics at {session.where()} match")
        return EXIT_OK
    err.print(f"applied at {session.where()}: {_counts(counts, done=True)}; every contract topic has a leader")
    return EXIT_FINDINGS if session.plan.refused else EXIT_OK


@topics.command("drift")
@_options
@click.pass_obj
def drift_command(state: CliState, /, **options: Any) -> int:
    """Name every difference between the cluster and the contracts (exit 100), topics without a contract too."""
    session = _Session(state, options)
    found = drift(session.plan, session.cluster.names, session.prefix)
    if session.output_format == "json":
        document = {
            "bootstrap_servers": session.bootstrap,
            "prefix": session.prefix,
            "drift": [{"topic": item.topic, "kind": item.kind, "detail": item.detail} for item in found],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for item in found:
            click.echo(f"{item.topic}: {item.kind}: {item.detail}")
    err = console_err()
    for cap in session.caps:
        err.print(f"note: {cap.describe()}")
    if found:
        err.print(f"[red]{len(found)} difference(s)[/] between the contracts and the topics at {session.where()}")
        return EXIT_FINDINGS
    err.print(f"[green]no drift[/]: the topics at {session.where()} are exactly the contracts'")
    return EXIT_OK
