"""Small key/value settings for sync. Secrets (token, device private keys) and what says where and
to whom a sync goes (the agency address and public keys, issue #13) are encrypted and bound to
their key, so a value written into the table by anything but FieldPeer, or moved from another
key, fails to open instead of redirecting the next sync."""

from __future__ import annotations

import base64
import binascii

from fieldpeer.store.crypto import DecryptionError
from fieldpeer.store.tables import SyncStateRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

# Profiles older than migration 12 held the last three in clear: that migration seals them on unlock.
SECRET_KEYS = {"token", "device_box_key", "device_sign_key", "server_url", "agency_box_key", "agency_sign_key"}

TAMPERED = (
    "The agency address or keys saved on this phone were changed outside FieldPeer, so nothing was sent. "
    "Your records are kept on this phone; tell your supervisor (the phone must be enrolled again)."
)


class TamperedSetting(DecryptionError):
    """A sealed sync setting failed to open: written by something else, or moved from another key."""


def _encode(unit: Unit, key: str, value: str) -> str:
    if key in SECRET_KEYS:
        return base64.b64encode(unit.cipher.encrypt("sync_state", key, "value", value)).decode()
    return value


def set_values(store: FieldStore, values: dict[str, str]) -> None:
    with store.unit() as unit:
        set_in_unit(unit, values)


def set_in_unit(unit: Unit, values: dict[str, str]) -> None:
    for key, value in values.items():
        unit.session.merge(SyncStateRow(key=key, value=_encode(unit, key, value)))


def get_value(store: FieldStore, key: str, default: str | None = None) -> str | None:
    """The value saved under `key` (`default` when none). Raises TamperedSetting when a sealed
    value does not open: the caller must not fall back to anything and send."""
    with store.unit() as unit:
        row = unit.session.get(SyncStateRow, key)
        if row is None:
            return default
        if key in SECRET_KEYS:
            try:
                return unit.cipher.decrypt("sync_state", key, "value", base64.b64decode(row.value, validate=True))
            except (DecryptionError, binascii.Error) as exc:
                raise TamperedSetting(TAMPERED) from exc
        return row.value
