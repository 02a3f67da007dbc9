"""HTTP/1.1 on the wire for the dev registry: requests read incrementally, responses encoded.

`RequestReader` is fed the bytes of one connection as they arrive and hands out complete
requests (head and body) in order, so the server never needs a thread per waiting
client. It enforces the limits a registry request must fit: a request line and headers of
at most `MAX_HEAD_BYTES` (431), a body of at most the app's request limit (413, checked on
the declared Content-Length before any of the body is read), Content-Length or chunked
framing only (400), HTTP/1.0 or 1.1 (505). Errors carry the status to answer; the
connection is closed after them, since the rest of its bytes cannot be framed.
"""

from __future__ import annotations

import email.utils
import http
import http.client
import io
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONTINUE",
    "MAX_HEAD_BYTES",
    "HttpRequest",
    "Phase",
    "ProtocolError",
    "RequestReader",
    "encode_response",
]

MAX_HEAD_BYTES = 64 * 1024
"""The longest request line plus headers accepted."""
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_MAX_CHUNK_LINE = 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(\d)\.(\d)\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]+\Z")


class ProtocolError(Exception):
    """A request that cannot be read: the status to answer and why; the connection closes after it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Phase(Enum):
    """Where a connection is in reading its next request."""

    IDLE = "idle"
    """No byte of the next request has arrived."""
    HEAD = "head"
    """The request line and headers are arriving."""
    BODY = "body"
    """The headers are complete; the body is arriving."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One complete request."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    keep_alive: bool


@dataclass(slots=True)
class _Head:
    method: str
    target: str
    headers: dict[str, str]
    keep_alive: bool
    length: int | None  # None: chunked


