"""The rooms depend on each other one way (see CONTRIBUTING.md):
domain <- records <- store <- sync client <- screens/app, and domain <- records <- agency.
The wire contract (sync.wire, sync.sealing) is shared by the phone and the agency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fieldpeer"

# room -> the fieldpeer rooms it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "logs": set(),
    "config": {"domain"},
    "records": {"domain"},
    "store": {"domain", "records", "config", "logs"},
    "sync.wire": {"domain", "records"},
    "sync.sealing": set(),
    "sync": {"domain", "records", "config", "logs", "store", "sync.wire", "sync.sealing"},
    "demo_data": {"domain", "records", "config", "store"},  # the offline demo's fictional caseload
    "screens": {"domain", "records", "config", "logs", "store", "sync", "sync.wire", "sync.sealing", "app", "demo_data"},
    "app": {"domain", "records", "config", "logs", "store", "sync", "sync.wire", "screens"},
    "phone": {"domain", "records", "config", "logs", "store", "sync", "screens", "app"},  # the installed app's entry
    "agency": {"domain", "records", "config", "logs", "sync.wire", "sync.sealing"},
}
# Entry points that wire both programs together (the CLI and the demo) may import anything.
WIRING = {"cli", "demo", "__init__", "__main__"}


def room_of(module: str) -> str:
    """'fieldpeer.sync.wire' -> 'sync.wire'; 'fieldpeer.store.notes' -> 'store'."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] == "sync" and len(parts) > 1 and parts[1] in ("wire", "sealing"):
        return f"sync.{parts[1]}"
    return parts[0]


def fieldpeer_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("fieldpeer"):
            if node.module == "fieldpeer":  # from fieldpeer import store
                found |= {f"fieldpeer.{alias.name}" for alias in node.names}
            else:
                found |= {f"{node.module}.{alias.name}" if node.module == "fieldpeer.sync" else node.module for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("fieldpeer.")}
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    module = "fieldpeer." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    room = room_of(module)
    if room in WIRING:
        return
    assert room in ALLOWED, f"{module}: a new room; add it to ALLOWED with the rooms it may use"
    wrong = sorted(m for m in fieldpeer_imports(path) if room_of(m) not in ALLOWED[room] | {room})
    assert not wrong, f"{module} ({room}) imports {wrong}: dependencies run domain <- records <- store <- sync <- screens, and domain <- records <- agency"


def test_the_rule_catches_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from fieldpeer.sync.client import sync\nfrom fieldpeer import store\n")
    assert {room_of(m) for m in fieldpeer_imports(bad)} == {"sync", "store"}
    assert "store" not in ALLOWED["agency"] and "sync" not in ALLOWED["store"]
