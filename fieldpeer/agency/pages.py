"""How the supervisor's web pages are rendered: on the server, from Jinja2 templates (templates/,
every value autoescaped): the sign-in page, the review queue (urgent safety alerts first, then
alerts being followed up, then notes), a peer's contacts by period with the mode mix, outreach
attempts, caseload flags and open alerts. Plain HTML forms (no JavaScript), labelled controls,
48 px targets. The routes are in routes/supervisor_pages.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from fieldpeer.agency.tables import Supervisor

BASE = "/supervisor"
COOKIE = "fieldpeer_supervisor"
HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"}
DONE = {
    "cosigned": "Note co-signed. The peer sees it at the next sync.",
    "returned": "Note returned to the peer with your comment.",
    "acknowledged": "Alert acknowledged. The peer sees who is following up at the next sync.",
    "closed": "Alert closed. The peer sees it at the next sync.",
}

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, undefined=StrictUndefined, trim_blocks=True)
TEMPLATES.globals["base"] = BASE


def page(template: str, title: str, supervisor: Supervisor | None = None, done: str = "", **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(title=title, supervisor=supervisor, done=done, **context)
    return HTMLResponse(html, headers=HEADERS)


def message(title: str, text: str, supervisor: Supervisor | None = None, error: bool = True) -> HTMLResponse:
    return page("message.html", title, supervisor, message=text, error=error)
