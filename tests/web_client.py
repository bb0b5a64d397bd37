"""An HTTP client that uses the agency's web pages as a browser does: it signs in through the
sign-in form (pre-sign-in cookie + CSRF field), keeps the session cookie, sends Origin on every
POST and adds the CSRF token of the last page it read to every form it posts."""

from __future__ import annotations

import re
from typing import Any

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


class PageClient(httpx.Client):
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(base_url=base_url, **kwargs)
        self.origin = base_url.rstrip("/")
        self.csrf = ""

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        if method.upper() == "POST":
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Origin", self.origin)
            kwargs["headers"] = headers
            data = dict(kwargs.pop("data", None) or {})
            data.setdefault("csrf", self.csrf)
            kwargs["data"] = data
        response = super().request(method, url, **kwargs)
        if found := CSRF.search(response.text if "html" in response.headers.get("content-type", "") else ""):
            self.csrf = found.group(1)
        return response

    def sign_in(self, area: str, token: str) -> httpx.Response:
        """`area` is "/supervisor" or "/admin"; answers the sign-in POST's response (a 303)."""
        self.get(f"{area}/login")
        answer = self.post(f"{area}/login", data={"token": token}, follow_redirects=False)
        self.get(answer.headers["location"])  # the first signed-in page: its forms carry the session's token
        return answer
