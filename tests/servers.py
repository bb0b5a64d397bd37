"""Real servers for integration tests: the agency server as a subprocess, and a throwaway PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0, ca_file: Path | None = None) -> None:
    verify: ssl.SSLContext | bool = True
    if ca_file:  # only "is it up?": the name on the certificate is what the TLS tests check
        verify = ssl.create_default_context(cafile=str(ca_file))
        verify.check_hostname = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"agency server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError("agency server did not become healthy")


class AgencyProcess:
    """`fieldpeer agency serve` on a loopback port; restartable (same port, same database, same keys)."""

    def __init__(self, db_url: str, key_dir: Path, log_path: Path, *, tls: tuple[Path, Path, Path] | None = None, options: tuple[str, ...] = ()) -> None:
        """`tls`: (certificate, key, CA that signed it) to serve HTTPS; `options`: more `serve` flags."""
        self.db_url = db_url
        self.key_dir = key_dir
        self.log_path = log_path
        self.port = free_port()
        self.tls = tls
        self.options = [*options, *(["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])] if tls else [])]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldpeer.cli", "agency", "--db", self.db_url, "serve", "--port", str(self.port), "--keys", str(self.key_dir), *self.options],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        wait_until_healthy(self.url, self.process, ca_file=self.tls[2] if self.tls else None)

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything (like a crash or power loss)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    """A private PostgreSQL cluster in a temp folder, on a loopback port, removed afterwards."""

    def __init__(self, base: Path) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found: scripts/setup.sh --test installs them")
        self.bindir = bindir
        self.data = base / "pgdata"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            base.chmod(0o755)
            for parent in base.parents:
                if parent == Path("/"):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o011)  # let postgres traverse into the temp folder
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200"
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l", str(self.data / "server.log"), "start")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE fieldpeer")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/fieldpeer"

    def fresh_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
