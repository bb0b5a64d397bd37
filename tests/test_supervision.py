"""Supervision end to end, against a real agency server (SQLite and PostgreSQL): a note typed on
the phone is reviewed and returned, answered with an addendum on the phone, co-signed, and
exported (billing CSV; FHIR R4 validated with fhir.resources), with consent rules, the Part 2
notice and the disclosure log.
"""

from __future__ import annotations

import base64
import csv
import io
import subprocess
import sys
from datetime import date, datetime

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from fieldpeer.agency import review, service
from fieldpeer.agency.exports import PART2_NOTICE
from fieldpeer.agency.tables import Disclosure
from fieldpeer.domain import ConsentKind, ReviewState, SafetyAnswer, WrapSection
from fieldpeer.store import consents, feedback, notes, people, wrap
from fieldpeer.records import Checkin, Consent, Narrative, Person, WrapPlan, WrapPlanSection
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Phone, enrolled_phone

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
        assert kinds == ["CarePlan", "DocumentReference", "Encounter", "Patient", "QuestionnaireResponse"]
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
    from fieldpeer.agency.pages import COOKIE

    supervisor = Supervisor(agency, phone)
    note = notes.save_draft(phone.store, complete_note(phone.person_ids[0], narrative=Narrative(goal="<script>alert(1)</script>", intervention="Talked.", response="Fine.", plan="Later.")))
    note = notes.sign_note(phone.store, note.id)
    phone.client.sync()
    pages = ["/supervisor/queue", "/supervisor/peers", f"/supervisor/peers/{phone.peer_id}"]
    for cookies in ({}, {COOKIE: "made-up"}, {COOKIE: phone.client.token}):  # nobody, a stranger, a peer's device
        for path in pages:
            response = httpx.get(agency.url + path, cookies=cookies, follow_redirects=False)
            assert (response.status_code, response.headers["location"]) == (303, "/supervisor/login"), path
    signed_in = httpx.post(f"{agency.url}/supervisor/login", data={"token": supervisor.token}, follow_redirects=False)
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/supervisor" in cookie
    with httpx.Client(base_url=agency.url, cookies={COOKIE: supervisor.token}) as browser:
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