class RequestReader:
    """Turns the bytes of one connection into requests, one at a time, within the limits."""

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._scanned = 0
        self._head: _Head | None = None
        self._chunks = bytearray()
        self._continue_due = False

    @property
    def phase(self) -> Phase:
        """Whether the next request has not started, is in its head, or is in its body."""
        if self._head is not None:
            return Phase.BODY
        return Phase.HEAD if self._buffer else Phase.IDLE

    def feed(self, data: bytes) -> None:
        """Add bytes received from the peer."""
        self._buffer += data

    def take_continue(self) -> bool:
        """True once when the client waits for `100 Continue` before sending its body."""
        due, self._continue_due = self._continue_due, False
        return due

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or None until more bytes arrive; ProtocolError when it cannot be read."""
        if self._head is None:
            self._head = self._read_head()
            if self._head is None:
                return None
        head = self._head
        body = self._read_body(head)
        if body is None:
            return None
        self._head = None
        self._chunks = bytearray()
        self._continue_due = False
        return HttpRequest(head.method, head.target, head.headers, body, head.keep_alive)

    # -- the head ------------------------------------------------------------------------
    def _read_head(self) -> _Head | None:
        while self._buffer.startswith((b"\r\n", b"\n")):  # empty lines before a request are ignored
            del self._buffer[: 2 if self._buffer.startswith(b"\r") else 1]
        end = _HEAD_END.search(self._buffer, max(0, self._scanned - 3))
        if end is None:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise ProtocolError(431, f"Request line and headers exceed {MAX_HEAD_BYTES} bytes")
            self._scanned = len(self._buffer)
            return None
        raw = bytes(self._buffer[: end.start()])
        del self._buffer[: end.end()]
        self._scanned = 0
        if len(raw) > MAX_HEAD_BYTES:
            raise ProtocolError(431, f"Request line and headers exceed {MAX_HEAD_BYTES} bytes")
        line, _, fields = raw.partition(b"\n")
        match = _REQUEST_LINE.match(line.rstrip(b"\r"))
        if match is None:
            raise ProtocolError(400, "Malformed request line")
        method, target, major, minor = match.groups()
        if (major, minor) not in ((b"1", b"0"), (b"1", b"1")):
            raise ProtocolError(505, f"HTTP version {major.decode()}.{minor.decode()} is not supported")
        try:
            message = http.client.parse_headers(io.BytesIO(fields + b"\r\n\r\n"))
        except http.client.HTTPException as error:
            raise ProtocolError(431, f"Malformed or too many request headers: {error}") from None
        headers = dict(message.items())
        connection = {token.strip().lower() for token in message.get("Connection", "").split(",")}
        keep_alive = minor == b"1" and "close" not in connection
        length, keep_alive = self._framing(message, keep_alive)
        if length is not None and length > self.max_body_bytes:
            raise _too_large(length, self.max_body_bytes)
        expects_body = length is None or length > 0
        self._continue_due = expects_body and message.get("Expect", "").strip().lower() == "100-continue"
        return _Head(method.decode("ascii"), target.decode("latin-1"), headers, keep_alive, length)

    @staticmethod
    def _framing(message: http.client.HTTPMessage, keep_alive: bool) -> tuple[int | None, bool]:
        encodings = message.get_all("Transfer-Encoding") or []
        if encodings:
            if [coding.strip().lower() for coding in ",".join(encodings).split(",")] != ["chunked"]:
                raise ProtocolError(400, f"Unsupported Transfer-Encoding {', '.join(encodings)!r}")
            # With Content-Length too the request is ambiguous: read it chunked, then close.
            return None, keep_alive and not message.get_all("Content-Length")
        lengths = {value.strip() for value in message.get_all("Content-Length") or []}
        if not lengths:
            return 0, keep_alive
        if len(lengths) > 1 or not _DIGITS.match(next(iter(lengths))):
            raise ProtocolError(400, f"Invalid Content-Length {', '.join(sorted(lengths))!r}")
        return int(next(iter(lengths))), keep_alive

    # -- the body ------------------------------------------------------------------------
    def _read_body(self, head: _Head) -> bytes | None:
        if head.length is not None:
            if len(self._buffer) < head.length:
                return None
            body = bytes(self._buffer[: head.length])
            del self._buffer[: head.length]
            return body
        return self._read_chunks()

    def _read_chunks(self) -> bytes | None:
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > _MAX_CHUNK_LINE:
                    raise ProtocolError(400, "Malformed chunked request body")
                return None
            size_text = bytes(self._buffer[:newline]).split(b";", 1)[0].strip()
            if not _HEX_DIGITS.match(size_text):
                raise ProtocolError(400, "Malformed chunked request body")
            size = int(size_text, 16)
            if size == 0:
                return self._read_trailers(newline + 1)
            total = len(self._chunks) + size
            if total > self.max_body_bytes:
                raise _too_large(total, self.max_body_bytes)
            data_end = newline + 1 + size
            terminator = bytes(self._buffer[data_end : data_end + 2])
            if terminator == b"\r\n":
                skip = 2
            elif terminator.startswith(b"\n"):
                skip = 1
            elif terminator in (b"", b"\r"):
                return None  # the chunk's data or its line end is still on its way
            else:
                raise ProtocolError(400, "Malformed chunked request body")
            self._chunks += self._buffer[newline + 1 : data_end]
            del self._buffer[: data_end + skip]

    def _read_trailers(self, start: int) -> bytes | None:
        rest = bytes(self._buffer[start : start + 2])
        if rest.startswith(b"\r\n"):
            consumed = start + 2
        elif rest.startswith(b"\n"):
            consumed = start + 1
        else:
            end = _HEAD_END.search(self._buffer, start)
            if end is None:
                if len(self._buffer) - start > MAX_HEAD_BYTES:
                    raise ProtocolError(431, f"Chunked trailer exceeds {MAX_HEAD_BYTES} bytes")
                return None
            consumed = end.end()
        del self._buffer[:consumed]
        return bytes(self._chunks)


def _too_large(size: int, limit: int) -> ProtocolError:
    return ProtocolError(413, f"Request body of {size} bytes exceeds the limit of {limit} bytes")


def encode_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    content_type: str,
    head_only: bool = False,
    close: bool = False,
) -> bytes:
    """The bytes of a response: status line, Server, Date, Content-Type, Content-Length, `headers`, body."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Server: tradewire-registry",
        f"Date: {email.utils.formatdate(usegmt=True)}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    if close:
        lines.append("Connection: close")
    encoded = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return encoded if head_only else encoded + body
