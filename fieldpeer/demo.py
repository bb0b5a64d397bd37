"""The demo: an embedded agency server on SQLite and the field app in web mode on localhost.

Everything is fictional and everything is real: a real agency API with its own database and
keys, a device enrolled with a one-time code over HTTP, an encrypted device store, sync.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import uvicorn
from sqlmodel import Session

from fieldpeer import demo_data
from fieldpeer.agency import admin, review, service
from fieldpeer.agency.app import AgencySettings, create_app
from fieldpeer.app import web_app
from fieldpeer.logs import configure_logging
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import SyncClient, enrol_device


@dataclass(frozen=True)
class DemoAgency:
    url: str
    server: uvicorn.Server
    enrol_code: str
    supervisor_token: str
    admin_token: str


def start_agency(data_dir: Path, port: int) -> DemoAgency:
    """Agency server in a background thread, with a fictional peer and caseload, a fresh enrol
    code and the sign-in tokens of a demo supervisor and a demo administrator."""
    settings = AgencySettings(db_url=f"sqlite:///{data_dir / 'agency.db'}", key_dir=data_dir / "agency-keys")
    app = create_app(settings)
    today = date.today()
    with Session(app.state.engine, expire_on_commit=False) as db:
        peer = demo_data.demo_peer()
        service.add_peer(db, peer.name, peer.role, peer.credentials, peer.id)
        db.flush()
        for person in demo_data.demo_caseload(today):
            service.add_person(db, peer.id, person)
        code = service.create_enrol_code(db, peer.id)
        _, supervisor_token = review.add_supervisor(db, "Dana Reyes (fictional)", "LCSW")
        _, admin_token = admin.add_administrator(db, "Sam Okafor (fictional)")
        db.commit()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, name="agency-server", daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("The demo agency server did not start.")
        time.sleep(0.05)
    return DemoAgency(f"http://127.0.0.1:{port}", server, code, supervisor_token, admin_token)


def prepare_device(profile_dir: Path, agency_url: str, code: str) -> None:
    """Enrol the demo phone, receive the caseload, and give it some history and WRAPs."""
    store = enrol_device(Profile(profile_dir), agency_url, code, demo_data.DEMO_PIN, device_name="Demo phone")
    client = SyncClient(store)
    client.sync()
    demo_data.seed_history(store, date.today(), add_people=False)  # the persons came from the agency
    client.sync()
    store.close()


def run_demo(data_dir: Path, port: int = 8550, agency_port: int = 8700) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    configure_logging(data_dir / "logs")
    agency = start_agency(data_dir, agency_port)
    profile_dir = data_dir / "device"
    prepare_device(profile_dir, agency.url, agency.enrol_code)
    print(
        f"\nFieldPeer demo (every person in it is fictional)\n"
        f"  Field app:     http://127.0.0.1:{port}/   (PIN {demo_data.DEMO_PIN})\n"
        f"  Supervisor:    {agency.url}/supervisor   (sign-in token {agency.supervisor_token})\n"
        f"  Administrator: {agency.url}/admin   (sign-in token {agency.admin_token})\n"
        f"  Agency API:    {agency.url}/openapi.json\n"
        f"  Data:          {data_dir}\nPress Ctrl+C to stop.\n",
        flush=True,
    )
    field_app = web_app(profile_dir)
    try:
        uvicorn.run(field_app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        agency.server.should_exit = True
