"""How the phone reaches the agency: HTTPS with TLS 1.2 or newer and a verified certificate.

Plain HTTP is allowed only to this machine (the demo and the tests run on loopback). An
agency with its own certificate authority points ``FIELDPEER_AGENCY_CA`` at its PEM file.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx

CA_ENV = "FIELDPEER_AGENCY_CA"


class InsecureServer(ValueError):
    """The agency address or its certificate cannot be trusted; retrying will not help."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """HTTPS only, except to this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return url.rstrip("/")
    raise InsecureServer("The agency address must start with https:// so notes cannot be read on the way.")


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Certificate and host name verified (the default context), nothing older than TLS 1.2."""
    ca = ca_file or os.environ.get(CA_ENV)
    # No CA given: the public CAs httpx ships (certifi), as on a phone without a system bundle.
    context = ssl.create_default_context(cafile=str(ca)) if ca else httpx.create_ssl_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def agency_http(timeout: float = 30.0, ca_file: str | Path | None = None) -> httpx.Client:
    # trust_env=False: a proxy or CA bundle from the environment must not quietly widen trust.
    # follow_redirects=False: a redirect is a captive portal's login page, never the agency.
    return httpx.Client(timeout=timeout, verify=tls_context(ca_file), trust_env=False, follow_redirects=False)


def is_certificate_failure(exc: BaseException) -> bool:
    """A TLS failure (wrong certificate, old protocol) rather than a network that is down."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
