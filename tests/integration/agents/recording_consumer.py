"""A consumer process for crash tests: records every handled event id in a file, one per line.

Usage: recording_consumer.py BOOTSTRAP REGISTRY GROUP PREFIX STATE_DIR OUT [SLOW_MS] [STORE]
Runs until SIGTERM, then prints its ConsumerStats as JSON on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.settings import ConsumerSettings


def main(argv: list[str]) -> int:
    bootstrap, registry, group, prefix, state_dir, out = argv[:6]
    slow = float(argv[6]) / 1000 if len(argv) > 6 else 0.0
    store = argv[7] if len(argv) > 7 else "sqlite"
    settings = ConsumerSettings(
        bootstrap_servers=bootstrap,
        registry_url=registry,
        agent="recorder",
        group=group,
        topic_prefix=prefix,
        state_dir=state_dir,
        dedup_store=store,
        commit_interval_seconds=5.0,
        commit_every_messages=100_000,
    )
    consumer = Consumer(settings)
    handled = open(out, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the process

    @consumer.handler(SignalGenerated)
    def record(signal: SignalGenerated, ctx: MessageContext) -> None:
        if slow:
            time.sleep(slow)
        handled.write(f"{signal.metadata.event_id}\n")
        handled.flush()

    stats = consumer.run()
    handled.close()
    print(json.dumps(dataclasses.asdict(stats)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
