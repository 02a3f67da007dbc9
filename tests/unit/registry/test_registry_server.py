"""Specification of `tradewire.registry.server.RegistryServer`: HTTP/1.1 on loopback, limits, headers."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from tradewire.registry import MemoryStore, RegistryApp, RegistryServer

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
