"""Specification of `tradewire.registry.server.RegistryServer`: HTTP/1.1 on loopback, limits, headers."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tradewire.registry import MemoryStore, RegistryApp, RegistryServer
from tradewire.registry.server import ServerLimits

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    """A running server on a free loopback port, with a 64-byte request limit."""
    with RegistryServer(RegistryApp(MemoryStore(), max_request_bytes=64), "127.0.0.1", 0) as running:
        yield running


def _connection(server: RegistryServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=10)


def test_url_names_the_bound_port(server: RegistryServer) -> None:
    """With port 0 the server reports the port the system chose, on 127.0.0.1."""
    assert f"http://127.0.0.1:{server.port}" == server.url
    assert server.port > 0


def test_responses_are_schema_registry_json(server: RegistryServer) -> None:
    """Responses carry the schema registry media type and a Content-Length."""
    connection = _connection(server)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert (200, MEDIA_TYPE, "2", b"{}") == (
        response.status,
        response.getheader("Content-Type"),
        response.getheader("Content-Length"),
        response.read(),
    )


def test_connections_are_kept_alive(server: RegistryServer) -> None:
    """Several requests travel on one HTTP/1.1 connection."""
    connection = _connection(server)
    answers = []
    for _ in range(3):
        connection.request("GET", "/subjects")
        answers.append(connection.getresponse().read())
    assert [b"[]", b"[]", b"[]"] == answers


def test_oversized_body_is_refused_before_it_is_read(server: RegistryServer) -> None:
    """A Content-Length over the limit is answered 413 at once and the connection closed."""
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        raw.sendall(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n"
        )
        reply = b""
        while chunk := raw.recv(4096):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in head
    expected = {"error_code": 413, "message": "Request body of 100000 bytes exceeds the limit of 64 bytes"}
    assert expected == json.loads(body)


def test_chunked_bodies_are_read(server: RegistryServer) -> None:
    """A chunked request body is reassembled."""
    connection = _connection(server)
    connection.request(
        "PUT", "/config", body=iter([b'{"compatibility":', b'"FULL"}']), headers={"Content-Type": MEDIA_TYPE}
    )
    response = connection.getresponse()
    assert (200, {"compatibility": "FULL"}) == (response.status, json.loads(response.read()))


def test_head_has_no_body(server: RegistryServer) -> None:
    """HEAD answers the status and headers of GET without a body."""
    connection = _connection(server)
    connection.request("HEAD", "/")
    response = connection.getresponse()
    assert (200, b"") == (response.status, response.read())


def test_stop_closes_the_port() -> None:
    """After stop() nothing listens on the port any more."""
    server = RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0).start()
    port = server.port
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def _register_large_schema(server: RegistryServer, doc_bytes: int) -> None:
    schema = {"type": "record", "name": "Big", "doc": "x" * doc_bytes, "fields": [{"name": "a", "type": "int"}]}
    connection = _connection(server)
    connection.request(
        "POST",
        "/subjects/big/versions",
        body=json.dumps({"schema": json.dumps(schema)}),
        headers={"Content-Type": MEDIA_TYPE},
    )
    response = connection.getresponse()
    assert 200 == response.status, response.read()
    response.read()
    connection.close()


def test_client_disconnecting_mid_response_is_one_debug_line(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A client that resets its connection while a large response is being written costs one debug line and no
    traceback on stderr; the server keeps answering."""
    with RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0) as running:
        _register_large_schema(running, 900_000)
        capfd.readouterr()
        with caplog.at_level(logging.DEBUG, logger="tradewire.registry.server"):
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect((running.host, running.port))
            raw.sendall(b"GET /subjects/big/versions/1 HTTP/1.1\r\nHost: x\r\n\r\n" * 8)  # > 7 MB of answers
            raw.recv(1024)  # the server is writing
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()  # a reset, not a clean close
            disconnects = _wait_for_records(caplog, "disconnected")
        connection = _connection(running)
        connection.request("GET", "/subjects")
        response = connection.getresponse()
        after = (response.status, response.read())
    err = capfd.readouterr().err
    assert (200, b'["big"]') == after
    assert 1 == len(disconnects)
    assert logging.DEBUG == disconnects[0].levelno
    assert "Traceback" not in err
    assert "Error" not in err
    assert all(record.levelno <= logging.DEBUG for record in caplog.records)


