"""The dev registry's HTTP face: `RegistryApp` handles requests, `RegistryServer` serves them.

`RegistryApp.handle(method, target, headers, body)` is pure request handling (no sockets):
authentication, the request size limit, routing, JSON bodies, Confluent's error bodies,
one lock around each request so every read-check-write is atomic. Request bodies must be
one of Confluent's media types (or carry no Content-Type; else 415) and JSON nested at most
`jsontext.MAX_JSON_DEPTH` deep (else 400); responses are `application/vnd.schemaregistry.v1+json`.

`RegistryServer` serves an app over HTTP/1.1 (`tradewire.registry.http11`), bound to
127.0.0.1 unless told otherwise: one selector thread reads every connection, a bounded pool
of workers answers complete requests, and `ServerLimits` bounds how long a client may take
and how many connections may be open (`start()` / `stop()`). Clients that disconnect cost
one debug log line, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hmac
import logging
import queue
import selectors
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tradewire.errors import RegistryError
from tradewire.registry import codes
from tradewire.registry.api import ROUTES
from tradewire.registry.http11 import CONTINUE, HttpRequest, Phase, ProtocolError, RequestReader, encode_response
from tradewire.registry.jsontext import loads
from tradewire.registry.routing import MEDIA_TYPE, Call, Response, Router, check_content_type, error_response
from tradewire.registry.service import RegistryService
from tradewire.registry.store import RegistryStore

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "RegistryApp", "RegistryServer", "ServerLimits"]

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
"""1 MiB, the order of Confluent's default schema size limits."""

_log = logging.getLogger(__name__)


