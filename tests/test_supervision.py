"""Supervision end to end, against a real agency server (SQLite and PostgreSQL): a note typed on
the phone is reviewed and returned, answered with an addendum on the phone, co-signed, and
exported (billing CSV; FHIR R4 validated with fhir.resources), with consent rules, the Part 2
notice and the disclosure log.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from fieldpeer.agency import review, service
from fieldpeer.agency.exports import PART2_NOTICE
from fieldpeer.agency.pages import COOKIE
from fieldpeer.agency.tables import Disclosure
from fieldpeer.domain import AlertState, ConsentKind, OutreachOutcome, ReviewState, SafetyAnswer, WrapSection, Zone
from fieldpeer.records import (
    AlertStatus,
    Checkin,
    Consent,
    Narrative,
    OutreachAttempt,
    Person,
    Record,
    SafetyAlert,
    UnitsConfirmed,
    WrapPlan,
    WrapPlanSection,
    new_id,
)
from fieldpeer.store import consents, feedback, notes, people, wrap
from fieldpeer.sync.sealing import open_seal, seal
from fieldpeer.sync.wire import SEALED_MEDIA_TYPE, PullBatch, pull_context, push_context
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Phone, enrolled_phone
from tests.web_client import PageClient

API = "/api/v1"
WORDS = Narrative(goal="Keep the apartment.", intervention="Went over the lease and the rent plan together.", response="Relieved; wants to call the landlord.", plan="Meet Friday.")


class Supervisor:
    """A supervisor at their desk: the agency's review API over HTTP."""

    def __init__(self, agency: AgencyProcess, phone: Phone) -> None:
        with phone.admin.session() as db:
            account, self.token = review.add_supervisor(db, "Dana Reyes", "LCSW")
            db.commit()
        self.id = account.id
        self.http = httpx.Client(base_url=agency.url + API, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def queue(self) -> dict:
        response = self.http.get("/review/queue")
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, **body: object) -> httpx.Response:
        return self.http.post(path, json=body or None)


def sign(phone: Phone, person_id: str, day: int) -> str:
    note = notes.save_draft(phone.store, complete_note(person_id, start=datetime(2026, 11, day, 10), narrative=WORDS))
    return notes.sign_note(phone.store, note.id).id


@pytest.fixture
def phone(agency: AgencyProcess, tmp_path):  # type: ignore[no-untyped-def]
    phone = enrolled_phone(agency, tmp_path, ("Quinn",))
    with phone.admin.session() as db:  # a second person, whose records are protected by Part 2
        phone.person_ids.append(service.add_person(db, phone.peer_id, Person(preferred_name="Rowan", part2=True, admitted_on=date(2026, 10, 1))).id)
        db.commit()
    phone.client.sync()
    yield phone
    phone.store.close()


