"""Idempotency-store benchmark: what dedup costs the consumer per record.

One operation is what the consumer does per record: `seen(event_id)`, then `remember(event_id)`
when it was not seen, and `flush()` after every 1000th record (as before an offset commit).
Prints the time per operation (median, p99, and the mean, which carries the flushes) for:

* a plain Python set (`in`, `add`): the baseline, no durability at all;
* `SqliteStore` on a file in a temporary directory (WAL, synchronous=NORMAL);
* `RedisStore` on a local redis-server started by this script on a free loopback port
  (skipped, with a note, when redis-server is not installed).

Ids are seeded uuids, one in ten a repeat of an earlier one (a redelivery). Every round uses a
fresh store; rounds are interleaved so every store sees the same machine noise. A second table
measures the stores the way the consumer now calls them: `seen_many` and `remember_many` for a
batch of up to 500 records, then one `flush`, per record.

Run: .venv/bin/python bench/dedup.py [--records 20000] [--rounds 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import redis

from tradewire.dedup import IdempotencyStore, RedisStore, SqliteStore

FLUSH_EVERY = 1000
BATCH = 500  # the consumer's BATCH_RECORDS
TTL_SECONDS = 24 * 3600.0


def seeded_ids(count: int, seed: int = 42) -> list[str]:
    """`count` event ids, reproducible; one in ten repeats an earlier id."""
    rng = random.Random(seed)
    ids: list[str] = []
    for _ in range(count):
        if ids and rng.random() < 0.1:
            ids.append(rng.choice(ids))
        else:
            ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    return ids


def measure_store(store: IdempotencyStore, ids: list[str], timings: list[int], flushes: list[int]) -> int:
    """Time seen + remember (+ flush every FLUSH_EVERY) per id; the number of duplicates found."""
    clock = time.perf_counter_ns
    seen, remember, flush = store.seen, store.remember, store.flush
    gc.disable()
    try:
        for index, event_id in enumerate(ids, start=1):
            start = clock()
            if not seen(event_id):
                remember(event_id)
            if index % FLUSH_EVERY == 0:
                flush_start = clock()
                flush()
                flushes.append(clock() - flush_start)
            timings.append(clock() - start)
        flush()
    finally:
        gc.enable()
    return store.hits


def batches(ids: list[str], size: int) -> Iterator[list[str]]:
    """`ids` cut into batches as the consumer cuts them: at most `size`, and a batch ends before an id
    it already holds (the repeat waits for the first one's outcome)."""
    batch: list[str] = []
    members: set[str] = set()
    for event_id in ids:
        if len(batch) == size or event_id in members:
            yield batch
            batch, members = [], set()
        batch.append(event_id)
        members.add(event_id)
    if batch:
        yield batch


def measure_batched(store: IdempotencyStore, ids: list[str], per_record: list[int]) -> int:
    """What the consumer does per batch: `seen_many`, `remember_many` of the new ids, one `flush`;
    the batch's time divided by its size, once per batch. The number of duplicates found."""
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for batch in batches(ids, BATCH):
            start = clock()
            found = store.seen_many(batch)
            store.remember_many([event_id for event_id in batch if event_id not in found])
            store.flush()
            per_record.append((clock() - start) // len(batch))
    finally:
        gc.enable()
    return store.hits


def measure_set(ids: list[str], timings: list[int]) -> int:
    """The baseline: the same loop on a plain set (flush has nothing to do)."""
    clock = time.perf_counter_ns
    processed: set[str] = set()
    duplicates = 0
    gc.disable()
    try:
        for event_id in ids:
            start = clock()
            if event_id in processed:
                duplicates += 1
            else:
                processed.add(event_id)
            timings.append(clock() - start)
    finally:
        gc.enable()
    return duplicates


@contextmanager
def local_redis(workdir: Path) -> Iterator[str | None]:
    """The URL of a throwaway redis-server on 127.0.0.1, or None when redis-server is not installed."""
    executable = shutil.which("redis-server")
    if executable is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*command, "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def percentile(values: list[int], fraction: float) -> float:
    """The `fraction` quantile in microseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def versions(redis_url: str | None) -> str:
    """Machine, Python and library versions (and the redis-server's, when one runs)."""
    server = "redis-server absent"
    if redis_url is not None:
        client = redis.Redis.from_url(redis_url)
        server = f"redis-server {client.info('server')['redis_version']}"
        client.close()
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}, redis-py {metadata.version('redis')}, {server}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    options = parser.parse_args(argv)
    ids = seeded_ids(options.records)
    workdir = Path(tempfile.mkdtemp(prefix="tradewire-bench-dedup-"))
    timings: dict[str, list[int]] = {"python set (baseline)": [], "SqliteStore": [], "RedisStore": []}
    batched: dict[str, list[int]] = {"SqliteStore": [], "RedisStore": []}
    duplicates: dict[str, int] = {}
    flushes: dict[str, list[int]] = {name: [] for name in timings}
    try:
        with local_redis(workdir) as redis_url:
            factories: dict[str, Callable[[int], IdempotencyStore]] = {
                "SqliteStore": lambda run: SqliteStore(workdir / f"dedup-{run}.sqlite3", "bench", TTL_SECONDS)
            }
            if redis_url is not None:
                factories["RedisStore"] = lambda run: RedisStore(redis_url, f"bench-{run}", TTL_SECONDS)
            else:
                del timings["RedisStore"], batched["RedisStore"]
            for run in range(options.rounds):
                duplicates["python set (baseline)"] = measure_set(ids, timings["python set (baseline)"])
                for name, factory in factories.items():
                    store = factory(run)
                    duplicates[name] = measure_store(store, ids, timings[name], flushes[name])
                    store.close()
                    store = factory(run + options.rounds)
                    duplicates[f"{name} batched"] = measure_batched(store, ids, batched[name])
                    store.close()
            version_line = versions(redis_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = {
        name: {
            "p50_us": percentile(values, 0.5),
            "p99_us": percentile(values, 0.99),
            "mean_us": statistics.fmean(values) / 1000,
            "flush_p50_us": percentile(flushes[name], 0.5) if flushes[name] else 0.0,
            "duplicates_found": duplicates[name],
        }
        for name, values in timings.items()
    }
    baseline = rows["python set (baseline)"]
    title = f"{options.records} seeded ids x {options.rounds} rounds, flush every {FLUSH_EVERY}"
    print(f"tradewire dedup benchmark: {title}")
    print(version_line)
    print()
    columns = f"{'p50':>9}{'p99':>9}{'mean':>9}{'p50 vs set':>12}{'mean vs set':>13}{'flush p50':>11}{'dups':>7}"
    header = f"{'store':<24}{columns}"
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        print(
            f"{name:<24}{row['p50_us']:>9.2f}{row['p99_us']:>9.2f}{row['mean_us']:>9.2f}"
            f"{row['p50_us'] / baseline['p50_us']:>11.1f}x{row['mean_us'] / baseline['mean_us']:>12.1f}x"
            f"{row['flush_p50_us']:>11.0f}{row['duplicates_found']:>7}"
        )
    print("(microseconds per record: seen + remember, and the flush on every 1000th; the mean carries the flushes;")
    print(f" flush p50 is one flush of {FLUSH_EVERY} remembered ids, in microseconds)")
    print()
    print(f"batched as the consumer does it: seen_many + remember_many + one flush per batch of up to {BATCH}")
    header = f"{'store':<24}{'mean':>9}{'p99':>9}{'mean vs set':>13}{'vs unbatched':>14}{'dups':>7}"
    print(header)
    print("-" * len(header))
    for name, values in batched.items():
        mean = statistics.fmean(values) / 1000
        rows[f"{name} batched"] = {
            "mean_us": mean,
            "p99_us": percentile(values, 0.99),
            "duplicates_found": duplicates[f"{name} batched"],
        }
        print(
            f"{name:<24}{mean:>9.2f}{percentile(values, 0.99):>9.2f}{mean / baseline['mean_us']:>12.1f}x"
            f"{mean / rows[name]['mean_us']:>13.2f}x{duplicates[f'{name} batched']:>7}"
        )
    print("(microseconds per record: each batch's time over its size; p99 over batches)")
    if "RedisStore" not in rows:
        print("RedisStore skipped: redis-server is not installed (scripts/ensure-tools.sh installs it)")
    if options.json:
        options.json.write_text(json.dumps({"versions": version_line, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
