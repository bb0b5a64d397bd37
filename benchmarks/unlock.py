"""Unlock cost: scrypt key derivation at the production cost, then opening the store.

    .venv/bin/python -m benchmarks.unlock [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fieldpeer.store.profile import Profile
from fieldpeer.store.vault import DEFAULT_COST
from tests.conftest import make_peer

PIN = "482913"


def measure(repeat: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="fieldpeer-bench-") as tmp:
        profile = Profile(Path(tmp) / "profile")
        profile.set_up(PIN, make_peer()).close()
        vault_ms, open_ms = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            profile.vault.unlock(PIN)
            vault_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            profile.unlock(PIN).close()
            open_ms.append((time.perf_counter() - began) * 1000 - vault_ms[-1])
    cost = DEFAULT_COST
    return [
        ("scrypt cost", f"N=2^{cost.n.bit_length() - 1}, r={cost.r}, p={cost.p} ({128 * cost.r * cost.n // 2**20} MiB)"),
        ("vault unlock (median ms)", f"{statistics.median(vault_ms):.1f}"),
        ("vault unlock (min-max ms)", f"{min(vault_ms):.1f}-{max(vault_ms):.1f}"),
        ("rest of unlock: open + migrate check (median ms)", f"{max(0.0, statistics.median(open_ms)):.1f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(f"\nFieldPeer unlock benchmark: {args.repeat} runs\n")
    print(f"| {'measure':<48} | {'value':>34} |")
    print(f"|{'-' * 50}|{'-' * 36}|")
    for name, value in measure(args.repeat):
        print(f"| {name:<48} | {value:>34} |")


if __name__ == "__main__":
    main()