def test_a_note_returned_answered_cosigned_and_exported(agency: AgencyProcess, phone: Phone) -> None:
    quinn = phone.person_ids[0]
    supervisor = Supervisor(agency, phone)
    note_id = sign(phone, quinn, 20)
    wrap.save_wrap_plan(phone.store, WrapPlan(person_id=quinn, sections={WrapSection.TRIGGERS: WrapPlanSection(items=["Loud rooms"], actions=["Step outside"])}), based_on_version=None)
    checkin, alert = wrap.record_checkin(phone.store, Checkin(person_id=quinn, feeling_today="Scared about rent", safety=SafetyAnswer.YES))
    consents.record_consent(phone.store, Consent(person_id=quinn, kind=ConsentKind.RELEASE, discloser="The agency", recipient="County Housing Authority",
                                                 information="Progress notes", purpose="Housing application", signed_on=date(2026, 11, 1), expires_on=date(2027, 11, 1)))
    assert phone.client.sync().sent >= 5

    # The queue: the urgent alert first, then the note with its words.
    queue = supervisor.queue()
    assert alert is not None and [a["alert_id"] for a in queue["alerts"]] == [alert.id]
    assert queue["alerts"][0]["person_name"] == "Quinn" and queue["alerts"][0]["feeling_today"] == "Scared about rent"
    [waiting] = queue["notes"]
    assert waiting["note_id"] == note_id and waiting["narrative"]["intervention"] == WORDS.intervention and waiting["peer_credentials"] == "CPSS"
    assert supervisor.post(f"/review/alerts/{alert.id}/acknowledge").status_code == 200
    assert supervisor.queue()["alerts"] == []

    # Returned with a comment: it reaches the phone, the note and the caseload.
    refused = supervisor.post(f"/review/notes/{note_id}/return", comment="")
    assert refused.status_code == 422
    returned = supervisor.post(f"/review/notes/{note_id}/return", comment="Add the landlord's answer and the date of the next visit.")
    assert returned.json() == {"note_id": note_id, "state": "returned"}
    phone.client.sync()
    said = feedback.feedback_for(phone.store, note_id)
    assert said is not None and said.state is ReviewState.RETURNED and said.reviewer == "Dana Reyes, LCSW" and "landlord's answer" in said.comment
    entry = next(e for e in people.list_caseload(phone.store, date(2026, 11, 25)).entries if e.person_id == quinn)
    assert entry.returned_notes == 1
    assert supervisor.post(f"/review/notes/{note_id}/cosign").json()["code"] == "wrong_state"  # not until answered

    # Answered with an addendum on the phone: back in the supervisor's queue, then co-signed.
    notes.add_addendum(phone.store, note_id, "Landlord agreed to a payment plan; next visit 2026-11-27.")
    assert next(e for e in people.list_caseload(phone.store, date(2026, 11, 25)).entries if e.person_id == quinn).returned_notes == 0
    phone.client.sync()
    [again] = supervisor.queue()["notes"]
    assert again["note_id"] == note_id and again["addenda"] == ["Landlord agreed to a payment plan; next visit 2026-11-27."]
    assert supervisor.post(f"/review/notes/{note_id}/cosign").json()["state"] == "cosigned"
    phone.client.sync()
    cosigned = feedback.feedback_for(phone.store, note_id)
    assert cosigned is not None and cosigned.state is ReviewState.COSIGNED and supervisor.queue()["notes"] == []

    # Billing: the co-signed note, units by the configured rule (40 minutes of H0038 = 3 units).
    billing = supervisor.post("/exports/billing", start="2026-11-01", end="2026-11-30", purpose="November claims")
    assert billing.status_code == 200 and billing.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(billing.text)))
    assert (row["note_id"], row["person"], row["peer"], row["credentials"], row["service_code"], row["units"], row["part2"]) == (note_id, "Quinn", "Pat", "CPSS", "H0038", "3", "no")
    assert not billing.text.startswith("#")  # no Part 2 person in it

    # FHIR R4: for the agency's own records, and to the recipient the person consented to.
    for recipient, purpose in (("agency records", "Quality review"), ("County Housing Authority", "housing application")):
        response = supervisor.post("/exports/fhir", person_id=quinn, purpose=purpose, recipient=recipient)
        assert response.status_code == 200 and response.headers["content-type"] == "application/fhir+json"
        bundle = Bundle.model_validate(response.json())  # validates every resource against FHIR R4
        kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
        assert kinds == ["CarePlan", "ChargeItem", "DocumentReference", "Encounter", "Patient", "QuestionnaireResponse"]
        document = next(e["resource"] for e in response.json()["entry"] if e["resource"]["resourceType"] == "DocumentReference")
        text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
        assert WORDS.intervention in text and "Landlord agreed to a payment plan" in text and document["authenticator"]["display"] == "Dana Reyes, LCSW"
        assert "X-Redisclosure-Notice" not in response.headers
    for recipient, purpose in (("Someone Else", "Housing application"), ("County Housing Authority", "Marketing")):
        refused = supervisor.post("/exports/fhir", person_id=quinn, purpose=purpose, recipient=recipient)
        assert refused.status_code == 403 and refused.json()["code"] == "consent_required"
    assert supervisor.post("/exports/fhir", person_id=quinn, recipient="agency records").status_code == 422  # a purpose is required

    with phone.admin.session() as db:
        log = [(d.kind, d.recipient, d.purpose) for d in db.exec(select(Disclosure).order_by(Disclosure.seq)).all()]
    assert log == [
        ("billing_csv", "agency records", "November claims"),
        ("fhir_bundle", "agency records", "Quality review"),
        ("fhir_bundle", "County Housing Authority", "housing application"),
        ("fhir_refused", "Someone Else", "Housing application"),
        ("fhir_refused", "County Housing Authority", "Marketing"),
    ]


