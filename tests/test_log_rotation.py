"""Logs rotate (a device or server never fills its disk with them) and every rotated file stays owner-only."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldpeer.logs import configure_logging


@pytest.fixture
def fresh_fieldpeer_logger() -> Iterator[None]:
    root = logging.getLogger("fieldpeer")
    handlers = list(root.handlers)
    yield
    for handler in root.handlers[len(handlers):]:
        handler.close()
    root.handlers = handlers


def test_logs_rotate_and_stay_private(tmp_path: Path, fresh_fieldpeer_logger: None) -> None:
    configure_logging(tmp_path / "logs", max_bytes=400, keep=2)
    for n in range(200):
        logging.getLogger("fieldpeer.test").info("sync_ok batch=%d", n)
    files = sorted((tmp_path / "logs").iterdir())
    assert [f.name for f in files] == ["fieldpeer.log", "fieldpeer.log.1", "fieldpeer.log.2"]  # older ones dropped
    assert all(f.stat().st_size <= 400 for f in files)
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
