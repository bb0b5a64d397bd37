"""The administrator (issue #13): matching rules (pure), admission with criteria A-G and the
exclusion check, reassigning and deactivating against a real agency server and real phones,
the /admin pages' sign-in and what they never show, and team scoping of supervisors."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency import admin, matching, review, service
from fieldpeer.agency.admin_pages import COOKIE
from fieldpeer.agency.matching import Candidate, Wish, rank_peers
from fieldpeer.agency.tables import Administrator, FeedEntry, PeerStanding
from fieldpeer.domain import PeerRole, ServiceCriterion
from fieldpeer.records import Narrative
from fieldpeer.store import notes, people
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, SyncError, enrol_device
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled_phone, no_sleep
from tests.web_client import PageClient

PSS, PSP, COACH = PeerRole.PEER_SUPPORT_SPECIALIST, PeerRole.PARENT_SUPPORT_PARTNER, PeerRole.RECOVERY_COACH


# --- Matching: pure ------------------------------------------------------------------------------


def names(suggestions: list[matching.Suggestion]) -> list[str]:
    return [s.name for s in suggestions]


def test_the_wished_role_track_comes_first_then_shared_experience_then_the_smaller_caseload() -> None:
    peers = [
        Candidate("1", "Ana", PSS, frozenset({"recovery_alcohol", "veteran"}), caseload=3),
        Candidate("2", "Bo", COACH, frozenset(), caseload=1),
        Candidate("3", "Cy", COACH, frozenset({"recovery_alcohol"}), caseload=12),
        Candidate("4", "Di", COACH, frozenset({"recovery_alcohol", "veteran"}), caseload=20),
        Candidate("5", "Ed", COACH, frozenset({"veteran"}), caseload=4),
    ]
    ranked = rank_peers(Wish(COACH, frozenset({"recovery_alcohol", "veteran"})), peers)
    # Ana shares the most but is not a Recovery Coach; Cy and Ed share one each: the smaller caseload first.
    assert names(ranked) == ["Di", "Ed", "Cy", "Bo", "Ana"]
    assert ranked[0].shared == ("recovery_alcohol", "veteran") and ranked[0].role_fits
    assert ranked[0].reason == "Recovery Coach; shares: Recovery from alcohol use, Veteran; 20 on caseload"
    assert not ranked[-1].role_fits and "not the role asked for" in ranked[-1].reason


def test_no_wish_ranks_by_caseload_and_full_or_deactivated_peers_are_not_first() -> None:
    peers = [
        Candidate("1", "Ana", PSS, frozenset({"lgbtq"}), caseload=30),
        Candidate("2", "Bo", PSP, frozenset(), caseload=9),
        Candidate("3", "Cy", COACH, frozenset({"lgbtq"}), caseload=2, active=False),
        Candidate("4", "Di", PSS, frozenset(), caseload=5),
    ]
    assert names(rank_peers(Wish(None, frozenset()), peers)) == ["Di", "Bo", "Ana"]
    ranked = rank_peers(Wish(None, frozenset({"lgbtq"})), peers)
    assert names(ranked) == ["Di", "Bo", "Ana"]  # Ana shares it, but her caseload is full
    assert ranked[-1].full and ranked[-1].reason.endswith("30 on caseload (full)")


def test_only_the_agencys_own_tags_are_kept_and_none_is_clinical() -> None:
    assert matching.known_tags(["veteran", "made-up", "lgbtq"]) == ["veteran", "lgbtq"]  # the list's order
    assert matching.known_tags("veteran") == []
    words = " ".join(f"{t.code} {t.label}".lower() for t in matching.experience_tags())
    assert not re.search(r"diagnos|disorder|schizo|bipolar|depress|icd|dsm", words)


def intake(**changes: object) -> admin.Intake:
    values: dict[str, object] = dict(preferred_name="Quinn", criterion=ServiceCriterion.C, exclusions=frozenset(), wish=Wish(None, frozenset()))
    return admin.Intake(**(values | changes))  # type: ignore[arg-type]


def test_admission_needs_a_criterion_and_no_exclusion() -> None:
    assert admin.admission_problems(intake()) == []
    assert admin.admission_problems(intake(criterion=None)) == ["Choose the service criterion (A-G) the person meets."]
    for excluded in admin.ExclusionCriterion:
        (problem,) = admin.admission_problems(intake(exclusions=frozenset({excluded})))
        assert "not the right level of care" in problem
    assert len(admin.admission_problems(intake(preferred_name=" ", criterion=None))) == 2


def test_the_enrolment_qr_code_holds_the_address_and_the_code() -> None:
    link = admin.enrolment_link("https://agency.example.org/", "ABCD-EFGH-JKMN")
    assert link == "fieldpeer://enrol?server=https%3A%2F%2Fagency.example.org&code=ABCD-EFGH-JKMN"
    svg = admin.qr_svg(link)
    assert svg.startswith("<svg") and "<path" in svg and "script" not in svg
    assert "ABCD" not in svg  # drawn, not written: the code is not in the markup as text


# --- Against a real agency server and real phones ----------------------------------------------------


def an_admin(helper: Admin) -> Administrator:
    with helper.session() as db:
        account, _ = admin.add_administrator(db, "Morgan Lee", "MBA")
        db.commit()
    return account


def test_reassigning_moves_the_person_to_the_new_peers_phone(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    quinn, rowan = phone.person_ids
    who = an_admin(phone.admin)
    with phone.admin.session() as db:
        kim = admin.add_peer(db, who, "Kim Ortiz", COACH, "CPRC", experience=["recovery_alcohol", "veteran", "not-a-tag"])
        db.flush()
        enrolment = admin.start_enrolment(db, who, kim.id, agency.url)
        db.commit()
        assert db.get(PeerStanding, kim.id).experience == '["recovery_alcohol", "veteran"]'  # type: ignore[union-attr]
    kims = Profile(tmp_path / "kim", cost=TEST_COST)
    kims_store = enrol_device(kims, agency.url, enrolment.code, PIN, device_name="kim")
    kims_client = SyncClient(kims_store, sleep=no_sleep)
    assert kims_client.sync().pulled == 0

    with phone.admin.session() as db:
        moved = admin.reassign_person(db, who, quinn, kim.id)
        db.commit()
    assert moved.version == 2 and moved.preferred_name == "Quinn"
    assert kims_client.sync().pulled == 1
    assert [e.preferred_name for e in people.list_caseload(kims_store, date(2026, 11, 25)).entries] == ["Quinn"]
    with phone.admin.session() as db:  # an edit reaches the assigned peer's phone as a newer version
        admin.edit_person(db, who, quinn, preferred_name="Quinn R.", criterion=ServiceCriterion.G, phone="", wish=Wish(COACH, frozenset({"veteran"})))
        db.commit()
        assert admin.person(db, quinn).wish == Wish(COACH, frozenset({"veteran"}))
    assert kims_client.sync().pulled == 1
    assert people.get_person(kims_store, quinn).preferred_name == "Quinn R." and people.get_person(kims_store, quinn).version == 3
    # The old peer's feed says to drop Quinn (the field app does not act on it yet: see admin.reassign_person).
    with phone.admin.session() as db:
        told = db.exec(select(FeedEntry).where(FeedEntry.peer_id == phone.peer_id, FeedEntry.record_type == "deletion")).all()
        assert [(t.record_id, '"deleted_type":"person"' in t.payload) for t in told] == [(quinn, True)]
    # Pat can still write about Rowan; a call about Quinn logged now is refused as another peer's caseload.
    notes.log_phone_contact(phone.store, rowan, 10, "Call about the bus pass.", ended_at=datetime(2026, 11, 25, 9))
    notes.log_phone_contact(phone.store, quinn, 10, "Call after the move.", ended_at=datetime(2026, 11, 25, 10))
    summary = phone.client.sync()
    assert (summary.sent, summary.quarantined) == (1, 1)
    kims_store.close()


def test_deactivating_a_peer_revokes_their_devices_moves_their_caseload_and_voids_their_codes(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    who = an_admin(phone.admin)
    with phone.admin.session() as db:
        kim = admin.add_peer(db, who, "Kim Ortiz", PSS, "CPSS")
        db.flush()
        unused = service.create_enrol_code(db, phone.peer_id)
        db.commit()
        with pytest.raises(service.Refused, match="takes over this caseload"):
            admin.deactivate_peer(db, who, phone.peer_id, None)
        result = admin.deactivate_peer(db, who, phone.peer_id, kim.id)
        db.commit()
    assert (result.devices_revoked, result.persons_moved) == (1, 2)
    summary = phone.client.sync()
    assert not summary.ok and "no longer enrolled" in summary.error
    assert not phone.profile.is_set_up and not phone.profile.database_path.exists()  # wiped
    with pytest.raises(SyncError, match="not valid"):
        enrol_device(Profile(tmp_path / "again", cost=TEST_COST), agency.url, unused, PIN)
    with phone.admin.session() as db:
        assert {e.person.id for e in admin.persons(db) if e.peer and e.peer.id == kim.id} == set(phone.person_ids)
        with pytest.raises(service.Refused, match="deactivated"):
            admin.start_enrolment(db, who, phone.peer_id, agency.url)
        with pytest.raises(service.Refused, match="deactivated"):
            admin.reassign_person(db, who, phone.person_ids[0], phone.peer_id)


# --- The pages: sign-in, what they never show, team scoping --------------------------------------------


@pytest.fixture
def web(agency: AgencyProcess) -> Iterator[tuple[httpx.Client, Admin]]:
    helper = Admin(agency.db_url)
    with helper.session() as db:
        _, token = admin.add_administrator(db, "Morgan Lee")
        db.commit()
    with PageClient(agency.url) as client:
        assert client.get("/admin/peers").headers["location"] == "/admin/login"
        assert client.sign_in("/admin", "wrong").headers["location"] == "/admin/login?error=1"
        cookie = client.sign_in("/admin", token).headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie and token not in cookie
        yield client, helper


def test_pages_refuse_other_sites_and_supervisors_tokens(agency: AgencyProcess, web: tuple[httpx.Client, Admin]) -> None:
    client, helper = web
    response = client.post("/admin/peers", data={"name": "Forged", "role": "recovery_coach"}, headers={"Origin": "https://evil.example"})
    assert "another site" in response.text
    with helper.session() as db:
        _, supervisor_token = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.commit()
        assert admin.peers(db) == []
    with PageClient(agency.url) as stranger:
        assert stranger.sign_in("/admin", supervisor_token).headers["location"] == "/admin/login?error=1"


def test_an_administrator_sees_the_program_but_never_a_notes_words(agency: AgencyProcess, tmp_path: Path, web: tuple[httpx.Client, Admin]) -> None:
    client, _ = web
    phone = enrolled_phone(agency, tmp_path, ("Quinn",))
    words = Narrative(goal="Zanzibar lease", intervention="Marmalade budget", response="Quokka calm", plan="Xylophone Friday")
    notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(phone.person_ids[0], narrative=words)).id)
    assert phone.client.sync().sent == 1
    pages = [client.get(p) for p in ("/admin/peers", f"/admin/peers/{phone.peer_id}", "/admin/persons", f"/admin/persons/{phone.person_ids[0]}", "/admin/teams")]
    assert all(p.status_code == 200 for p in pages)
    assert "Quinn" in pages[2].text and "Pat" in pages[0].text
    for p in pages:
        assert not re.search("Zanzibar|Marmalade|Quokka|Xylophone", p.text)
        assert p.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in p.headers["content-security-policy"]


def test_admitting_through_the_pages_checks_exclusions_and_assigns_the_chosen_peer(web: tuple[httpx.Client, Admin]) -> None:
    client, helper = web
    client.post("/admin/peers", data={"name": "Kim Ortiz", "role": "recovery_coach", "credentials": "CPRC", "experience": ["veteran", "recovery_alcohol"]})
    client.post("/admin/peers", data={"name": "Lou Park", "role": "peer_support_specialist", "credentials": "CPSS"})
    person = {"name": "Quinn <b>", "criterion": "C", "wished_role": "recovery_coach", "wished_experience": ["veteran"]}
    refused = client.post("/admin/persons/match", data=person | {"exclusion": "risk_or_intensive"})
    assert "not the right level of care" in refused.text and "Assign to" not in refused.text
    suggested = client.post("/admin/persons/match", data=person)
    assert suggested.text.index("Assign to Kim Ortiz") < suggested.text.index("Assign to Lou Park")
    assert "Quinn &lt;b&gt;" in suggested.text and "shares: Veteran" in suggested.text  # escaped
    with helper.session() as db:
        kim = next(e.peer for e in admin.peers(db) if e.peer.name == "Kim Ortiz")
    done = client.post("/admin/persons", data=person | {"peer": kim.id}, follow_redirects=True)
    assert "Person admitted and assigned" in done.text
    with helper.session() as db:
        (entry,) = admin.persons(db)
        assert entry.peer and entry.peer.id == kim.id and entry.person.service_criterion is ServiceCriterion.C
        assert entry.wish == Wish(COACH, frozenset({"veteran"}))


def test_a_supervisor_who_leads_a_team_sees_only_its_peers(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn",))
    notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(phone.person_ids[0])).id)
    assert phone.client.sync().sent == 1
    who = an_admin(phone.admin)
    with phone.admin.session() as db:
        north, south = admin.add_team(db, who, "North"), admin.add_team(db, who, "South")
        db.flush()
        kim = admin.add_peer(db, who, "Kim Ortiz", PSS, team_id=south.id)
        lead, _ = review.add_supervisor(db, "Dana Reyes", "LCSW")
        everyone, _ = review.add_supervisor(db, "Eli Chen", "LPC")
        db.flush()
        admin.set_supervisor_teams(db, who, lead.id, [north.id])
        db.commit()
        assert len(review.queue(db, everyone).notes) == 1 and len(review.visible_peers(db, everyone)) == 2
        assert review.queue(db, lead).notes == [] and review.visible_peers(db, lead) == []
        admin.edit_peer(db, who, phone.peer_id, name="Pat", credentials="CPSS", role=PSS, team_id=north.id, experience=[])
        db.commit()
        assert len(review.queue(db, lead).notes) == 1 and [p.name for p in review.visible_peers(db, lead)] == ["Pat"]
        assert kim.id not in (review.visible_peer_ids(db, lead) or set())
        (note,) = review.queue(db, everyone).notes
        admin.edit_peer(db, who, phone.peer_id, name="Pat", credentials="CPSS", role=PSS, team_id=south.id, experience=[])
        db.commit()
        with pytest.raises(service.Refused, match="among your teams' peers"):
            review.cosign(db, lead, note.note_id)  # by id, from outside the team: refused as well
        assert review.cosign(db, everyone, note.note_id).state == "cosigned"


def test_no_agency_table_has_a_diagnosis_field() -> None:
    from fieldpeer.agency import tables

    fields = [f for obj in vars(tables).values() for f in (getattr(obj, "model_fields", {}) or {})]
    assert "experience" in fields and "wished_experience" in fields
    assert not [f for f in fields if "diagnos" in f.lower() or "icd" in f.lower()]


def test_the_add_admin_command_prints_a_token_that_signs_in(agency: AgencyProcess) -> None:
    made = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "agency", "--db", agency.db_url, "add-admin", "--name", "Morgan Lee"], capture_output=True, text=True, check=True)
    account_id, token = made.stdout.split()
    with PageClient(agency.url) as client:
        assert client.sign_in("/admin", token).headers["location"] == "/admin/peers"
        assert "Sign out Morgan Lee" in client.get("/admin/peers").text
    with Admin(agency.db_url).session() as db:
        assert db.get(Administrator, account_id) is not None