def test_part2_records_carry_the_redisclosure_notice(agency: AgencyProcess, phone: Phone) -> None:
    rowan = phone.person_ids[1]
    supervisor = Supervisor(agency, phone)
    note_id = sign(phone, rowan, 21)
    phone.client.sync()
    assert supervisor.post(f"/review/notes/{note_id}/cosign").status_code == 200
    billing = supervisor.post("/exports/billing", start="2026-11-01", end="2026-11-30", purpose="November claims")
    assert billing.text.splitlines()[0] == f"# {PART2_NOTICE}"
    response = supervisor.post("/exports/fhir", person_id=rowan, purpose="Continuity of care", recipient="agency records")
    assert response.headers["X-Redisclosure-Notice"] == PART2_NOTICE
    bundle = Bundle.model_validate(response.json())
    assert bundle.meta.security[0].code == "42CFRPart2"
    document = next(e["resource"] for e in response.json()["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    assert base64.b64decode(document["content"][0]["attachment"]["data"]).decode().startswith(PART2_NOTICE)


def test_supervisor_routes_refuse_devices_and_strangers(agency: AgencyProcess, phone: Phone) -> None:
    supervisor = Supervisor(agency, phone)
    for token in (None, "x" * 43, phone.client.token):  # nobody, a made-up token, a peer's device
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        assert httpx.get(f"{agency.url}{API}/review/queue", headers=headers).status_code == 401
        assert httpx.post(f"{agency.url}{API}/exports/fhir", headers=headers, json={"person_id": phone.person_ids[0], "purpose": "x" * 5, "recipient": "agency records"}).status_code == 401
    assert supervisor.post("/review/notes/no-such-note/cosign").status_code == 404
    result = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "agency", "--db", agency.db_url, "revoke-supervisor", supervisor.id], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    closed = supervisor.http.get("/review/queue")
    assert closed.status_code == 403 and closed.json()["code"] == "access_revoked"


def test_supervisor_pages_need_a_supervisor_escape_what_peers_typed_and_refuse_other_sites(agency: AgencyProcess, phone: Phone) -> None:
    supervisor = Supervisor(agency, phone)
    note = notes.save_draft(phone.store, complete_note(phone.person_ids[0], narrative=Narrative(goal="<script>alert(1)</script>", intervention="Talked.", response="Fine.", plan="Later.")))
    note = notes.sign_note(phone.store, note.id)
    phone.client.sync()
    pages = ["/supervisor/queue", "/supervisor/peers", f"/supervisor/peers/{phone.peer_id}"]
    for cookies in ({}, {COOKIE: "made-up"}, {COOKIE: phone.client.token}, {COOKIE: supervisor.token}):  # nobody, a stranger, a peer's device, the raw token (never a cookie)
        for path in pages:
            response = httpx.get(agency.url + path, cookies=cookies, follow_redirects=False)
            assert (response.status_code, response.headers["location"]) == (303, "/supervisor/login"), path
    with PageClient(agency.url) as browser:
        cookie = browser.sign_in("/supervisor", supervisor.token).headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/supervisor" in cookie and supervisor.token not in cookie
        queue = browser.get("/supervisor/queue")
        assert queue.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in queue.text and "<script>" not in queue.text
        assert "default-src 'none'" in queue.headers["content-security-policy"]
        unstorable = browser.post(f"/supervisor/notes/{note.id}/return", data={"comment": "Add\x00 the plan"}, headers={"Origin": agency.url})
        assert "cannot be stored" in unstorable.text  # a clear refusal, not a database error
        forged = browser.post(f"/supervisor/notes/{note.id}/cosign", headers={"Origin": "https://evil.example"}, follow_redirects=False)
        assert "That form came from another site." in forged.text
        assert [n["note_id"] for n in supervisor.queue()["notes"]] == [note.id]  # still awaiting review
        done = browser.post(f"/supervisor/notes/{note.id}/cosign", headers={"Origin": agency.url}, follow_redirects=False)
        assert (done.status_code, done.headers["location"]) == (303, "/supervisor/queue?done=cosigned")
        assert supervisor.queue()["notes"] == []


# --- Alert lifecycle, outreach attempts, one unit figure -----------------------------------------


class Wire:
    """The phone's sync keys driving the wire directly: push exactly these records, read the whole
    feed. The agency's side is what is tested here, whatever the phone's store does with them."""

    def __init__(self, phone: Phone) -> None:
        self.client = phone.client

    def push(self, *records: Record) -> list[str]:
        entries = [{"entry_id": new_id(), "record": r.model_dump(mode="json")} for r in records]
        body = json.dumps({"batch_id": new_id(), "entries": entries}).encode()
        sealed = seal(body, recipient_box=self.client.agency_box, sender=self.client.keys, context=push_context(self.client.device_id))
        response = httpx.post(f"{self.client.server}{API}/push", content=sealed, headers={"Authorization": f"Bearer {self.client.token}", "Content-Type": SEALED_MEDIA_TYPE})
        assert response.status_code == 200, response.text
        return [r["status"] for r in response.json()["results"]]

    def feed(self, record_type: str) -> list[dict]:
        """Every record of this type on the peer's feed, in order (from cursor 0)."""
        found, cursor = [], 0
        while True:
            response = httpx.get(f"{self.client.server}{API}/pull", params={"cursor": cursor}, headers={"Authorization": f"Bearer {self.client.token}"})
            page = PullBatch.model_validate_json(open_seal(response.content, recipient=self.client.keys, sender_sign=self.client.agency_sign, context=pull_context(self.client.device_id)))
            found += [r for r in page.records if r["record_type"] == record_type]
            cursor = page.cursor
            if not page.more:
                return found


def test_a_safety_alert_open_before_its_checkin_then_acknowledged_then_closed_on_the_phone(agency: AgencyProcess, phone: Phone) -> None:
    quinn = phone.person_ids[0]
    supervisor, wire = Supervisor(agency, phone), Wire(phone)
    checkin = Checkin(person_id=quinn, feeling_today="Not sleeping, everything is too much", zone=Zone.BREAKING_DOWN, safety=SafetyAnswer.UNSURE)
    alert = SafetyAlert(checkin_id=checkin.id, person_id=quinn, safety=SafetyAnswer.UNSURE)
    assert wire.push(alert) == ["stored"]  # the moment "not sure" was chosen: no check-in yet

    [shown] = supervisor.queue()["alerts"]
    assert (shown["alert_id"], shown["person_name"], shown["safety"], shown["state"], shown["checkin_saved"]) == (alert.id, "Quinn", "unsure", "open", False)
    with PageClient(agency.url) as browser:
        browser.sign_in("/supervisor", supervisor.token)
        page = browser.get("/supervisor/queue").text
        assert "Check-in not saved yet" in page and "Not sure / would not say" in page

        assert wire.push(checkin) == ["stored"]  # the check-in arrives later
        [shown] = supervisor.queue()["alerts"]
        assert shown["checkin_saved"] and shown["feeling_today"] == checkin.feeling_today and shown["zone"] == "breaking_down"
        assert "Check-in not saved yet" not in browser.get("/supervisor/queue").text

        acknowledged = supervisor.post(f"/review/alerts/{alert.id}/acknowledge")
        assert acknowledged.status_code == 200
        queue = supervisor.queue()
        assert queue["alerts"] == [] and [(a["alert_id"], a["state"], a["by"]) for a in queue["following_up"]] == [(alert.id, "acknowledged", "Dana Reyes, LCSW")]
        [status] = wire.feed("alert_status")  # what the phone pulls at its next sync
        said = AlertStatus.model_validate(status)
        assert (said.id, said.person_id, said.state, said.by, said.version) == (alert.id, quinn, AlertState.ACKNOWLEDGED, "Dana Reyes, LCSW", 2)
        assert abs((said.at - datetime.now(UTC)).total_seconds()) < 60
        assert supervisor.post(f"/review/alerts/{alert.id}/acknowledge").status_code == 200 and len(wire.feed("alert_status")) == 1  # once is enough

        # The peer's page lists the alert still open, with who is following up and a way to close it.
        peer_page = browser.get(f"/supervisor/peers/{phone.peer_id}").text
        assert "Being followed up (1)" in peer_page and "Acknowledged by Dana Reyes, LCSW" in peer_page and f'id="close-{alert.id}"' in peer_page
        closed = browser.post(f"/supervisor/alerts/{alert.id}/close", data={"back": phone.peer_id}, headers={"Origin": agency.url}, follow_redirects=False)
        assert (closed.status_code, closed.headers["location"]) == (303, f"/supervisor/peers/{phone.peer_id}?done=closed")
        assert "Being followed up" not in browser.get(f"/supervisor/peers/{phone.peer_id}").text

    statuses = [AlertStatus.model_validate(s) for s in wire.feed("alert_status")]
    assert [(s.state, s.version, s.by) for s in statuses] == [(AlertState.ACKNOWLEDGED, 2, "Dana Reyes, LCSW"), (AlertState.CLOSED, 3, "Dana Reyes, LCSW")]
    assert supervisor.queue()["following_up"] == [] and supervisor.queue()["alerts"] == []
    again = supervisor.post(f"/review/alerts/{alert.id}/close")
    assert again.json()["state"] == "closed" and len(wire.feed("alert_status")) == 2
    assert supervisor.post("/review/alerts/no-such-alert/close").status_code == 404

    # Closing an alert nobody acknowledged records both steps at once; the phone hears "closed".
    other = SafetyAlert(checkin_id=new_id(), person_id=quinn)
    wire.push(other)
    status = supervisor.post(f"/review/alerts/{other.id}/close").json()
    assert (status["id"], status["state"], status["by"], status["version"]) == (other.id, "closed", "Dana Reyes, LCSW", 3)
    assert [s["state"] for s in wire.feed("alert_status") if s["id"] == other.id] == ["closed"]


def test_one_unit_figure_in_queue_peer_page_billing_fhir_and_on_the_phone(agency: AgencyProcess, phone: Phone) -> None:
    quinn = phone.person_ids[0]
    supervisor, wire = Supervisor(agency, phone), Wire(phone)
    # H0038: 15-minute units, at most 16 a day per person. A long afternoon visit is synced first;
    # the morning call that came before it arrives later, and takes its share of the cap first.
    afternoon = notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(quinn, start=datetime(2026, 11, 18, 13), minutes=240)).id)
    phone.client.sync()
    assert {u["id"]: u["units"] for u in wire.feed("units_confirmed")} == {afternoon.id: 16}
    morning = notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(quinn, start=datetime(2026, 11, 18, 8), minutes=60)).id)
    phone.client.sync()
    expected = {morning.id: 4, afternoon.id: 12}
    assert afternoon.units == 16  # what the phone worked out alone, before the morning note reached the agency

    confirmed: dict[str, UnitsConfirmed] = {}
    for raw in wire.feed("units_confirmed"):  # later versions replace earlier ones, as on the phone
        figure = UnitsConfirmed.model_validate(raw)
        if figure.id not in confirmed or figure.version > confirmed[figure.id].version:
            confirmed[figure.id] = figure
    assert {k: v.units for k, v in confirmed.items()} == expected and confirmed[afternoon.id].version == 2
    assert {n["note_id"]: n["units"] for n in supervisor.queue()["notes"]} == expected
    with PageClient(agency.url) as browser:
        browser.sign_in("/supervisor", supervisor.token)
        peer_page = browser.get(f"/supervisor/peers/{phone.peer_id}", params={"start": "2026-11-01", "end": "2026-11-30"}).text
        assert "<td>240</td><td>12</td>" in peer_page and "<td>60</td><td>4</td>" in peer_page and "16 billable units in this period" in peer_page
    for note_id in expected:
        assert supervisor.post(f"/review/notes/{note_id}/cosign").status_code == 200
    billing = supervisor.post("/exports/billing", start="2026-11-01", end="2026-11-30", purpose="November claims")
    assert {row["note_id"]: int(row["units"]) for row in csv.DictReader(io.StringIO(billing.text))} == expected
    bundle = supervisor.post("/exports/fhir", person_id=quinn, purpose="Quality review", recipient="agency records").json()
    charges = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ChargeItem"]
    assert {c["id"].removeprefix("charge-"): c["quantity"]["value"] for c in charges} == expected
    Bundle.model_validate(bundle)


