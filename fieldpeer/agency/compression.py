"""Gzip for the phone API's JSON answers (issue #18: the push receipt, which lists every entry,
was most of the bytes a note costs beyond its own). Only under the API prefix: the supervisor
and admin pages carry CSRF tokens beside what a user typed, which compression would expose to
a BREACH-style guess; sealed bodies are gzip'd inside the seal already, so they are left alone.
httpx asks for gzip (Accept-Encoding) and inflates by itself."""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE


class ApiGZip:
    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel, exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, SEALED_MEDIA_TYPE))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(f"{API}/"):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
