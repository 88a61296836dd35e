"""The ops dashboard: one HTML page and its local assets, public (its API calls carry the token)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from helpdesk_runtime.problems import Problem

STATIC = Path(__file__).parent / "static"
CHART_JS = "vendor/chart.js-4.6.1/chart.umd.js"
#: Every file the page may load; anything else under static/ is not served.
ASSETS: dict[str, str] = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    CHART_JS: "text/javascript; charset=utf-8",
}
# Everything comes from this origin: the page works offline and injected content cannot load scripts.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/dashboard")
async def dashboard_page() -> FileResponse:
    """The dashboard page (no token needed: it asks for one and sends it on every API call)."""
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/dashboard/static/{path:path}")
async def dashboard_asset(path: str) -> FileResponse:
    """One of the page's scripts or stylesheets, from the allow-list."""
    media_type = ASSETS.get(path)
    if media_type is None:
        raise Problem(404, "Not found", f"No dashboard asset named {path!r}.")
    return FileResponse(STATIC / path, media_type=media_type,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})
