"""Specification of `tradewire.registry.http11`: requests read from bytes as they arrive, and responses encoded."""

from __future__ import annotations

import pytest

from tradewire.registry.http11 import HttpRequest, Phase, ProtocolError, RequestReader, encode_response


def _feed_bytewise(reader: RequestReader, data: bytes) -> list[HttpRequest]:
    requests = []
    for byte in data:
        reader.feed(bytes([byte]))
        while (request := reader.next_request()) is not None:
            requests.append(request)
    return requests


def test_a_request_arriving_a_byte_at_a_time() -> None:
    """Head and Content-Length body are reassembled however the bytes are split; phases go idle, head, body, idle."""
    reader = RequestReader(100)
    phases = [reader.phase]
    reader.feed(b"POST /subjects/s HTTP/1.1\r\nContent-Type: application/json\r\nContent-")
    phases.append(reader.phase)
    assert reader.next_request() is None
    reader.feed(b"Length: 4\r\n\r\n[1")
    assert reader.next_request() is None
    phases.append(reader.phase)
    reader.feed(b"2]")
    request = reader.next_request()
    phases.append(reader.phase)
    assert (
        HttpRequest("POST", "/subjects/s", {"Content-Type": "application/json", "Content-Length": "4"}, b"[12]", True)
        == request
    )
    assert [Phase.IDLE, Phase.HEAD, Phase.BODY, Phase.IDLE] == phases


def test_chunked_bodies_with_extensions_and_trailers() -> None:
    """Chunk extensions are ignored, trailers skipped, bare LF tolerated, and the next request follows."""
    reader = RequestReader(100)
    data = (
        b"PUT /config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;name=value\r\n{"com\r\n'
        b'14\npatibility": "FULL"}\n'
        b"0\r\nX-Trailer: yes\r\n\r\n"
        b"GET / HTTP/1.1\r\n\r\n"
    )
    requests = _feed_bytewise(reader, data)
    assert [b'{"compatibility": "FULL"}', b""] == [request.body for request in requests]
    assert ["PUT", "GET"] == [request.method for request in requests]


def test_keep_alive_follows_version_and_connection_header() -> None:
    """HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes it; chunked plus a length closes."""
    reader = RequestReader(100)
    requests = _feed_bytewise(
        reader,
        b"GET / HTTP/1.1\r\n\r\n"
        b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n"
        b"GET / HTTP/1.0\r\n\r\n"
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert [True, False, False, False] == [request.keep_alive for request in requests]


def test_empty_lines_before_a_request_are_ignored() -> None:
    """Stray CRLFs between pipelined requests do not make a malformed request line."""
    reader = RequestReader(100)
    assert ["/a", "/b"] == [
        r.target for r in _feed_bytewise(reader, b"GET /a HTTP/1.1\r\n\r\n\r\n\nGET /b HTTP/1.1\r\n\r\n")
    ]


def test_expect_100_continue_is_due_once() -> None:
    """A head with `Expect: 100-continue` and a body to come makes take_continue() true exactly once."""
    reader = RequestReader(100)
    reader.feed(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert reader.next_request() is None
    assert [True, False] == [reader.take_continue(), reader.take_continue()]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (
            b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
            413,
            "Request body of 101 bytes exceeds the limit of 100 bytes",
        ),
        (
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + b"x" * 64 + b"\r\n40\r\n",
            413,
            "Request body of 128 bytes exceeds the limit of 100 bytes",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "Malformed chunked request body"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", 400, "Malformed chunked request body"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "Invalid Content-Length '1, 2'"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Invalid Content-Length '-1'"),
        (b"GET  / HTTP/1.1\r\n\r\n", 400, "Malformed request line"),
        (b"GET / HTTP/1.2\r\n\r\n", 505, "HTTP version 1.2 is not supported"),
    ],
    ids=["length", "chunked-total", "chunk-size", "chunk-end", "two-lengths", "negative-length", "double-space", "1.2"],
)
def test_unreadable_requests(data: bytes, status: int, message: str) -> None:
    """Requests past the limits or outside HTTP/1.x framing raise ProtocolError with the status to answer."""
    reader = RequestReader(100)
    reader.feed(data)
    with pytest.raises(ProtocolError, match=f"^{message}$") as raised:
        reader.next_request()
    assert status == raised.value.status


def test_a_head_that_never_ends_is_431() -> None:
    """Over 64 KiB without the end of the headers is 431, before any more is buffered."""
    reader = RequestReader(100)
    reader.feed(b"GET / HTTP/1.1\r\nX: " + b"x" * 65536)
    with pytest.raises(ProtocolError, match=r"^Request line and headers exceed 65536 bytes$"):
        reader.next_request()


def test_encode_response() -> None:
    """A response carries status, Server, Date, Content-Type, Content-Length, extra headers, body unless HEAD."""
    full = encode_response(404, b"{}", {"X-A": "1"}, content_type="application/json", close=True)
    head_only = encode_response(200, b"[1]", {}, content_type="application/json", head_only=True)
    lines = full.split(b"\r\n")
    assert b"HTTP/1.1 404 Not Found" == lines[0]
    assert [b"Server: tradewire-registry", b"Content-Type: application/json", b"Content-Length: 2", b"X-A: 1"] == [
        line for line in lines[1:6] if not line.startswith(b"Date: ")
    ]
    assert full.endswith(b"Connection: close\r\n\r\n{}")
    assert head_only.endswith(b"Content-Length: 3\r\n\r\n")
