"""The device's sync client: drain the outbox to the agency exactly once, then pull the caseload.

Exactly once = client-generated ids + the server storing each (entry, record version) once +
the device marking entries sent only after the server's receipt. A lost reply means the batch
is sent again and the server answers "duplicate". The device never deletes what it has not
seen acknowledged.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypedDict, Unpack

import httpx
from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from fieldpeer.records import AnyRecord, new_id, utc_now
from fieldpeer.store import outbox, pulled, sync_state
from fieldpeer.store.profile import Profile
from fieldpeer.store.sync_state import TamperedSetting
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.sealing import KeyPair, SealError, b64, open_seal, raw_private, seal, unb64
from fieldpeer.sync.transport import InsecureServer, agency_http, check_server_url, is_certificate_failure
from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE, EnrolRequest, EnrolResponse, EntryStatus, PullBatch, PushBatch, PushEntry, PushReceipt, Refusal, pull_context, push_context

log = logging.getLogger("fieldpeer.sync")
RECORD = TypeAdapter(AnyRecord)


class SyncError(Exception):
    """Sync did not finish; nothing is lost, the outbox keeps what was not acknowledged."""


class Offline(SyncError):
    pass


class DeviceRevoked(SyncError):
    pass


class UnexpectedReply(Offline):
    """Something other than the agency answered, or its reply was cut short or changed on the way.

    Transient, like being offline: nothing is applied or marked sent, the records stay queued.
    """


class SignInRequired(UnexpectedReply):
    """A captive portal (cafe or hospital Wi-Fi) answered instead of the agency. Waiting seconds
    will not fix it, so one sync stops at once and says so; the next auto-sync tries again."""


class UntrustedServer(SyncError):
    """TLS failed: a wrong certificate or an old protocol. Nothing is sent; retrying will not help."""


UNTRUSTED = "The agency's certificate could not be verified, so nothing was sent. Tell your supervisor."
SIGN_IN = "The network is asking you to sign in (as cafe and hospital Wi-Fi do). Open a web page to sign in; your records wait safely on this phone."
GARBLED = "The agency's reply was cut short or changed on the way (the network may be interfering); nothing was lost. Will try again."
UNVERIFIED = "The agency's reply could not be verified; nothing was applied. Will try again."
JSON_MEDIA_TYPE = "application/json"


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with 'equal jitter': half fixed, half random, so phones do not retry in step."""
    ceiling = min(cap, base * 2**attempt)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass
class SyncSummary:
    sent: int = 0
    already_on_server: int = 0
    quarantined: int = 0
    pending: int = 0
    pulled: int = 0
    error: str = ""
    finished_at: datetime = field(default_factory=utc_now)

    @property
    def ok(self) -> bool:
        return not self.error


Progress = Callable[[int, int], None]  # (done, total)

# A batch carries at most this much record JSON (and at least one record), whatever batch_size
# says: long notes must not add up past the server's body limit (16 MiB, sealed and gzip'd).
MAX_BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class _Settings:
    """Where and as whom a sync goes, as saved at enrolment."""

    server: str
    device_id: str
    token: str
    keys: KeyPair
    agency_box: bytes
    agency_sign: bytes

    @classmethod
    def read(cls, store: FieldStore) -> _Settings:
        def value(key: str) -> str:
            return sync_state.get_value(store, key) or ""

        return cls(
            server=check_server_url(value("server_url")),
            device_id=value("device_id"),
            token=value("token"),
            keys=KeyPair.from_raw(unb64(value("device_box_key")), unb64(value("device_sign_key"))),
            agency_box=unb64(value("agency_box_key")),
            agency_sign=unb64(value("agency_sign_key")),
        )


