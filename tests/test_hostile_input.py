"""Hostile input to the agency server: fuzzing every endpoint from its OpenAPI document
(schemathesis), hostile batches inside a valid seal (a compromised device), malformed gzip and
JSON, chunked oversized bodies, replays. Never a 5xx, never a stack trace, always a clear code.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from fieldpeer.agency import review
from fieldpeer.store import notes, outbox
from fieldpeer.sync import sealing
from fieldpeer.sync.client import SyncClient
from fieldpeer.sync.sealing import seal
from fieldpeer.sync.wire import SEALED_MEDIA_TYPE, push_context
from tests import figures
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled_phone

FUZZ_EXAMPLES = 60  # per operation and generation mode (each tried with every credential)
schemathesis.serializer.alias(SEALED_MEDIA_TYPE, "application/octet-stream")  # sealed batches are opaque bytes
QUIET = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def device(agency: AgencyProcess, tmp_path: Path) -> tuple[SyncClient, list[str]]:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    return phone.client, phone.person_ids


def assert_clean_refusal(response: httpx.Response | Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    assert b"Traceback" not in response.content and b'File "' not in response.content, what
    if response.status_code >= 400:
        body = response.json()
        assert body.get("code") and body.get("message"), f"{what}: {response.status_code} {response.text[:300]}"


@pytest.mark.slow
def test_fuzz_every_endpoint_from_the_openapi_document(agency: AgencyProcess, tmp_path: Path) -> None:
    client, _ = device(agency, tmp_path)
    with Admin(agency.db_url).session() as db:
        _, supervisor_token = review.add_supervisor(db, "Fuzz Supervisor")
        db.commit()
    schema = schemathesis.openapi.from_url(f"{agency.url}/openapi.json")
    credentials = {"no token": {}, "device token": {"Authorization": f"Bearer {client.token}"}, "supervisor token": {"Authorization": f"Bearer {supervisor_token}"}}
    tried = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/v1/health", "POST /api/v1/enrol", "POST /api/v1/push", "GET /api/v1/pull", "GET /api/v1/review/queue", "POST /api/v1/exports/fhir"}
    with requests.Session() as http:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @QUIET
                @given(case=operation.as_strategy(generation_mode=mode))
                def fuzz(case: Any) -> None:
                    nonlocal tried
                    for name, headers in credentials.items():
                        response = case.call(base_url=agency.url, session=http, headers=headers, timeout=30)
                        tried += 1
                        assert_clean_refusal(response, f"{operation.label} [{mode}] with {name}")

                try:
                    fuzz()
                except Unsatisfiable:
                    # Nothing invalid to make: health has no inputs, and any bytes are a well-formed sealed body.
                    assert mode is GenerationMode.NEGATIVE and operation.label in {"GET /api/v1/health", "POST /api/v1/push"}
    figures.add("fuzz cases tried", tried)
    assert tried >= len(operations) * 2 * len(credentials) * 5  # hypothesis may stop early on tiny input spaces, never at zero


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)


@st.composite
def hostile_batches(draw: st.DrawFn, good_note: dict[str, Any]) -> Any:
    """Anything from random JSON to a real batch with one field swapped for junk."""
    shape = draw(st.sampled_from(["random", "entries", "mutated"]))
    if shape == "random":
        return draw(JSON)
    if shape == "entries":
        return {"batch_id": draw(st.text(max_size=70)), "entries": draw(st.lists(st.fixed_dictionaries({"entry_id": st.text(max_size=70), "record": JSON}), max_size=4))}
    record = dict(good_note)
    record[draw(st.sampled_from(sorted(record)))] = draw(JSON)
    return {"batch_id": draw(st.uuids()).hex, "entries": [{"entry_id": draw(st.uuids()).hex, "record": record}]}


@pytest.mark.slow
def test_hostile_batches_inside_a_valid_seal_are_refused_cleanly(agency: AgencyProcess, tmp_path: Path) -> None:
    """A compromised or buggy device holds real keys: what it seals must still never break the server."""
    client, persons = device(agency, tmp_path)
    note = notes.log_phone_contact(client.store, persons[0], 10, "fuzz base", ended_at=datetime(2026, 11, 25, 9))
    [item] = outbox.next_batch(client.store, 1)
    good_note = json.loads(item.record_json)
    assert good_note["id"] == note.id
    tried = 0
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}
    with httpx.Client(base_url=agency.url, timeout=30) as http:

        @QUIET
        @given(batch=hostile_batches(good_note))
        def fuzz(batch: Any) -> None:
            nonlocal tried
            body = seal(json.dumps(batch).encode(), recipient_box=client.agency_box, sender=client.keys, context=push_context(client.device_id))
            response = http.post("/api/v1/push", headers=headers, content=body)
            tried += 1
            assert_clean_refusal(response, json.dumps(batch)[:200])
            assert response.status_code in (200, 422)

        fuzz()
    figures.add("fuzz cases tried", tried)


def test_malformed_gzip_and_json_inside_a_valid_seal_get_a_clear_4xx(agency: AgencyProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = device(agency, tmp_path)
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}
    not_json = seal(b'{"batch_id": "x", "entries": [', recipient_box=client.agency_box, sender=client.keys, context=push_context(client.device_id))
    response = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=not_json)
    assert response.status_code == 422 and response.json()["code"] == "bad_batch"
    compress = gzip.compress
    monkeypatch.setattr(sealing.gzip, "compress", lambda data, compresslevel=6: compress(data)[:-9])  # a truncated stream
    truncated = seal(b'{"batch_id": "x", "entries": []}', recipient_box=client.agency_box, sender=client.keys, context=push_context(client.device_id))
    response = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=truncated)
    assert response.status_code == 400 and response.json()["code"] == "bad_seal" and "could not be opened" in response.json()["message"]


def test_an_oversized_body_without_a_length_is_refused_with_413(agency: AgencyProcess, tmp_path: Path) -> None:
    client, _ = device(agency, tmp_path)

    def chunks() -> Any:  # chunked transfer: no Content-Length to refuse up front
        for _ in range(20):
            yield b"x" * (1024 * 1024)

    response = httpx.post(f"{agency.url}/api/v1/push", headers={"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}, content=chunks())
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_a_replayed_batch_changes_nothing(agency: AgencyProcess, tmp_path: Path) -> None:
    client, persons = device(agency, tmp_path)
    admin = Admin(agency.db_url)
    for i in range(3):
        notes.log_phone_contact(client.store, persons[0], 5 + i, f"call {i}", ended_at=datetime(2026, 11, 25, 9 + i))
    body = client._seal_batch(outbox.next_batch(client.store, 10))
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": SEALED_MEDIA_TYPE}
    first = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=body).json()
    stored = sorted(r.record_id for r in admin.received(record_type="contact_note"))
    for _ in range(3):  # an attacker on the network, or a proxy that retries
        again = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=body)
        assert again.status_code == 200 and {r["status"] for r in again.json()["results"]} == {"duplicate"}
    assert {r["status"] for r in first["results"]} == {"stored"} and len(stored) == 3
    assert sorted(r.record_id for r in admin.received(record_type="contact_note")) == stored


# --- Finding 5 and 7 of issue #17: batches and heads too big to hold ---------------------------------


def test_batches_too_big_to_parse_are_refused_before_parsing_while_others_are_served(agency: AgencyProcess, tmp_path: Path) -> None:
    """A million tiny entries once held 1.4 GB and stalled /health for seconds (figures in
    SECURITY.md, measured by benchmarks/hostile_batch.py). Now each is refused with a clear 413,
    and meanwhile /health and an honest device are answered."""
    import threading

    from benchmarks.hostile_batch import hostile_body

    attacker, _ = device(agency, tmp_path / "attacker")
    honest = enrolled_phone(agency, tmp_path / "honest")
    bodies = {"too_large": hostile_body(attacker, "million"), "too_many_entries": hostile_body(attacker, "many"), "too_complex": hostile_body(attacker, "escaped", 40_000)}
    answers: dict[str, httpx.Response] = {}
    headers = {"Authorization": f"Bearer {attacker.token}", "Content-Type": SEALED_MEDIA_TYPE}

    def attack() -> None:
        for code, body in bodies.items():
            answers[code] = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=body, timeout=120)

    thread = threading.Thread(target=attack)
    thread.start()
    served = 0
    while thread.is_alive() or served == 0:  # bounded by the attack's three requests
        assert httpx.get(f"{agency.url}/api/v1/health", timeout=30).status_code == 200
        notes.log_phone_contact(honest.store, honest.person_ids[0], 5, f"call {served}", ended_at=datetime(2026, 11, 25, 8) + timedelta(minutes=10 * served))
        assert honest.client.push().ok
        served += 1
    thread.join()
    for code, response in answers.items():
        assert (response.status_code, response.json()["code"]) == (413, code)
        assert_clean_refusal(response, code)
    assert outbox.counts(honest.store).pending == 0 and len(Admin(agency.db_url).received(record_type="contact_note")) == served


def raw_exchange(agency: AgencyProcess, head: bytes, chunk: int = 64 * 1024) -> bytes:
    """Send a request head as a slow client would (in chunks, stopping when the server hangs up)
    and read what the server answers."""
    import socket

    with socket.create_connection(("127.0.0.1", agency.port), timeout=30) as conn:
        try:
            for start in range(0, len(head), chunk):
                conn.sendall(head[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the head was complete
        answer = b""
        try:
            while data := conn.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


@pytest.mark.parametrize("shape", ["one 1 MiB header", "10,000 headers", "16 MiB of headers"])
def test_oversized_request_heads_are_refused_before_anything_runs(agency: AgencyProcess, shape: str) -> None:
    import threading

    request_line = b"GET /api/v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    heads = {
        "one 1 MiB header": request_line + b"X-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n",
        "10,000 headers": request_line + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n",
        "16 MiB of headers": request_line + b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 8000) for i in range(2048)) + b"\r\n",
    }
    answers: list[bytes] = []
    clients = [threading.Thread(target=lambda: answers.append(raw_exchange(agency, heads[shape]))) for _ in range(3)]  # several clients at once
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=120)
    assert len(answers) == 3
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "headers_too_large"
    assert httpx.get(f"{agency.url}/api/v1/health").status_code == 200
    # An ordinary request with a few dozen headers still goes through.
    assert httpx.get(f"{agency.url}/api/v1/health", headers={f"X-H{i}": "v" * 100 for i in range(40)}).status_code == 200
