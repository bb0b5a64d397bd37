"""The supervisor's queue as a real queue (issue #13), against a real agency server on SQLite and
PostgreSQL: pages of 25 with a count, filters (peer, person, dates, urgent only) that never widen
what the supervisor's teams show, each note's setting, interventions, goals and history, times in
the agency's zone, the JSON API's same filters and bounded pages, and exports from the pages
(billing CSV; a person's FHIR record refused without consent, given with it), team-scoped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from fieldpeer.agency import admin, review, service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import Device, Disclosure
from fieldpeer.agency.times import local_time
from fieldpeer.domain import ConsentKind, NoteStatus, PeerRole, SafetyAnswer
from fieldpeer.records import Addendum, Consent, ContactNote, Goal, Person, Record, SafetyAlert
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.statements import statements_sent
from tests.web_client import PageClient

RETURN_COMMENT = "Say what the landlord answered."


@dataclass
class Scene:
    """Two teams: Dana leads North (Pat: Quinn, Rowan); Sam (South: Sky) is outside her view."""

    engine: Engine
    devices: dict[str, Device]
    persons: dict[str, str]
    peers: dict[str, str]
    dana: str  # Dana's token (North's supervisor)
    everyone: review.Supervisor  # a supervisor leading no team: agency-wide
    pat_notes: list[ContactNote]
    returned: ContactNote
    alert_raised: datetime

    def push(self, peer: str, *records: Record) -> None:
        with Session(self.engine, expire_on_commit=False) as db:
            receipt = review.ingest(db, self.devices[peer], service.ParsedBatch(f"batch-{records[0].id}", [(f"entry-{r.id}", r) for r in records]))
            db.commit()
        assert {r.status.value for r in receipt.results} == {"stored"}, receipt


def signed(person_id: str, day: int, hour: int) -> ContactNote:
    return complete_note(person_id, start=datetime(2026, 11, day, hour), peer_id="", status=NoteStatus.SIGNED, goal_ids=["g-home"])


def build(db_url: str) -> Scene:
    engine = open_agency_engine(db_url)
    migrate_agency(engine)
    with Session(engine, expire_on_commit=False) as db:
        boss, _ = admin.add_administrator(db, "Ari Admin")
        north, south = admin.add_team(db, boss, "North"), admin.add_team(db, boss, "South")
        pat = admin.add_peer(db, boss, "Pat", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS", team_id=north.id)
        sam = admin.add_peer(db, boss, "Sam", PeerRole.RECOVERY_COACH, "CRC", team_id=south.id)
        db.flush()
        goals = [Goal(id="g-home", text="Keep the apartment")]
        persons = {
            "Quinn": service.add_person(db, pat.id, Person(preferred_name="Quinn", goals=goals, admitted_on=date(2026, 10, 1))).id,
            "Rowan": service.add_person(db, pat.id, Person(preferred_name="Rowan", goals=goals, admitted_on=date(2026, 10, 1))).id,
            "Sky": service.add_person(db, sam.id, Person(preferred_name="Sky", goals=goals, admitted_on=date(2026, 10, 1))).id,
        }
        devices = {name: Device(id=f"device-{name}", peer_id=peer.id, token_hash=f"not-a-token-{name}", box_key="-", sign_key="-") for name, peer in (("Pat", pat), ("Sam", sam))}
        db.add_all(devices.values())
        dana, dana_token = admin.add_supervisor(db, boss, "Dana Reyes", "LCSW")
        everyone, _ = review.add_supervisor(db, "Lee Park", "LPC")
        db.flush()
        admin.set_supervisor_teams(db, boss, dana.id, [north.id])
        db.commit()
    scene = Scene(engine, devices, persons, {"Pat": pat.id, "Sam": sam.id}, dana_token, everyone, [], None, datetime.min)  # type: ignore[arg-type]
    # 30 of Pat's notes (Quinn: even days, Rowan: odd), 5 of Sam's; pushed newest first: the queue orders by contact, not arrival.
    scene.pat_notes = [signed(persons["Quinn" if n % 2 == 0 else "Rowan"], 1 + n % 28, 8 + n // 28) for n in range(30)]
    scene.push("Pat", *reversed(scene.pat_notes))
    scene.push("Sam", *[signed(persons["Sky"], 2 + n, 9) for n in range(5)])
    quinn_alert, sky_alert = SafetyAlert(checkin_id="checkin-later", person_id=persons["Quinn"], safety=SafetyAnswer.UNSURE), SafetyAlert(checkin_id="c-2", person_id=persons["Sky"])
    scene.push("Pat", quinn_alert)
    scene.push("Sam", sky_alert)
    scene.alert_raised = quinn_alert.raised_at
    # Returned with a comment, then answered with an addendum: back in the queue with its history.
    scene.returned = scene.pat_notes[4]
    with Session(engine) as db:
        review.return_note(db, scene.everyone, scene.returned.id, RETURN_COMMENT)
        db.commit()
    scene.push("Pat", Addendum(note_id=scene.returned.id, text="The landlord agreed to a payment plan."))
    return scene


@pytest.fixture
def scene(agency: AgencyProcess) -> Iterator[Scene]:
    built = build(agency.db_url)
    yield built
    built.engine.dispose()


@pytest.fixture
def dana(agency: AgencyProcess, scene: Scene) -> Iterator[PageClient]:
    with PageClient(agency.url, timeout=30) as browser:
        assert browser.sign_in("/supervisor", scene.dana).status_code == 303
        yield browser


def note_headings(html: str) -> list[str]:
    return [line for line in html.splitlines() if line.startswith('<h3 id="note-')]


def test_the_queue_pages_filters_and_shows_each_notes_history(scene: Scene, dana: PageClient) -> None:
    first = dana.get("/supervisor/queue")
    assert first.status_code == 200
    html = first.text
    assert "Notes awaiting review (30)" in html and "Showing 1–25 of 30" in html and "Page 1 of 2" in html
    assert len(note_headings(html)) == 25 and "Sky" not in html and ">Sam<" not in html  # Sam's team is not Dana's
    oldest = min(scene.pat_notes, key=lambda n: (n.starts_at, n.id))
    assert note_headings(html)[0].startswith(f'<h3 id="note-{oldest.id}"')
    # The urgent alert comes before the notes, its time in the agency's zone (not UTC).
    assert html.index("Urgent safety alerts (1)") < html.index("Notes awaiting review") and local_time(scene.alert_raised) in html
    assert "UTC" not in html

    second = dana.get("/supervisor/queue?page=2").text
    assert len(note_headings(second)) == 5 and "Showing 26–30 of 30" in second and 'id="page-previous"' in second and 'id="page-next"' not in second
    seen = {h.split('"')[1] for h in note_headings(html) + note_headings(second)}
    assert seen == {f"note-{n.id}" for n in scene.pat_notes}

    # History of the returned-then-amended note; setting, interventions and goals in words.
    returned = next(h for h in html.split("<article")[1:] if f'id="note-{scene.returned.id}"' in h)
    assert "Returned for an addendum by Lee Park, LPC" in returned and f"“{RETURN_COMMENT}”" in returned and "The landlord agreed to a payment plan." in returned
    assert "Coffee shop" in returned or "community" in returned.lower()
    assert "Self help" in returned or "Self-help" in returned or "self help" in returned.lower()
    assert "Keep the apartment" in returned

    quinn = dana.get("/supervisor/queue", params={"peer": scene.peers["Pat"], "person": scene.persons["Quinn"]}).text
    assert "Notes awaiting review (15)" in quinn and "Rowan ·" not in quinn and 'id="clear-filters"' in quinn
    days = dana.get("/supervisor/queue", params={"start": "2026-11-01", "end": "2026-11-03"}).text
    assert "Notes awaiting review (5)" in days and len(note_headings(days)) == 5  # days 1-3, and 1-2 again at 9 am
    urgent = dana.get("/supervisor/queue", params={"urgent": "1"}).text
    assert "Urgent safety alerts (1)" in urgent and "Notes awaiting review" not in urgent

    peers = dana.get("/supervisor/peers").text  # each peer of her teams with what awaits them
    assert f'id="awaiting-{scene.peers["Pat"]}">30 notes awaiting review' in peers and "Sam" not in peers

    # Another team's peer or person shows nothing, as an unknown id would: no error, no name.
    for params in ({"peer": scene.peers["Sam"]}, {"person": scene.persons["Sky"]}, {"peer": "no-such-peer"}):
        outside = dana.get("/supervisor/queue", params=params)
        assert outside.status_code == 200 and "Notes awaiting review (0)" in outside.text and "Sky" not in outside.text and "Urgent safety alerts" not in outside.text


def test_the_api_queue_takes_the_same_filters_in_bounded_pages(agency: AgencyProcess, scene: Scene) -> None:
    with httpx.Client(base_url=f"{agency.url}/api/v1", headers={"Authorization": f"Bearer {scene.dana}"}, timeout=30) as api:
        whole = api.get("/review/queue").json()  # as existing callers ask: up to 100 notes
        assert whole["total"] == 30 and len(whole["notes"]) == 30 and [a["person_name"] for a in whole["alerts"]] == ["Quinn"]
        page = api.get("/review/queue", params={"page": 3, "page_size": 10}).json()
        assert page["total"] == 30 and [n["note_id"] for n in page["notes"]] == [n["note_id"] for n in whole["notes"][20:30]]
        assert api.get("/review/queue", params={"page_size": 101}).status_code == 422
        outside = api.get("/review/queue", params={"peer": scene.peers["Sam"]}).json()
        assert outside["total"] == 0 and outside["notes"] == [] and outside["alerts"] == []
        rowan = api.get("/review/queue", params={"person": scene.persons["Rowan"], "start": "2026-11-10", "end": "2026-11-20"}).json()
        assert rowan["total"] == 6 and {n["person_name"] for n in rowan["notes"]} == {"Rowan"}
        note = next(n for n in whole["notes"] if n["note_id"] == scene.returned.id)
        assert note["goals"] == ["Keep the apartment"] and [(h["state"], h["comment"]) for h in note["history"]] == [("returned", RETURN_COMMENT)]


def test_exports_from_the_pages_are_team_scoped_and_ask_for_consent(scene: Scene, dana: PageClient) -> None:
    with Session(scene.engine) as db:  # co-signed: Pat's first three notes and one of Sam's
        for note in scene.pat_notes[:3]:
            review.cosign(db, scene.everyone, note.id)
        sky_note = review.queue(db, scene.everyone, scene.peers["Sam"]).notes[0].note_id
        review.cosign(db, scene.everyone, sky_note)
        db.commit()
    assert 'id="billing-download"' in dana.get("/supervisor/exports").text
    billing = dana.post("/supervisor/exports/billing", data={"start": "2026-11-01", "end": "2026-11-30", "purpose": "Medicaid claims for November"})
    assert billing.status_code == 200 and billing.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(billing.text)))
    assert sorted(r["note_id"] for r in rows) == sorted(n.id for n in scene.pat_notes[:3]) and {r["peer"] for r in rows} == {"Pat"}  # not Sam's
    short = dana.post("/supervisor/exports/billing", data={"start": "2026-11-30", "end": "2026-11-01", "purpose": "Claims"})
    assert short.status_code == 422 and "The period ends before it starts." in short.text

    quinn = scene.persons["Quinn"]
    asked = {"person_id": quinn, "recipient": "County Housing Authority", "purpose": "Housing application"}
    refused = dana.post("/supervisor/exports/fhir", data=asked)
    assert refused.status_code == 403 and "No active consent from this person" in refused.text and 'value="County Housing Authority"' in refused.text
    scene.push("Pat", Consent(person_id=quinn, kind=ConsentKind.RELEASE, discloser="The agency", recipient="County Housing Authority",
                              information="Progress notes", purpose="Housing application", signed_on=date(2026, 11, 1), expires_on=date(2027, 11, 1)))
    given = dana.post("/supervisor/exports/fhir", data=asked)
    assert given.status_code == 200 and given.headers["content-type"].startswith("application/fhir+json")
    bundle: dict[str, Any] = json.loads(given.text)
    assert bundle["resourceType"] == "Bundle" and {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"Patient", "Encounter", "ChargeItem"}

    sky = dana.post("/supervisor/exports/fhir", data={"person_id": scene.persons["Sky"], "recipient": "agency records", "purpose": "Care review"})
    with Session(scene.engine) as db:  # every export and refusal from the pages is in the disclosure log, with its purpose
        logged = [(d.kind, d.purpose) for d in db.exec(select(Disclosure).order_by(col(Disclosure.seq))).all()]
    assert logged == [("billing_csv", "Medicaid claims for November"), ("fhir_refused", "Housing application"), ("fhir_bundle", "Housing application")]
    assert sky.status_code == 404 and "There is no person with that id." in sky.text and "Sky" not in sky.text.replace('"Sky"', "")  # not in her teams


def count_queries(engine: Engine, work: Any) -> int:
    with Session(engine) as db, statements_sent(engine) as sent:
        work(db)
    return sent.count


def test_a_filtered_page_costs_the_same_queries_at_any_length(agency_db_url: str) -> None:
    scene = build(agency_db_url)
    with Session(scene.engine) as db:
        dana = db.exec(select(review.Supervisor).where(review.Supervisor.name == "Dana Reyes")).one()
    filters = review.QueueFilters(peer_id=scene.peers["Pat"], start=date(2026, 11, 1), end=date(2026, 11, 30))
    # Pages without a returned note (a page with one asks the feed for its history: one query more, whatever the page's length).
    small = count_queries(scene.engine, lambda db: review.queue(db, dana, filters=filters, page=2, page_size=25))
    assert count_queries(scene.engine, lambda db: review.queue(db, dana, filters=filters, page=1, page_size=25)) == small + 1
    scene.push("Pat", *[signed(scene.persons["Rowan"], 1 + n % 28, 12 + n % 8) for n in range(200)])
    large = count_queries(scene.engine, lambda db: review.queue(db, dana, filters=filters, page=3, page_size=25))
    assert large == small, f"{small} queries for a page of 30 notes, {large} at 230"
    scene.engine.dispose()


# --- In Chromium, at 1280 and 390 px --------------------------------------------------------------


@pytest.mark.slow
def test_the_queue_and_exports_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
    from tests.test_supervisor_browser import DESK, PHONE, usability_problems

    server = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log")
    server.start()
    scene = build(server.db_url)
    problems: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport=DESK, accept_downloads=True).new_page()
                page.goto(f"{server.url}/supervisor/login")
                page.get_by_label("Supervisor sign-in token").fill(scene.dana)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("heading", name="Notes awaiting review (30)").wait_for()
                assert "Showing 1–25 of 30" in page.inner_text("main") and page.locator("article.note").count() == 25
                returned = page.locator("article.note", has=page.locator(f"#note-{scene.returned.id}"))
                assert "Returned for an addendum by Lee Park, LPC" in returned.inner_text() and RETURN_COMMENT in returned.inner_text()
                assert "The landlord agreed to a payment plan." in returned.inner_text() and "Keep the apartment" in returned.inner_text()
                page.screenshot(path=str(ARTIFACTS / "queue-desk.png"), full_page=True)
                problems["queue"] = usability_problems(page, DESK["width"])

                page.locator("#page-next").click()
                page.get_by_text("Showing 26–30 of 30").wait_for()
                assert page.locator("article.note").count() == 5

                page.get_by_label("Peer", exact=True).select_option(label="Pat")
                page.locator("#apply-filters").click()
                page.get_by_label("Person", exact=True).select_option(label="Quinn")
                page.get_by_label("Contacts from").fill("2026-11-01")
                page.get_by_label("to", exact=True).fill("2026-11-10")
                page.locator("#apply-filters").click()
                page.get_by_role("heading", name="Notes awaiting review (6)").wait_for()  # Quinn: days 1, 3, 5, 7, 9 and day 1 again
                assert page.locator("#page-of").count() == 0 and "Rowan ·" not in page.inner_text("main")
                page.screenshot(path=str(ARTIFACTS / "queue-filtered-desk.png"), full_page=True)
                problems["queue, filtered"] = usability_problems(page, DESK["width"])
                page.get_by_label("Urgent only (safety alerts)").check()
                page.locator("#apply-filters").click()
                page.get_by_role("heading", name="Urgent safety alerts (1)").wait_for()
                assert page.locator("article.note").count() == 0

                narrow = browser.new_context(viewport=PHONE).new_page()
                narrow.context.add_cookies(page.context.cookies())
                narrow.goto(f"{server.url}/supervisor/queue")
                narrow.screenshot(path=str(ARTIFACTS / "queue-390.png"), full_page=True)
                problems["queue at 390 px"] = usability_problems(narrow, PHONE["width"])

                with Session(scene.engine) as db:
                    for note in scene.pat_notes[:2]:
                        review.cosign(db, scene.everyone, note.id)
                    db.commit()
                page.locator("#exports-link").click()
                page.get_by_label("From", exact=True).fill("2026-11-01")
                page.get_by_label("To", exact=True).fill("2026-11-30")
                page.locator("#b-purpose").fill("Medicaid claims for November")
                with page.expect_download() as download:
                    page.locator("#billing-download").click()
                rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
                assert sorted(r["note_id"] for r in rows) == sorted(n.id for n in scene.pat_notes[:2])

                page.get_by_label("Person", exact=True).select_option(label="Quinn")
                page.get_by_label("Recipient", exact=True).fill("County Housing Authority")
                page.locator("#x-purpose").fill("Housing application")
                page.locator("#fhir-download").click()
                page.locator("#fhir-error").get_by_text("No active consent from this person").wait_for()
                assert page.get_by_label("Recipient", exact=True).input_value() == "County Housing Authority"
                page.screenshot(path=str(ARTIFACTS / "queue-export-refused-desk.png"), full_page=True)
                problems["exports, refused"] = usability_problems(page, DESK["width"])
                narrow.goto(f"{server.url}/supervisor/exports")
                narrow.screenshot(path=str(ARTIFACTS / "queue-exports-390.png"), full_page=True)
                problems["exports at 390 px"] = usability_problems(narrow, PHONE["width"])

                scene.push("Pat", Consent(person_id=scene.persons["Quinn"], kind=ConsentKind.RELEASE, discloser="The agency", recipient="County Housing Authority",
                                          information="Progress notes", purpose="Housing application", signed_on=date(2026, 11, 1), expires_on=date(2027, 11, 1)))
                page.locator("#x-purpose").fill("Housing application")
                with page.expect_download() as download:
                    page.locator("#fhir-download").click()
                bundle = json.loads(Path(download.value.path()).read_text())
                assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["name"][0]["text"] == "Quinn"
            finally:
                browser.close()
    finally:
        server.stop()
        scene.engine.dispose()
    assert {k: v for k, v in problems.items() if v} == {}
