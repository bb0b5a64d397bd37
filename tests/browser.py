"""Headless Debian Chromium driven by Playwright, and the field app served in web mode.

Recipes from architecture.md: never `playwright install`; no CDN; wait for `#loading` to go,
then turn on Flutter's accessibility tree; text fields by role and label, other controls by
their `flt-semantics-identifier`.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, ViewportSize, sync_playwright

from tests.servers import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
APP_BAR = 56  # px: the app bar covers the top of every screen
VIEW_PADDING = 8  # px: above and below a view's scrolling list
SCROLL_TOP = APP_BAR + VIEW_PADDING  # px: where a view's scrolling list starts
ARTIFACTS = ROOT / "artifacts" / "screens"


def png_pixels(png: bytes) -> list[list[tuple[int, int, int]]]:
    """RGB rows of an 8-bit RGB or RGBA PNG (what Chromium's screenshots are), without an image library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            chunks += data
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), "8-bit RGB(A) only"
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(chunks), width * step
    rows: list[list[tuple[int, int, int]]] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filter
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 0xFF
        rows.append([(line[x], line[x + 1], line[x + 2]) for x in range(0, stride, step)])
        previous = line
    return rows


class FieldAppProcess:
    """`fieldpeer web --profile DIR` on a loopback port."""

    def __init__(self, profile_dir: Path, log_path: Path) -> None:
        self.profile_dir = profile_dir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldpeer.cli", "web", "--profile", str(self.profile_dir), "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"field app exited with {self.process.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError("field app did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # the plain flet server sometimes hangs on SIGTERM
                self.process.kill()
                self.process.wait(timeout=10)


