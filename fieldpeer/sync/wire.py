"""The sync protocol's messages: both the device client and the agency server import these.

Push and pull bodies travel sealed (sealing.py); enrolment and receipts carry only ids,
codes and public keys, so they are plain JSON (over TLS).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fieldpeer.records import Id, PeerProfile

API = "/api/v1"
SEALED_MEDIA_TYPE = "application/vnd.fieldpeer.sealed"


def push_context(device_id: str) -> str:
    return f"push|{device_id}"


def pull_context(device_id: str) -> str:
    return f"pull|{device_id}"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(Message):
    code: str = Field(min_length=6, max_length=64)
    device_name: str = Field("", max_length=100)
    device_box_key: str = Field(max_length=64)  # X25519 public, base64
    device_sign_key: str = Field(max_length=64)  # Ed25519 public, base64


class EnrolResponse(Message):
    device_id: str
    token: str
    agency_box_key: str
    agency_sign_key: str
    peer: PeerProfile


class PushEntry(Message):
    entry_id: Id
    # Validated per entry on the server, so one malformed record is rejected alone.
    record: dict[str, Any]


class PushBatch(Message):
    batch_id: Id
    entries: list[PushEntry] = Field(max_length=5000)


class EntryStatus(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already on the server: a retry after a lost reply
    REJECTED = "rejected"


class EntryResult(Message):
    entry_id: str
    status: EntryStatus
    reason: str = ""  # codes and ids only, never record content


class PushReceipt(Message):
    batch_id: str
    results: list[EntryResult]


class PullBatch(Message):
    cursor: int
    more: bool
    records: list[dict[str, Any]]


class Refusal(StrEnum):
    """Machine-readable refusals the app acts on."""

    DEVICE_REVOKED = "device_revoked"  # wipe local data
    UNAUTHENTICATED = "unauthenticated"  # unknown token: keep local data, enrol again
    TOKEN_EXPIRED = "token_expired"  # idle too long: keep local data, enrol again
    ENROL_CODE_INVALID = "enrol_code_invalid"
    ACCESS_REVOKED = "access_revoked"  # a supervisor account that was closed
    NOT_FOUND = "not_found"
    WRONG_STATE = "wrong_state"  # e.g. co-signing a note that was returned and not yet answered
    CONSENT_REQUIRED = "consent_required"


class ErrorBody(Message):
    code: str
    message: str
