"""Every screen at 360 px wide (a small Android phone), scrolled top to bottom, at the normal
and at the largest text size: nothing wider than the screen, every control named for a screen
reader, every touch target 48 px or more. Screenshots of each stretch go to
artifacts/screens/360-*.png (and 360-largest-*.png).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ViewportSize

from tests.browser import ARTIFACTS, AppPage, FieldAppProcess, phone_browser

pytestmark = pytest.mark.slow
SMALL: ViewportSize = {"width": 360, "height": 740}
PIN = "739164"
AVERY = "person-demo-0001"
SCREENS = {  # name -> (route, a control that shows the screen is up)
    "caseload": ("caseload", f"person-{AVERY}"),
    "person": (f"person/{AVERY}", "new-note"),
    "phone-log": (f"person/{AVERY}/phone", "back"),
    "contact-note": (f"person/{AVERY}/note/new", "sign-note"),
    "checkin": (f"person/{AVERY}/checkin", "save-checkin"),
    "wrap": (f"person/{AVERY}/wrap", "save-wrap"),
    "consent": (f"person/{AVERY}/consent", "save-consent"),
    "search": ("search", "search-hint"),
    "sync": ("sync", "end-shift"),
    "settings": ("settings", "text-size"),
}


@pytest.fixture
def field_app(tmp_path: Path) -> Iterator[FieldAppProcess]:
    app = FieldAppProcess(tmp_path / "device", tmp_path / "field-app.log")
    app.start()
    yield app
    app.stop()


def sweep(app: AppPage, prefix: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, (route, ready) in SCREENS.items():
        app.go(route)
        app.by_id(ready).first.wait_for(state="attached", timeout=30_000)
        problems[name] = app.scan(f"{prefix}-{name}")
        if name == "checkin":  # and again with the crisis panel open (the app scrolls to it)
            app.tap("safety-yes")
            app.wait_on_screen("call-line-0")
            problems["checkin-crisis"] = app.scan(f"{prefix}-checkin-crisis")
    return problems


def test_every_screen_fits_360_px_with_named_48_px_controls_at_normal_and_largest_text(field_app: FieldAppProcess) -> None:
    problems: dict[str, list[str]] = {}
    with phone_browser(ARTIFACTS, viewport=SMALL) as app:
        app.open(field_app.url)
        problems["enrol"] = app.scan("360-enrol")
        app.fill("Choose a PIN (6 or more)", PIN)
        app.fill("PIN again", PIN)
        app.tap("offline-demo")
        app.wait_id(f"person-{AVERY}")
        problems |= sweep(app, "360")
        app.go("settings")
        app.pick("text-size", "largest")  # the sheet closes after the choice (pick waits for it)
        app.page.wait_for_timeout(800)  # redrawn at the new size
        problems |= {f"largest-{k}": v for k, v in sweep(app, "360-largest").items()}
        app.go("caseload")
        app.tap("lock-now")
        app.wait_id("unlock")
        problems["largest-unlock"] = app.scan("360-largest-unlock")
    problems = {k: v for k, v in problems.items() if v}
    assert problems == {}, json.dumps(problems, indent=1)
