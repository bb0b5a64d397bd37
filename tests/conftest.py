"""Shared fixtures: a real profile (vault + SQLite) per test, with a cheap scrypt cost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from fieldpeer.domain import ContactMode, ContactSetting, Intervention, PeerRole
from fieldpeer.store import people
from fieldpeer.store.profile import Profile
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.store.vault import ScryptCost
from fieldpeer.records import ContactNote, Goal, Narrative, PeerProfile, Person

# Unit tests unlock hundreds of times; the real cost is measured in benchmarks/ and the README.
TEST_COST = ScryptCost(n=2**10, r=8, p=1)
PIN = "482913"
TODAY = date(2026, 11, 25)


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def profile(tmp_path: Path, clock: FakeClock) -> Profile:
    return Profile(tmp_path / "profile", cost=TEST_COST, clock=clock)


def make_peer() -> PeerProfile:
    return PeerProfile(id="peer-1", name="Sam Field", role=PeerRole.PEER_SUPPORT_SPECIALIST, credentials="CPSS", agency_name="Test Agency")


@pytest.fixture
def store(profile: Profile) -> Iterator[FieldStore]:
    store = profile.set_up(PIN, make_peer())
    yield store
    store.close()


@pytest.fixture
def person(store: FieldStore) -> Person:
    return people.save_person(
        store,
        Person(preferred_name="Alex Rivera", goals=[Goal(id="g1", text="Keep my apartment")], admitted_on=date(2026, 10, 1)),
    )


def complete_note(person_id: str, start: datetime = datetime(2026, 11, 24, 10, 0), minutes: int = 40, **changes: object) -> ContactNote:
    from datetime import timedelta

    values: dict[str, object] = dict(
        person_id=person_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        mode=ContactMode.FACE_TO_FACE,
        setting=ContactSetting.COMMUNITY,
        service_code="H0038",
        interventions=[Intervention.SELF_HELP],
        goal_ids=["g1"],
        narrative=Narrative(goal="Housing", intervention="Reviewed the lease together.", response="Relieved.", plan="Call landlord Friday."),
    )
    values.update(changes)
    return ContactNote(**values)  # type: ignore[arg-type]


# --- Real agency servers (integration tests) ----------------------------------------------

import itertools  # noqa: E402
import tempfile  # noqa: E402

from tests.servers import AgencyProcess, PostgresServer  # noqa: E402

_db_names = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    base = Path(tempfile.mkdtemp(prefix="fieldpeer-pg-"))
    server = PostgresServer(base)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def agency_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'agency.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.fresh_database(f"agency_{next(_db_names)}")


@pytest.fixture
def agency(agency_db_url: str, tmp_path: Path) -> Iterator[AgencyProcess]:
    process = AgencyProcess(agency_db_url, tmp_path / "agency-keys", tmp_path / "agency.log")
    process.start()
    yield process
    process.stop()


# --- Figures for SECURITY.md: fresh each run, printed at the end --------------------------------


def pytest_sessionstart(session: pytest.Session) -> None:
    from tests.figures import FIGURES

    FIGURES.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import json

    from tests.figures import FIGURES

    if FIGURES.exists():
        terminalreporter.section("reliability and security figures (SECURITY.md)")
        for name, value in json.loads(FIGURES.read_text()).items():
            terminalreporter.write_line(f"{name:<40} {value:>10,}")
