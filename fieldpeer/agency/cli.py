"""``fieldpeer agency ...``: run the server and administer peers, persons and devices."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from fieldpeer.agency import admin, review, service
from fieldpeer.agency import settings as agency_settings
from fieldpeer.agency.database import current_revision, migrate_agency, open_agency_engine
from fieldpeer.agency.serving import ServeRefused, serve
from fieldpeer.agency.settings import SettingsError
from fieldpeer.agency.tables import Administrator, Device, Supervisor
from fieldpeer.agency.web_sessions import rotate_token
from fieldpeer.domain import PeerRole
from fieldpeer.records import Person

DEFAULT_DB = os.environ.get("FIELDPEER_AGENCY_DB", "sqlite:///agency-data/agency.db")
DEFAULT_KEYS = Path(os.environ.get("FIELDPEER_AGENCY_KEYS", "agency-data/keys"))


def _session(url: str) -> Session:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = open_agency_engine(url)
    migrate_agency(engine)
    return Session(engine, expire_on_commit=False)


OLD_NAMES = {"enroll-code": "enrol-code"}  # still accepted so old scripts work; not in --help


def renamed(argv: list[str]) -> list[str]:
    """The command word under its current name (only the command word: a peer id is left alone)."""
    argv = list(argv)
    at = 0
    while at < len(argv) and argv[at].startswith("-"):
        at += 1 if "=" in argv[at] or argv[at] in ("-h", "--help") else 2  # --db URL
    if at < len(argv):
        argv[at] = OLD_NAMES.get(argv[at], argv[at])
    return argv


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fieldpeer agency", description="The FieldPeer agency server and its admin commands.")
    parser.add_argument("--db", default=DEFAULT_DB, help="database URL: sqlite:///path or postgresql+psycopg://... (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the HTTP API")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8700)
    serve_cmd.add_argument("--workers", type=int, default=1, help="worker processes (more than 1 needs PostgreSQL) (default: %(default)s)")
    serve_cmd.add_argument("--keys", type=Path, default=DEFAULT_KEYS, help="folder for the agency key pair (outside the database)")
    # Flags left out come from the settings (FIELDPEER_AGENCY_SETTING_<NAME>, agency/settings.py), else their defaults.
    serve_cmd.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate chain (PEM); phones refuse plain HTTP off this machine (default: FIELDPEER_AGENCY_SETTING_TLS_CERT)")
    serve_cmd.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM) (default: FIELDPEER_AGENCY_SETTING_TLS_KEY)")
    serve_cmd.add_argument(
        "--refusal-log-seconds", type=float, default=None,
        help=f"unknown callers' refusals: one access-log row per action and kind in this window, then a count (default: {agency_settings.default('refusal_log_seconds')})",
    )
    serve_cmd.add_argument("--token-idle-days", type=float, default=None, help=f"a device that has not synced for this long must enrol again (default: {agency_settings.default('token_idle_days')})")

    add_peer = commands.add_parser("add-peer", help="add a peer worker; prints their id")
    add_peer.add_argument("--name", required=True)
    add_peer.add_argument("--role", required=True, choices=[r.value for r in PeerRole])
    add_peer.add_argument("--credentials", default="")
    add_peer.add_argument("--id", default=None)

    add_person = commands.add_parser("add-person", help="add a person served to a peer's caseload; prints their id")
    add_person.add_argument("--peer", required=True)
    add_person.add_argument("--name", required=True, help="preferred name")
    add_person.add_argument("--part2", action="store_true", help="records are protected by 42 CFR Part 2")

    code = commands.add_parser("enrol-code", help="one-time code to enrol a peer's device")
    code.add_argument("peer")
    code.add_argument("--hours", type=float, default=24.0, help="how long the code is valid")

    supervisor = commands.add_parser("add-supervisor", help="a supervisor account; prints its id and its token (shown once)")
    supervisor.add_argument("--name", required=True)
    supervisor.add_argument("--credentials", default="", help="e.g. LCSW: printed beside co-signatures")

    administrator = commands.add_parser("add-admin", help="an administrator account (the /admin pages); prints its id and its token (shown once)")
    administrator.add_argument("--name", required=True)
    administrator.add_argument("--credentials", default="")

    rotate = commands.add_parser("rotate-token", help="a new sign-in token for a supervisor or administrator (printed once); the old one is refused and their browsers sign in again")
    rotate.add_argument("--kind", required=True, choices=["supervisor", "admin"])
    rotate.add_argument("account")
    rotate.add_argument("--days", type=float, default=None, help=f"how long the new token signs in (default: {agency_settings.default('credential_days')})")

    revoke_supervisor = commands.add_parser("revoke-supervisor", help="close a supervisor account")
    revoke_supervisor.add_argument("supervisor")

    revoke = commands.add_parser("revoke-device", help="refuse a device from now on (it wipes itself at next sync)")
    revoke.add_argument("device")

    commands.add_parser("list-devices", help="enrolled devices and their state")
    commands.add_parser("migrate", help="upgrade the database to this release's schema (serve does it too); prints the revision")

    args = parser.parse_args(renamed(argv))
    if args.command == "serve":
        if args.db.startswith("sqlite:///"):
            Path(args.db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if bool(args.tls_cert) != bool(args.tls_key):
            parser.error("--tls-cert and --tls-key go together")
        flags = {"tls_cert": args.tls_cert, "tls_key": args.tls_key, "token_idle_days": args.token_idle_days, "refusal_log_seconds": args.refusal_log_seconds}
        try:
            # Every other setting from its FIELDPEER_AGENCY_SETTING_* variable (settings.py), else its default.
            settings = agency_settings.load(db_url=args.db, key_dir=args.keys, **{name: value for name, value in flags.items() if value is not None})
        except SettingsError as exc:
            parser.error(str(exc))
        scheme = "https" if settings.tls else "http"
        workers = f", {args.workers} workers" if args.workers > 1 else ""
        try:
            print(f"FieldPeer agency server on {scheme}://{args.host}:{args.port} (database: {args.db.split('@')[-1]}{workers})", flush=True)
            serve(settings, host=args.host, port=args.port, workers=args.workers, tls=settings.tls)
        except ServeRefused as exc:
            parser.error(str(exc))
        return 0

    if args.command == "migrate":
        _session(args.db).close()  # creates the folder and upgrades, as every command does
        print(f"Database at revision {current_revision(open_agency_engine(args.db))}.")
        return 0

    with _session(args.db) as db:
        try:
            if args.command == "add-peer":
                print(service.add_peer(db, args.name, PeerRole(args.role), args.credentials, args.id).id)
            elif args.command == "add-person":
                print(service.add_person(db, args.peer, Person(preferred_name=args.name, part2=args.part2)).id)
            elif args.command == "enrol-code":
                print(service.create_enrol_code(db, args.peer, timedelta(hours=args.hours)))
            elif args.command == "add-supervisor":
                account, token = review.add_supervisor(db, args.name, args.credentials)
                print(f"{account.id} {token}")
            elif args.command == "add-admin":
                new_admin, token = admin.add_administrator(db, args.name, args.credentials)
                print(f"{new_admin.id} {token}")
            elif args.command == "rotate-token":
                holder: Supervisor | Administrator | None = db.get(Supervisor, args.account) if args.kind == "supervisor" else db.get(Administrator, args.account)
                if holder is None:
                    raise LookupError(f"No {args.kind} with id {args.account}.")
                print(rotate_token(db, holder, agency_settings.load(**({} if args.days is None else {"credential_days": args.days}))))
            elif args.command == "revoke-supervisor":
                print(f"Closed supervisor account {review.revoke_supervisor(db, args.supervisor).id}.")
            elif args.command == "revoke-device":
                device = service.revoke_device(db, args.device)
                print(f"Revoked {device.id} (peer {device.peer_id}).")
            elif args.command == "list-devices":
                for device in db.exec(select(Device).order_by(col(Device.enrolled_at))).all():
                    state = f"revoked {device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked_at else "active"
                    seen = f"{device.last_seen_at:%Y-%m-%d %H:%M}" if device.last_seen_at else "never"
                    print(f"{device.id}  peer={device.peer_id}  {state}  last seen {seen}  {device.name}")
            db.commit()
        except (LookupError, SettingsError) as exc:
            print(exc, file=sys.stderr)
            return 1
    return 0
