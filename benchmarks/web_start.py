"""Field app in web mode: from starting the server to a usable screen, and memory at scale.

    .venv/bin/python -m benchmarks.web_start [--repeat 3]

`fieldpeer web` on a copy of the 50,000-note profile, opened in headless Chromium (390x844):
server start until HTTP answers, until the PIN field is usable, then unlock to the caseload,
and the server's resident memory after the caseload and a 1,000-entry timeline are shown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.field_data import PIN, big_profile
from tests.browser import FieldAppProcess, phone_browser


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one_run(profile_root: Path, shots: Path) -> dict[str, float]:
    app_process = FieldAppProcess(profile_root, profile_root.parent / "web.log")
    began = time.perf_counter()
    app_process.start()
    serving = time.perf_counter() - began
    try:
        with phone_browser(shots) as app:
            app.open(app_process.url)
            app.wait_id("unlock")
            usable = time.perf_counter() - began
            app.fill("PIN", PIN)
            unlock_began = time.perf_counter()
            app.tap("unlock")
            app.page.locator('[flt-semantics-identifier^="person-"]').first.wait_for(state="visible", timeout=60_000)
            unlocked = time.perf_counter() - unlock_began
            app.page.locator('[flt-semantics-identifier^="person-"]', has_text="Person 00").first.click()  # 1,000 entries
            app.page.locator('[flt-semantics-identifier^="timeline-"]').first.wait_for(state="attached", timeout=60_000)
            assert app_process.process is not None
            memory = rss_mib(app_process.process.pid)
    finally:
        app_process.stop()
    return {"serving": serving, "usable": usable, "unlock": unlocked, "rss": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="fieldpeer-web-") as tmp:
        for _ in range(args.repeat):
            with big_profile() as profile:
                runs.append(one_run(profile.root, Path(tmp)))

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"\nFieldPeer field app, web mode, 60 persons and 50,000 notes; median of {args.repeat} runs\n")
    print(f"| {'measure':<50} | {'value':>8} |")
    print(f"|{'-' * 52}|{'-' * 10}|")
    for name, value in [
        ("server start until HTTP answers (s)", f"{med('serving'):.1f}"),
        ("server start until the PIN screen is usable (s)", f"{med('usable'):.1f}"),
        ("unlock (scrypt included) until the caseload shows (s)", f"{med('unlock'):.2f}"),
        ("server resident memory after caseload + timeline (MiB)", f"{med('rss'):.0f}"),
    ]:
        print(f"| {name:<50} | {value:>8} |")


if __name__ == "__main__":
    main()
