"""A peer's shift in headless Chromium at a phone's size, against a real field app and a real
agency server: enrol, lock and unlock, log a phone call, write and sign a contact note, edit
the WRAP, a check-in whose safety answer is "yes", end the shift; then the agency's database
holds exactly what was typed, once. Screenshots of every screen go to artifacts/screens/.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, AppPage, FieldAppProcess, phone_browser
from tests.servers import AgencyProcess

pytestmark = pytest.mark.slow
PIN = "739164"
PHONE_NOTE = "Confirmed the ride to Thursday's job fair (e2e)."
NARRATIVE = {
    "Goal / purpose of the contact": "Find a part-time job (e2e)",
    "Intervention: what you did together": "Practised interview answers at the library (e2e).",
    "Response: how the person responded": "Laughed, felt more ready (e2e).",
    "Plan / next steps": "Bring the application Friday (e2e).",
}
FEELING = "Not sleeping, feels on edge (e2e)."


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

    def received(self) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute("SELECT record_type, record_id, payload FROM agency_received ORDER BY seq").fetchall()
        return [(t, i, json.loads(p)) for t, i, p in rows]


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


def test_a_peers_shift_from_enrolment_to_the_agency(shift: Shift) -> None:
    peer = shift.admin("add-peer", "--name", "Jo Tester", "--role", "recovery_coach", "--credentials", "CPRC")
    avery = shift.admin("add-person", "--peer", peer, "--name", "Avery Example")
    shift.admin("add-person", "--peer", peer, "--name", "Blake Example")
    code = shift.admin("enroll-code", peer)
    problems: dict[str, list[str]] = {}

    with phone_browser(ARTIFACTS) as app:
        app.open(shift.app.url)
        check_screen(app, "01-enrol", problems)
        app.fill("Agency address", shift.agency.url)
        app.fill("One-time code", code)
        app.fill("Choose a PIN (6 or more)", PIN)
        app.fill("PIN again", PIN)
        app.tap("enrol")
        app.wait_id(f"person-{avery}")
        check_screen(app, "02-caseload", problems)

        app.tap("lock-now")
        app.fill("PIN", PIN)
        check_screen(app, "03-unlock", problems)
        app.tap("unlock")
        app.wait_id(f"person-{avery}")

        # Telephone quick log from the caseload: 1 tap, 1 typed note, 1 tap.
        app.tap(f"phone-{avery}")
        app.wait_id("save-phone")
        check_screen(app, "04-phone-log", problems)
        app.page.keyboard.type(PHONE_NOTE)  # the note field has the focus already
        app.tap("save-phone")
        app.wait_id(f"person-{avery}")
        app.see("Phone call logged: 10 min, 1 unit.")

        # The person's WRAP: a crisis supporter the check-in will offer.
        app.tap(f"person-{avery}")
        app.wait_id("open-wrap")
        check_screen(app, "05-person", problems)
        app.tap("open-wrap")
        app.fill("Supporters: name, phone, relationship (one per line)", "Sam Supporter, 555-0199, Friend")
        check_screen(app, "06-wrap", problems)
        app.tap("save-wrap")
        app.see("WRAP saved as version 1.")

        # A contact note, signed.
        app.tap("new-note")
        app.fill("Start (HH:MM)", "09:00")
        app.fill("End (HH:MM)", "09:45")
        app.see("45 min · 3 units")
        app.pick("mode", "face_to_face")
        app.pick("setting", "community")
        app.tap("intervention-self_help")
        for label, text in NARRATIVE.items():
            app.fill(label, text)
        check_screen(app, "07-contact-note", problems)
        app.tap("sign-note")
        app.wait_id("new-checkin")
        app.see("Note signed. It will sync with the agency.")

        # A pre-crisis check-in: the safety answer is "yes".
        app.tap("new-checkin")
        app.fill("How are you today? (in their words)", FEELING)
        app.tap("safety-yes")
        crisis = app.wait_id("crisis-resources")
        app.wait_on_screen("call-line-0")  # the app scrolls the resources into view by itself
        panel = crisis.inner_text()
        assert "Call 988 Suicide & Crisis Lifeline: 988" in panel and "Call Sam Supporter: 555-0199 (Friend)" in panel
        check_screen(app, "08-checkin-crisis", problems)
        app.tap("save-checkin")
        app.see("Check-in saved. Urgent alert queued to sync first.")

        # End shift: everything goes to the agency, then the phone locks.
        app.tap("back")
        app.tap("sync-badge")
        app.wait_id("end-shift")
        check_screen(app, "09-sync", problems)
        app.tap("end-shift")
        app.wait_id("shift-summary", timeout=60_000)
        check_screen(app, "10-shift-ended", problems)
        summary = app.by_id("shift-summary").inner_text()
        assert "5 records sent" in summary and "All done." in summary and "waiting" not in summary

    assert problems == {}, json.dumps(problems, indent=1)

    received = shift.received()
    by_type: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for record_type, _, payload in received:
        by_type.setdefault(record_type, []).append(payload)
    assert len({(t, i) for t, i, _ in received}) == len({(t, i, p.get("version")) for t, i, p in received})  # each version once
    phone = [n for n in by_type["contact_note"] if n["narrative"]["intervention"] == PHONE_NOTE]
    assert len(phone) == 1 and phone[0]["mode"] == "telephone" and phone[0]["status"] == "signed" and phone[0]["person_id"] == avery
    signed = [n for n in by_type["contact_note"] if n["narrative"]["goal"] == NARRATIVE["Goal / purpose of the contact"] and n["status"] == "signed"]
    assert len(signed) == 1
    note = signed[0]
    assert note["narrative"] == {"goal": NARRATIVE["Goal / purpose of the contact"], "intervention": NARRATIVE["Intervention: what you did together"],
                                 "response": NARRATIVE["Response: how the person responded"], "plan": NARRATIVE["Plan / next steps"]}
    assert (note["mode"], note["setting"], note["interventions"], note["units"]) == ("face_to_face", "community", ["self_help"], 3)
    assert [c["feeling_today"] for c in by_type["checkin"]] == [FEELING] and by_type["checkin"][0]["safety"] == "yes"
    assert len(by_type["safety_alert"]) == 1 and by_type["safety_alert"][0]["person_id"] == avery
    assert by_type["wrap_plan"][0]["crisis_plan"]["supporters"][0]["name"] == "Sam Supporter"
