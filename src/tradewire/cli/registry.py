"""`tradewire registry`: the group, and `serve`, the Confluent-compatible dev schema registry.

`push` and `drift` (talking to any registry) live in `tradewire.cli.publish` and are added to
this group by `tradewire.cli`.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from tradewire.cli.context import EXIT_OK, console_err
from tradewire.registry.server import DEFAULT_MAX_REQUEST_BYTES, RegistryApp, RegistryServer
from tradewire.registry.store import DEFAULT_TOPIC, KafkaStore, MemoryStore, RegistryStore

__all__ = ["registry"]


@click.group()
def registry() -> None:
    """Confluent-compatible registry: serve one, push the schemas, check drift."""


def _credentials(value: str | None) -> tuple[str, str] | None:
    if value is None or value == "":
        return None
    user, colon, password = value.partition(":")
    if not colon or not user:
        raise click.BadParameter("expected USER:PASS", param_hint="--basic-auth")
    return user, password


@registry.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8081, show_default=True, help="0 picks a free port.")
@click.option(
    "--bootstrap-servers",
    metavar="HOST:PORT[,...]",
    default=None,
    help="Kafka to keep the state in (a compacted topic, as Confluent does). Without it the state is in "
    "memory and lost on exit.",
)
@click.option("--topic", default=DEFAULT_TOPIC, show_default=True, help="The state topic (1 partition, compacted).")
@click.option(
    "--basic-auth",
    metavar="USER:PASS",
    envvar="TRADEWIRE_REGISTRY_BASIC_AUTH",
    default=None,
    help="Require HTTP basic authentication (default: $TRADEWIRE_REGISTRY_BASIC_AUTH; none when unset).",
)
@click.option(
    "--max-request-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_REQUEST_BYTES,
    show_default=True,
    help="Larger request bodies are refused with 413.",
)
def serve(
    *,
    host: str,
    port: int,
    bootstrap_servers: str | None,
    topic: str,
    basic_auth: str | None,
    max_request_bytes: int,
) -> int:
    """Serve the Schema Registry REST API until SIGTERM or Ctrl-C."""
    credentials = _credentials(basic_auth)
    err = console_err()
    store: RegistryStore
    if bootstrap_servers:
        err.print(f"replaying {topic} from {bootstrap_servers} …")
        store = KafkaStore(bootstrap_servers, topic)
    else:
        err.print("[yellow]warning:[/] no --bootstrap-servers: the state is kept in memory and lost on exit")
        store = MemoryStore()
    try:
        app = RegistryApp(store, basic_auth=credentials, max_request_bytes=max_request_bytes)
        try:
            server = RegistryServer(app, host, port)
        except OSError as error:
            raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
        _serve_until_signalled(server, store)
    finally:
        store.close()
    err.print("registry stopped")
    return EXIT_OK


def _serve_until_signalled(server: RegistryServer, store: RegistryStore) -> None:
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        auth = ", basic auth required" if server.app.requires_auth else ""
        click.echo(f"tradewire registry listening on {server.url} (state: {store.description}{auth})")
        while not stopping.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
