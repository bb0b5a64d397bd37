"""The text walkthrough runs start to finish on a fictional caseload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_text_walkthrough(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fieldpeer.cli", "walkthrough", "--profile", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Caseload (20 persons" in out
    assert "Crisis resources shown at once" in out and "988" in out
    assert "SAFETY ALERT" in out
    assert "Plaintext names found in the database files: 0." in out
    assert (tmp_path / "demo" / "vault.json").exists()
