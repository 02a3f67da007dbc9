"""`tradewire registry`: the group, and `serve`, the Confluent-compatible dev schema registry.

`push` and `drift` (talking to any registry) live in `tradewire.cli.publish` and are added to
this group by `tradewire.cli`.
"""

from __future__ import annotations

import signal
import stat
import threading
from pathlib import Path
from types import FrameType

import click
from click.core import ParameterSource

from tradewire.cli.context import EXIT_OK, console_err
from tradewire.registry.server import DEFAULT_MAX_REQUEST_BYTES, RegistryApp, RegistryServer, ServerLimits
from tradewire.registry.store import DEFAULT_TOPIC, KafkaStore, MemoryStore, RegistryStore

__all__ = ["registry"]


@click.group()
def registry() -> None:
    """Confluent-compatible registry: serve one, push the schemas, check drift."""


_AUTH_ENV = "TRADEWIRE_REGISTRY_BASIC_AUTH"
_DEFAULT_LIMITS = ServerLimits()


def _credentials(value: str, hint: str) -> tuple[str, str]:
    user, colon, password = value.partition(":")
    if not colon or not user:
        raise click.BadParameter("expected USER:PASS", param_hint=hint)
    return user, password


def _credentials_from_file(path: Path) -> tuple[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint="--basic-auth-file") from None
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        console_err().print(f"[yellow]warning:[/] {path} is readable by other users; chmod 600 it")
    return _credentials(lines[0] if lines else "", "--basic-auth-file")


def _resolve_credentials(basic_auth: str | None, basic_auth_file: Path | None) -> tuple[str, str] | None:
    """The credentials to require: from --basic-auth-file, else --basic-auth or $TRADEWIRE_REGISTRY_BASIC_AUTH."""
    source = click.get_current_context().get_parameter_source("basic_auth")
    on_command_line = source is ParameterSource.COMMANDLINE and basic_auth is not None
    if basic_auth_file is not None:
        if on_command_line:
            raise click.UsageError("give --basic-auth or --basic-auth-file, not both")
        return _credentials_from_file(basic_auth_file)
    if not basic_auth:
        return None
    if on_command_line:
        console_err().print(
            "[yellow]warning:[/] --basic-auth puts the password in the process list (ps) for every user "
            f"of this machine to see; use ${_AUTH_ENV} or --basic-auth-file instead"
        )
    return _credentials(basic_auth, "--basic-auth")


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
    envvar=_AUTH_ENV,
    default=None,
    help="Require HTTP basic authentication (default: $TRADEWIRE_REGISTRY_BASIC_AUTH; none when unset). "
    "On the command line the password shows in `ps`: prefer the environment variable or --basic-auth-file.",
)
@click.option(
    "--basic-auth-file",
    metavar="PATH",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Require HTTP basic authentication with the USER:PASS held in this file (its first line; keep it "
    "chmod 600). Takes precedence over $TRADEWIRE_REGISTRY_BASIC_AUTH.",
)
@click.option(
    "--max-request-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_REQUEST_BYTES,
    show_default=True,
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--request-timeout",
    metavar="SECONDS",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULT_LIMITS.request_timeout_seconds,
    show_default=True,
    help="Time a client has to send a request's headers, and again its body (else 408); idle connections "
    "close after it too.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=_DEFAULT_LIMITS.max_connections,
    show_default=True,
    help="Open connections at most; more are answered 503 at once.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=_DEFAULT_LIMITS.max_workers,
    show_default=True,
    help="Threads answering complete requests (waiting clients hold none).",
)
def serve(
    *,
    host: str,
    port: int,
    bootstrap_servers: str | None,
    topic: str,
    basic_auth: str | None,
    basic_auth_file: Path | None,
    max_request_bytes: int,
    request_timeout: float,
    max_connections: int,
    workers: int,
) -> int:
    """Serve the Schema Registry REST API until SIGTERM or Ctrl-C."""
    credentials = _resolve_credentials(basic_auth, basic_auth_file)
    limits = ServerLimits(request_timeout_seconds=request_timeout, max_connections=max_connections, max_workers=workers)
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
            server = RegistryServer(app, host, port, limits=limits)
        except OSError as error:
            raise click.BadParameter(
                f"cannot listen on {host}:{port}: {error.strerror or error}; choose another (0 picks a free port)",
                param_hint="--port",
            ) from error
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
