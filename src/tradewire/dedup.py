"""Idempotency stores: which `event_id`s a consumer group already processed, so redeliveries are suppressed.

The consumer asks `seen(event_id)` before handling a record, calls `remember(event_id)` once the
handler succeeded, and `flush()` right before it commits offsets, so every id whose offset gets
committed is durable first. Ids remembered but not flushed when a process dies are forgotten: their
records are redelivered and handled again, the documented at-least-once behaviour. `open_store`
picks `SqliteStore` (embedded, default, one process per group), `RedisStore` (shared by the
processes of a group) or `NullStore` (dedup off). Entries expire after `dedup_ttl_seconds` (24 h).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from tradewire.errors import ConfigError, DedupStoreError
from tradewire.settings import ConsumerSettings

__all__ = ["REDIS_KEY_PREFIX", "IdempotencyStore", "NullStore", "RedisStore", "SqliteStore", "open_store"]

REDIS_KEY_PREFIX = "tradewire:dedup"
PURGE_EVERY_REMEMBERS = 1000
PURGE_LIMIT = 2000  # larger than PURGE_EVERY_REMEMBERS, so a backlog of expired rows drains
_ALLOWED_STORES = "'sqlite', 'redis://host:port/db' (or rediss://), 'none'"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS processed_events (group_id TEXT NOT NULL, event_id TEXT NOT NULL,"
    " expires_at REAL NOT NULL, PRIMARY KEY (group_id, event_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS processed_events_expiry ON processed_events (group_id, expires_at)",
)
_SEEN_MANY = "SELECT event_id FROM processed_events WHERE group_id = ? AND +expires_at > ? AND event_id IN ({marks})"
_IDS_PER_QUERY = 500  # well under SQLite's smallest limit on bound parameters (999)
_REMEMBER = "INSERT OR REPLACE INTO processed_events (group_id, event_id, expires_at) VALUES (?, ?, ?)"
_PURGE = (
    "DELETE FROM processed_events WHERE (group_id, event_id) IN (SELECT group_id, event_id FROM processed_events"
    " WHERE group_id = ? AND expires_at <= ? ORDER BY expires_at LIMIT ?)"
)


class IdempotencyStore(Protocol):
    """What the consumer needs from an idempotency store."""

    @property
    def hits(self) -> int:
        """How many `seen` calls returned True (duplicates suppressed), for metrics."""

    def seen(self, event_id: str) -> bool:
        """Whether this group already processed `event_id` within the TTL (flushed or only remembered)."""

    def remember(self, event_id: str) -> None:
        """Record that `event_id` was processed; it is durable only after the next `flush`."""

    def seen_many(self, event_ids: Sequence[str]) -> set[str]:
        """Which of `event_ids` `seen` would say were processed: one round trip for a batch of records."""

    def remember_many(self, event_ids: Sequence[str]) -> None:
        """`remember` each of `event_ids`, in one go."""

    def flush(self) -> None:
        """Make everything remembered so far durable (called right before offsets are committed)."""

    def close(self) -> None:
        """Release the store; ids remembered since the last `flush` are dropped, as after a crash."""


class NullStore:
    """Dedup disabled: nothing is ever seen, so every redelivered record is handled again."""

    def __init__(self) -> None:
        self.hits = 0

    def seen(self, event_id: str) -> bool:
        """Always False."""
        return False

    def remember(self, event_id: str) -> None:
        """Does nothing."""

    def seen_many(self, event_ids: Sequence[str]) -> set[str]:
        """Always empty."""
        return set()

    def remember_many(self, event_ids: Sequence[str]) -> None:
        """Does nothing."""

    def flush(self) -> None:
        """Does nothing."""

    def close(self) -> None:
        """Does nothing."""


class SqliteStore:
    """Embedded store for one process: a SQLite file (WAL, synchronous=NORMAL), one commit per `flush`.

    `remember` writes inside an open transaction that `flush` commits (a burst costs one commit) and
    `seen` reads through the same connection, so it finds uncommitted ids; a killed process leaves
    the transaction uncommitted and SQLite discards it. With WAL and synchronous=NORMAL a commit
    survives a process crash; an OS crash may lose the last commits, which lets duplicates through
    but never loses a record. Every `purge_every` remembers, at most `purge_limit` expired rows go.
    """

    def __init__(
        self,
        path: Path,
        group: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        purge_every: int = PURGE_EVERY_REMEMBERS,
        purge_limit: int = PURGE_LIMIT,
        lock_timeout_seconds: float = 5.0,
    ) -> None:
        _check_ttl(ttl_seconds)
        self.path = Path(path)
        self.group = group
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self._clock = clock
        self._purge_every = purge_every
        self._purge_limit = purge_limit
        self._remembers_until_purge = 0  # the first remember purges what expired while the store was closed
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        with self._errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=lock_timeout_seconds, isolation_level=None, check_same_thread=False
            )
            self._connection = connection
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                connection.execute(statement)

    def seen(self, event_id: str) -> bool:
        """Whether `event_id` was remembered by this group less than the TTL ago (flushed or buffered)."""
        return event_id in self.seen_many((event_id,))

    def remember(self, event_id: str) -> None:
        """Buffer `event_id` in the open transaction (durable at the next `flush`); purge a little on the way."""
        self.remember_many((event_id,))

    def seen_many(self, event_ids: Sequence[str]) -> set[str]:
        """The ids among `event_ids` remembered less than the TTL ago: one query per 500 ids."""
        found: set[str] = set()
        with self._lock, self._errors("read"):
            connection = self._live()
            now = self._clock()
            for start in range(0, len(event_ids), _IDS_PER_QUERY):
                chunk = list(event_ids[start : start + _IDS_PER_QUERY])
                query = _SEEN_MANY.format(marks=",".join("?" * len(chunk)))
                found.update(row[0] for row in connection.execute(query, (self.group, now, *chunk)))
            self.hits += sum(1 for event_id in event_ids if event_id in found)
        return found

    def remember_many(self, event_ids: Sequence[str]) -> None:
        """Buffer `event_ids` in the open transaction (durable at the next `flush`); purge a little on the way."""
        if not event_ids:
            return
        with self._lock, self._errors("write"):
            connection = self._live()
            if not connection.in_transaction:
                connection.execute("BEGIN IMMEDIATE")
            now = self._clock()
            expires = now + self.ttl_seconds
            connection.executemany(_REMEMBER, [(self.group, event_id, expires) for event_id in event_ids])
            self._remembers_until_purge -= len(event_ids)
            if self._remembers_until_purge <= 0:
                self._remembers_until_purge = self._purge_every
                connection.execute(_PURGE, (self.group, now, self._purge_limit))

    def flush(self) -> None:
        """Commit everything remembered since the last flush."""
        with self._lock, self._errors("commit"):
            connection = self._live()
            if connection.in_transaction:
                connection.execute("COMMIT")

    def close(self) -> None:
        """Close the file; an unflushed transaction is rolled back (those ids are forgotten). Idempotent."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise DedupStoreError(f"the SQLite idempotency store {self.path} is closed")
        return self._connection

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            hint = ""
            if isinstance(exc, sqlite3.Error) and exc.sqlite_errorname.startswith("SQLITE_BUSY"):
                hint = (
                    " (another process holds its write lock: the SQLite store serves one process per group;"
                    " use a redis:// store when several processes share a group)"
                )
            raise DedupStoreError(f"cannot {action} the SQLite idempotency store {self.path}{hint}: {exc}") from exc