def _wait_for_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [record for record in caplog.records if text in record.getMessage()]
        if found:
            time.sleep(0.2)  # let any second line about the same connection arrive too
            return [record for record in caplog.records if text in record.getMessage()]
        time.sleep(0.05)
    return []


def test_stalled_uploads_hold_no_threads() -> None:
    """200 connections stalled mid-body leave the thread count within the worker pool, and a normal request
    is still answered."""
    with RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0) as running:
        baseline = threading.active_count()
        stalled = []
        try:
            for _ in range(200):
                raw = socket.create_connection((running.host, running.port), timeout=10)
                raw.sendall(
                    b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 1000\r\n\r\n{"schema": '
                )
                stalled.append(raw)
            connection = _connection(running)
            connection.request("GET", "/subjects")
            response = connection.getresponse()
            answered = (response.status, response.read())
            threads = threading.active_count() - baseline
        finally:
            for raw in stalled:
                raw.close()
    assert (200, b"[]") == answered
    assert threads <= ServerLimits().max_workers


QUICK = ServerLimits(request_timeout_seconds=0.5, write_timeout_seconds=0.5, max_workers=2)


@pytest.fixture
def quick_server() -> Iterator[RegistryServer]:
    """A running server with half-second timeouts and two workers."""
    with RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0, limits=QUICK) as running:
        yield running


def _read_until_closed(raw: socket.socket) -> bytes:
    reply = b""
    while chunk := raw.recv(65536):
        reply += chunk
    return reply


def _answer(reply: bytes) -> tuple[bytes, Any]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body) if body else None


def _wait_until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /subjects/s/versions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{",
        b"GET /subjects HTTP/1.1\r\nHost: x\r\n",
        b"G",
    ],
    ids=["body", "headers", "request-line"],
)
def test_a_stalled_request_is_answered_408_and_closed(quick_server: RegistryServer, sent: bytes) -> None:
    """A request whose headers or body stop arriving is answered 408 at the request timeout, then closed."""
    with socket.create_connection((quick_server.host, quick_server.port), timeout=10) as raw:
        raw.sendall(sent)
        reply = _read_until_closed(raw)
    expected = {"error_code": 408, "message": "The request was not received within 0.5 s"}
    assert (b"HTTP/1.1 408 Request Timeout", expected) == _answer(reply)


def test_a_trickled_request_is_cut_at_its_deadline(quick_server: RegistryServer) -> None:
    """Sending the headers a byte at a time does not extend the deadline: the 408 comes long before they are done."""
    request = b"GET /subjects HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 100 + b"\r\n\r\n"
    with socket.create_connection((quick_server.host, quick_server.port), timeout=10) as raw:
        sent = 0
        try:
            for byte in request:
                raw.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.05)
        except OSError:  # the server closed the connection
            pass
        reply = _read_until_closed(raw)
    assert b"HTTP/1.1 408 Request Timeout" == _answer(reply)[0]
    assert sent < len(request)


def test_an_idle_keep_alive_connection_is_closed_quietly(quick_server: RegistryServer) -> None:
    """A connection that sends nothing more after its answer is closed at the request timeout without a response."""
    with socket.create_connection((quick_server.host, quick_server.port), timeout=10) as raw:
        raw.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = _read_until_closed(raw)
    assert (b"HTTP/1.1 200 OK", []) == _answer(reply)


def test_connections_beyond_the_limit_are_answered_503() -> None:
    """With max_connections open, the next connection is answered 503 at once and closed; the open ones still work."""
    limits = ServerLimits(max_connections=4)
    with RegistryServer(RegistryApp(MemoryStore()), "127.0.0.1", 0, limits=limits) as running:
        held = [socket.create_connection((running.host, running.port), timeout=10) for _ in range(4)]
        try:
            assert _wait_until(lambda: running.open_connections == 4)
            with socket.create_connection((running.host, running.port), timeout=10) as extra:
                refused = _answer(_read_until_closed(extra))
            held[0].sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            served = _answer(_read_until_closed(held[0]))
        finally:
            for raw in held:
                raw.close()
    expected = {"error_code": 503, "message": "Too many connections (the limit is 4)"}
    assert ((b"HTTP/1.1 503 Service Unavailable", expected), (b"HTTP/1.1 200 OK", [])) == (refused, served)


