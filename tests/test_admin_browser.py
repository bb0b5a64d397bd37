"""The administrator's pages in headless Chromium against a real agency server: sign in, add a
peer with the experience they share, admit a person (criterion, exclusion check, wishes) and
assign them with the matching suggestion, show an enrolment code and its QR code, enrol a real
device with the code read off the page (it receives the person), then revoke it (its next sync is
refused and it wipes). Screenshots at 1280 and 390 px go to artifacts/screens/admin-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, sync_playwright

from fieldpeer.agency import admin, review, service
from fieldpeer.domain import PeerRole
from fieldpeer.records import Person
from fieldpeer.store import people
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import PIN, TEST_COST
from tests.servers import AgencyProcess
from tests.test_supervisor_browser import usability_problems
from tests.test_sync_integration import Admin, no_sleep

pytestmark = pytest.mark.slow
DESK: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[AgencyProcess]:
    process = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log")
    process.start()
    yield process
    process.stop()


def test_an_administrator_runs_the_program_in_the_browser(agency: AgencyProcess, tmp_path: Path) -> None:
    helper = Admin(agency.db_url)
    with helper.session() as db:
        who, token = admin.add_administrator(db, "Morgan Lee")
        lou = admin.add_peer(db, who, "Lou Park", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS", experience=["veteran"])
        db.flush()
        service.add_person(db, lou.id, Person(preferred_name="Rowan", admitted_on=date(2026, 10, 1)))
        south = admin.add_team(db, who, "South county")
        supervisor, _ = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.flush()
        admin.set_supervisor_teams(db, who, supervisor.id, [south.id])
        db.commit()

    problems: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shoot(page: Page, name: str) -> None:
        """The page at desk width, then at 390 px, with what a person would trip over at each."""
        page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)
        problems[name] = usability_problems(page, DESK["width"])
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / f"admin-{name}-390.png"), full_page=True)
        problems[f"{name} at 390 px"] = usability_problems(page, PHONE["width"])
        page.set_viewport_size(DESK)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=DESK).new_page()
            page.goto(f"{agency.url}/admin")
            assert page.url.endswith("/admin/login")
            page.get_by_label("Administrator sign-in token").fill(token)
            page.get_by_role("button", name="Sign in").click()

            # A peer, with the lived experience they choose to share.
            page.get_by_label("Name", exact=True).fill("Kim Ortiz")
            page.get_by_label("Credentials (printed on their notes)").fill("CPRC")
            page.get_by_label("Role").select_option(label="Recovery Coach")
            page.get_by_label("Team").select_option(label="South county")
            page.get_by_label("Recovery from alcohol use").check()
            page.get_by_label("Veteran").check()
            shoot(page, "peers")
            page.get_by_role("button", name="Add peer").click()
            page.get_by_role("status").get_by_text("Peer added.").wait_for()
            assert page.get_by_role("heading", level=1).inner_text() == "Kim Ortiz, CPRC"
            assert page.get_by_label("Veteran").is_checked() and page.get_by_label("Team").input_value() == south.id

            # A person: criterion, exclusion check, what they wish for in a peer.
            page.get_by_role("navigation").get_by_role("link", name="Persons served").click()
            page.get_by_role("link", name="Admit a person").click()
            page.get_by_label("Name the person goes by").fill("Quinn")
            page.get_by_label("G: Needs peer supports to maintain self-sufficiency").check()
            page.get_by_label("They would like a").select_option(label="Recovery Coach")
            page.get_by_label("Veteran").check()
            page.get_by_label("Recovery from alcohol use").check()
            shoot(page, "person-new")
            page.get_by_role("button", name="Check and suggest peers").click()

            # The suggestion: Kim (Recovery Coach, shares both) before Lou (another role, one shared).
            suggestions = page.locator("ol.suggestions > li")
            assert suggestions.count() == 2
            assert "Kim Ortiz" in suggestions.nth(0).inner_text() and "Best match" in suggestions.nth(0).inner_text()
            assert "shares: Recovery from alcohol use, Veteran" in suggestions.nth(0).inner_text()
            assert "not the role asked for" in suggestions.nth(1).inner_text()
            shoot(page, "match")
            page.get_by_role("button", name="Assign to Kim Ortiz").click()
            page.get_by_role("status").get_by_text("Person admitted and assigned.").wait_for()
            row = page.get_by_role("row").filter(has_text="Quinn")
            assert "Kim Ortiz" in row.inner_text() and "G" in row.inner_text()
            shoot(page, "persons")

            # Enrolment: the one-time code as text and as a QR code, with its expiry.
            page.get_by_role("navigation").get_by_role("link", name="Peers").click()
            page.get_by_role("link", name="Kim Ortiz, CPRC").click()
            assert "No devices enrolled." in page.inner_text("main")
            page.get_by_role("button", name="Enrol a device").click()
            code, server = page.locator("#code").inner_text(), page.locator("#server").inner_text()
            assert server == agency.url and "(in 24 hours)" in page.locator("#expires").inner_text()
            qr = page.get_by_role("img", name="QR code holding the agency address and the code").locator("svg")
            box = qr.bounding_box()
            assert box is not None and box["width"] >= 200 and abs(box["width"] - box["height"]) < 1
            # The modules drawn are the QR code of the link with the address and the code shown as text.
            drawn = qr.locator("path.qrline").get_attribute("d")
            assert drawn and f'd="{drawn}"' in admin.qr_svg(admin.enrolment_link(server, code))
            shoot(page, "enrol")

            # A real device enrols with the code read off the page and receives Quinn.
            profile = Profile(tmp_path / "kims-phone", cost=TEST_COST)
            store = enrol_device(profile, server, code, PIN, device_name="Kim's phone")
            client = SyncClient(store, sleep=no_sleep, on_revoked=profile.wipe)
            assert client.sync().pulled == 1
            assert [e.preferred_name for e in people.list_caseload(store, date(2026, 11, 25)).entries] == ["Quinn"]

            page.get_by_role("link", name="Back to Kim Ortiz").click()
            devices = page.locator(".device").filter(has_text="Kim's phone")
            assert "not reported" in devices.inner_text() and "never synced" not in devices.inner_text()
            shoot(page, "devices")
            page.get_by_role("button", name="Revoke Kim's phone").click()
            page.get_by_role("status").get_by_text("Device revoked.").wait_for()
            assert "Revoked" in page.locator(".device").filter(has_text="Kim's phone").inner_text()
            shoot(page, "revoked")

            page.get_by_role("navigation").get_by_role("link", name="Teams and supervisors").click()
            assert page.get_by_label("South county").is_checked()
            shoot(page, "teams")
        finally:
            browser.close()

    summary = client.sync()  # refused: the device wipes itself
    assert not summary.ok and "no longer enrolled" in summary.error
    assert not profile.is_set_up and not profile.database_path.exists()
    assert {k: v for k, v in problems.items() if v} == {}
