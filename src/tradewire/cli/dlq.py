"""`tradewire dlq ls | show | replay`: the on-call engineer's view of dead letters, and their replay.

`ls` counts the dead letters of every DLQ topic by reason; `show` prints them, values
decoded through the registry when possible and raw otherwise; `replay` sends the picked
ones back to the group that failed them (never to other groups), with a progress bar
and an audit record. Exit codes: 0 done, 1 Kafka or a replay failed, 2 bad options.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradewire.avro.record import Contract
from tradewire.cli.context import EXIT_FAILURE, EXIT_OK, console_err, console_out
from tradewire.contracts import BY_TOPIC
from tradewire.dlq import (
    REASONS,
    DeadLetter,
    DeadLetterFilter,
    MalformedDeadLetterError,
    ReplayReport,
    list_dlq_topics,
    parse_instant,
    parse_offset_range,
    read_dead_letters,
    replay,
    replay_target,
    summarize,
)
from tradewire.dlq.topics import KAFKA_LOG
from tradewire.errors import RegistryError, RegistryUnavailableError
from tradewire.producer import Producer
from tradewire.registry.client import RegistryClient
from tradewire.serde.deserializer import DecodeFailure, EventDeserializer
from tradewire.settings import DEFAULT_BOOTSTRAP, ProducerSettings

__all__ = ["dlq"]

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def dlq() -> None:
    """Dead letters: list, show, replay."""


def _connection_options(function: F) -> F:
    function = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        help="Seconds to wait for Kafka before giving up.",
    )(function)
    return click.option(
        "--bootstrap-servers",
        metavar="HOST:PORT[,...]",
        envvar="TRADEWIRE_BOOTSTRAP_SERVERS",
        default=DEFAULT_BOOTSTRAP,
        show_default=True,
        help="Kafka (default: $TRADEWIRE_BOOTSTRAP_SERVERS, else 127.0.0.1:9092).",
    )(function)


def _instant(_context: click.Context, _param: click.Parameter, value: str | None) -> datetime.datetime | None:
    try:
        return parse_instant(value) if value is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _offsets(_context: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    try:
        return parse_offset_range(value) if value is not None else None
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _filter_options(function: F) -> F:
    options = [
        click.option(
            "--reason", type=click.Choice(REASONS), default=None, help="Only dead letters failed for this reason."
        ),
        click.option(
            "--since",
            metavar="ISO",
            callback=_instant,
            default=None,
            help="Only dead letters whose last failure is at or after this time (UTC unless an offset is given).",
        ),
        click.option(
            "--until",
            metavar="ISO",
            callback=_instant,
            default=None,
            help="Only dead letters whose last failure is at or before this time.",
        ),
        click.option("--key", default=None, help="Only records with exactly this key (UTF-8)."),
        click.option(
            "--offsets",
            metavar="A-B",
            callback=_offsets,
            default=None,
            help="Only records whose ORIGINAL offset is in A-B (inclusive), or exactly A.",
        ),
        click.option(
            "--partition",
            type=click.IntRange(min=0),
            default=None,
            help="Only records from this ORIGINAL partition.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _filters(
    *,
    reason: str | None,
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    key: str | None,
    offsets: tuple[int, int] | None,
    partition: int | None,
) -> DeadLetterFilter:
    if since is not None and until is not None and since > until:
        raise click.UsageError(f"--since {since.isoformat()} is after --until {until.isoformat()}: nothing can match")
    return DeadLetterFilter(
        reason=next((r for r in REASONS if r == reason), None),
        since=since,
        until=until,
        key=key.encode() if key is not None else None,
        offsets=offsets,
        partition=partition,
    )


def _warn_malformed(error: MalformedDeadLetterError) -> None:
    console_err().print(f"[yellow]skipped:[/] {escape(str(error))}")


def _when(moment: datetime.datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


# -- ls -------------------------------------------------------------------------------------------
@dlq.command("ls")
@_connection_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_command(bootstrap_servers: str, timeout: float, output_format: str) -> int:
    """List every DLQ topic (*.dlq.*) with its dead letters counted by reason."""
    summaries = [
        summarize(bootstrap_servers, topic, timeout=timeout)
        for topic in list_dlq_topics(bootstrap_servers, timeout=timeout)
    ]
    if output_format == "json":
        for summary in summaries:
            click.echo(json.dumps(summary.to_json(), sort_keys=True))
    elif summaries:
        table = Table("DLQ topic", "source topic", "group", "total", *REASONS, "oldest failure", "newest failure")
        for summary in summaries:
            table.add_row(
                summary.topic,
                summary.source_topic,
                escape(summary.group),
                str(summary.total),
                *(str(summary.by_reason[reason]) for reason in REASONS),
                _when(summary.oldest),
                _when(summary.newest),
            )
        console_out().print(table)
    total = sum(summary.total for summary in summaries)
    console_err().print(f"{total} dead letter(s) in {len(summaries)} DLQ topic(s) at {bootstrap_servers}")
    malformed = sum(summary.malformed for summary in summaries)
    if malformed:
        console_err().print(f"[yellow]{malformed} record(s) in DLQ topics are not dead letters[/] (see `dlq show`)")
    return EXIT_OK


# -- show -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Decoded:
    """A value decoded to an event, or why it could not be."""

    event: Contract | None = None
    problem: str = ""


class _Decoder:
    """Decodes dead letters' values with the generated class of their source topic (prefixes allowed)."""

    def __init__(self, registry_url: str | None) -> None:
        self.problem = ""
        self.registry: RegistryClient | None = None
        try:
            self.registry = RegistryClient.from_env(registry_url)
        except ValueError as error:
            self.problem = str(error)
        self._deserializers: dict[str, EventDeserializer] = {}

    def decode(self, letter: DeadLetter) -> _Decoded:
        value, topic = letter.record.value, letter.source_topic
        if value is None:
            return _Decoded(problem="the record has no value (a tombstone)")
        if self.registry is None:
            return _Decoded(problem=self.problem)
        prefix = next(
            (topic.removesuffix(name) for name in sorted(BY_TOPIC, key=len, reverse=True) if topic.endswith(name)), None
        )
        if prefix is None:
            return _Decoded(problem=f"no event type in tradewire.contracts is produced to {topic}")
        deserializer = self._deserializers.get(prefix)
        if deserializer is None:
            deserializer = self._deserializers[prefix] = EventDeserializer(
                self.registry, BY_TOPIC.values(), topic_prefix=prefix
            )
        try:
            return _Decoded(event=deserializer(value, topic))
        except DecodeFailure as failure:
            return _Decoded(problem=f"{failure.reason}: {failure}")
        except RegistryUnavailableError as error:
            self.registry, self.problem = None, str(error)  # do not wait for it again for every dead letter
            return _Decoded(problem=self.problem)
        except RegistryError as error:
            return _Decoded(problem=f"the registry cannot tell: {error}")


