"""The supervisor's web pages in headless Chromium, against a real agency server with notes
synced from a real phone: sign in, the urgent alerts first (one whose check-in has not arrived),
return one note with a comment, co-sign another, acknowledge an alert and close it from the
peer's page, then a peer's contacts, units, mode mix, outreach attempts and flags. The phone then
receives every decision. Screenshots (desk and 390 px) go to artifacts/screens/supervisor-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from fieldpeer.agency import review
from fieldpeer.domain import OutreachOutcome, ReviewState, SafetyAnswer
from fieldpeer.records import Checkin, Narrative, OutreachAttempt, SafetyAlert, new_id
from fieldpeer.store import feedback, notes, wrap
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_supervision import Wire
from tests.test_sync_integration import enrolled_phone

pytestmark = pytest.mark.slow
DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[AgencyProcess]:
    process = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log")
    process.start()
    yield process
    process.stop()


def usability_problems(page: Page, width: int) -> list[str]:
    """Unlabelled fields, targets under 48 px, and anything wider than the window."""
    return list(page.evaluate(
        """(width) => {
            const out = [];
            for (const el of document.querySelectorAll('input:not([type=hidden]), textarea'))
                if (!el.labels || el.labels.length === 0) out.push('unlabelled ' + (el.id || el.name));
            for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), textarea')) {
                const box = el.getBoundingClientRect();
                if (box.height < 47.5) out.push('small target ' + el.tagName + ' ' + (el.innerText || el.id).trim() + ' ' + box.height);
            }
            if (document.documentElement.scrollWidth > width) out.push('wider than the window: ' + document.documentElement.scrollWidth);
            return out;
        }""",
        width,
    ))


def test_supervisor_reviews_in_the_browser_and_the_phone_hears_back(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    quinn, rowan = phone.person_ids
    words = Narrative(goal="Keep the apartment.", intervention="Went over the lease together.", response="Relieved.", plan="Meet Friday.")
    visit = notes.save_draft(phone.store, complete_note(quinn, start=datetime(2026, 11, 20, 10), narrative=words))
    visit = notes.sign_note(phone.store, visit.id)
    call = notes.log_phone_contact(phone.store, rowan, 15, "Talked about the job fair.", ended_at=datetime(2026, 11, 21, 16))
    _, alert = wrap.record_checkin(phone.store, Checkin(person_id=quinn, feeling_today="Scared about rent", safety=SafetyAnswer.YES))
    assert alert is not None and phone.client.sync().sent >= 4
    wire = Wire(phone)  # raised the moment "not sure" was chosen; the check-in is still on the phone
    early = SafetyAlert(checkin_id=new_id(), person_id=rowan, safety=SafetyAnswer.UNSURE)
    assert wire.push(early, OutreachAttempt(person_id=rowan, attempted_at=datetime(2026, 11, 19, 9), outcome=OutreachOutcome.NO_ANSWER)) == ["stored", "stored"]
    with phone.admin.session() as db:
        _, token = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.commit()

    problems: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=DESK).new_page()
            page.goto(f"{agency.url}/supervisor")
            assert page.url.endswith("/supervisor/login")
            page.get_by_label("Supervisor sign-in token").fill("not-the-token")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("That sign-in token is not valid.").wait_for()
            page.get_by_label("Supervisor sign-in token").fill(token)
            page.get_by_role("button", name="Sign in").click()

            # The urgent alerts come before any note, announced as an alert, each with its answer.
            alerts = page.get_by_role("alert")
            assert "Urgent safety alerts (2)" in alerts.inner_text() and "Scared about rent" in alerts.inner_text()
            assert "Safety answer: Not sure / would not say" in alerts.inner_text() and "Check-in not saved yet" in alerts.inner_text()
            order = page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.innerText)")
            assert order == ["Urgent safety alerts (2)", "Notes awaiting review (2)"]
            page.screenshot(path=str(ARTIFACTS / "supervisor-queue.png"), full_page=True)
            problems["queue"] = usability_problems(page, DESK["width"])
            narrow = browser.new_context(viewport=PHONE).new_page()
            narrow.context.add_cookies(page.context.cookies())
            narrow.goto(page.url)
            narrow.screenshot(path=str(ARTIFACTS / "supervisor-queue-390.png"), full_page=True)
            problems["queue at 390 px"] = usability_problems(narrow, PHONE["width"])

            page.get_by_label("Comment for the peer (what to add)").nth(1).fill("Say which job fair and when.")
            page.locator(f"#return-{call.id}").click()
            page.get_by_role("status").get_by_text("Note returned to the peer with your comment.").wait_for()
            page.locator(f"#cosign-{visit.id}").click()
            page.get_by_role("status").get_by_text("Note co-signed.").wait_for()
            page.locator(f"#ack-{alert.id}").click()
            page.locator(f"#ack-{early.id}").click()
            page.get_by_role("status").get_by_text("Alert acknowledged.").wait_for()
            page.get_by_text("No notes are waiting for review.").wait_for()
            assert page.get_by_role("alert").count() == 0  # followed up: no longer urgent
            assert "Being followed up (2)" in page.inner_text("main") and "Acknowledged by Dana Reyes, LCSW" in page.inner_text("main")
            page.screenshot(path=str(ARTIFACTS / "supervisor-queue-done.png"), full_page=True)
            problems["queue, followed up"] = usability_problems(page, DESK["width"])

            page.get_by_role("link", name="Peers").click()
            page.get_by_role("link", name="Pat, CPSS").click()
            page.get_by_label("From").fill("2026-11-01")
            page.get_by_label("To").fill("2026-11-30")
            page.get_by_role("button", name="Show").click()
            page.get_by_role("heading", name="Contacts 2026-11-01 to 2026-11-30 (2)").wait_for()
            text = page.inner_text("main")
            assert "Face-to-face: 50%" in text and "Telephone: 50%" in text
            assert "Co-signed" in text and "Returned for an addendum" in text
            assert "4 billable units in this period" in text and "Outreach attempts (1)" in text and "No answer: 1" in text
            assert "Being followed up (2)" in text  # the peer's alerts not closed yet
            page.screenshot(path=str(ARTIFACTS / "supervisor-peer.png"), full_page=True)
            problems["peer"] = usability_problems(page, DESK["width"])

            small = browser.new_context(viewport=PHONE).new_page()  # a supervisor on a phone
            small.context.add_cookies(page.context.cookies())
            small.goto(page.url)
            small.screenshot(path=str(ARTIFACTS / "supervisor-peer-390.png"), full_page=True)
            problems["peer at 390 px"] = usability_problems(small, PHONE["width"])
            page.locator(f"#close-{early.id}").click()  # closed from the peer's page, back on it
            page.get_by_role("status").get_by_text("Alert closed.").wait_for()
            assert "Being followed up (1)" in page.inner_text("main") and page.url.split("?")[0].endswith(f"/supervisor/peers/{phone.peer_id}")
        finally:
            browser.close()
    assert {k: v for k, v in problems.items() if v} == {}

    phone.client.sync()
    returned, cosigned = feedback.feedback_for(phone.store, call.id), feedback.feedback_for(phone.store, visit.id)
    assert returned is not None and returned.state is ReviewState.RETURNED and returned.comment == "Say which job fair and when."
    assert cosigned is not None and cosigned.state is ReviewState.COSIGNED and cosigned.reviewer == "Dana Reyes, LCSW"
    assert [(s["id"], s["state"]) for s in wire.feed("alert_status")] == [(alert.id, "acknowledged"), (early.id, "acknowledged"), (early.id, "closed")]
