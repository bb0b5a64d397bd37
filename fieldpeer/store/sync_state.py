"""Small key/value settings for sync. Secrets (token, device private keys) are encrypted."""

from __future__ import annotations

import base64

from fieldpeer.store.tables import SyncStateRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

SECRET_KEYS = {"token", "device_box_key", "device_sign_key"}


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
    with store.unit() as unit:
        row = unit.session.get(SyncStateRow, key)
        if row is None:
            return default
        if key in SECRET_KEYS:
            return unit.cipher.decrypt("sync_state", key, "value", base64.b64decode(row.value))
        return row.value
