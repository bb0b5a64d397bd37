"""Crash safety: a process saving notes, calls and check-ins in a loop is killed with SIGKILL at
random moments, many times (a dead battery, the OS killing the app). After every kill the
database opens, passes `PRAGMA integrity_check`, every save that returned holds and decrypts,
every saved record has its outbox entry (nothing half-written), no plaintext is on disk, and
every file left behind (the -wal a kill leaves, the logs) is owner-only.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from fieldpeer.domain import NoteStatus
from fieldpeer.store import notes, outbox, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import CheckinRow, ContactNoteRow
from tests import figures
from tests.conftest import PIN, TEST_COST
from tests.test_file_permissions import not_private
from tests.test_no_plaintext import MARKER, marker_hits

KILLS = 30

# Prints one line per save, only after the save returned: what the user saw as "saved".
CHILD = textwrap.dedent(
    f"""
    import sys
    from datetime import datetime, timedelta
    from pathlib import Path
    from fieldpeer.domain import SafetyAnswer
    from fieldpeer.logs import configure_logging
    from fieldpeer.store import notes, people, wrap
    from fieldpeer.store.profile import Profile
    from fieldpeer.records import Checkin, Narrative, Person
    from tests.conftest import PIN, TEST_COST, complete_note, make_peer

    root = Path(sys.argv[1])
    profile = Profile(root, cost=TEST_COST)
    configure_logging(profile.log_dir)
    if profile.is_set_up:
        store = profile.unlock(PIN)
        person_id = people.list_caseload(store, datetime.now().date()).entries[0].person_id
    else:
        store = profile.set_up(PIN, make_peer())
        person_id = people.save_person(store, Person(preferred_name="{MARKER} person")).id
    print("ready", flush=True)

    def report(what, record_id):
        sys.stdout.write(what + " " + record_id + "\\n")  # one write, even when PYTHONUNBUFFERED is set
        sys.stdout.flush()

    i = int(sys.argv[2])
    while True:
        i += 1
        words = "{MARKER} " + str(i) + " " + "lorem ipsum " * 40
        kind = i % 3
        if kind == 0:
            note = notes.save_draft(store, complete_note(person_id, start=datetime(2026, 1, 1) + timedelta(hours=i), narrative=Narrative(intervention=words, response=words, plan=words)))
            report("draft", note.id)
            notes.sign_note(store, note.id)
            report("signed", note.id)
        elif kind == 1:
            call = notes.log_phone_contact(store, person_id, 5 + i % 30, words, ended_at=datetime(2026, 1, 1) + timedelta(hours=i))
            report("signed", call.id)
        else:
            checkin, _ = wrap.record_checkin(store, Checkin(person_id=person_id, feeling_today=words, safety=SafetyAnswer.NO))
            report("checkin", checkin.id)
    """
)


def check_after_kill(root: Path, saved: dict[str, str]) -> None:
    assert marker_hits(root) == {}, "plaintext on disk after SIGKILL"
    assert not_private(root) == {}, "a file readable by others after SIGKILL (the -wal left behind, a log)"
    store = Profile(root, cost=TEST_COST).unlock(PIN)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        for record_id, what in saved.items():
            if what == "checkin":
                assert MARKER in (wrap.get_checkin(store, record_id).feeling_today or "")
            else:
                note = notes.get_note(store, record_id)
                assert what == "draft" or note.status is NoteStatus.SIGNED, f"{record_id} lost its signature"
        # Nothing half-written: every row there decrypts, and every one has its outbox entry.
        with store.unit() as unit:
            note_ids = list(unit.session.exec(select(ContactNoteRow.id)).all())
            checkin_ids = list(unit.session.exec(select(CheckinRow.id)).all())
        for note_id in note_ids:
            notes.get_note(store, note_id)
        queued = {item.record_id for item in outbox.next_batch(store, 1_000_000)}  # decrypts every payload
        assert set(note_ids) | set(checkin_ids) <= queued
        assert set(saved) <= set(note_ids) | set(checkin_ids)
    finally:
        store.close()


@pytest.mark.slow
def test_killed_at_random_moments_loses_and_half_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "profile"
    rng = random.Random(int(os.environ.get("FIELDPEER_KILL_SEED", "7")))
    saved: dict[str, str] = {}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for kill in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(kill * 10_000)], stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))  # somewhere mid-stream: in a write, a commit, a checkpoint
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        for line in out.split("\n")[:-1]:  # complete lines only: the kill may cut the last report short
            what, record_id = line.split()
            saved[record_id] = what
        try:
            check_after_kill(root, saved)
        except AssertionError:
            figures.add("records lost", 1)  # at least one: the table must not claim 0 after a failed check
            raise
    figures.add("SIGKILLs survived", KILLS)
    figures.add("saves checked after kills", len(saved))
    figures.add("records lost", 0)
    assert len(saved) > KILLS  # the kills landed mid-stream, not before the first save
