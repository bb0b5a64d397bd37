"""The device store at scale: 60 persons and 50,000 encrypted notes on the phone.

    .venv/bin/python -m benchmarks.field_store [--repeat 15]

Measures what a peer feels: unlock (beyond scrypt), saving and signing a note, the caseload
screen's data, a person's timeline, and searching notes for a word.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from benchmarks.field_data import PIN, big_profile
from fieldpeer.domain import ContactMode, ContactSetting, Intervention
from sqlalchemy import func, update
from sqlmodel import col, select

from fieldpeer.store import notes, people, search
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import ContactNoteRow
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.records import ContactNote, Narrative

Row = tuple[str, str, str]


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def measure(repeat: int) -> list[Row]:
    with big_profile() as profile:
        return measure_profile(profile, repeat)


def measure_profile(profile: Profile, repeat: int) -> list[Row]:
    store = profile.unlock(PIN)
    today = date(2026, 6, 1)
    caseload = people.list_caseload(store, today)
    timeline_person = next(e.person_id for e in caseload.entries if e.preferred_name == "Person 00")
    store.close()

    # Unlock minus scrypt: open the database, check the schema, load the caseload screen.
    rest = []
    for _ in range(repeat):
        cipher_began = time.perf_counter()
        profile.vault.unlock(PIN)
        scrypt_ms = (time.perf_counter() - cipher_began) * 1000
        began = time.perf_counter()
        store = profile.unlock(PIN)
        people.list_caseload(store, today)
        rest.append((time.perf_counter() - began) * 1000 - scrypt_ms)
        store.close()

    store = profile.unlock(PIN)
    saves, signs = [], []
    for i in range(max(repeat * 10, 100)):
        begins = datetime(2026, 6, 1, 8) + timedelta(minutes=50 * i)
        draft = ContactNote(
            person_id=timeline_person, starts_at=begins, ends_at=begins + timedelta(minutes=40), mode=ContactMode.FACE_TO_FACE,
            setting=ContactSetting.HOME, service_code="H0038", interventions=[Intervention.INDIVIDUAL_ADVOCACY],
            narrative=Narrative(goal="Stay housed.", intervention=f"Went over the lease together, visit {i}.", response="Felt calmer.", plan="Call the landlord Friday."),
        )
        began = time.perf_counter()
        saved = notes.save_draft(store, draft)
        middle = time.perf_counter()
        notes.sign_note(store, saved.id)
        saves.append((middle - began) * 1000)
        signs.append((time.perf_counter() - middle) * 1000)
    caseload_ms = timed(lambda: people.list_caseload(store, today), repeat)
    timeline_ms = timed(lambda: people.person_timeline(store, timeline_person, limit=1000), repeat)
    entries = len(people.person_timeline(store, timeline_person, limit=1000))
    search_rows = measure_search(store, repeat)
    store.close()
    save_p50, save_p95 = ms(saves)
    sign_p50, sign_p95 = ms(signs)
    both_p50 = ms([a + b for a, b in zip(saves, signs)])[0]
    return [
        ("rest of unlock: open + schema + caseload (ms)", f"{ms(rest)[0]:.1f}", "< 100"),
        ("save a note: median / p95 (ms)", f"{save_p50:.1f} / {save_p95:.1f}", "< 5 / 15"),
        ("sign it: median / p95 (ms)", f"{sign_p50:.1f} / {sign_p95:.1f}", "< 5 / 15"),
        ("save and sign, two transactions, median (ms)", f"{both_p50:.1f}", ""),
        ("caseload screen data, 60 persons (ms)", f"{ms(caseload_ms)[0]:.1f}", "< 20"),
        (f"person timeline, {entries:,} entries (ms)", f"{ms(timeline_ms)[0]:.1f}", "< 20"),
        *search_rows,
    ]


def measure_search(store: FieldStore, repeat: int) -> list[Row]:
    """The blind index (store/search.py) against decrypting every note, as the naive way would."""
    total = store_count(store)
    rare = timed(lambda: search.search_notes(store, "12345"), repeat)  # one note says "Visit 12345."
    common = timed(lambda: search.search_notes(store, "housing"), repeat)  # about half the notes
    both = timed(lambda: search.search_notes(store, "housing landlord"), repeat)
    hits = search.search_notes(store, "housing").total

    def naive() -> int:
        with store.unit() as unit:
            rows = unit.session.exec(select(ContactNoteRow.id, ContactNoteRow.narrative_enc).limit(10_000)).all()
            return sum("housing" in search.words(" ".join(unit.cipher.decrypt_json("contact_note", i, "narrative", blob).values())) for i, blob in rows)

    naive_ms = timed(naive, 3)
    with store.unit() as unit:  # as if an older app version had written 10,000 of them
        oldest = select(ContactNoteRow.id).order_by(ContactNoteRow.starts_at).limit(10_000)
        unit.session.execute(update(ContactNoteRow).where(col(ContactNoteRow.id).in_(oldest)).values(search_tokens=None))
    began = time.perf_counter()
    backfilled = search.ensure_indexed(store)
    backfill_s = time.perf_counter() - began
    return [
        (f"search a rare word, {total:,} notes (ms)", f"{ms(rare)[0]:.1f}", "< 200"),
        (f"search a common word ({hits:,} hits, first 50) (ms)", f"{ms(common)[0]:.1f}", "< 200"),
        ("search two common words (ms)", f"{ms(both)[0]:.1f}", "< 200"),
        ("naive: decrypt and scan 10,000 notes (ms)", f"{ms(naive_ms)[0]:.0f}", ""),
        (f"one-time index of {backfilled:,} older notes (s)", f"{backfill_s:.1f}", ""),
    ]


def store_count(store: FieldStore) -> int:
    with store.unit() as unit:
        return int(unit.session.exec(select(func.count()).select_from(ContactNoteRow)).one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = measure(args.repeat)
    print(f"\nFieldPeer device store: 60 persons, 50,000 notes; medians of {args.repeat} runs\n")
    print(f"| {'measure':<52} | {'value':>11} | {'target':>8} |")
    print(f"|{'-' * 54}|{'-' * 13}|{'-' * 10}|")
    for name, value, target in rows:
        print(f"| {name:<52} | {value:>11} | {target:>8} |")


if __name__ == "__main__":
    main()
