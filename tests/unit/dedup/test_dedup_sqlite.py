"""The embedded SQLite idempotency store, the null store and `open_store`: no services needed."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradewire.dedup import _SEEN_MANY, NullStore, RedisStore, SqliteStore, open_store
from tradewire.errors import ConfigError, DedupStoreError
from tradewire.settings import ConsumerSettings

GROUP = "risk-engine"
TTL = 60.0


class FakeClock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test's store file lives (its parent directories do not exist yet)."""
    return tmp_path / "state" / "nested" / "dedup.sqlite3"


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock starting at t = 1000 s."""
    return FakeClock()


@pytest.fixture
def store(path: Path, clock: FakeClock) -> Iterator[SqliteStore]:
    """A store for GROUP with a 60 s TTL on the fake clock, closed after the test."""
    opened = SqliteStore(path, GROUP, TTL, clock=clock)
    yield opened
    opened.close()


def committed_rows(path: Path) -> list[tuple[str, str, float]]:
    """The committed rows of a store file, read through a separate read-only connection."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as reader:
        rows = reader.execute("SELECT group_id, event_id, expires_at FROM processed_events ORDER BY 1, 2").fetchall()
    reader.close()
    return [(str(group), str(event_id), float(expires_at)) for group, event_id, expires_at in rows]


def test_an_unknown_id_is_not_seen(store: SqliteStore) -> None:
    """A fresh store has seen nothing and counts no hits."""
    assert (False, 0) == (store.seen("e-1"), store.hits)


def test_a_remembered_id_is_seen_before_and_after_flush(store: SqliteStore) -> None:
    """An id is seen as soon as it is remembered, still after the flush, and each sighting is a hit."""
    store.remember("e-1")
    before_flush = store.seen("e-1")
    store.flush()
    assert (True, True, False, 2) == (before_flush, store.seen("e-1"), store.seen("e-2"), store.hits)


def test_remembers_are_committed_only_by_flush(store: SqliteStore, path: Path) -> None:
    """Remembered ids reach the file only when flush commits them, all in one go, with their expiry."""
    store.remember("e-1")
    store.remember("e-2")
    before_flush = committed_rows(path)
    store.flush()
    assert ([], [(GROUP, "e-1", 1060.0), (GROUP, "e-2", 1060.0)]) == (before_flush, committed_rows(path))


def test_a_flushed_id_survives_reopening(path: Path, clock: FakeClock) -> None:
    """An id flushed by one store is seen by a store opened later on the same file."""
    first = SqliteStore(path, GROUP, TTL, clock=clock)
    first.remember("e-1")
    first.flush()
    first.close()
    reopened = SqliteStore(path, GROUP, TTL, clock=clock)
    assert (True, False) == (reopened.seen("e-1"), reopened.seen("e-2"))
    reopened.close()


def test_an_unflushed_id_is_lost_when_the_store_closes(path: Path, clock: FakeClock) -> None:
    """Closing without flush drops the buffered ids, exactly like a crash, and keeps the flushed ones."""
    first = SqliteStore(path, GROUP, TTL, clock=clock)
    first.remember("flushed")
    first.flush()
    first.remember("buffered")
    first.close()
    reopened = SqliteStore(path, GROUP, TTL, clock=clock)
    assert (True, False) == (reopened.seen("flushed"), reopened.seen("buffered"))
    reopened.close()


def test_an_unflushed_id_is_seen_only_by_the_store_that_buffered_it(path: Path, clock: FakeClock) -> None:
    """While a store holds an id unflushed, it sees it and a second store on the same file does not."""
    first = SqliteStore(path, GROUP, TTL, clock=clock)
    first.remember("flushed")
    first.flush()
    first.remember("buffered")
    second = SqliteStore(path, GROUP, TTL, clock=clock)
    seen_by_first = (first.seen("flushed"), first.seen("buffered"))
    seen_by_second = (second.seen("flushed"), second.seen("buffered"))
    assert ((True, True), (True, False)) == (seen_by_first, seen_by_second)
    second.close()
    first.close()


