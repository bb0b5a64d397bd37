"""Typing survives a crash: a process that keeps a check-in form's draft as the peer types, raises
the safety alert the moment "yes" / "not sure" is chosen and then saves the check-in, is killed with
SIGKILL at random moments. After every kill: the newest draft reported kept is there (or the saved
check-in that replaced it), every alert reported raised is there once with its outbox entry, and no
typed text is on disk in clear."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from fieldpeer.domain import DraftKind
from fieldpeer.store import drafts, outbox, wrap
from fieldpeer.store.people import NotFound
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import SafetyAlertRow
from tests import figures
from tests.conftest import PIN, TEST_COST
from tests.test_no_plaintext import MARKER, marker_hits

KILLS = 15

# Each form: typed in four steps (a draft kept after each), the safety answer chosen at steps 1
# and 2 (yes, then not sure), saved at step 3. One report line per step, after it returned.
CHILD = textwrap.dedent(
    f"""
    import sys
    from datetime import datetime
    from pathlib import Path
    from fieldpeer.domain import DraftKind, SafetyAnswer
    from fieldpeer.store import drafts, people, wrap
    from fieldpeer.store.profile import Profile
    from fieldpeer.records import Checkin, Person, new_id
    from tests.conftest import PIN, TEST_COST, make_peer

    root = Path(sys.argv[1])
    profile = Profile(root, cost=TEST_COST)
    if profile.is_set_up:
        store = profile.unlock(PIN)
        person_id = people.list_caseload(store, datetime.now().date()).entries[0].person_id
    else:
        store = profile.set_up(PIN, make_peer())
        person_id = people.save_person(store, Person(preferred_name="{MARKER} person")).id
    print(person_id, flush=True)

    def report(*words):
        sys.stdout.write(" ".join(words) + "\\n")  # one write: a kill cannot split a line in two reports
        sys.stdout.flush()

    i = int(sys.argv[2])
    while True:
        form = new_id()
        for step in range(4):
            i += 1
            typed = "{MARKER} " + str(i) + " " + "feeling a bit off today " * 20
            drafts.save_form_draft(store, DraftKind.CHECKIN, person_id, {{"feeling_today": typed, "n": i}}, record_id=form)
            report("draft", form, str(i))
            if step in (1, 2):
                wrap.raise_safety_alert(store, person_id, form, SafetyAnswer.YES if step == 1 else SafetyAnswer.UNSURE)
                report("alert", form)
            if step == 3:
                wrap.record_checkin(store, Checkin(id=form, person_id=person_id, feeling_today=typed, safety=SafetyAnswer.UNSURE))
                report("saved", form)
    """
)


def check_after_kill(root: Path, person_id: str, last_draft: dict[str, int], alerted: set[str], saved: set[str]) -> None:
    assert marker_hits(root) == {}, "typed text in clear on disk after SIGKILL"
    store = Profile(root, cost=TEST_COST).unlock(PIN)
    try:
        with store.unit() as unit:
            per_checkin = Counter(unit.session.exec(select(SafetyAlertRow.checkin_id)).all())
        assert set(per_checkin.values()) <= {1}, "a check-in raised more than one alert"
        assert alerted <= set(per_checkin)
        queued = {(item.record_type, item.record_id) for item in outbox.next_batch(store, 1_000_000)}
        for form in alerted:
            alert = wrap.alert_for_checkin(store, form)
            assert alert is not None and ("safety_alert", alert.id) in queued
        for form, n in last_draft.items():
            kept = drafts.load_form_draft(store, DraftKind.CHECKIN, person_id, form)
            if kept is not None:
                assert kept["n"] >= n and MARKER in kept["feeling_today"]  # the newest reported, or newer
            else:  # only a saved check-in may replace the draft
                try:
                    wrap.get_checkin(store, form)
                except NotFound:
                    raise AssertionError(f"draft of {form} lost") from None
        for form in saved:
            assert drafts.load_form_draft(store, DraftKind.CHECKIN, person_id, form) is None
            assert MARKER in wrap.get_checkin(store, form).feeling_today
    finally:
        store.close()


@pytest.mark.slow
def test_a_crash_never_loses_typing_or_silences_an_alert(tmp_path: Path) -> None:
    root = tmp_path / "profile"
    rng = random.Random(int(os.environ.get("FIELDPEER_KILL_SEED", "11")))
    last_draft: dict[str, int] = {}
    alerted: set[str] = set()
    saved: set[str] = set()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    person_id = ""
    for kill in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(kill * 10_000)], stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None
        person_id = child.stdout.readline().strip()
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        for line in out.split("\n")[:-1]:  # complete lines only
            what, form, *rest = line.split()
            if what == "draft":
                last_draft[form] = int(rest[0])
            elif what == "alert":
                alerted.add(form)
            else:
                saved.add(form)
        check_after_kill(root, person_id, last_draft, alerted, saved)
    figures.add("SIGKILLs survived", KILLS)
    assert len(saved) >= 1 and len(last_draft) > len(saved)  # kills landed mid-form, not only between forms
