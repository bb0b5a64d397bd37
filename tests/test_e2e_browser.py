"""A peer's shift in headless Chromium at a phone's size, against a real field app and a real
agency server: enrol; a second tab asks for the PIN; lock and unlock; a phone call and a
no-answer outreach attempt (its flag stays); a note typed with emoji and Chinese, backed out of
and found again, then signed after its confirmation; a check-in answered "yes" and left without
saving, whose alert the agency has all the same; the supervisor acknowledges it and the phone's
flag changes after sync; End shift. Then the agency's database holds exactly what was typed,
once. Screenshots of every screen go to artifacts/screens/, the tap counts to artifacts/screens/taps.json.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import ARTIFACTS, AppPage, FieldAppProcess, phone_browser, png_pixels
from tests.servers import AgencyProcess

pytestmark = pytest.mark.slow
PIN = "739164"
PHONE_NOTE = "Confirmed the ride to Thursday's job fair (e2e)."
WORLDWIDE = "Practised interview answers 😀👍 面试练习 مرحبا Việt Nam (e2e)."  # emoji, Chinese, Arabic, Vietnamese
NARRATIVE = {
    "Goal / purpose of the contact": "Find a part-time job (e2e)",
    "Response: how the person responded": "Laughed, felt more ready (e2e).",
    "Plan / next steps": "Bring the application Friday (e2e).",
}
FEELING = "Not sleeping, feels on edge (e2e)."
FONT_FAMILIES = ("notocoloremoji", "notosanssc", "notosansarabic")


class Shift:
    """The agency (SQLite), its admin commands, and a fresh field app for one peer."""

    def __init__(self, tmp: Path) -> None:
        self.db_path = tmp / "agency.db"
        self.db_url = f"sqlite:///{self.db_path}"
        self.agency = AgencyProcess(self.db_url, tmp / "agency-keys", tmp / "agency.log")
        self.app = FieldAppProcess(tmp / "device", tmp / "field-app.log")

    def admin(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "agency", "--db", self.db_url, *args], capture_output=True, text=True, check=True, timeout=60)
        return result.stdout.strip()

    def received(self) -> list[tuple[str, str, dict[str, Any]]]:
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute("SELECT record_type, record_id, payload FROM agency_received ORDER BY seq").fetchall()
        return [(t, i, json.loads(p)) for t, i, p in rows]

    def supervisor(self, token: str, method: str, path: str) -> dict[str, Any]:
        reply = httpx.request(method, f"{self.agency.url}/api/v1/review/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        reply.raise_for_status()
        return dict(reply.json())


@pytest.fixture
def shift(tmp_path: Path) -> Iterator[Shift]:
    shift = Shift(tmp_path)
    shift.agency.start()
    shift.app.start()
    yield shift
    shift.app.stop()
    shift.agency.stop()


def check_screen(app: AppPage, name: str, problems: dict[str, list[str]]) -> None:
    app.page.wait_for_timeout(300)  # let the frame settle before the picture
    app.shot(name)
    found = app.accessibility_problems()
    if found:
        problems[name] = found


def flags_of(app: AppPage, person_id: str) -> str:
    return app.by_id(f"person-{person_id}").inner_text()


def sync_now(app: AppPage) -> None:
    app.tap("sync-badge")
    app.tap("sync-now")
    app.see("All done: the agency has every record.", timeout=60_000)


def test_a_peers_shift_from_enrolment_to_the_agency(shift: Shift) -> None:
    peer = shift.admin("add-peer", "--name", "Jo Tester", "--role", "recovery_coach", "--credentials", "CPRC")
    avery = shift.admin("add-person", "--peer", peer, "--name", "Avery Example")
    blake = shift.admin("add-person", "--peer", peer, "--name", "Blake Example")
    code = shift.admin("enrol-code", peer)
    token = shift.admin("add-supervisor", "--name", "Dana Reyes", "--credentials", "LCSW").split()[1]
    problems: dict[str, list[str]] = {}
    taps: dict[str, int] = {}
    fonts: list[tuple[str, int]] = []

    with phone_browser(ARTIFACTS) as app:
        app.page.on("response", lambda r: fonts.append((r.url, r.status)) if "/assets/fonts/noto" in r.url else None)
        app.open(shift.app.url)
        check_screen(app, "01-enrol", problems)
        app.fill("Agency address", shift.agency.url)
        app.fill("One-time code", code)
        app.fill("Choose a PIN (6 or more)", PIN)
        app.fill("PIN again", PIN)
        app.tap("enrol")
        app.wait_id(f"person-{avery}")
        check_screen(app, "02-caseload", problems)

        # Web mode is one person's app: another tab (or browser) starts at the PIN.
        second = AppPage(app.page.context.new_page(), ARTIFACTS)
        second.open(shift.app.url)
        second.wait_id("unlock")
        assert second.by_id(f"person-{avery}").count() == 0
        second.shot("02b-second-tab-asks-for-the-pin")
        second.page.close()

        app.tap("lock-now")
        app.wait_id("unlock")
        assert app.by_id("lock-reason").inner_text() == "Locked. Enter your PIN to open your caseload."  # not "Shift ended"
        app.fill("PIN", PIN)
        check_screen(app, "03-unlock", problems)
        app.tap("unlock")
        app.wait_id(f"person-{avery}")

        # Telephone quick log from the caseload: tap, type, save.
        app.steps = 0
        app.tap(f"phone-{avery}")
        app.wait_id("save-phone")
        check_screen(app, "04-phone-log", problems)
        app.page.keyboard.type(PHONE_NOTE)  # the note field has the focus already
        app.steps += 1
        app.tap("save-phone")
        app.see("Phone call logged: 10 min, 1 unit.")
        taps["phone call logged"] = app.steps

        # No answer: an outreach attempt, not a contact; Blake's flag stays.
        before = flags_of(app, blake)
        app.steps = 0
        app.tap(f"phone-{blake}")
        app.tap("outcome-no_answer")
        check_screen(app, "05-outreach-attempt", problems)
        app.tap("save-phone")
        app.see("Outreach attempt logged: no answer. Not counted as a contact.")
        taps["outreach attempt logged"] = app.steps
        app.wait_id(f"person-{blake}")
        assert "No contact yet" in before and "No contact yet" in flags_of(app, blake)
        assert "No contact" not in flags_of(app, avery)  # the call was a contact

        # A note typed in several scripts, left with the browser's Back, found again, signed.
        app.tap(f"person-{avery}")
        app.wait_id("new-note")
        app.steps = 0
        app.tap("new-note")
        app.fill("Intervention: what you did together", WORLDWIDE)
        app.page.wait_for_timeout(1500)  # the fallback fonts load for the new characters
        check_screen(app, "06-note-in-any-script", problems)
        field = app.page.get_by_role("textbox", name="Intervention: what you did together").bounding_box()
        assert field is not None
        drawn = png_pixels(app.page.screenshot(clip=field))
        assert sum(1 for row in drawn for r, g, b in row if r > 200 and g > 150 and b < 90) > 30  # 😀 in colour, not an empty box
        detour = app.steps
        app.page.go_back()
        app.see("Kept as a draft: continue it from the person's page.")
        app.tap("continue-draft-note")
        app.steps -= 1  # the detour is not part of writing a note
        app.wait_id("sign-note")
        app.fill("Start (HH:MM)", "09:00")
        app.fill("End (HH:MM)", "09:45")
        app.pick("mode", "face_to_face")
        app.pick("setting", "community")
        app.tap("intervention-self_help")
        for label, text in NARRATIVE.items():
            app.fill(label, text)
        check_screen(app, "07-contact-note", problems)
        app.tap("sign-note")
        app.wait_id("confirm-sign")
        check_screen(app, "07b-sign-confirmation", problems)
        app.tap("confirm-sign")
        app.wait_id("new-checkin")
        app.see("Note signed. It will sync with the agency.")
        taps["full signed note"] = app.steps
        assert detour == 2

        # A check-in answered "yes", then left without saving: the alert is already queued.
        app.tap("new-checkin")
        app.fill("How are you today? (in their words)", FEELING)
        app.tap("safety-yes")
        app.wait_on_screen("call-line-0")  # the app scrolls the resources into view by itself
        assert "Call 988 Suicide & Crisis Lifeline: 988" in app.by_id("crisis-resources").inner_text()
        check_screen(app, "08-checkin-crisis", problems)
        app.tap("back")
        app.wait_id("leave-discard")
        check_screen(app, "08b-leave-checkin", problems)
        app.tap("leave-discard")
        app.wait_id("new-checkin")
        app.tap("back")
        app.wait_id(f"person-{avery}")
        assert "Safety alert" in flags_of(app, avery)

        sync_now(app)
        check_screen(app, "09-sync", problems)
        [alert] = shift.supervisor(token, "GET", "queue")["alerts"]
        assert alert["person_id"] == avery and alert["state"] == "open" and not alert["checkin_saved"]

        # The supervisor follows up; the phone shows it after its next sync.
        shift.supervisor(token, "POST", f"alerts/{alert['alert_id']}/acknowledge")
        app.tap("sync-now")
        app.see("All done: the agency has every record.", timeout=60_000)
        app.tap("back")
        app.wait_id(f"person-{avery}")
        flags = flags_of(app, avery)
        assert "Supervisor following up" in flags and "Safety alert" not in flags
        check_screen(app, "10-caseload-following-up", problems)

        # End shift: everything confirmed, then the phone locks, and says so.
        app.tap("sync-badge")
        app.tap("end-shift")
        app.tap("end-shift-confirm")  # End shift asks first, with the shift's summary
        app.wait_id("lock-reason", timeout=60_000)
        check_screen(app, "11-shift-ended", problems)
        said = app.by_id("lock-reason").inner_text()
        assert said.startswith("Shift ended: the agency has every record.") and "waiting" not in said

    assert problems == {}, json.dumps(problems, indent=1)
    assert {family for url, _ in fonts for family in FONT_FAMILIES if f"/{family}/" in url} == set(FONT_FAMILIES)
    assert all(status == 200 for _, status in fonts), fonts  # emoji, Chinese and Arabic drawn from local fonts, no empty boxes

    received = shift.received()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record_type, _, payload in received:
        by_type.setdefault(record_type, []).append(payload)
    assert len({(t, i) for t, i, _ in received}) == len({(t, i, p.get("version")) for t, i, p in received})  # each version once
    phone = [n for n in by_type["contact_note"] if n["narrative"]["intervention"] == PHONE_NOTE]
    assert len(phone) == 1 and phone[0]["mode"] == "telephone" and phone[0]["status"] == "signed" and phone[0]["person_id"] == avery
    signed = [n for n in by_type["contact_note"] if n["status"] == "signed" and n["narrative"]["intervention"] == WORLDWIDE]
    assert len(signed) == 1 and signed[0]["narrative"]["goal"] == NARRATIVE["Goal / purpose of the contact"]
    assert (signed[0]["mode"], signed[0]["setting"], signed[0]["interventions"]) == ("face_to_face", "community", ["self_help"])
    [attempt] = by_type["outreach_attempt"]
    assert attempt["person_id"] == blake and attempt["outcome"] == "no_answer"
    assert [a["person_id"] for a in by_type["safety_alert"]] == [avery] and "checkin" not in by_type  # left without saving
    print("\ntaps:", json.dumps(taps))
    (ARTIFACTS / "taps.json").write_text(json.dumps(taps, indent=1))