def _text(data: bytes | None) -> str:
    if data is None:
        return "(none)"
    return repr(data.decode("utf-8", "backslashreplace"))


def _json_event(event: Contract) -> str:
    return json.dumps(event.to_avro(), default=str, indent=2, ensure_ascii=False)


def _letter_json(letter: DeadLetter, decoded: _Decoded) -> dict[str, Any]:
    record = letter.record
    value: dict[str, Any]
    if decoded.event is not None:
        value = {
            "type": decoded.event.__avro_name__,
            "decoded": json.loads(json.dumps(decoded.event.to_avro(), default=str)),
        }
    else:
        raw = record.value
        value = {
            "raw_hex": raw.hex() if raw is not None else None,
            "raw_text": raw.decode("utf-8", "backslashreplace") if raw is not None else None,
            "decode_error": decoded.problem,
        }
    return {
        "dlq": {"topic": letter.dlq_topic, "partition": letter.dlq_partition, "offset": letter.dlq_offset},
        "source": {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp_ms": record.timestamp_ms,
        },
        "group": letter.group,
        "reason": letter.reason,
        "error": {"class": letter.error_class, "message": letter.error_message},
        "attempts": letter.attempts,
        "first_failure": letter.first_failure.isoformat(),
        "last_failure": letter.last_failure.isoformat(),
        "event_id": letter.event_id,
        "key": record.key.decode("utf-8", "backslashreplace") if record.key is not None else None,
        "headers": [
            [name, data.decode("utf-8", "backslashreplace") if data is not None else None]
            for name, data in record.headers
        ],
        "value": value,
        "replay_to": replay_target(letter),
    }


def _letter_text(letter: DeadLetter, decoded: _Decoded) -> Iterable[str]:
    record = letter.record
    yield (
        f"{letter.dlq_topic}[{letter.dlq_partition}]@{letter.dlq_offset}  <-  "
        f"{record.topic}[{record.partition}]@{record.offset}  (group {letter.group})"
    )
    yield f"  reason:    {letter.reason}, after {letter.attempts} attempt(s)"
    yield f"  error:     {letter.error_class}: {letter.error_message}"
    yield f"  failed:    first {letter.first_failure.isoformat()}, last {letter.last_failure.isoformat()}"
    produced = datetime.datetime.fromtimestamp(record.timestamp_ms / 1000, datetime.UTC)
    yield f"  produced:  {produced.isoformat(timespec='milliseconds')}"
    yield f"  key:       {_text(record.key)}"
    yield f"  replay to: {replay_target(letter)}"
    yield "  headers:" + ("" if record.headers else " (none)")
    for name, data in record.headers:
        yield f"    {name}: {_text(data)}"
    if decoded.event is not None:
        yield f"  value ({decoded.event.__avro_name__}):"
        for line in _json_event(decoded.event).splitlines():
            yield f"    {line}"
        return
    raw = record.value
    size = len(raw) if raw is not None else 0
    yield f"  value (raw, {size} bytes; not decoded: {decoded.problem}):"
    if raw is not None:
        yield f"    hex:  {raw.hex(' ', -4)}"
        yield f"    text: {_text(raw)}"


