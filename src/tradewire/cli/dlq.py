"""`tradewire dlq ls | show | replay`: the on-call engineer's view of dead letters, and their replay.

`ls` counts the dead letters of every DLQ topic by reason, and how many are open or were
already replayed (from the audit topic); `show` prints them, values decoded through the
registry when possible and raw otherwise (a `too-large` reference says where its record
is); `replay` sends the picked ones back to the group that failed them (never to other
groups), with a progress bar and an audit record, and asks before replaying any a second
time. `show` and `replay` take DLQ topics only (`TOPIC.dlq.GROUP`). Exit codes: 0 done,
1 Kafka or a replay failed (or a reference's record is gone), 2 bad options or a refusal.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections import Counter
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
    is_dlq_topic,
    is_replay_topic,
    list_dlq_topics,
    parse_instant,
    parse_offset_range,
    read_dead_letters,
    read_replay_history,
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


def _require_dlq_topic(topic: str) -> None:
    """Refuse, at once, a topic that is not a dead-letter topic."""
    if is_dlq_topic(topic):
        return
    what = "a replay topic (TOPIC.replay.GROUP)" if is_replay_topic(topic) else "not a dead-letter topic"
    raise click.UsageError(
        f"{topic} is {what}: `dlq show` and `dlq replay` take a DLQ topic, named TOPIC.dlq.GROUP "
        "(`tradewire dlq ls` lists them)"
    )


# -- ls -------------------------------------------------------------------------------------------
@dlq.command("ls")
@_connection_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_command(bootstrap_servers: str, timeout: float, output_format: str) -> int:
    """List every DLQ topic (*.dlq.*) with its dead letters counted by reason, and how many of them are
    open and how many were already replayed (as the audit topic records)."""
    topics = list_dlq_topics(bootstrap_servers, timeout=timeout)
    history = read_replay_history(bootstrap_servers, dlq_topics=topics, timeout=timeout)
    summaries = [summarize(bootstrap_servers, topic, timeout=timeout, history=history) for topic in topics]
    if output_format == "json":
        for summary in summaries:
            click.echo(json.dumps(summary.to_json(), sort_keys=True))
    elif summaries:
        table = Table(
            "DLQ topic",
            "source topic",
            "group",
            "total",
            *REASONS,
            "open",
            "replayed",
            "oldest failure",
            "newest failure",
        )
        for summary in summaries:
            table.add_row(
                summary.topic,
                summary.source_topic,
                escape(summary.group),
                str(summary.total),
                *(str(summary.by_reason[reason]) for reason in REASONS),
                str(summary.open),
                str(summary.replayed),
                _when(summary.oldest),
                _when(summary.newest),
            )
        console_out().print(table)
    total = sum(summary.total for summary in summaries)
    still_open = sum(summary.open for summary in summaries)
    console_err().print(
        f"{total} dead letter(s) in {len(summaries)} DLQ topic(s) at {bootstrap_servers}, {still_open} open "
        f"(never replayed)"
    )
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
        if letter.reference is not None:
            return _Decoded(problem=f"a too-large reference: the value stays on {_where(letter)}")
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


def _where(letter: DeadLetter) -> str:
    record = letter.record
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _bytes(size: int) -> str:
    return "none" if size < 0 else f"{size} bytes"


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
    shown: dict[str, Any] = {
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
    if not letter.headers_kept:
        shown["headers_kept"] = False
    reference = letter.reference
    if reference is not None:
        shown["value"] = {"in_source_topic": True, "bytes": reference.value_bytes}
        shown["reference"] = {
            "original_reason": reference.original_reason,
            "key_bytes": reference.key_bytes,
            "value_bytes": reference.value_bytes,
            "headers_bytes": reference.headers_bytes,
            "size_bytes": reference.size,
            "key_kept": reference.key_kept,
            "headers_kept": letter.headers_kept,
            "write_error": reference.write_error,
        }
    return shown


def _produced(timestamp_ms: int) -> str:
    try:
        return datetime.datetime.fromtimestamp(timestamp_ms / 1000, datetime.UTC).isoformat(timespec="milliseconds")
    except (OverflowError, OSError, ValueError):  # a timestamp no datetime can hold
        return f"{timestamp_ms} ms since the epoch"


def _letter_text(letter: DeadLetter, decoded: _Decoded) -> Iterable[str]:
    record = letter.record
    reference = letter.reference
    yield (
        f"{letter.dlq_topic}[{letter.dlq_partition}]@{letter.dlq_offset}  <-  "
        f"{record.topic}[{record.partition}]@{record.offset}  (group {letter.group})"
    )
    if reference is not None:
        yield (
            f"  reason:    too-large: a reference to a record of {reference.size} bytes that its DLQ topic could "
            f"not take (it failed as {reference.original_reason}, after {letter.attempts} attempt(s))"
        )
        yield f"  refused:   {reference.write_error}"
    else:
        yield f"  reason:    {letter.reason}, after {letter.attempts} attempt(s)"
    yield f"  error:     {letter.error_class}: {letter.error_message}"
    yield f"  failed:    first {letter.first_failure.isoformat()}, last {letter.last_failure.isoformat()}"
    yield f"  produced:  {_produced(record.timestamp_ms)}"
    if reference is not None and not reference.key_kept:
        yield f"  key:       (not kept: {_bytes(reference.key_bytes)}; it is in the record)"
    else:
        yield f"  key:       {_text(record.key)}"
    yield f"  replay to: {replay_target(letter)}"
    if not letter.headers_kept:
        dropped = f"{reference.headers_bytes} bytes" if reference is not None else "their names were unreadable"
        yield f"  headers:   (not kept: {dropped})"
    else:
        yield "  headers:" + ("" if record.headers else " (none)")
    for name, data in record.headers:
        yield f"    {name}: {_text(data)}"
    if reference is not None:
        yield (
            f"  value:     not in the DLQ: {_bytes(reference.value_bytes)} at {_where(letter)}, which keeps it until "
            "retention removes it; `tradewire dlq replay` reads it from there"
        )
        return
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
    """Print the dead letters of TOPIC (a DLQ topic, TOPIC.dlq.GROUP): origin, reason, error, attempts,
    times, headers and value (a too-large reference: where the record is, and its size)."""
    _require_dlq_topic(topic)
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
REPLAY_MESSAGE_MAX_BYTES = 1_000_000_000
"""The replay tool's `message.max.bytes` (librdkafka's largest): it sends records as large as their replay
topic takes, which is sized for its source topic; the broker is the judge."""


def _replayed_before(report: ReplayReport) -> str:
    """How many of the picked dead letters were replayed before, and when (the last replay of each)."""
    when = Counter(times[-1].isoformat(timespec="seconds") for _, times in report.already_replayed)
    shown = ", ".join(f"{count} last on {moment}" for moment, count in sorted(when.items())[-5:])
    more = f" and {len(when) - 5} more time(s)" if len(when) > 5 else ""
    return (
        f"{len(report.already_replayed)} of the {len(report.selected)} dead letter(s) picked were already "
        f"replayed ({shown}{more})"
    )


def _confirm(report: ReplayReport) -> bool:
    targets = ", ".join(f"{target} ({count})" for target, count in report.targets.items())
    question = f"Replay {sum(report.targets.values())} dead letter(s) of {report.dlq_topic} to {targets}?"
    if report.already_replayed:
        if sys.stdin is None or not sys.stdin.isatty():
            raise click.UsageError(
                f"{_replayed_before(report)}; nobody can confirm replaying them again (stdin is not a terminal): "
                "pass --yes to replay them anyway, or --skip-replayed to leave them out"
            )
        question = f"{_replayed_before(report)}. {question} (--skip-replayed leaves those out)"
    try:
        answer = click.confirm(question, err=True)
    except click.Abort:  # no answer: end of input (or Ctrl-C)
        if sys.stdin is None or not sys.stdin.isatty():
            raise click.UsageError(
                "nobody answered the question (stdin is not a terminal and gave no answer): pass --yes to replay "
                "without asking"
            ) from None
        raise
    if not answer:
        raise click.Abort
    return True


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
@click.option(
    "--dry-run",
    is_flag=True,
    help="Produce nothing and write no audit record; list what would be replayed (and which were replayed before).",
)
@_filter_options
@click.option(
    "--skip-replayed", is_flag=True, help="Leave out the dead letters the audit topic says were already replayed."
)
@click.option(
    "--yes",
    is_flag=True,
    help="Do not ask for confirmation, even to replay dead letters a second time (required then when stdin is "
    "not a terminal).",
)
def replay_command(
    *,
    topic: str,
    bootstrap_servers: str,
    timeout: float,
    dry_run: bool,
    skip_replayed: bool,
    yes: bool,
    **criteria: Any,
) -> int:
    """Replay the dead letters of TOPIC (a DLQ topic, TOPIC.dlq.GROUP) to the group that failed them (its
    TOPIC.replay.GROUP topic only). A too-large reference replays its record, read from its source topic.
    Asks before replaying dead letters that were replayed before."""
    _require_dlq_topic(topic)
    filters = _filters(**criteria)
    err = console_err()
    settings = ProducerSettings(
        bootstrap_servers=bootstrap_servers,
        agent="tradewire-dlq",
        delivery_timeout_ms=int(timeout * 1000),
        message_max_bytes=REPLAY_MESSAGE_MAX_BYTES,
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
            skip_replayed=skip_replayed,
            timeout=timeout,
        )
    finally:
        bar.stop()
        producer.close(timeout)
    return _report(report)


def _report(report: ReplayReport) -> int:
    err = console_err()
    targets = ", ".join(f"{target} ({count})" for target, count in report.targets.items()) or "nowhere"
    unresolved = {(item.letter.dlq_partition, item.letter.dlq_offset): item for item in report.unresolved}
    before = {(letter.dlq_partition, letter.dlq_offset): times for letter, times in report.already_replayed}
    if report.dry_run:
        for letter in report.selected:
            position = (letter.dlq_partition, letter.dlq_offset)
            note = ""
            if position in before:
                note += f"  (replayed before, last {before[position][-1].isoformat(timespec='seconds')})"
            if position in unresolved:
                note += f"  (cannot be replayed: {unresolved[position].reason})"
            click.echo(_describe(letter) + note)
        err.print(
            f"dry run: {sum(report.targets.values())} dead letter(s) of {report.dlq_topic} would be replayed to "
            f"{targets}; nothing produced, no audit record written"
        )
        _print_notes(report)
        return EXIT_OK
    if not report.selected:
        err.print(f"no dead letter of {report.dlq_topic} matches; nothing replayed")
        _print_notes(report)
        return EXIT_OK
    for item in report.unresolved:
        err.print(f"[red]not replayed:[/] {escape(_describe(item.letter))}: {escape(item.reason)}")
    for letter, problem in report.failed:
        err.print(f"[red]not replayed:[/] {escape(_describe(letter))}: {escape(problem)}")
    click.echo(f"replayed {len(report.replayed)} dead letter(s) of {report.dlq_topic} to {targets}")
    if report.audit is not None:
        audit = report.audit
        click.echo(f"audit record: {audit.topic}[{audit.partition}]@{audit.offset}")
    _print_notes(report)
    if report.failed:
        err.print(f"[red]{len(report.failed)} of {len(report.selected)} replay(s) were not acknowledged[/]")
    return EXIT_FAILURE if report.failed or report.unresolved else EXIT_OK


def _print_notes(report: ReplayReport) -> None:
    err = console_err()
    if report.already_replayed:
        err.print(_replayed_before(report))
    if report.skipped_replayed:
        err.print(f"{report.skipped_replayed} dead letter(s) replayed before were left out (--skip-replayed)")
    gone = sum(1 for item in report.unresolved if item.gone)
    if gone:
        err.print(
            f"[red]{gone} too-large reference(s) cannot be replayed: their records are gone from the source topic[/]"
        )
    unreadable = len(report.unresolved) - gone
    if unreadable:
        err.print(f"[red]{unreadable} too-large reference(s) whose records could not be read now[/]")