def test_an_unflushed_id_is_lost_when_the_process_is_killed(path: Path) -> None:
    """A process killed with SIGKILL between remember and flush leaves only what it had flushed."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from tradewire.dedup import SqliteStore
        store = SqliteStore(Path({str(path)!r}), {GROUP!r}, {TTL!r})
        store.remember("flushed")
        store.flush()
        store.remember("buffered")
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        ready = child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)
        returncode = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    survivor = SqliteStore(path, GROUP, TTL)
    seen = (survivor.seen("flushed"), survivor.seen("buffered"))
    survivor.close()
    assert (b"ready\n", -signal.SIGKILL, (True, False)) == (ready, returncode, seen)


def test_an_id_expires_after_the_ttl(store: SqliteStore, clock: FakeClock) -> None:
    """An id remembered at t is seen until just before t + TTL and not from t + TTL on."""
    store.remember("e-1")
    store.flush()
    clock.now = 1059.999
    just_before = store.seen("e-1")
    clock.now = 1060.0
    assert (True, False) == (just_before, store.seen("e-1"))


def test_remembering_again_extends_the_expiry(store: SqliteStore, clock: FakeClock, path: Path) -> None:
    """Remembering an id again restarts its TTL (one row, the later expiry)."""
    store.remember("e-1")
    clock.now = 1030.0
    store.remember("e-1")
    store.flush()
    clock.now = 1080.0
    assert (True, [(GROUP, "e-1", 1090.0)]) == (store.seen("e-1"), committed_rows(path))


def test_seen_many_answers_a_batch_like_seen_answers_each_id(store: SqliteStore, clock: FakeClock) -> None:
    """A batch lookup finds the flushed, the buffered and the re-remembered ids, never the expired or
    unknown ones, and counts a hit per id found (a repeated id counts each time)."""
    store.remember_many(["old", "kept"])
    store.flush()
    clock.now += TTL / 2
    store.remember_many(["kept", "buffered"])
    clock.now += TTL / 2  # "old" expires now; "kept" was remembered again half a TTL ago
    asked = ["old", "kept", "buffered", "unknown", "kept"]

    found = store.seen_many(asked)

    assert ({"kept", "buffered"}, [False, True, True, False, True], 3 + 3) == (
        found,
        [store.seen(event_id) for event_id in asked],
        store.hits,
    )


def test_seen_many_splits_large_batches_into_bounded_queries(store: SqliteStore) -> None:
    """More ids than one statement may bind (SQLite allows 999 in old builds) are still all answered."""
    remembered = [f"e-{index}" for index in range(0, 2_400, 2)]
    store.remember_many(remembered)
    store.flush()

    found = store.seen_many([f"e-{index}" for index in range(2_400)])

    assert (set(remembered), 1_200) == (found, store.hits)


def test_seen_many_looks_ids_up_by_key_instead_of_scanning_the_group(store: SqliteStore, path: Path) -> None:
    """The batch lookup must use the primary key: through the expiry index it reads every live row of
    the group per query, which made dedup slower the more ids it held."""
    with sqlite3.connect(path) as reader:
        plan = reader.execute(
            "EXPLAIN QUERY PLAN " + _SEEN_MANY.format(marks="?,?,?"), (GROUP, 0.0, "a", "b", "c")
        ).fetchall()
    reader.close()

    assert [row[-1] for row in plan] == ["SEARCH processed_events USING PRIMARY KEY (group_id=? AND event_id=?)"]


def test_remember_many_is_durable_only_after_flush_and_counts_towards_purges(path: Path, clock: FakeClock) -> None:
    """remember_many buffers like remember (committed by flush) and a big batch triggers the purge."""
    store = SqliteStore(path, GROUP, TTL, clock=clock, purge_every=50, purge_limit=100)
    store.remember_many([f"old-{index}" for index in range(40)])
    store.flush()
    clock.now += TTL
    store.remember_many([f"new-{index}" for index in range(60)])  # passes purge_every: the old rows go
    before_flush = len(committed_rows(path))
    store.flush()
    after_flush = len(committed_rows(path))
    store.close()
    assert (40, 60) == (before_flush, after_flush)


def test_groups_are_isolated_in_one_file(path: Path, clock: FakeClock) -> None:
    """Two groups sharing a file never see each other's ids."""
    risk = SqliteStore(path, "risk", TTL, clock=clock)
    execution = SqliteStore(path, "execution", TTL, clock=clock)
    risk.remember("e-1")
    risk.flush()
    execution.remember("e-2")
    execution.flush()
    seen = [store.seen(event_id) for store in (risk, execution) for event_id in ("e-1", "e-2")]
    risk.close()
    execution.close()
    assert [True, False, False, True] == seen


def test_purge_keeps_the_table_bounded(path: Path, clock: FakeClock) -> None:
    """With a steady flow of new ids the table settles at the ids still alive, however long it runs."""
    store = SqliteStore(path, GROUP, 100.0, clock=clock, purge_every=10, purge_limit=20)
    sizes = []
    for step in range(300):
        for index in range(10):
            store.remember(f"e-{step}-{index}")
        store.flush()
        sizes.append(len(committed_rows(path)))
        clock.now += 10.0
    store.close()
    assert [10 * (step + 1) for step in range(10)] + [100] * 290 == sizes


def test_each_purge_deletes_at_most_the_limit(path: Path, clock: FakeClock) -> None:
    """A backlog of expired rows is drained a bounded batch at a time, never all in one call."""
    store = SqliteStore(path, GROUP, TTL, clock=clock, purge_every=1, purge_limit=20)
    for index in range(100):
        store.remember(f"old-{index}")
    store.flush()
    clock.now += TTL
    sizes = []
    for index in range(6):
        store.remember(f"new-{index}")
        store.flush()
        sizes.append(len(committed_rows(path)))
    store.close()
    assert [81, 62, 43, 24, 5, 6] == sizes


def test_the_store_creates_its_directory_in_wal_mode(store: SqliteStore, path: Path) -> None:
    """Opening a store creates the missing parent directories and a WAL-mode database file."""
    with sqlite3.connect(path) as reader:
        journal_mode = reader.execute("PRAGMA journal_mode").fetchone()[0]
    reader.close()
    assert (True, "wal") == (path.is_file(), journal_mode)


