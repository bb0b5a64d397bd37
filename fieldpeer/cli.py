"""The ``fieldpeer`` command."""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from fieldpeer import demo_data
from fieldpeer.config import crisis_lines
from fieldpeer.domain import ContactMode, ContactSetting, Intervention, SafetyAnswer, Zone
from fieldpeer.logs import configure_logging
from fieldpeer.records import Checkin, ContactNote, Narrative
from fieldpeer.store import notes, people, wrap
from fieldpeer.store.database import database_files
from fieldpeer.store.profile import Profile
from fieldpeer.store.unit_of_work import FieldStore

DEFAULT_DEMO_DATA = Path(".cache/demo")


def _print_caseload(store: FieldStore, today: date) -> None:
    caseload = people.list_caseload(store, today)
    print(f"\nCaseload ({len(caseload.entries)} persons, {caseload.pending_sync} changes waiting to sync)")
    print(f"  {'Name':<14} {'Last contact':<13} Flags")
    for entry in caseload.entries:
        flags = [
            label
            for on, label in (
                (entry.open_safety_alert, "SAFETY ALERT"),
                (entry.no_recent_contact, "no contact in 30 days"),
                (entry.plan_review_due, "plan review due"),
            )
            if on
        ]
        print(f"  {entry.preferred_name:<14} {str(entry.last_contact or 'never'):<13} {', '.join(flags)}")


def demo_walkthrough(profile_dir: Path) -> int:
    """A text-only tour of what a peer's day writes to the encrypted store."""
    if profile_dir.exists():
        shutil.rmtree(profile_dir)
    profile = Profile(profile_dir)
    configure_logging(profile.log_dir)
    today = date.today()
    store = profile.set_up(demo_data.DEMO_PIN, demo_data.demo_peer())
    demo_data.seed_history(store, today, add_people=True)
    store.close()
    print(f"FieldPeer demo profile: {profile_dir} (PIN {demo_data.DEMO_PIN}; every person is fictional)")

    store = profile.unlock(demo_data.DEMO_PIN)
    _print_caseload(store, today)
    first = people.list_caseload(store, today).entries[0]
    now = datetime.now().replace(second=0, microsecond=0)

    phone = notes.log_phone_contact(store, first.person_id, 10, "Quick call: confirmed Thursday's ride to the job fair.", ended_at=now)
    print(f"\nLogged a 10-minute phone contact with {first.preferred_name}: {phone.units} billable unit(s).")

    draft = notes.save_draft(
        store,
        ContactNote(
            person_id=first.person_id,
            starts_at=now - timedelta(minutes=50),
            ends_at=now - timedelta(minutes=5),
            mode=ContactMode.FACE_TO_FACE,
            setting=ContactSetting.COMMUNITY,
            service_code="H0038",
            interventions=[Intervention.SELF_HELP, Intervention.LINKAGE],
            narrative=Narrative(
                goal="Find a part-time job",
                intervention="Met at the coffee shop; reviewed two job listings and practised an interview answer.",
                response="Hopeful, asked to role-play again.",
                plan="Meet Thursday; bring the application.",
            ),
        ),
    )
    signed = notes.sign_note(store, draft.id)
    print(f"Signed a 45-minute face-to-face note: {signed.units} billable unit(s); it is now read-only.")

    checkin, alert = wrap.record_checkin(
        store, Checkin(person_id=first.person_id, zone=Zone.EARLY_WARNING, safety=SafetyAnswer.YES, feeling_today="Not sleeping, feels on edge.")
    )
    print(f"Pre-crisis check-in: zone '{checkin.zone.label}', safety answer '{checkin.safety.label}' -> {checkin.escalation.label}.")
    if alert:
        print("  Crisis resources shown at once:")
        for line in crisis_lines():
            print(f"   - {line.name}: {line.phone} ({line.note})")
        print("  An urgent alert to the supervisor is first in the sync queue.")
    _print_caseload(store, today)

    names = [e.preferred_name.encode() for e in people.list_caseload(store, today).entries]
    store.close()
    hits = sum(path.read_bytes().count(name) for path in database_files(profile.database_path) if path.exists() for name in names)
    print(f"\nPlaintext names found in the database files: {hits}. (Everything sensitive is encrypted.)")
    return 0


def run_sync(profile_dir: Path) -> int:
    from fieldpeer.store.vault import VaultError
    from fieldpeer.sync.client import sync_profile

    pin = os.environ.get("FIELDPEER_PIN") or getpass.getpass("PIN: ")
    configure_logging(profile_dir / "logs")
    try:
        summary = sync_profile(profile_dir, pin)
    except VaultError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"sent {summary.sent}, already on server {summary.already_on_server}, quarantined {summary.quarantined}, "
        f"pending {summary.pending}, pulled {summary.pulled}" + (f"; not finished: {summary.error}" if summary.error else "")
    )
    return 0 if summary.ok else 3


def serve_field_app(profile_dir: Path, port: int) -> int:
    import uvicorn

    from fieldpeer.app import web_app

    profile_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(profile_dir / "logs")
    print(f"FieldPeer field app: http://127.0.0.1:{port}/  (profile {profile_dir})", flush=True)
    uvicorn.run(web_app(profile_dir), host="127.0.0.1", port=port, log_level="warning")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldpeer", description="FieldPeer: the field tool for peer support workers.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo: embedded agency server + the field app in your browser (fictional data)")
    demo.add_argument("--data", type=Path, default=DEFAULT_DEMO_DATA, help="demo data folder (recreated each run)")
    demo.add_argument("--port", type=int, default=8550, help="port of the field app (web)")
    demo.add_argument("--agency-port", type=int, default=8700, help="port of the embedded agency server")
    web = commands.add_parser("web", help="serve the field app for one device profile in your browser (first run enrols it)")
    web.add_argument("--profile", type=Path, required=True, help="the device profile folder")
    web.add_argument("--port", type=int, default=8550)
    walk = commands.add_parser("walkthrough", help="a text-only tour of the encrypted store (no browser, no server)")
    walk.add_argument("--profile", type=Path, default=DEFAULT_DEMO_DATA / "walkthrough", help="profile folder (recreated each run)")
    sync = commands.add_parser("sync", help="run one sync of a device profile (PIN from $FIELDPEER_PIN or a prompt)")
    sync.add_argument("--profile", type=Path, required=True, help="the device profile folder")
    commands.add_parser("agency", help="the agency server and its admin commands (fieldpeer agency --help)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["agency"]:
        from fieldpeer.agency.cli import main as agency_main  # server-only packages load here, never on a phone

        return agency_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fieldpeer.demo import run_demo  # the embedded agency server needs the server extra

        run_demo(args.data, port=args.port, agency_port=args.agency_port)
        return 0
    if args.command == "web":
        return serve_field_app(args.profile, args.port)
    if args.command == "walkthrough":
        return demo_walkthrough(args.profile)
    if args.command == "sync":
        return run_sync(args.profile)
    return 2


if __name__ == "__main__":
    sys.exit(main())