@dlq.command()
@click.argument("topic")
@_connection_options
@click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    default=None,
    help="Schema registry to decode values with (default: $TRADEWIRE_REGISTRY_URL; raw bytes without one).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Show at most N dead letters (oldest first).",
)
@_filter_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per line.",
)
def show(
    *,
    topic: str,
    bootstrap_servers: str,
    timeout: float,
    registry_url: str | None,
    limit: int,
    output_format: str,
    **criteria: Any,
) -> int:
    """Print the dead letters of TOPIC: origin, reason, error, attempts, times, headers and value."""
    filters = _filters(**criteria)
    letters = read_dead_letters(
        bootstrap_servers, topic, filters=filters, on_malformed=_warn_malformed, timeout=timeout
    )
    decoder = _Decoder(registry_url)
    for index, letter in enumerate(letters[:limit]):
        decoded = decoder.decode(letter)
        if output_format == "json":
            click.echo(json.dumps(_letter_json(letter, decoded), sort_keys=True, ensure_ascii=False))
            continue
        if index:
            click.echo("")
        for line in _letter_text(letter, decoded):
            click.echo(line)
    shown = min(limit, len(letters))
    more = f" (the first {shown}; --limit shows more)" if shown < len(letters) else ""
    console_err().print(f"{len(letters)} dead letter(s) of {topic} match{more}")
    return EXIT_OK


# -- replay ---------------------------------------------------------------------------------------
def _confirm(report: ReplayReport) -> bool:
    targets = ", ".join(f"{target} ({count})" for target, count in report.targets.items())
    return click.confirm(
        f"Replay {len(report.selected)} dead letter(s) of {report.dlq_topic} to {targets}?", abort=True, err=True
    )


def _describe(letter: DeadLetter) -> str:
    record = letter.record
    return (
        f"{letter.dlq_topic}[{letter.dlq_partition}]@{letter.dlq_offset}  "
        f"{record.topic}[{record.partition}]@{record.offset}  {letter.reason}  key={_text(record.key)}"
        f"  -> {replay_target(letter)}"
    )


@dlq.command("replay")
@click.argument("topic")
@_connection_options
@click.option("--dry-run", is_flag=True, help="Produce nothing and write no audit record; list what would be replayed.")
@_filter_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def replay_command(
    topic: str, bootstrap_servers: str, timeout: float, dry_run: bool, yes: bool, **criteria: Any
) -> int:
    """Replay the dead letters of TOPIC to the group that failed them (its TOPIC.replay.GROUP topic only)."""
    filters = _filters(**criteria)
    err = console_err()
    settings = ProducerSettings(
        bootstrap_servers=bootstrap_servers,
        agent="tradewire-dlq",
        delivery_timeout_ms=int(timeout * 1000),
        extra={"logger": KAFKA_LOG},
    )
    producer = Producer(settings)
    # Started at the first acknowledgement, so that it never draws over the confirmation prompt.
    bar = Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err)
    task = bar.add_task("replaying", total=None)

    def advance(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        report = replay(
            producer,
            bootstrap_servers,
            topic,
            filters=filters,
            dry_run=dry_run,
            progress=advance,
            confirm=None if (yes or dry_run) else _confirm,
            on_malformed=_warn_malformed,
            timeout=timeout,
        )
    finally:
        bar.stop()
        producer.close(timeout)
    return _report(report)


def _report(report: ReplayReport) -> int:
    err = console_err()
    targets = ", ".join(f"{target} ({count})" for target, count in report.targets.items()) or "nowhere"
    if report.dry_run:
        for letter in report.selected:
            click.echo(_describe(letter))
        err.print(
            f"dry run: {len(report.selected)} dead letter(s) of {report.dlq_topic} would be replayed to {targets}; "
            "nothing produced, no audit record written"
        )
        return EXIT_OK
    if not report.selected:
        err.print(f"no dead letter of {report.dlq_topic} matches; nothing replayed")
        return EXIT_OK
    for letter, problem in report.failed:
        err.print(f"[red]not replayed:[/] {escape(_describe(letter))}: {escape(problem)}")
    click.echo(f"replayed {len(report.replayed)} dead letter(s) of {report.dlq_topic} to {targets}")
    if report.audit is not None:
        audit = report.audit
        click.echo(f"audit record: {audit.topic}[{audit.partition}]@{audit.offset}")
    if report.failed:
        err.print(f"[red]{len(report.failed)} of {len(report.selected)} replay(s) were not acknowledged[/]")
        return EXIT_FAILURE
    return EXIT_OK
