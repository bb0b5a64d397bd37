"""The field app in web mode (the real ASGI app, no server needed): Flutter's fallback-font
requests are answered from assets/fonts/ (no CDN), whichever chunk of a family it asks for;
everything else is Flet's. The browser journey (test_e2e_browser.py) proves the glyphs are
drawn; this checks the wiring, the page title and the size budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from fieldpeer.app import web_app
from fieldpeer.screens.web_fonts import FAMILIES, FONTS

EMOJI_CHUNK = "/assets/fonts/notocoloremoji/v32/Yq6P-KqIXTD0t4D9z1ESnKM3-HpFabsE4tq3luCC7p-aXxcn.9.woff2"


def fetch(tmp_path: Path, *paths: str) -> list[httpx.Response]:
    app = web_app(tmp_path / "device", auto_sync_seconds=None)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return [await client.get(path) for path in paths]

    return asyncio.run(run())


def test_fallback_fonts_come_from_assets_and_the_rest_from_flet(tmp_path: Path) -> None:
    emoji, sc_116, sc_118, roboto, thai, index = fetch(
        tmp_path, EMOJI_CHUNK, "/assets/fonts/notosanssc/v37/k3kC.116.woff2", "/assets/fonts/notosanssc/v37/k3kC.118.woff2",
        "/assets/fonts/roboto.woff2", "/assets/fonts/notosansthai/v1/x.0.woff2", "/",
    )
    assert emoji.status_code == 200 and emoji.headers["content-type"] == "font/ttf" and emoji.content == (FONTS / "notocoloremoji.ttf").read_bytes()
    assert sc_116.content == sc_118.content == (FONTS / "notosanscjk-sc.woff2").read_bytes()  # any chunk: the family's subset
    assert roboto.status_code == 200 and roboto.content[:4] == b"wOF2"  # Flet's own font, untouched
    assert thai.status_code == 404  # a script not shipped stays as before
    assert "<title>FieldPeer</title>" in index.text and "fontFallbackBaseUrl" in index.text and "gstatic" not in index.text


def test_every_shipped_font_exists_and_all_stay_within_a_few_megabytes() -> None:
    files = {FONTS / name for name in FAMILIES.values()}
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) < 4 * 1024 * 1024
