"""`fieldpeer agency serve --workers N`: several worker processes over one PostgreSQL database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import httpx

from fieldpeer.agency.settings import AgencySettings
from fieldpeer.store import notes
from fieldpeer.sync.client import SyncClient, SyncSummary
from tests.conftest import complete_note
from tests.servers import ROOT, AgencyProcess, PostgresServer
from tests.test_hostile_input import raw_exchange
from tests.test_sync_integration import Admin, enrolled, no_sleep


def worker_pids(server_pid: int) -> list[int]:
    """uvicorn's worker processes: children of the server started by multiprocessing's spawn."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line.split()[1] for line in status.read_text().splitlines() if line.startswith("PPid:"))
            cmdline = (status.parent / "cmdline").read_bytes()
        except (OSError, StopIteration):
            continue
        if int(ppid) == server_pid and b"spawn_main" in cmdline:
            found.append(int(status.parent.name))
    return found


def test_two_workers_on_postgresql_take_pushes_from_two_devices(postgres: PostgresServer, tmp_path: Path) -> None:
    agency = AgencyProcess(postgres.fresh_database("agency_workers"), tmp_path / "agency-keys", tmp_path / "agency.log", options=("--workers", "2"))
    agency.start()
    try:
        assert agency.process is not None
        workers = worker_pids(agency.process.pid)
        assert len(workers) == 2
        admin = Admin(agency.db_url)
        phones = []
        for name in ("one", "two"):
            peer_id, person_ids, code = admin.peer_with_caseload(f"Peer {name}", ["Quinn"])
            _, store = enrolled(agency, tmp_path, code, name=name)
            client = SyncClient(store, sleep=no_sleep)
            assert client.sync().pulled == 1
            for hour in range(9, 15):  # six signed notes each
                draft = notes.save_draft(store, complete_note(person_ids[0], start=datetime(2026, 11, 24, hour, 0), minutes=30))
                notes.sign_note(store, draft.id)
            phones.append((peer_id, store, client))

        summaries: list[SyncSummary] = []
        pushes = [threading.Thread(target=lambda c=client: summaries.append(c.sync())) for _, _, client in phones]
        for push in pushes:
            push.start()
        for push in pushes:
            push.join(timeout=120)

        assert len(summaries) == 2 and all(s.ok and s.sent == 6 and s.pending == 0 for s in summaries)
        for peer_id, store, _ in phones:
            assert sorted(r.record_type for r in admin.received(peer_id=peer_id)) == ["contact_note"] * 6
            store.close()
        # The header limits hold in the workers too: an oversized head is refused before the app runs.
        answer = raw_exchange(agency, b"GET /api/v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 ") and json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "headers_too_large"
        assert httpx.get(f"{agency.url}/api/v1/health").status_code == 200
    finally:
        agency.stop()
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # stopping the server stops its workers


def test_more_than_one_worker_on_sqlite_is_refused_with_the_reason(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "fieldpeer.cli", "agency", "--db", f"sqlite:///{tmp_path / 'agency.db'}", "serve", "--workers", "2", "--keys", str(tmp_path / "keys")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert run.returncode == 2
    assert "needs PostgreSQL" in run.stderr


def test_settings_reach_a_worker_through_its_environment(tmp_path: Path) -> None:
    settings = AgencySettings(db_url="postgresql+psycopg://u@h:1/db", key_dir=tmp_path / "keys", token_idle_days=7.5, parse_workers=3, refusal_log_seconds=5.0)
    assert AgencySettings.from_env(settings.as_env()) == settings
    assert AgencySettings.from_env({}) == AgencySettings()
