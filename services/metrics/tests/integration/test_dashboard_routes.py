"""The dashboard page and its assets are public and local, while the API behind them needs a token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import bearer, enabled_auth
from helpdesk_metrics.app import create_app
from helpdesk_metrics.config import MetricsSettings
from helpdesk_metrics.dashboard.routes import ASSETS, STATIC
from helpdesk_runtime.settings import KafkaSettings


@pytest.fixture
async def http(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A metrics app with authentication on, no broker."""
    app = create_app(MetricsSettings(
        auth=enabled_auth(), database_url=sqlite_url, kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        log_level="WARNING", log_json=False, gauge_refresh_seconds=0))
    async with LifespanManager(app, startup_timeout=60):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            yield client


async def test_the_page_and_every_asset_load_without_a_token_and_only_from_this_origin(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "//" not in page.text.replace("<!doctype html>", "")  # no CDN or other host
    for path, media_type in ASSETS.items():
        asset = await http.get(f"/dashboard/static/{path}")
        assert asset.status_code == 200, path
        assert asset.headers["content-type"] == media_type
        assert f"/dashboard/static/{path}" in page.text
    assert (STATIC / "vendor/chart.js-4.6.1/LICENSE.md").is_file()


async def test_files_off_the_allow_list_are_not_served(http: httpx.AsyncClient) -> None:
    for path in ("index.html", "../routes.py", "vendor/chart.js-4.6.1/LICENSE.md", "%2e%2e/routes.py"):
        assert (await http.get(f"/dashboard/static/{path}")).status_code == 404, path


async def test_the_api_the_page_calls_needs_the_bearer_token_it_sends(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/kpis")).status_code == 401
    assert (await http.get("/v1/kpis", headers=bearer("admin"))).status_code == 200
