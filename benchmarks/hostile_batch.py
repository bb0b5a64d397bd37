"""A device with real keys sends a million-entry sealed batch (SECURITY.md, finding 5).

    .venv/bin/python -m benchmarks.hostile_batch [--shapes million,many,escaped,numbers,spaced] [--rounds 3]

One agency server process (SQLite) on loopback. A real enrolled device seals and signs a batch
of tiny entries (SHAPES: a million; 250,000 that fit the size cap; the largest batch whose
entry count the cheap check cannot see) and pushes it `--rounds` times in a row. Meanwhile one thread asks /health every 50 ms and another, honest device pushes a
one-note batch every 200 ms; a sampler reads the server's RSS from /proc every 20 ms.
Reported: how long the refusal took, the server's RSS above its idle level, and /health and
honest-push latency while under attack. Bounded: every loop stops when the rounds are done.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from fieldpeer.store import notes, outbox
from fieldpeer.sync.client import SyncClient
from fieldpeer.sync.sealing import seal
from fieldpeer.sync.wire import API, SEALED_MEDIA_TYPE, push_context
from tests.servers import AgencyProcess
from tests.test_sync_integration import enrolled_phone


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


SHAPES = {
    # the tester's batch: a million minimal entries (28 MB of JSON, 2 MB sealed)
    "million": (1_000_000, b'{"entry_id":"e%d","record":{}}'),
    # just under the unpacked-size cap, so only the entry count stops it
    "many": (200_000, b'{"entry_id":"e%d","record":{}}'),
    # the key spelled with a JSON escape (the entry count misses it), as many as the value cap lets through: parsed
    "escaped": (24_900, b'{"entry\\u005fid":"e%d","record":{}}'),
    # one entry, a record holding as many numbers as the value bound lets through
    "numbers": (99_900, b"100000"),
    # the same with ", " between them (how prose looks), as many as that looser bound lets through
    "spaced": (199_000, b'"abcdefghij"'),
}


def hostile_body(client: SyncClient, shape: str, entries: int | None = None) -> bytes:
    """Minimal entries, built as bytes (a dict per entry would cost the attacker a gigabyte)."""
    count, entry = SHAPES[shape]
    if shape in ("numbers", "spaced"):
        separator = b", " if shape == "spaced" else b","
        parts = [b'{"batch_id":"attack","entries":[{"entry_id":"e","record":{"x":[', separator.join([entry] * (entries or count)), b"]}}]}"]
    else:
        parts = [b'{"batch_id":"attack","entries":[', b",".join(entry % i for i in range(entries or count)), b"]}"]
    return seal(b"".join(parts), recipient_box=client.agency_box, sender=client.keys, context=push_context(client.device_id))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def run(root: Path, shape: str, entries: int | None, rounds: int) -> dict[str, float | str]:
    server = AgencyProcess(f"sqlite:///{root / 'agency.db'}", root / "keys", root / "agency.log")
    server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        attacker = enrolled_phone(server, root / "attacker").client
        honest = enrolled_phone(server, root / "honest")
        body = hostile_body(attacker, shape, entries)
        time.sleep(0.5)
        idle = rss_mib(pid)
        stop = threading.Event()
        peak = [idle]
        health: list[float] = []
        honest_ms: list[float] = []
        honest_errors: list[str] = []

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mib(pid))
                time.sleep(0.02)

        def ask_health() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                while not stop.is_set():
                    began = time.perf_counter()
                    http.get(f"{API}/health")
                    health.append((time.perf_counter() - began) * 1000)
                    time.sleep(0.05)

        def honest_pushes() -> None:
            n = 0
            while not stop.is_set():
                notes.log_phone_contact(honest.store, honest.person_ids[0], 5, f"call {n}", ended_at=datetime(2026, 11, 25, 9, 0) + timedelta(minutes=n))
                n += 1
                began = time.perf_counter()
                summary = honest.client.push()
                honest_ms.append((time.perf_counter() - began) * 1000)
                if not summary.ok:
                    honest_errors.append(summary.error)
                time.sleep(0.2)

        threads = [threading.Thread(target=f, daemon=True) for f in (sample, ask_health, honest_pushes)]
        for t in threads:
            t.start()
        time.sleep(1.0)  # a baseline under normal traffic
        baseline_health = list(health)
        health.clear()
        refusals: list[float] = []
        answers: list[str] = []
        headers = {"Authorization": f"Bearer {attacker.token}", "Content-Type": SEALED_MEDIA_TYPE}
        with httpx.Client(base_url=server.url, timeout=300) as http:
            for _ in range(rounds):
                began = time.perf_counter()
                response = http.post(f"{API}/push", headers=headers, content=body)
                refusals.append(time.perf_counter() - began)
                answers.append(f"{response.status_code} {response.json().get('code', '') if response.headers.get('content-type', '').startswith('application/json') else ''}")
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        pending = outbox.counts(honest.store).pending
        return {
            "shape": shape,
            "entries": entries or SHAPES[shape][0],
            "body kB": len(body) / 1024,
            "answer": ", ".join(sorted(set(answers))),
            "refused in s (max)": max(refusals),
            "server RSS idle MiB": idle,
            "server RSS peak above idle MiB": peak[0] - idle,
            "/health p50 ms before": statistics.median(baseline_health) if baseline_health else float("nan"),
            "/health p50 ms under attack": statistics.median(health) if health else float("nan"),
            "/health max ms under attack": max(health) if health else float("nan"),
            "honest push p50 ms under attack": statistics.median(honest_ms) if honest_ms else float("nan"),
            "honest push max ms under attack": max(honest_ms) if honest_ms else float("nan"),
            "honest push errors": len(honest_errors),
            "honest records left unsent": pending,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="which hostile batches: " + ", ".join(SHAPES))
    parser.add_argument("--entries", type=int, default=None, help="override the entry count of every shape")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = []
    for shape in args.shapes.split(","):
        with tempfile.TemporaryDirectory(prefix="fieldpeer-hostile-") as tmp:
            results.append(run(Path(tmp), shape, args.entries, args.rounds))
    print(f"\nFieldPeer agency under hostile batches from one enrolled device ({args.rounds} rounds each; SQLite, one server process)\n")
    names = list(results[0])
    print("| " + " | ".join(f"{n:<34}" if i == 0 else f"{r['shape']:>14}" for i, (n, r) in enumerate(zip(["measure", *[""] * len(results)], [results[0], *results], strict=True))) + " |")
    for name in names[1:]:
        cells = []
        for r in results:
            value = r[name]
            cells.append(f"{value:,.1f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value))
        print(f"| {name:<34} | " + " | ".join(f"{c:>14}" for c in cells) + " |")
    for r in results:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))


if __name__ == "__main__":
    main()
