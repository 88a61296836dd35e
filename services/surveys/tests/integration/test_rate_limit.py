"""The public survey link endpoints (API and HTML form) share one rate limit per client address."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import NO_AUTH
from helpdesk_surveys.app import create_app
from helpdesk_surveys.config import SurveysSettings

from .conftest import unreachable_kafka


async def test_guessing_links_hits_the_limit_and_other_clients_do_not(sqlite_url: str) -> None:
    settings = SurveysSettings(auth=NO_AUTH, database_url=sqlite_url, kafka=unreachable_kafka(),
                               link_rate_per_minute=3)
    app = create_app(settings, run_jobs=False)

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app, client=(address, 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://t")

    async with LifespanManager(app), client("10.0.0.1") as guesser, client("10.0.0.2") as other:
        assert (await guesser.get("/v1/surveys/guess-1")).status_code == 404
        answer = await guesser.post("/v1/surveys/guess-2/responses", json={"answers": []})
        assert answer.status_code in (404, 422)
        assert (await guesser.get("/s/guess-3")).status_code == 404
        for refused in (await guesser.get("/v1/surveys/guess-4"), await guesser.post("/s/guess-5")):
            assert refused.status_code == 429
            assert refused.headers["content-type"] == "application/problem+json"
            assert int(refused.headers["retry-after"]) >= 1
        assert (await other.get("/v1/surveys/guess-6")).status_code == 404
