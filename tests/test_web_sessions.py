"""Signing in to the supervisor and administrator pages: a server-side session behind a random
cookie (never the token), idle and absolute timeouts, sign-out on the server, tokens that expire
and rotate, and a CSRF token on every form. Real agency server (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import httpx
from sqlmodel import select

from fieldpeer.agency import admin, review
from fieldpeer.agency.admin_pages import COOKIE as ADMIN_COOKIE
from fieldpeer.agency.pages import COOKIE
from fieldpeer.agency.service import token_hash
from fieldpeer.agency.tables import AccessEvent, Supervisor, WebSession
from fieldpeer.records import utc_now
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin
from tests.web_client import PageClient


def a_supervisor(agency: AgencyProcess) -> tuple[Admin, str, str]:
    helper = Admin(agency.db_url)
    with helper.session() as db:
        account, token = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.commit()
    return helper, account.id, token


def signed_in(client: PageClient) -> bool:
    return client.get("/supervisor/queue", follow_redirects=False).status_code == 200


def test_signing_in_makes_a_server_side_session_and_signing_out_ends_it(agency: AgencyProcess) -> None:
    helper, supervisor_id, token = a_supervisor(agency)
    with PageClient(agency.url) as browser:
        browser.sign_in("/supervisor", token)
        session_id = browser.cookies[COOKIE]
        assert session_id != token and signed_in(browser)
        with helper.session() as db:
            (row,) = db.exec(select(WebSession)).all()
            assert (row.kind, row.account_id, row.id_hash) == ("supervisor", supervisor_id, token_hash(session_id))  # hashed at rest
            assert row.expires_at - row.created_at == timedelta(hours=8)
        out = browser.post("/supervisor/logout", follow_redirects=False)
        assert out.headers["location"] == "/supervisor/login"
    with PageClient(agency.url, cookies={COOKIE: session_id}) as copied:  # the cookie kept from before sign-out
        assert not signed_in(copied)
    with helper.session() as db:
        assert db.exec(select(WebSession)).all() == []


def test_a_session_ends_when_idle_or_too_old(agency: AgencyProcess) -> None:
    helper, _, token = a_supervisor(agency)
    with PageClient(agency.url) as idle, PageClient(agency.url) as old:
        idle.sign_in("/supervisor", token)
        old.sign_in("/supervisor", token)
        with helper.session() as db:
            by_cookie = {row.id_hash: row for row in db.exec(select(WebSession)).all()}
            idle_row, old_row = by_cookie[token_hash(idle.cookies[COOKIE])], by_cookie[token_hash(old.cookies[COOKIE])]
            idle_row.last_seen_at = utc_now() - timedelta(minutes=31)
            old_row.expires_at = utc_now() - timedelta(seconds=1)  # busy all along, but past its absolute end
            db.add_all([idle_row, old_row])
            db.commit()
        assert not signed_in(idle) and not signed_in(old)
        idle.sign_in("/supervisor", token)  # the token still signs in: only the session ended
        assert signed_in(idle)


def test_tokens_expire_and_rotate(agency: AgencyProcess) -> None:
    helper, supervisor_id, token = a_supervisor(agency)
    with PageClient(agency.url) as browser:
        browser.sign_in("/supervisor", token)
        assert signed_in(browser)
        rotated = subprocess.run(
            [sys.executable, "-m", "fieldpeer.cli", "agency", "--db", agency.db_url, "rotate-token", "--kind", "supervisor", supervisor_id],
            capture_output=True, text=True, timeout=60, check=True,
        )
        new_token = rotated.stdout.strip()
        assert new_token and new_token != token
        assert not signed_in(browser)  # the browser signed in with the old token signs in again
        assert browser.sign_in("/supervisor", token).headers["location"] == "/supervisor/login?error=1"
        assert browser.sign_in("/supervisor", new_token).headers["location"] == "/supervisor/queue" and signed_in(browser)
    with helper.session() as db:  # an account never rotated: its first token counts from its creation (180 days)
        old, old_token = review.add_supervisor(db, "Sam Old", "LMSW")
        old.created_at = utc_now() - timedelta(days=181)
        db.add(old)
        db.commit()
        assert db.get(Supervisor, old.id) is not None
    with PageClient(agency.url) as browser:
        assert browser.sign_in("/supervisor", old_token).headers["location"] == "/supervisor/login?error=1"
    expired_api = httpx.get(f"{agency.url}/api/v1/review/queue", headers={"Authorization": f"Bearer {old_token}"})
    assert expired_api.status_code == 401 and "expired" in expired_api.json()["message"]  # the API refuses it too
    assert httpx.get(f"{agency.url}/api/v1/review/queue", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    with helper.session() as db:
        assert any(e.detail == f"credential_expired:{old.id}" for e in db.exec(select(AccessEvent)).all())


def test_administrators_use_the_same_sessions_and_rotation(agency: AgencyProcess) -> None:
    helper = Admin(agency.db_url)
    with helper.session() as db:
        account, token = admin.add_administrator(db, "Morgan Lee")
        db.commit()
    with PageClient(agency.url) as browser:
        browser.sign_in("/admin", token)
        assert browser.cookies[ADMIN_COOKIE] != token and browser.get("/admin/peers").status_code == 200
        rotated = subprocess.run(
            [sys.executable, "-m", "fieldpeer.cli", "agency", "--db", agency.db_url, "rotate-token", "--kind", "admin", account.id],
            capture_output=True, text=True, timeout=60, check=True,
        )
        assert browser.get("/admin/peers", follow_redirects=False).headers["location"] == "/admin/login"
        assert browser.sign_in("/admin", rotated.stdout.strip()).headers["location"] == "/admin/peers"


def test_every_post_needs_the_forms_csrf_token_and_this_sites_origin(agency: AgencyProcess) -> None:
    helper, _, token = a_supervisor(agency)
    with PageClient(agency.url) as browser, PageClient(agency.url) as other:
        browser.sign_in("/supervisor", token)
        other.sign_in("/supervisor", token)
        queue = browser.get("/supervisor/queue").text
        assert f'name="csrf" value="{browser.csrf}"' in queue and browser.csrf != other.csrf
        refusals = {
            "no token": browser.post("/supervisor/logout", data={"csrf": ""}),
            "another session's token": browser.post("/supervisor/logout", data={"csrf": other.csrf}),
            "no Origin": httpx.post(f"{agency.url}/supervisor/logout", data={"csrf": browser.csrf}, cookies={COOKIE: browser.cookies[COOKIE]}),
            "another site": browser.post("/supervisor/logout", headers={"Origin": "https://evil.example"}),
        }
        for case, response in refusals.items():
            assert "Not allowed" in response.text, case
        assert signed_in(browser)  # none of them signed it out
        # The sign-in form has its own token, bound to a pre-sign-in cookie.
        forged = httpx.post(f"{agency.url}/supervisor/login", data={"token": token}, headers={"Origin": agency.url}, follow_redirects=False)
        assert forged.status_code == 200 and "Not allowed" in forged.text and COOKIE not in forged.headers.get("set-cookie", "")
    with helper.session() as db:
        assert len(db.exec(select(WebSession)).all()) == 2