def test_a_second_writer_gets_a_clear_error(path: Path, clock: FakeClock) -> None:
    """A second store writing while the first holds unflushed ids fails, naming the one-process rule."""
    first = SqliteStore(path, GROUP, TTL, clock=clock)
    first.remember("e-1")
    second = SqliteStore(path, GROUP, TTL, clock=clock, lock_timeout_seconds=0.05)
    with pytest.raises(DedupStoreError) as raised:
        second.remember("e-2")
    second.close()
    first.close()
    assert (
        f"cannot write the SQLite idempotency store {path} (another process holds its write lock: the SQLite "
        "store serves one process per group; use a redis:// store when several processes share a group): "
        "database is locked"
    ) == str(raised.value)


def test_a_closed_store_refuses_use(store: SqliteStore, path: Path) -> None:
    """After close, using the store raises DedupStoreError; closing again is harmless."""
    store.close()
    store.close()
    with pytest.raises(DedupStoreError) as raised:
        store.seen("e-1")
    assert f"the SQLite idempotency store {path} is closed" == str(raised.value)


def test_an_unopenable_path_raises_dedup_store_error(tmp_path: Path) -> None:
    """A state directory that cannot be created gives DedupStoreError naming the path."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "dedup.sqlite3"
    with pytest.raises(DedupStoreError) as raised:
        SqliteStore(target, GROUP, TTL)
    assert f"cannot open the SQLite idempotency store {target}: [Errno 17] File exists: '{blocker}'" == str(
        raised.value
    )


@pytest.mark.parametrize("ttl", [0.0, -1.0])
def test_a_non_positive_ttl_is_refused(path: Path, ttl: float) -> None:
    """A TTL of zero or less is a configuration error."""
    with pytest.raises(ConfigError) as raised:
        SqliteStore(path, GROUP, ttl)
    assert f"dedup_ttl_seconds must be positive, got {ttl!r}" == str(raised.value)


def test_the_null_store_never_sees_anything() -> None:
    """With dedup disabled, even a remembered and flushed id is not seen."""
    store = NullStore()
    store.remember("e-1")
    store.remember_many(["e-2"])
    store.flush()
    seen = (store.seen("e-1"), store.seen_many(["e-1", "e-2"]))
    store.close()
    assert ((False, set()), 0) == (seen, store.hits)


def test_open_store_sqlite_uses_one_file_per_group_in_the_state_dir(tmp_path: Path) -> None:
    """`sqlite` opens `<state_dir>/dedup-<group>.sqlite3` with the settings' group and TTL."""
    settings = ConsumerSettings(group="risk-engine", state_dir=str(tmp_path), dedup_ttl_seconds=3600.0)
    store = open_store(settings)
    assert isinstance(store, SqliteStore)
    store.close()
    expected = (tmp_path / "dedup-risk-engine.sqlite3", "risk-engine", 3600.0)
    assert expected == (store.path, store.group, store.ttl_seconds)


def test_open_store_makes_a_group_name_file_safe(tmp_path: Path) -> None:
    """A group name with unsafe characters becomes a safe file name with a hash that keeps it distinct."""
    group = "desk/alpha beta"
    store = open_store(ConsumerSettings(group=group, state_dir=str(tmp_path)))
    assert isinstance(store, SqliteStore)
    store.close()
    digest = hashlib.sha256(group.encode()).hexdigest()[:8]
    assert (tmp_path / f"dedup-desk_alpha_beta-{digest}.sqlite3", group) == (store.path, store.group)


def test_open_store_none_disables_dedup() -> None:
    """`none` gives the null store."""
    assert NullStore is type(open_store(ConsumerSettings(dedup_store="none")))


def test_open_store_redis_url_picks_the_redis_store() -> None:
    """A redis:// URL picks the Redis store, which connects at once (here: refused, a clear error)."""
    with pytest.raises(DedupStoreError) as raised:
        open_store(ConsumerSettings(group="g", dedup_store="redis://:hunter2@127.0.0.1:1/0"))
    assert (
        "cannot connect to the Redis idempotency store at redis://:***@127.0.0.1:1/0 (group 'g'): "
        "Error 111 connecting to 127.0.0.1:1. Connection refused."
    ) == str(raised.value)


def test_an_invalid_redis_url_is_a_config_error() -> None:
    """A redis:// URL that cannot be parsed is a configuration error naming the URL."""
    with pytest.raises(ConfigError) as raised:
        RedisStore("redis://host:port/db", "g", TTL)
    assert (
        "invalid Redis URL 'redis://host:port/db' for dedup_store: Port could not be cast to integer value as 'port'"
        == str(raised.value)
    )


def test_open_store_refuses_an_unknown_kind() -> None:
    """Anything else is a ConfigError naming the allowed values."""
    with pytest.raises(ConfigError) as raised:
        open_store(ConsumerSettings(dedup_store="memcached://127.0.0.1:11211"))
    assert (
        "unknown dedup_store 'memcached://127.0.0.1:11211'; allowed: 'sqlite', 'redis://host:port/db' "
        "(or rediss://), 'none'"
    ) == str(raised.value)