class SyncClient:
    def __init__(
        self,
        store: FieldStore,
        *,
        http: httpx.Client | None = None,
        batch_size: int = 200,
        on_revoked: Callable[[], None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
        base_delay: float = 1.0,
        timeout: float = 30.0,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.store = store
        self._settings: _Settings | None = None  # read at the start of each sync, never here (a tampered row must not break unlock)
        self.http = http or agency_http(timeout)
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.on_revoked = on_revoked
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._lock = threading.Lock()  # one sync at a time (auto-sync and "End shift" may overlap)

    # --- Settings --------------------------------------------------------------

    def _current(self) -> _Settings:
        """The saved settings, read once per sync. Raises TamperedSetting when a sealed one does not open."""
        if self._settings is None:
            self._settings = _Settings.read(self.store)
        return self._settings

    @property
    def server(self) -> str:
        return self._current().server

    @property
    def device_id(self) -> str:
        return self._current().device_id

    @property
    def token(self) -> str:
        return self._current().token

    @property
    def keys(self) -> KeyPair:
        return self._current().keys

    @property
    def agency_box(self) -> bytes:
        return self._current().agency_box

    @property
    def agency_sign(self) -> bytes:
        return self._current().agency_sign

    # --- HTTP ------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, content: bytes | None = None, params: Mapping[str, int] | None = None, content_type: str | None = None, expect: str = JSON_MEDIA_TYPE
    ) -> httpx.Response:
        """One request; any reply other than the agency's own of type `expect` raises a SyncError."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self.http.request(method, f"{self.server}{API}{path}", headers=headers, content=content, params=params)
        except httpx.TransportError as exc:
            if is_certificate_failure(exc):
                raise UntrustedServer(UNTRUSTED) from exc
            raise Offline(f"Cannot reach the agency ({type(exc).__name__}).") from exc
        except httpx.RequestError as exc:  # e.g. a body that claims gzip and is not
            raise UnexpectedReply(GARBLED) from exc
        if is_sign_in_page(response):
            raise SignInRequired(SIGN_IN)
        if response.status_code in (401, 403):
            code = _error_code(response)
            if code == Refusal.DEVICE_REVOKED:
                raise DeviceRevoked("This device is no longer enrolled with the agency.")
            if code in (Refusal.UNAUTHENTICATED, Refusal.TOKEN_EXPIRED):  # not a wipe: unsent records stay
                raise SyncError("The agency no longer accepts this phone's sign-in. Your records are kept on this phone; ask your supervisor to enrol it again.")
        if response.status_code >= 500 or response.status_code == 429:
            raise Offline(f"The agency server answered {response.status_code}; will retry.")
        if response.status_code >= 400:
            if not _error_code(response):  # the agency always says why; this came from something else
                raise UnexpectedReply(GARBLED)
            raise SyncError(f"The agency refused the request ({response.status_code} {_error_code(response)}).")
        if response.status_code != 200 or _media_type(response) != expect:
            raise UnexpectedReply(GARBLED)
        return response

    # --- Push ------------------------------------------------------------------

    def _next_batch(self, skip: list[str] | None = None) -> list[outbox.OutboxItem]:
        items = outbox.next_batch(self.store, self.batch_size, skip=skip or [])
        size = 0
        for n, item in enumerate(items):
            size += len(item.record_json.encode())
            if n and size > self.max_batch_bytes:
                return items[:n]  # the rest goes in the next batch, in order
        return items

    def _seal_batch(self, items: list[outbox.OutboxItem]) -> bytes:
        # Built with the wire model, not validated: the records were validated when saved and
        # the server validates each one; the outbox's stored ids go out as they are.
        batch = PushBatch.model_construct(batch_id=new_id(), entries=[PushEntry.model_construct(entry_id=i.entry_id, record=from_json(i.record_json)) for i in items])
        return seal(batch.model_dump_json().encode(), recipient_box=self.agency_box, sender=self.keys, context=push_context(self.device_id))

    def _post(self, body: bytes) -> PushReceipt:
        response = self._request("POST", "/push", content=body, content_type=SEALED_MEDIA_TYPE)
        try:
            return PushReceipt.model_validate_json(response.content)
        except ValidationError as exc:  # JSON, but not a receipt: a proxy's page, a cut-off body
            raise UnexpectedReply(GARBLED) from exc

    def push(self, progress: Progress | None = None) -> SyncSummary:
        """Send every pending entry, batch by batch. Rejected entries are quarantined, never retried blindly.

        Batches go one after another (a note reaches the server before its addendum: the next
        batch leaves only once the server has stored this one), but the next batch is read,
        decrypted and sealed while this one is on the wire, and this one's receipt is written
        to the outbox while the next is on the wire. A crash before that write only means the
        batch is sent again and answered "duplicate".
        """
        summary = SyncSummary()
        outbox.supersede_older_versions(self.store)
        total = outbox.counts(self.store).pending
        done = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldpeer-push") as wire:
            items = self._next_batch()
            in_flight = wire.submit(self._post, self._seal_batch(items)) if items else None
            while in_flight is not None:
                following = self._next_batch(skip=[i.entry_id for i in items])
                following_body = self._seal_batch(following) if following else b""
                try:
                    receipt = in_flight.result()
                except SyncError:
                    outbox.count_attempt(self.store, [i.entry_id for i in items])  # failures only: keep the happy path lean
                    raise
                sent_ids = {i.entry_id for i in items}
                accepted = [r.entry_id for r in receipt.results if r.status in (EntryStatus.STORED, EntryStatus.DUPLICATE) and r.entry_id in sent_ids]
                rejected = {r.entry_id: r.reason or "rejected" for r in receipt.results if r.status is EntryStatus.REJECTED and r.entry_id in sent_ids}
                complete = set(accepted) | set(rejected) == sent_ids
                in_flight = wire.submit(self._post, following_body) if complete and following else None
                outbox.settle(self.store, accepted, rejected)
                summary.sent += sum(1 for r in receipt.results if r.status is EntryStatus.STORED and r.entry_id in sent_ids)
                summary.already_on_server += sum(1 for r in receipt.results if r.status is EntryStatus.DUPLICATE and r.entry_id in sent_ids)
                summary.quarantined += len(rejected)
                done += len(items)
                if progress:
                    progress(min(done, total), max(total, done))
                if not accepted and not rejected:
                    raise SyncError("The agency acknowledged none of the batch.")  # do not loop forever
                if not complete:  # resend what was not acknowledged, now that the outbox knows what was
                    following = self._next_batch()
                    in_flight = wire.submit(self._post, self._seal_batch(following)) if following else None
                items = following
        summary.pending = outbox.counts(self.store).pending
        return summary

    # --- Pull ------------------------------------------------------------------

    def pull(self) -> int:
        """Apply caseload and plan changes since the saved cursor; each page in one transaction."""
        applied = 0
        while True:
            cursor = int(sync_state.get_value(self.store, "pull_cursor", "0") or 0)
            response = self._request("GET", "/pull", params={"cursor": cursor}, expect=SEALED_MEDIA_TYPE)
            try:
                page = PullBatch.model_validate_json(open_seal(response.content, recipient=self.keys, sender_sign=self.agency_sign, context=pull_context(self.device_id)))
            except (SealError, ValidationError) as exc:  # cut short or altered on the way: retry, apply nothing
                raise UnexpectedReply(UNVERIFIED) from exc
            records = []
            for raw in page.records:
                try:
                    records.append(RECORD.validate_python(raw))
                except ValidationError:
                    log.warning("pull: skipped a record of unknown shape")
            with self.store.unit() as unit:
                pulled.apply_pulled_page(unit, records)  # the store knows which record goes where, and applies runs in bulk
                applied += len(records)
                sync_state.set_in_unit(unit, {"pull_cursor": str(page.cursor)})  # saved with what it covers
            if not page.more:
                return applied

    # --- Whole sync --------------------------------------------------------------

    def sync(self, progress: Progress | None = None) -> SyncSummary:
        """Push then pull, retrying transient failures with backoff. Never raises for being offline."""
        with self._lock:
            summary = SyncSummary()
            self._settings = None  # re-read: enrolment may have changed them, or something outside FieldPeer
            try:
                self._current()
            except TamperedSetting:  # nothing sent, the outbox kept; the message says what to do
                summary.error = sync_state.TAMPERED
            except InsecureServer as exc:
                summary.error = str(exc)
            for attempt in range(0 if summary.error else self.max_attempts):
                try:
                    pushed = self.push(progress)
                    summary.sent += pushed.sent
                    summary.already_on_server += pushed.already_on_server
                    summary.quarantined += pushed.quarantined
                    summary.pulled = self.pull()
                    summary.error = ""
                    sync_state.set_values(self.store, {"last_sync_at": utc_now().isoformat()})
                    break
                except DeviceRevoked as exc:
                    summary.error = str(exc)
                    self.on_revoked()
                    return summary
                except SignInRequired as exc:
                    summary.error = str(exc)
                    break
                except Offline as exc:
                    summary.error = str(exc)
                    if attempt + 1 < self.max_attempts:
                        self.sleep(backoff_delay(attempt, self.base_delay))
                except SyncError as exc:
                    summary.error = str(exc)
                    break
            summary.pending = outbox.counts(self.store).pending
            summary.finished_at = utc_now()
            log.info("sync sent=%d duplicate=%d quarantined=%d pending=%d pulled=%d ok=%s", summary.sent, summary.already_on_server, summary.quarantined, summary.pending, summary.pulled, summary.ok)
            return summary

    def end_shift(self, progress: Progress | None = None) -> SyncSummary:
        """What the "End shift" button calls: sync everything now."""
        return self.sync(progress)

    def is_online(self) -> bool:
        """The agency answers, or a captive portal does (then a sync tells the peer to sign in), or
        the saved settings no longer open (then a sync says so, without sending anything)."""
        try:
            server = self.server
        except (TamperedSetting, InsecureServer):
            return True
        try:
            response = self.http.get(f"{server}{API}/health", timeout=5)
        except httpx.RequestError:
            return False
        return response.status_code == 200 or is_sign_in_page(response)


class AutoSync:
    """Syncs in the background when there is something to send and the agency is reachable."""

    def __init__(self, client: SyncClient, interval: float = 30.0, on_summary: Callable[[SyncSummary], None] = lambda s: None) -> None:
        self.client = client
        self.interval = interval
        self.on_summary = on_summary
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop() and wake(): ends the current wait early
        self._thread = threading.Thread(target=self._run, name="fieldpeer-autosync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def wake(self) -> None:
        """The network came back (a connectivity event): try now, not at the end of the offline back-off."""
        self._wake.set()

    def _run(self) -> None:
        offline_for = 0
        while not self._stop.is_set():
            try:
                if outbox.counts(self.client.store).pending and self.client.is_online():
                    summary = self.client.sync()
                    self.on_summary(summary)
                    offline_for = 0 if summary.ok else offline_for + 1
                else:
                    offline_for += 1
            except Exception as exc:  # noqa: BLE001 - whatever happens, the thread must keep syncing
                log.error("autosync: %s", type(exc).__name__)  # the type only: messages may quote content
                offline_for += 1
                self._report(SyncSummary(error=STOPPED))
            # Back off while offline so a phone with no signal does not drain its battery.
            self._wake.wait(backoff_delay(min(offline_for, 4), self.interval / 2, cap=self.interval * 8))
            if self._wake.is_set() and not self._stop.is_set():
                self._wake.clear()
                offline_for = 0

    def _report(self, summary: SyncSummary) -> None:
        try:
            self.on_summary(summary)
        except Exception as exc:  # noqa: BLE001
            log.error("autosync: on_summary failed: %s", type(exc).__name__)


STOPPED = "Sync stopped on an unexpected problem; nothing was lost. Will try again."


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def is_sign_in_page(response: httpx.Response) -> bool:
    """A captive portal's answer: a redirect, "network authentication required" (511), a proxy
    asking for credentials (407), or a web page. The agency's API never answers with any of these."""
    return response.is_redirect or response.status_code in (407, 511) or _media_type(response) in ("text/html", "application/xhtml+xml")


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except (ValueError, AttributeError):  # not JSON, not UTF-8, not an object
        return ""


# --- Enrolment -----------------------------------------------------------------------


def enrol_device(profile: Profile, server_url: str, code: str, pin: str, *, device_name: str = "", http: httpx.Client | None = None) -> FieldStore:
    """First run: exchange the one-time code for credentials, then create the vault with the PIN."""
    server = check_server_url(server_url)
    keys = KeyPair.generate()
    public = keys.public
    request = EnrolRequest(code=code, device_name=device_name, device_box_key=b64(public.box), device_sign_key=b64(public.sign))
    client = http or agency_http()
    try:
        response = client.post(f"{server}{API}/enrol", json=request.model_dump())
    except httpx.TransportError as exc:
        if is_certificate_failure(exc):
            raise UntrustedServer(UNTRUSTED) from exc
        raise Offline("Cannot reach the agency. Check the address and your connection.") from exc
    except httpx.RequestError as exc:
        raise UnexpectedReply(GARBLED) from exc
    if is_sign_in_page(response):
        raise SignInRequired(SIGN_IN)
    if response.status_code != 200:
        raise SyncError(_error_message(response, "The agency did not accept this code."))
    try:
        enrolment = EnrolResponse.model_validate_json(response.content)
    except ValidationError as exc:
        raise UnexpectedReply(GARBLED) from exc
    store = profile.set_up(pin, enrolment.peer)
    sync_state.set_values(
        store,
        {
            "server_url": server,
            "device_id": enrolment.device_id,
            "token": enrolment.token,
            "device_box_key": b64(raw_private(keys.box)),
            "device_sign_key": b64(raw_private(keys.sign)),
            "agency_box_key": enrolment.agency_box_key,
            "agency_sign_key": enrolment.agency_sign_key,
            "pull_cursor": "0",
        },
    )
    return store


def _error_message(response: httpx.Response, fallback: str) -> str:
    try:
        return str(response.json().get("message") or fallback)
    except (ValueError, AttributeError):
        return fallback


class ClientOptions(TypedDict, total=False):
    """SyncClient's keyword options that sync_profile passes through (on_revoked is the profile's wipe)."""

    http: httpx.Client | None
    batch_size: int
    sleep: Callable[[float], None]
    max_attempts: int
    base_delay: float
    timeout: float
    max_batch_bytes: int


def sync_profile(root: Path, pin: str, **client_options: Unpack[ClientOptions]) -> SyncSummary:
    """One headless sync of a profile (``fieldpeer sync --profile DIR``)."""
    profile = Profile(root)
    store = profile.unlock(pin)
    try:
        return SyncClient(store, on_revoked=profile.wipe, **client_options).sync()
    finally:
        store.close()