class RegistryApp:
    """The Confluent Schema Registry REST API over a store, as a function of requests."""

    def __init__(
        self,
        store: RegistryStore,
        *,
        basic_auth: tuple[str, str] | None = None,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        self.store = store
        self.service = RegistryService(store)
        self.router = Router(ROUTES)
        self.max_request_bytes = max_request_bytes
        self._credentials = None if basic_auth is None else f"{basic_auth[0]}:{basic_auth[1]}".encode()

    @property
    def requires_auth(self) -> bool:
        """Whether requests must carry the configured basic-auth credentials."""
        return self._credentials is not None

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        """Answer one request; `target` is the raw request target (percent-encoded path and query)."""
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        try:
            self._authenticate(lowered.get("authorization"))
            if len(body) > self.max_request_bytes:
                raise codes.too_large(len(body), self.max_request_bytes)
            path, _, query = target.partition("?")
            verb = method.upper()
            route, params = self.router.match("GET" if verb == "HEAD" else verb, path)  # HEAD as JAX-RS does
            check_content_type(lowered.get("content-type"))
            payload = _json_body(body) if route.takes_body else None
            call = Call(params, urllib.parse.parse_qs(query, keep_blank_values=True), payload)
            with self.store.lock:
                return route.handler(self.service, call)
        except RegistryError as error:
            return error_response(error)
        except Exception:
            _log.exception("internal error answering %s %s", method, target)
            return error_response(codes.internal_error())

    def _authenticate(self, authorization: str | None) -> None:
        if self._credentials is None:
            return
        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            given = base64.b64decode(encoded.strip(), validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, self._credentials):
            raise RegistryError("Unauthorized", http_status=401, error_code=401)


def _json_body(body: bytes) -> Any:
    if not body.strip():
        raise codes.missing_body()
    try:
        return loads(body.decode("utf-8"))
    except ValueError as error:  # not UTF-8, not JSON, or nested too deep
        raise codes.bad_request(f"Malformed JSON in the request body: {error}") from error


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How long a client may take and how many may be served at once."""

    request_timeout_seconds: float = 10.0
    """Time to send a request's line and headers (from the connection's start or the previous response),
    and again to send its body. Past it the request is answered 408 and the connection closed; an idle
    keep-alive connection is closed quietly."""
    write_timeout_seconds: float = 10.0
    """Time a response may wait for the client to read it before the connection is dropped."""
    max_connections: int = 256
    """Open connections at most; a connection beyond them is answered 503 at once and closed."""
    max_workers: int = 16
    """Threads answering complete requests; more complete requests wait for one, in order."""

    def __post_init__(self) -> None:
        if self.request_timeout_seconds <= 0 or self.write_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_connections < 1 or self.max_workers < 1:
            raise ValueError("max_connections and max_workers must be at least 1")


class _Connection:
    """One client connection: its socket, its request reader and the deadline of what it is sending."""

    def __init__(self, sock: socket.socket, peer: str, max_body_bytes: int, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.reader = RequestReader(max_body_bytes)
        self.deadline = deadline
        self.phase = Phase.IDLE


class RegistryServer:
    """Serves a `RegistryApp` over HTTP/1.1; bound (and listening) as soon as it is created.

    One thread waits on every connection at once (a selector) and reads requests as their bytes
    arrive; only complete requests go to a pool of `limits.max_workers` threads, which answer
    them and write the response. A stalled or slow client therefore holds a file descriptor
    and a buffer, never a thread, and is dropped at its deadline (`ServerLimits`).
    """

    def __init__(
        self, app: RegistryApp, host: str = "127.0.0.1", port: int = 8081, *, limits: ServerLimits | None = None
    ) -> None:
        self.app = app
        self.limits = limits or ServerLimits()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=socket.SOMAXCONN)
        self._listener.setblocking(False)
        self._address: tuple[str, int] = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._returned: queue.SimpleQueue[tuple[_Connection, bool]] = queue.SimpleQueue()
        self._connections: set[_Connection] = set()
        self._workers: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False

    @property
    def host(self) -> str:
        """The address the server is bound to."""
        return str(self._address[0])

    @property
    def port(self) -> int:
        """The bound port (the one chosen by the system when created with port 0)."""
        return int(self._address[1])

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. `http://127.0.0.1:8081`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def open_connections(self) -> int:
        """Connections currently open (waiting, being read, or being answered)."""
        return len(self._connections)

    def start(self) -> RegistryServer:
        """Start answering requests in a background thread."""
        if self._thread is None:
            self._workers = ThreadPoolExecutor(self.limits.max_workers, thread_name_prefix="tradewire-registry-worker")
            self._selector.register(self._listener, selectors.EVENT_READ, None)
            self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
            self._thread = threading.Thread(target=self._serve, name="tradewire-registry", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering, close the listening socket and every connection, and wait for the threads."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._thread is not None:
            self._wake()
            self._thread.join()
            self._thread = None
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None
        while not self._returned.empty():
            self._close(self._returned.get()[0])
        for connection in list(self._connections):
            self._close(connection)
        self._selector.close()
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the selector thread ----------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve_once()
            except Exception:  # a bug here must not silently stop the registry: say so, keep serving
                _log.exception("the registry's connection loop failed; it carries on")

    def _serve_once(self) -> None:
        """Wait for the next events (at most until the nearest deadline), handle them, drop late clients."""
        waiting = [c.deadline for c in self._connections if self._is_waiting(c)]
        timeout = max(0.0, min([*waiting, time.monotonic() + 0.5]) - time.monotonic())
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self._listener:
                self._accept()
            elif key.fileobj is self._wake_reader:
                self._take_returned()
            else:
                self._receive(key.data)
        self._expire(time.monotonic())

    def _is_waiting(self, connection: _Connection) -> bool:
        try:
            self._selector.get_key(connection.sock)
        except KeyError:
            return False  # with a worker
        return True

    def _accept(self) -> None:
        while True:
            try:
                sock, address = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:  # e.g. out of file descriptors: try again on the next wake-up
                _log.warning("cannot accept a connection: %s", error)
                return
            sock.setblocking(False)
            peer = f"{address[0]}:{address[1]}"
            if len(self._connections) >= self.limits.max_connections:
                _log.debug("refusing %s: %d connections open", peer, len(self._connections))
                self._refuse(sock, 503, f"Too many connections (the limit is {self.limits.max_connections})")
                continue
            deadline = time.monotonic() + self.limits.request_timeout_seconds
            connection = _Connection(sock, peer, self.app.max_request_bytes, deadline)
            self._connections.add(connection)
            self._selector.register(sock, selectors.EVENT_READ, connection)

    def _receive(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as error:
            _log.debug("client %s disconnected: %s", connection.peer, error)
            self._close(connection)
            return
        if not data:
            if connection.reader.phase is not Phase.IDLE:
                _log.debug("client %s disconnected mid-request", connection.peer)
            self._close(connection)
            return
        connection.reader.feed(data)
        self._advance(connection)

    def _advance(self, connection: _Connection) -> None:
        try:
            request = connection.reader.next_request()
        except ProtocolError as error:
            self._selector.unregister(connection.sock)
            self._connections.discard(connection)
            self._refuse(connection.sock, error.status, error.message)
            return
        if connection.reader.take_continue() and request is None:
            _send_quietly(connection.sock, CONTINUE)  # the client waits for it before sending its body
        phase = connection.reader.phase
        if request is None:
            if phase is not connection.phase and phase is Phase.BODY:
                connection.deadline = time.monotonic() + self.limits.request_timeout_seconds
            connection.phase = phase
            return
        self._selector.unregister(connection.sock)
        assert self._workers is not None
        future = self._workers.submit(self._answer, connection, request)
        future.add_done_callback(functools.partial(self._answered, connection))

    def _take_returned(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        while not self._returned.empty():
            connection, keep_alive = self._returned.get()
            if not keep_alive or self._stopping.is_set():
                self._close(connection)
                continue
            connection.deadline = time.monotonic() + self.limits.request_timeout_seconds
            connection.phase = Phase.IDLE
            self._selector.register(connection.sock, selectors.EVENT_READ, connection)
            self._advance(connection)  # a pipelined request may be waiting in the buffer already

    def _expire(self, now: float) -> None:
        for connection in [c for c in self._connections if c.deadline <= now and self._is_waiting(c)]:
            self._selector.unregister(connection.sock)
            self._connections.discard(connection)
            if connection.reader.phase is Phase.IDLE:
                _log.debug("closing idle connection from %s", connection.peer)
                _close_socket(connection.sock)
                continue
            _log.debug("client %s took too long to send its request", connection.peer)
            seconds = self.limits.request_timeout_seconds
            self._refuse(connection.sock, 408, f"The request was not received within {seconds:g} s")

    def _refuse(self, sock: socket.socket, status: int, message: str) -> None:
        """Answer an error without a worker (best effort: the client may be gone or not reading) and close."""
        response = error_response(RegistryError(message, http_status=status, error_code=status))
        _send_quietly(sock, encode_response(status, response.body, {}, content_type=MEDIA_TYPE, close=True))
        with contextlib.suppress(OSError):  # unread bytes would make close() reset the connection over the answer
            for _ in range(16):
                if not sock.recv(65536):
                    break
        _close_socket(sock)

    def _close(self, connection: _Connection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        self._connections.discard(connection)
        _close_socket(connection.sock)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    # -- the workers -------------------------------------------------------------------------
    def _answer(self, connection: _Connection, request: HttpRequest) -> bool:
        """Answer one request and write the response; whether the connection stays open."""
        response = self.app.handle(request.method, request.target, request.headers, request.body)
        keep_alive = request.keep_alive and not self._stopping.is_set()
        data = encode_response(
            response.status,
            response.body,
            response.headers,
            content_type=MEDIA_TYPE,
            head_only=request.method.upper() == "HEAD",
            close=not keep_alive,
        )
        try:
            connection.sock.settimeout(self.limits.write_timeout_seconds)
            connection.sock.sendall(data)
            connection.sock.setblocking(False)
        except OSError as error:  # reset, broken pipe, or not read within the write timeout
            _log.debug("client %s disconnected: %s", connection.peer, error)
            return False
        return keep_alive

    def _answered(self, connection: _Connection, future: Future[bool]) -> None:
        """Hand the connection back to the selector thread, the only one that opens, keeps or closes them."""
        error = future.exception()
        if error is not None:
            _log.error("failed answering %s", connection.peer, exc_info=error)
        self._returned.put((connection, error is None and future.result()))
        self._wake()


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.send(data)


def _close_socket(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