class RedisStore:
    """Store shared by the processes of one group: keys `tradewire:dedup:<group>:<event_id>`, expired by Redis.

    `remember` buffers locally; `flush` writes the buffer with one pipeline of `SET key 1 PX ttl`
    (kept for the next flush if Redis cannot be reached); `seen` checks the buffer, then `EXISTS`.
    Every Redis failure is raised as `DedupStoreError` naming the (password-redacted) URL.
    """

    def __init__(self, url: str, group: str, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        self.url = url
        self.group = group
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._prefix = f"{REDIS_KEY_PREFIX}:{group}:"
        self._buffer: dict[str, None] = {}  # an insertion-ordered set
        self._lock = threading.Lock()
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_connect_timeout=2.0,
                socket_timeout=5.0,
                retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), retries=3),
            )
        except ValueError as exc:
            raise ConfigError(f"invalid Redis URL {_redacted(url)!r} for dedup_store: {exc}") from exc
        try:
            with self._errors("connect to"):
                self._client.ping()
        except DedupStoreError:
            self._client.close()
            raise

    def seen(self, event_id: str) -> bool:
        """Whether `event_id` is buffered here or was flushed by any process of this group within the TTL."""
        return event_id in self.seen_many((event_id,))

    def remember(self, event_id: str) -> None:
        """Buffer `event_id` until the next `flush`."""
        with self._lock:
            self._buffer[event_id] = None

    def seen_many(self, event_ids: Sequence[str]) -> set[str]:
        """The ids among `event_ids` buffered here or flushed by any process of this group: one pipeline
        of `EXISTS` for those not buffered."""
        with self._lock:
            found = {event_id for event_id in event_ids if event_id in self._buffer}
            ask = [event_id for event_id in dict.fromkeys(event_ids) if event_id not in found]
            if ask:
                pipeline = self._client.pipeline(transaction=False)
                for event_id in ask:
                    pipeline.exists(self._prefix + event_id)
                with self._errors("read from"):
                    answers = pipeline.execute()
                found.update(event_id for event_id, count in zip(ask, answers, strict=True) if count)
            self.hits += sum(1 for event_id in event_ids if event_id in found)
            return found

    def remember_many(self, event_ids: Sequence[str]) -> None:
        """Buffer `event_ids` until the next `flush`."""
        with self._lock:
            self._buffer.update(dict.fromkeys(event_ids))

    def flush(self) -> None:
        """Write the buffered ids with their TTL in one pipeline round trip."""
        with self._lock:
            if not self._buffer:
                return
            pipeline = self._client.pipeline(transaction=False)
            for event_id in self._buffer:
                pipeline.set(self._prefix + event_id, 1, px=self._ttl_ms)
            with self._errors("write to"):
                pipeline.execute()
            self._buffer.clear()

    def close(self) -> None:
        """Drop unflushed ids and close the connections. Idempotent."""
        with self._lock:
            self._buffer.clear()
            self._client.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise DedupStoreError(
                f"cannot {action} the Redis idempotency store at {_redacted(self.url)} (group {self.group!r}): {exc}"
            ) from exc


