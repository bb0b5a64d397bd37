"""Fallback fonts for web mode, served from assets/fonts/ instead of Google's CDN.

Flutter draws text on a canvas with its own fonts. For a character its default font lacks
(emoji, Chinese, Arabic) it fetches a Noto font from `flet.fontFallbackBaseUrl`; with
`no_cdn=True` that is this server's `assets/fonts/<family>/<version>/<file>.<chunk>.woff2`,
which flet_web does not ship, so the text showed as empty boxes. This wraps the ASGI app and
answers those requests with one local subset per family (scripts/subset_fonts.py): whichever
chunk Flutter asks for, the file holds the common characters of the whole script.
Plain ASGI, no web framework, so the device side keeps its dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
PREFIX = "/assets/fonts/"
# Flutter's fallback family folder -> our file. The CJK families share one simplified-Chinese
# subset: better a Chinese glyph than a box when the browser prefers another CJK locale.
FAMILIES = {
    "notosanssc": "notosanscjk-sc.woff2",
    "notosanstc": "notosanscjk-sc.woff2",
    "notosanshk": "notosanscjk-sc.woff2",
    "notosansjp": "notosanscjk-sc.woff2",
    "notosansarabic": "notosansarabic.woff2",
    "notocoloremoji": "notocoloremoji.ttf",
}


def font_file(path: str) -> Path | None:
    """The local file answering a fallback-font request path, or None."""
    if not path.startswith(PREFIX):
        return None
    family = path[len(PREFIX):].split("/", 1)[0]
    name = FAMILIES.get(family)
    return FONTS / name if name else None


def with_fallback_fonts(app: Any) -> Any:
    """The ASGI `app`, answering Flutter's fallback-font requests from assets/fonts/."""
    cache: dict[Path, bytes] = {}

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        file = font_file(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") else None
        if file is None or not file.is_file():
            await app(scope, receive, send)
            return
        body = cache.get(file) or cache.setdefault(file, file.read_bytes())
        kind = b"font/woff2" if file.suffix == ".woff2" else b"font/ttf"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"cache-control", b"public, max-age=86400")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})

    return asgi