def test_an_outreach_attempt_is_counted_but_is_not_a_contact(agency: AgencyProcess, phone: Phone) -> None:
    quinn = phone.person_ids[0]
    supervisor, wire = Supervisor(agency, phone), Wire(phone)
    today = datetime.now().replace(microsecond=0)
    attempts = [OutreachAttempt(person_id=quinn, attempted_at=today - timedelta(hours=h), outcome=o)
                for h, o in ((3, OutreachOutcome.NO_ANSWER), (2, OutreachOutcome.NO_ANSWER), (1, OutreachOutcome.LEFT_MESSAGE))]
    assert wire.push(*attempts) == ["stored"] * 3
    assert supervisor.queue()["notes"] == []  # nothing to review or bill
    with PageClient(agency.url) as browser:
        browser.sign_in("/supervisor", supervisor.token)
        page = browser.get(f"/supervisor/peers/{phone.peer_id}").text
    assert "Outreach attempts (3)" in page and "<li>No answer: 2</li>" in page and "<li>Left a message: 1</li>" in page
    assert "Contacts" in page and "(0)</h2>" in page and "<li>No contacts in this period.</li>" in page
    assert "No contact in 30 days" in page  # Quinn, admitted 2026-10-01, has been called but not reached
    billing = supervisor.post("/exports/billing", start=(today.date() - timedelta(days=1)).isoformat(), end=today.date().isoformat(), purpose="Claims")
    assert list(csv.DictReader(io.StringIO(billing.text))) == []