def test_a_client_that_does_not_read_its_answer_is_dropped(quick_server: RegistryServer) -> None:
    """A response the client never reads is abandoned at the write timeout, freeing the worker and the connection."""
    _register_large_schema(quick_server, 900_000)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((quick_server.host, quick_server.port))
    try:
        raw.sendall(b"GET /subjects/big/versions/1 HTTP/1.1\r\nHost: x\r\n\r\n" * 8)
        assert _wait_until(lambda: quick_server.open_connections == 1)
        assert _wait_until(lambda: quick_server.open_connections == 0)
    finally:
        raw.close()


def test_expect_100_continue(server: RegistryServer) -> None:
    """A client that sends `Expect: 100-continue` (as curl does) gets 100 Continue before it sends the body."""
    body = b'{"compatibility": "FULL"}'
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        raw.sendall(
            b"PUT /config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        interim = raw.recv(25)
        raw.sendall(body)
        reply = _read_until_closed(raw)
    assert b"HTTP/1.1 100 Continue\r\n\r\n" == interim
    assert (b"HTTP/1.1 200 OK", {"compatibility": "FULL"}) == _answer(reply)


def test_pipelined_requests_are_answered_in_order(server: RegistryServer) -> None:
    """Requests sent back to back on one connection are answered in the order they were sent."""
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        raw.sendall(
            b'PUT /config HTTP/1.1\r\nHost: x\r\nContent-Length: 25\r\n\r\n{"compatibility": "NONE"}'
            b"GET /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        reply = _read_until_closed(raw)
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in reply.split(b"HTTP/1.1 200 OK")[1:]]
    assert [{"compatibility": "NONE"}, {"compatibilityLevel": "NONE"}] == bodies


@pytest.mark.parametrize(
    ("sent", "status_line", "message"),
    [
        (b"GET /subjects\r\n\r\n", b"HTTP/1.1 400 Bad Request", "Malformed request line"),
        (b"PRI * HTTP/2.0\r\n\r\n", b"HTTP/1.1 505 HTTP Version Not Supported", "HTTP version 2.0 is not supported"),
        (
            b"POST /subjects/s HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
            b"HTTP/1.1 400 Bad Request",
            "Invalid Content-Length '1e3'",
        ),
        (
            b"POST /subjects/s HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 400 Bad Request",
            "Unsupported Transfer-Encoding 'gzip'",
        ),
        (
            b"GET /subjects HTTP/1.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n",
            b"HTTP/1.1 431 Request Header Fields Too Large",
            "Request line and headers exceed 65536 bytes",
        ),
    ],
    ids=["no-version", "http2", "bad-length", "gzip", "huge-head"],
)
def test_unreadable_requests_are_refused_and_closed(
    server: RegistryServer, sent: bytes, status_line: bytes, message: str
) -> None:
    """A request that cannot be framed is answered with its status and Confluent's error body, then closed."""
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        raw.sendall(sent)
        reply = _read_until_closed(raw)
    status = int(status_line.split()[1])
    assert (status_line, {"error_code": status, "message": message}) == _answer(reply)


def test_client_disconnecting_mid_request_is_one_debug_line(
    server: RegistryServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A client that resets its connection halfway through its headers costs one debug line and no traceback."""
    with caplog.at_level(logging.DEBUG, logger="tradewire.registry.server"):
        raw = socket.create_connection((server.host, server.port), timeout=10)
        raw.sendall(b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Le")
        assert _wait_until(lambda: server.open_connections == 1)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        disconnects = _wait_for_records(caplog, "disconnected")
    assert 0 == server.open_connections
    assert [logging.DEBUG] == [record.levelno for record in disconnects]
    assert "Traceback" not in capfd.readouterr().err
