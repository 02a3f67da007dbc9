"""The Redis idempotency store against a real redis-server (started here, or TRADEWIRE_REDIS_URL)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis_support import local_redis_server
from redis_support import redis_url as redis_url_of

from tradewire.dedup import REDIS_KEY_PREFIX, RedisStore, open_store
from tradewire.errors import DedupStoreError
from tradewire.settings import ConsumerSettings

TTL = 60.0


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for this module: TRADEWIRE_REDIS_URL, else a throwaway local redis-server."""
    with redis_url_of(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def group() -> str:
    """A consumer group name no other test uses."""
    return f"dedup-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain redis-py client on the same Redis, to look at the keys directly."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_processes_of_one_group_see_each_others_flushed_ids(redis_url: str, group: str) -> None:
    """Two stores of one group (two processes) see each other's ids once flushed, not before."""
    first = RedisStore(redis_url, group, TTL)
    second = RedisStore(redis_url, group, TTL)
    first.remember("e-1")
    before_flush = (first.seen("e-1"), second.seen("e-1"))
    first.flush()
    second.remember("e-2")
    second.flush()
    after_flush = (second.seen("e-1"), first.seen("e-2"), first.seen("e-3"))
    hits = (first.hits, second.hits)
    first.close()
    second.close()
    assert ((True, False), (True, True, False), (2, 1)) == (before_flush, after_flush, hits)


def test_seen_many_finds_buffered_and_flushed_ids_of_any_process_of_the_group(redis_url: str, group: str) -> None:
    """A batch lookup answers from the local buffer and, in one pipeline, from Redis; a hit per id found."""
    first = RedisStore(redis_url, group, TTL)
    second = RedisStore(redis_url, group, TTL)
    first.remember_many(["e-1", "e-2"])
    first.flush()
    second.remember_many(["e-3"])

    found = second.seen_many(["e-1", "e-2", "e-3", "e-4", "e-1"])
    elsewhere = first.seen_many(["e-3"])  # buffered by the other process only
    hits = second.hits
    first.close()
    second.close()
    assert ({"e-1", "e-2", "e-3"}, set(), 4) == (found, elsewhere, hits)


def test_flush_writes_named_keys_with_the_ttl(redis_url: str, group: str, raw: redis.Redis) -> None:
    """Flushed ids become `tradewire:dedup:<group>:<event_id>` keys that Redis will expire."""
    store = RedisStore(redis_url, group, TTL)
    store.remember("e-1")
    store.remember("e-2")
    before_flush = sorted(raw.keys(f"{REDIS_KEY_PREFIX}:{group}:*"))
    store.flush()
    keys = sorted(raw.keys(f"{REDIS_KEY_PREFIX}:{group}:*"))
    ttls_in_range = [0 < raw.pttl(key) <= TTL * 1000 for key in keys]
    store.close()
    expected_keys = [f"tradewire:dedup:{group}:e-1".encode(), f"tradewire:dedup:{group}:e-2".encode()]
    assert ([], expected_keys, [True, True]) == (before_flush, keys, ttls_in_range)


def test_keys_really_expire(redis_url: str, group: str, raw: redis.Redis) -> None:
    """With a 1 s TTL a flushed id is seen at first and forgotten once Redis expires its key."""
    store = RedisStore(redis_url, group, 1.0)
    store.remember("e-1")
    store.flush()
    seen_at_first = store.seen("e-1")
    deadline = time.monotonic() + 10.0
    while raw.exists(f"{REDIS_KEY_PREFIX}:{group}:e-1") and time.monotonic() < deadline:
        time.sleep(0.05)
    seen_after_expiry = store.seen("e-1")
    store.close()
    assert (True, False) == (seen_at_first, seen_after_expiry)


def test_groups_are_isolated(redis_url: str, group: str) -> None:
    """Two groups on one Redis never see each other's ids."""
    risk = RedisStore(redis_url, f"{group}-risk", TTL)
    execution = RedisStore(redis_url, f"{group}-execution", TTL)
    risk.remember("e-1")
    risk.flush()
    execution.remember("e-2")
    execution.flush()
    seen = [store.seen(event_id) for store in (risk, execution) for event_id in ("e-1", "e-2")]
    risk.close()
    execution.close()
    assert [True, False, False, True] == seen


def test_close_drops_unflushed_ids(redis_url: str, group: str) -> None:
    """Ids remembered but not flushed when a store closes are forgotten, as after a crash."""
    first = RedisStore(redis_url, group, TTL)
    first.remember("e-1")
    first.close()
    second = RedisStore(redis_url, group, TTL)
    seen = second.seen("e-1")
    second.close()
    assert False is seen


def test_open_store_with_a_redis_url_shares_ids_across_stores(redis_url: str, group: str) -> None:
    """`open_store` with a redis:// dedup_store gives stores of one group that share ids."""
    settings = ConsumerSettings(group=group, dedup_store=redis_url)
    first = open_store(settings)
    second = open_store(settings)
    first.remember("e-1")
    first.flush()
    seen = second.seen("e-1")
    first.close()
    second.close()
    assert (RedisStore, True) == (type(first), seen)


def test_a_stopped_redis_raises_dedup_store_error(tmp_path: Path, group: str) -> None:
    """When Redis goes away, flush, seen and opening raise DedupStoreError naming the store; ids stay buffered."""
    with local_redis_server(tmp_path) as server:
        store = RedisStore(server.url, group, TTL)
        store.remember("e-1")
        server.stop()
        errors = []
        for action in (store.flush, lambda: store.seen("e-2"), lambda: RedisStore(server.url, group, TTL)):
            with pytest.raises(DedupStoreError) as raised:
                action()
            errors.append(str(raised.value).split(": ", 1))
        buffered_still_seen = store.seen("e-1")
        store.close()
    where = f"the Redis idempotency store at {server.url} (group {group!r})"
    refused = f"Error 111 connecting to 127.0.0.1:{server.port}. Connection refused."
    assert [
        [f"cannot write to {where}", refused],
        [f"cannot read from {where}", refused],
        [f"cannot connect to {where}", refused],
    ] == errors
    assert True is buffered_still_seen