def open_store(settings: ConsumerSettings) -> IdempotencyStore:
    """The idempotency store named by `settings.dedup_store`: sqlite, redis://host:port/db or none."""
    kind = settings.dedup_store
    if kind == "sqlite":
        path = Path(settings.state_dir) / f"dedup-{_file_safe(settings.group)}.sqlite3"
        return SqliteStore(path, settings.group, settings.dedup_ttl_seconds)
    if kind.startswith(("redis://", "rediss://")):
        return RedisStore(kind, settings.group, settings.dedup_ttl_seconds)
    if kind == "none":
        return NullStore()
    raise ConfigError(f"unknown dedup_store {_redacted(kind)!r}; allowed: {_ALLOWED_STORES}")


def _check_ttl(ttl_seconds: float) -> None:
    if not ttl_seconds > 0:
        raise ConfigError(f"dedup_ttl_seconds must be positive, got {ttl_seconds!r}")


def _file_safe(group: str) -> str:
    """`group` as a file name part; altered names get a hash suffix so distinct groups keep distinct files."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", group)[:100]
    return safe if safe == group else f"{safe}-{hashlib.sha256(group.encode()).hexdigest()[:8]}"


def _redacted(url: str) -> str:
    """`url` with its password, if any, replaced by `***` (for error messages)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
