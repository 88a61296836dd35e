"""Schemathesis against each service's OpenAPI, in-process: no 5xx on any input, every response
(status, content type, body) as documented.

Each app runs on its own SQLite file with a real broker of this module's own (not the session's:
metrics' rebuild re-reads every topic from offset 0, and what the other suites left there is no
business of the fuzzer's); schemathesis starts its lifespan on the first request and the
fixture stops it after the service's tests. (schemathesis'
`from_fixture(...).parametrize()` needs `Node._nodeid`, which pytest 9 removed: hence the loop.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.testclient import TestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpdesk_intake.app import create_app as intake_app
from helpdesk_intake.config import IntakeSettings
from helpdesk_metrics.app import create_app as metrics_app
from helpdesk_metrics.config import MetricsSettings
from helpdesk_routing.app import create_app as routing_app
from helpdesk_routing.config import RoutingSettings
from helpdesk_runtime.auth import AuthSettings, mint_token
from helpdesk_runtime.settings import KafkaSettings
from helpdesk_sla.app import create_app as sla_app
from helpdesk_sla.config import SlaSettings
from helpdesk_surveys.app import create_app as surveys_app
from helpdesk_surveys.config import SurveysSettings
from helpdesk.testing.broker import TansuBroker

# schemathesis' own strategies touch `random` (its business, not ours).
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

SECRET = "fuzzing-secret-0123456789abcdefghijklmnop"
AUTH = AuthSettings(secret=SecretStr(SECRET))
TOKEN = mint_token(AUTH, "fuzzer", ["admin"])
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Readiness answers a documented 503 while the broker is briefly out of reach.
READINESS_CHECKS = CHECKS[1:]
#: Small per operation: five services, ~80 operations, two cores shared with other suites.
#: `HELPDESK_FUZZ_EXAMPLES=200 pytest tests/fuzz` digs deeper.
FUZZ = settings(max_examples=int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "8")), deadline=None,
                derandomize=True, database=None, suppress_health_check=list(HealthCheck))

Factory = Callable[[dict[str, Any]], FastAPI]
FACTORIES: dict[str, Factory] = {
    "intake": lambda common: intake_app(IntakeSettings(**common)),
    "routing": lambda common: routing_app(RoutingSettings(**common)),
    "sla": lambda common: sla_app(SlaSettings(**common)),
    "metrics": lambda common: metrics_app(MetricsSettings(**common)),
    "surveys": lambda common: surveys_app(
        SurveysSettings(public_url="https://desk.example", **common), run_jobs=False
    ),
}


@pytest.fixture(scope="module")
def fuzz_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private broker, empty but for what the fuzzed apps publish."""
    broker = TansuBroker(log_path=tmp_path_factory.mktemp("fuzz-tansu") / "tansu.log")
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def schema(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           fuzz_broker: str) -> Iterator[schemathesis.BaseSchema]:
    """One service's schema, its app running (started by the first request) until its tests end."""
    database = tmp_path_factory.mktemp(request.param) / f"{request.param}.db"
    common = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "kafka": KafkaSettings(bootstrap_servers=fuzz_broker),
        "auth": AUTH,
        "log_level": "ERROR",
        "log_json": False,
    }
    app = FACTORIES[request.param](common)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    try:
        yield loaded
    finally:
        shutdown_lifespans()


class KnownIds:
    """Ids the API handed out (`id` of a 2xx POST to a collection), keyed by the path parameter
    that names them: random ids only reach the 404, these reach the handlers' real work."""

    def __init__(self, schema: schemathesis.BaseSchema) -> None:
        self.param_of: dict[str, str] = {}
        for path in schema.raw_schema.get("paths", {}):
            collection, _, last = path.rpartition("/")
            if last.startswith("{") and last.endswith("}"):
                self.param_of.setdefault(collection, last[1:-1])
        self.ids: dict[str, list[str]] = {}

    def record(self, case: schemathesis.Case, response: schemathesis.Response) -> None:
        """Remember the id a successful create returned."""
        param = self.param_of.get(case.operation.path)
        if case.method.upper() != "POST" or param is None or not 200 <= response.status_code < 300:
            return
        body = response.json() if response.content else None
        if isinstance(body, dict) and isinstance(body.get("id"), str | int):
            self.ids.setdefault(param, []).append(str(body["id"]))

    def substitute(self, case: schemathesis.Case, data: st.DataObject) -> None:
        """Point some path parameters at existing resources."""
        for name in list(case.path_parameters or {}):
            known = self.ids.get(name)
            if known and data.draw(st.booleans(), label=f"existing {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)


def fuzz(operation: schemathesis.APIOperation, known: KnownIds) -> None:
    """Valid and invalid requests to one operation, each checked against the documented responses."""
    strategy = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))

    @FUZZ
    @given(case=strategy, data=st.data())
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        known.substitute(case, data)
        checks = READINESS_CHECKS if operation.path == "/readyz" else CHECKS
        # Generous: a metrics rebuild re-reads every topic, slow on two busy cores.
        response = case.call_and_validate(headers=HEADERS, checks=checks, timeout=120)
        known.record(case, response)

    run()


def test_api_answers_any_input_as_documented(
    schema: schemathesis.BaseSchema, subtests: pytest.Subtests
) -> None:
    known = KnownIds(schema)
    for result in schema.get_all_operations():
        operation = result.ok()
        with subtests.test(operation.label):
            fuzz(operation, known)


def test_bodies_over_the_limit_are_413_problems(schema: schemathesis.BaseSchema) -> None:
    # A route that reads a body (one that ignores it never holds a chunked body in memory).
    operation = next(op.ok() for op in schema.get_all_operations() if len(op.ok().body) > 0)
    method, path = operation.method.upper(), operation.path.replace("{", "").replace("}", "")
    too_big = b"x" * (2 * 1_048_576)

    def chunked() -> Iterator[bytes]:
        for start in range(0, len(too_big), 65_536):
            yield too_big[start:start + 65_536]

    # Not as a context manager: that would start a second lifespan of the app (a second
    # runtime on the same database) beside the one schemathesis started; the limit needs none.
    http = TestClient(schema.app)
    for body in (too_big, chunked()):
        response = http.request(method, path, content=body,
                                headers={**HEADERS, "content-type": "application/json"})
        assert response.status_code == 413, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
