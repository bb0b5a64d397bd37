"""The supervisor's web pages in headless Chromium, against a real agency server with notes
synced from a real phone: sign in, the urgent alert first, return one note with a comment,
co-sign another, acknowledge the alert, then a peer's contacts, mode mix and flags. The phone
then receives both decisions. Screenshots go to artifacts/screens/supervisor-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from fieldpeer.agency import review
from fieldpeer.domain import ReviewState, SafetyAnswer
from fieldpeer.store import feedback, notes, wrap
from fieldpeer.records import Checkin, Narrative
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import complete_note
from tests.servers import AgencyProcess
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
            for (const el of document.querySelectorAll('a, button, input, textarea')) {
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
    visit = notes.save_draft(phone.store, complete_note(quinn, start=datetime(2026, 11, 20, 10), narrative=Narrative(goal="Keep the apartment.", intervention="Went over the lease together.", response="Relieved.", plan="Meet Friday.")))
    visit = notes.sign_note(phone.store, visit.id)
    call = notes.log_phone_contact(phone.store, rowan, 15, "Talked about the job fair.", ended_at=datetime(2026, 11, 21, 16))
    _, alert = wrap.record_checkin(phone.store, Checkin(person_id=quinn, feeling_today="Scared about rent", safety=SafetyAnswer.YES))
    assert alert is not None and phone.client.sync().sent >= 4
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

            # The urgent alert comes before any note, announced as an alert.
            alerts = page.get_by_role("alert")
            assert "Urgent safety alerts (1)" in alerts.inner_text() and "Scared about rent" in alerts.inner_text()
            order = page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.innerText)")
            assert order == ["Urgent safety alerts (1)", "Notes awaiting review (2)"]
            page.screenshot(path=str(ARTIFACTS / "supervisor-queue.png"), full_page=True)
            problems["queue"] = usability_problems(page, DESK["width"])

            page.get_by_label("Comment for the peer (what to add)").nth(1).fill("Say which job fair and when.")
            page.locator(f"#return-{call.id}").click()
            page.get_by_role("status").get_by_text("Note returned to the peer with your comment.").wait_for()
            page.locator(f"#cosign-{visit.id}").click()
            page.get_by_role("status").get_by_text("Note co-signed.").wait_for()
            page.get_by_role("button", name="I have followed up: acknowledge").click()
            page.get_by_text("No notes are waiting for review.").wait_for()
            assert page.get_by_role("alert").count() == 0
            page.screenshot(path=str(ARTIFACTS / "supervisor-queue-done.png"), full_page=True)

            page.get_by_role("link", name="Peers").click()
            page.get_by_role("link", name="Pat, CPSS").click()
            page.get_by_label("From").fill("2026-11-01")
            page.get_by_label("To").fill("2026-11-30")
            page.get_by_role("button", name="Show").click()
            page.get_by_role("heading", name="Contacts 2026-11-01 to 2026-11-30 (2)").wait_for()
            text = page.inner_text("main")
            assert "Face-to-face: 50%" in text and "Telephone: 50%" in text
            assert "Co-signed" in text and "Returned for an addendum" in text
            page.screenshot(path=str(ARTIFACTS / "supervisor-peer.png"), full_page=True)
            problems["peer"] = usability_problems(page, DESK["width"])

            small = browser.new_context(viewport=PHONE).new_page()  # a supervisor on a phone
            small.context.add_cookies(page.context.cookies())
            small.goto(page.url)
            small.screenshot(path=str(ARTIFACTS / "supervisor-peer-390.png"), full_page=True)
            problems["peer at 390 px"] = usability_problems(small, PHONE["width"])
        finally:
            browser.close()
    assert {k: v for k, v in problems.items() if v} == {}

    phone.client.sync()
    returned, cosigned = feedback.feedback_for(phone.store, call.id), feedback.feedback_for(phone.store, visit.id)
    assert returned is not None and returned.state is ReviewState.RETURNED and returned.comment == "Say which job fair and when."
    assert cosigned is not None and cosigned.state is ReviewState.COSIGNED and cosigned.reviewer == "Dana Reyes, LCSW"
