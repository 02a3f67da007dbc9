"""A consumer process for membership tests: appends `<event id> <pid>` for every signal it handles.

Usage: static_member.py SETTINGS_JSON OUT
SETTINGS_JSON holds ConsumerSettings fields (bootstrap_servers, registry_url, group, instance_id, ...).
Runs until SIGTERM.
"""

from __future__ import annotations

import json
import os
import sys

from tradewire.consumer import Consumer, MessageContext
from tradewire.contracts import SignalGenerated
from tradewire.settings import ConsumerSettings


def main(argv: list[str]) -> int:
    settings = ConsumerSettings(**json.loads(argv[0]))
    out = argv[1]
    consumer = Consumer(settings)
    handled = open(out, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the process

    @consumer.handler(SignalGenerated)
    def record(signal: SignalGenerated, ctx: MessageContext) -> None:
        handled.write(f"{signal.metadata.event_id} {os.getpid()}\n")
        handled.flush()

    consumer.run()
    handled.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
