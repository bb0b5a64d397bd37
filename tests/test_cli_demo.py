"""The text walkthrough runs start to finish on a fictional caseload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.web_client import PageClient


def test_text_walkthrough(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fieldpeer.cli", "walkthrough", "--profile", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Caseload (20 persons" in out
    assert "Crisis resources shown at once" in out and "988" in out
    assert "SAFETY ALERT" in out
    assert "Plaintext names found in the database files: 0." in out
    assert (tmp_path / "demo" / "vault.json").exists()


def agency_command(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fieldpeer.cli", "agency", "--db", f"sqlite:///{db}", *args], capture_output=True, text=True, timeout=120)


def test_enrol_code_is_the_command_and_the_old_spelling_still_works(tmp_path: Path) -> None:
    db = tmp_path / "agency.db"
    peer = agency_command(db, "add-peer", "--name", "Riley", "--role", "recovery_coach").stdout.strip()
    codes = [agency_command(db, name, peer) for name in ("enrol-code", "enroll-code")]
    assert all(c.returncode == 0 and len(c.stdout.strip()) >= 8 for c in codes), [c.stderr for c in codes]
    assert codes[0].stdout != codes[1].stdout  # two one-time codes
    shown = agency_command(db, "--help").stdout
    assert "enrol-code" in shown and "enroll-code" not in shown
    assert agency_command(db, "enrol-code", "no-such-peer").returncode == 1


@pytest.mark.slow
def test_demo_command_serves_the_field_app_with_an_enrolled_demo_caseload(tmp_path: Path) -> None:
    """The README's main command: embedded agency + field app in web mode, fictional caseload."""
    from tests.browser import ARTIFACTS, phone_browser
    from tests.servers import free_port

    port, agency_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "fieldpeer.cli", "demo", "--data", str(tmp_path / "demo"), "--port", str(port), "--agency-port", str(agency_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = ""
        assert demo.stdout is not None
        while "Press Ctrl+C" not in banner:
            line = demo.stdout.readline()
            assert line, f"demo exited early: {banner}"
            banner += line
        assert f"http://127.0.0.1:{port}/" in banner and "PIN 246810" in banner
        assert httpx.get(f"http://127.0.0.1:{agency_port}/api/v1/health", timeout=5).status_code == 200
        token = banner.split("sign-in token ")[1].split(")")[0]
        with PageClient(f"http://127.0.0.1:{agency_port}", timeout=5) as supervisor:
            supervisor.sign_in("/supervisor", token)
            queue = supervisor.get("/supervisor/queue")
        assert queue.status_code == 200 and "Notes awaiting review (" in queue.text and "Notes awaiting review (0)" not in queue.text
        with phone_browser(ARTIFACTS) as app:
            app.open(f"http://127.0.0.1:{port}/")
            app.fill("PIN", "246810")
            app.tap("unlock")
            app.wait_id("person-person-demo-0001")
            app.shot("demo-caseload")
            rows = app.page.locator('[flt-semantics-identifier^="person-"]').count()
            assert rows >= 10  # the first screenful of the 20 fictional persons
            names = {c["id"]: c["name"] for c in app.controls()}
            assert names.get("sync-badge") == "Sync: all sent"  # the demo device was enrolled and synced
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=10)