class AppPage:
    """One phone-sized tab on the field app, with the verbs the tests use."""

    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.shots.mkdir(parents=True, exist_ok=True)
        self.steps = 0  # what a person does: every tap and every field typed counts one

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("#loading", state="detached", timeout=60_000)
        self.page.dispatch_event("flt-semantics-placeholder", "click")  # Flutter's accessibility tree
        self.page.wait_for_selector("flt-semantics", state="attached", timeout=30_000)

    def go(self, route: str) -> None:
        """Go to `route` inside this browser session, as the browser's history does (a new page
        load would be a new session, which asks for the PIN again)."""
        self.page.evaluate("r => { history.pushState(null, '', r); window.dispatchEvent(new PopStateEvent('popstate')); }", "/" + route.lstrip("/"))

    def by_id(self, identifier: str) -> Locator:
        return self.page.locator(f'[flt-semantics-identifier="{identifier}"]')

    def wait_id(self, identifier: str, timeout: float = 30_000) -> Locator:
        locator = self.by_id(identifier)
        locator.wait_for(state="visible", timeout=timeout)
        return locator

    def reveal(self, locator: Locator, timeout: float = 30_000) -> Locator:
        """Scroll Flutter's view (a wheel, as a finger would swipe) until `locator` is fully on
        screen below the app bar. DOM scrolling does not move Flutter's canvas, and a click at
        an off-screen node's coordinates lands on whatever is drawn there."""
        size = self.page.viewport_size or PHONE
        deadline = time.monotonic() + timeout / 1000
        previous = None
        while True:
            box = locator.first.bounding_box() if locator.count() else None
            in_app_bar = box is not None and box["y"] >= 0 and box["y"] + box["height"] <= APP_BAR
            on_screen = box is not None and (in_app_bar or box["y"] >= APP_BAR) and box["y"] + box["height"] <= size["height"]
            if on_screen and box == previous:  # still: a scroll may glide on after the wheel
                return locator.first
            previous = box
            if on_screen:
                self.page.wait_for_timeout(80)
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{locator} never came on screen")
            step = 250.0 if box is None else max(-400.0, min(400.0, box["y"] - size["height"] / 2))
            self.page.mouse.move(size["width"] / 2, size["height"] / 2)
            self.page.mouse.wheel(0, step or 1)
            self.page.wait_for_timeout(120)

    def wait_on_screen(self, identifier: str, timeout: float = 5) -> None:
        """Without scrolling: the app itself must bring `identifier` fully into view."""
        size = self.page.viewport_size or PHONE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            box = self.by_id(identifier).bounding_box() if self.by_id(identifier).count() else None
            if box and box["y"] >= APP_BAR and box["y"] + box["height"] <= size["height"]:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{identifier} is not on screen")

    def tap(self, identifier: str) -> None:
        """Activate a control the way a screen reader does: a click on its tappable semantics
        node, which Flutter turns into the tap action. No coordinates, so no race with a
        scroll that Flutter is still animating (a coordinate click can land on a neighbour)."""
        self.steps += 1
        node = self.reveal(self.by_id(identifier))
        tappable = node if node.get_attribute("flt-tappable") is not None else node.locator("[flt-tappable]").first
        tappable.dispatch_event("click")

    def fill(self, label: str, text: str) -> None:
        """Replace a field's text as a person would: focus, select all, type; then check it took.
        (Playwright's fill() races Flutter's editing state; so can a select-all sent before
        Flutter has moved the focus to its own editing element, and a click can land on a
        neighbour while Flutter scrolls the focused field into view.)"""
        self.steps += 1
        for _ in range(3):
            self.reveal(self.page.get_by_role("textbox", name=label)).focus()  # as a screen reader moves focus
            self.page.wait_for_timeout(100)
            self.page.keyboard.press("Control+a")
            self.page.keyboard.press("Backspace")
            if text:
                self.page.keyboard.type(text)
            if self.page.evaluate("() => document.activeElement && document.activeElement.value") == text:
                return
        raise AssertionError(f"could not type into {label!r}")

    def see(self, text: str, timeout: float = 30_000) -> None:
        self.page.get_by_text(text).first.wait_for(state="visible", timeout=timeout)

    def pick(self, identifier: str, key: str) -> None:
        """A picker: open its sheet, tap the option."""
        self.tap(identifier)
        self.tap(f"{identifier}-{key}")
        self.by_id(f"{identifier}-{key}").wait_for(state="detached")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def controls(self) -> list[dict[str, Any]]:
        """What a screen reader can land on and a finger can tap: name, role and box of each."""
        return list(
            self.page.evaluate(
                """() => [...document.querySelectorAll(
                        'flt-semantics[flt-tappable], flt-semantics[tabindex="0"], flt-semantics input, flt-semantics textarea')]
                    .map(el => {
                        const field = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA';
                        const node = field ? el.closest('flt-semantics') : el;
                        const box = node.getBoundingClientRect();
                        const owner = node.closest('[flt-semantics-identifier]');
                        return {
                            id: owner ? owner.getAttribute('flt-semantics-identifier') : '',
                            role: node.getAttribute('role') || (field ? 'textbox' : ''),
                            name: (el.getAttribute('aria-label') || node.getAttribute('aria-label') || node.innerText || '').trim(),
                            x: box.x, y: box.y, width: box.width, height: box.height,
                        };
                    })"""
            )
        )

    def accessibility_problems(self, min_target: float = 48) -> list[str]:
        """Unnamed controls, targets smaller than `min_target` px, controls wider than the screen."""
        size = self.page.viewport_size or PHONE
        width = size["width"]
        problems = []
        for c in self.controls():
            cut = (APP_BAR - 1 < c["y"] < SCROLL_TOP + 1) or c["y"] + c["height"] > size["height"] - VIEW_PADDING - 1
            if cut:  # partly scrolled out of view: Flutter reports the clipped rect, not the control's
                continue
            where = f"{c['role']} {c['name']!r} ({c['id']}) {c['width']:.0f}x{c['height']:.0f} at ({c['x']:.0f}, {c['y']:.0f})"
            if not c["name"]:
                problems.append(f"no accessible name: {where}")
            if c["height"] < min_target - 0.5 or c["width"] < min_target - 0.5:
                problems.append(f"touch target under {min_target} px: {where}")
            if c["x"] < -0.5 or c["x"] + c["width"] > width + 0.5:
                problems.append(f"overflows the {width} px screen: {where}")
        return problems


    def scan(self, name: str, max_screens: int = 12) -> list[str]:
        """Scroll a whole screen from top to bottom, screenshot each stretch, and collect the
        accessibility problems met anywhere on it."""
        size = self.page.viewport_size or PHONE
        self.page.mouse.move(size["width"] / 2, size["height"] / 2)
        problems: list[str] = []
        previous = None
        for stretch in range(max_screens):
            self.page.wait_for_timeout(250)
            self.shot(f"{name}-{stretch + 1}")
            problems += [p for p in self.accessibility_problems() if p not in problems]
            snapshot = self.page.evaluate("() => [...document.querySelectorAll('flt-semantics')].map(e => e.getBoundingClientRect().y).join(',')")
            if snapshot == previous:  # the wheel moved nothing: the bottom
                break
            previous = snapshot
            self.page.mouse.wheel(0, size["height"] - 2 * APP_BAR)
        return problems


@contextmanager
def phone_browser(shots: Path, viewport: ViewportSize = PHONE) -> Iterator[AppPage]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=False)
            app = AppPage(context.new_page(), shots)
            try:
                yield app
            except BaseException:
                app.shot("failure")  # what the screen showed when the test gave up
                raise
        finally:
            browser.close()
