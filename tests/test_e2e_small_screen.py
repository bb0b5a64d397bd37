"""Every screen at 360 px wide (a small Android phone), scrolled top to bottom: nothing wider
than the screen, every control named for a screen reader, every touch target 48 px or more.
Screenshots of each stretch go to artifacts/screens/360-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, FieldAppProcess, phone_browser

pytestmark = pytest.mark.slow
SMALL = {"width": 360, "height": 740}
PIN = "739164"
AVERY = "person-demo-0001"
SCREENS = {  # name -> route; the session is shared by tabs, so each opens unlocked at its route
    "caseload": "caseload",
    "person": f"person/{AVERY}",
    "phone-log": f"person/{AVERY}/phone",
    "contact-note": f"person/{AVERY}/note/new",
    "checkin": f"person/{AVERY}/checkin",
    "wrap": f"person/{AVERY}/wrap",
    "consent": f"person/{AVERY}/consent",
    "search": "search",
    "sync": "sync",
    "settings": "settings",
}


@pytest.fixture
def field_app(tmp_path: Path) -> Iterator[FieldAppProcess]:
    app = FieldAppProcess(tmp_path / "device", tmp_path / "field-app.log")
    app.start()
    yield app
    app.stop()


def test_every_screen_fits_360_px_with_named_48_px_controls(field_app: FieldAppProcess) -> None:
    problems: dict[str, list[str]] = {}
    with phone_browser(ARTIFACTS, viewport=SMALL) as app:
        app.open(field_app.url)
        problems["enrol"] = app.scan("360-enrol")
        app.fill("Choose a PIN (6 or more)", PIN)
        app.fill("PIN again", PIN)
        app.tap("offline-demo")
        app.wait_id(f"person-{AVERY}")
        for name, route in SCREENS.items():
            app.open(field_app.url + route)
            app.page.wait_for_selector("flt-semantics[flt-semantics-identifier]", state="attached")
            problems[name] = app.scan(f"360-{name}")
            if name == "checkin":  # and again with the crisis panel open (the app scrolls to it)
                app.tap("safety-yes")
                app.wait_on_screen("call-line-0")
                problems["checkin-crisis"] = app.scan("360-checkin-crisis")
        app.open(field_app.url + "caseload")
        app.tap("lock-now")
        app.wait_id("unlock")
        problems["unlock"] = app.scan("360-unlock")
    problems = {k: v for k, v in problems.items() if v}
    assert problems == {}, json.dumps(problems, indent=1)
