"""The dev registry's HTTP face: `RegistryApp` handles requests, `RegistryServer` serves them.

`RegistryApp.handle(method, target, headers, body)` is pure request handling (no sockets):
authentication, the request size limit, routing, JSON bodies, Confluent's error bodies,
one lock around each request so every read-check-write is atomic. Request bodies must be
one of Confluent's media types (or carry no Content-Type; else 415) and JSON nested at most
`jsontext.MAX_JSON_DEPTH` deep (else 400); responses are `application/vnd.schemaregistry.v1+json`.

`RegistryServer` runs an app on the standard library's threading HTTP server, bound to
127.0.0.1 unless told otherwise, in a background thread (`start()` / `stop()`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import socket
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tradewire.errors import RegistryError
from tradewire.registry import codes
from tradewire.registry.api import ROUTES
from tradewire.registry.jsontext import loads
from tradewire.registry.routing import MEDIA_TYPE, Call, Response, Router, check_content_type, error_response
from tradewire.registry.service import RegistryService
from tradewire.registry.store import RegistryStore

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "RegistryApp", "RegistryServer"]

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


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: RegistryApp) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tradewire-registry"
    timeout = 60
    server: _HttpServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def do_OPTIONS(self) -> None:
        self._answer()

    def _answer(self) -> None:
        app = self.server.app
        try:
            body = self._read_body(app.max_request_bytes)
        except RegistryError as error:
            self.close_connection = True  # the unread body would be taken for the next request
            self._send(error_response(error))
            return
        self._send(app.handle(self.command, self.path, dict(self.headers.items()), body))

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise codes.bad_request(f"Invalid Content-Length {length_text!r}") from None
        if length > limit:
            raise codes.too_large(length, limit)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                chunk_size = int(line, 16)
            except ValueError:
                raise codes.bad_request("Malformed chunked request body") from None
            if chunk_size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailer fields
                return b"".join(chunks)
            size += chunk_size
            if size > limit:
                raise codes.too_large(size, limit)
            chunks.append(self.rfile.read(chunk_size))
            self.rfile.readline(1024)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", MEDIA_TYPE)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


class RegistryServer:
    """Serves a `RegistryApp` over HTTP from a background thread; bound as soon as it is created."""

    def __init__(self, app: RegistryApp, host: str = "127.0.0.1", port: int = 8081) -> None:
        self.app = app
        self._httpd = _HttpServer((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """The address the server is bound to."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The bound port (the one chosen by the system when created with port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. `http://127.0.0.1:8081`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> RegistryServer:
        """Start answering requests in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="tradewire-registry", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering, close the listening socket and wait for the thread."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
