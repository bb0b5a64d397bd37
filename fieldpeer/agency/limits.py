"""Limits on what an unauthenticated client can make the server hold: request heads (issue #17,
finding 7) and bodies (BodyLimit, below). uvicorn's httptools protocol buffers any number of
headers of any size before the app sees the request; this subclass refuses a head over MAX_HEAD_BYTES or MAX_HEADERS with a 431
and closes the connection, before the app (and so before authentication) runs.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldpeer.sync.wire import ErrorBody

MAX_HEAD_BYTES = 32 * 1024  # request line + every header: nginx's default total is of this order
MAX_HEADERS = 100  # FieldPeer's own clients send fewer than 10
_REFUSAL = ErrorBody(code="headers_too_large", message="The request's headers are too large.").model_dump_json().encode()


def head_too_large_response() -> bytes:
    return b"".join([
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(_REFUSAL)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        _REFUSAL,
    ])


def uvicorn_http_options() -> dict[str, Any]:
    """`uvicorn.run(..., **uvicorn_http_options())`: the bounded httptools protocol, or h11 with
    its own cap on an incomplete head when httptools is not installed."""
    try:
        return {"http": bounded_httptools_protocol()}
    except ImportError:
        return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}


def bounded_httptools_protocol() -> type:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """Counts what arrives before a request's head is complete; over the limits: 431, close."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_bytes = 0  # received since the last head completed (an upper bound of the head)
            self._head_size = 0  # request line + headers of the current request, exactly
            self._header_count = 0
            self._in_body = False
            self._refused = False

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if not self._in_body:
                self._head_bytes += len(data)
            super().data_received(data)
            # The parser buffers an unfinished head; stop it one read past the limit.
            if self._refused or (not self._in_body and self._head_bytes > MAX_HEAD_BYTES):
                self._refuse()

        def _refuse(self) -> None:
            self._refused = True
            if not self.transport.is_closing():
                self.transport.write(head_too_large_response())
                self.transport.close()

        def on_message_begin(self) -> None:
            self._head_size = self._header_count = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._head_size += len(url)
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            self._head_size += len(name) + len(value) + 4
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._header_count > MAX_HEADERS or self._head_size > MAX_HEAD_BYTES:
                self._refused = True  # the app never sees this request
                return
            self._in_body, self._head_bytes = True, 0
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            self._in_body = False
            if not self._refused:
                super().on_message_complete()

    return BoundedHttpToolsProtocol


# --- Request bodies ---------------------------------------------------------------------------------


class BodyTooLarge(StarletteHTTPException):
    """A body over its route's limit: answered 413 "too_large" by the app's HTTP error handler (an
    HTTPException, so FastAPI's body parsing passes it on rather than calling it unreadable)."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimit:
    """Every route's body limit, for every route, before any of it is held: a declared Content-Length
    over the limit is refused at once (413, nothing read); otherwise the bytes are counted as they
    stream in and the read that crosses the limit fails. The push route takes `push_bytes` (sealed
    batches), every other route `other_bytes` (forms and JSON requests are small)."""

    def __init__(self, app: ASGIApp, push_path: str, push_bytes: int, other_bytes: int) -> None:
        self.app, self.push_path, self.push_bytes, self.other_bytes = app, push_path, push_bytes, other_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.push_bytes if scope["path"] == self.push_path else self.other_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large_response(scope, receive, send, limit)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counting, send)


TOO_LARGE_MESSAGE = "The request is larger than this address accepts."


def _size_words(limit: int) -> str:
    return f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit / 2**10:g} KiB"


async def too_large_response(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Names the limit, so whoever reads the refusal (a log, an operator) knows what would fit."""
    message = f"The request is larger than this address accepts ({_size_words(limit)})."
    body = ErrorBody(code="too_large", message=message).model_dump_json().encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
