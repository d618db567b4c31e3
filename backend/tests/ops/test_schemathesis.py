"""Property-based API testing with Schemathesis against the app's own OpenAPI schema.

Every operation (uploads included) is called over real HTTP, signed in as a real user, with
a bounded, derandomized set of generated inputs (valid and invalid). Each response must not
be a 5xx, must use a documented status code and content type, and its body must match the
documented schema (the error shape included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.conftest import make_settings
from tests.ops.test_faults import LiveServer, module_database

MAX_EXAMPLES = 15
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def st_database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    yield from module_database(pg_admin_url, "schemathesis")


@pytest.fixture(scope="module")
def st_server(st_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from app.main import create_app

    settings_ = make_settings(
        st_database_url,
        tmp_path_factory.mktemp("schemathesis"),
        # Generated requests register and log in far more often than a person would.
        rate_limit_enabled=False,
        run_worker=False,  # uploads are accepted and queued; ingestion is tested elsewhere
        log_level="ERROR",
    )
    with LiveServer(create_app(settings_)) as live:
        yield live


@pytest.fixture(scope="module")
def st_auth(st_server: LiveServer) -> dict[str, str]:
    with httpx.Client(base_url=st_server.base_url) as client:
        account = {
            "email": "schemathesis@example.com",
            "password": "correct-horse-battery",
            "full_name": "Schemathesis",
        }
        assert client.post("/api/v1/auth/register", json=account).status_code == 201
        login = client.post(
            "/api/v1/auth/login",
            json={"email": account["email"], "password": account["password"]},
        )
        assert login.status_code == 200
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
def api_schema(st_server: LiveServer) -> Any:
    loaded = schemathesis.openapi.from_url(f"{st_server.base_url}/openapi.json")
    # Unknown query parameters are ignored, as by most HTTP APIs: not "invalid" input here.
    loaded.config.generation.update(allow_extra_parameters=False, deterministic=True)
    return loaded


def _documented_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the schema, read from the app itself at
    collection time (no server needed), so each one is its own test."""
    from app.core.settings import Settings
    from app.main import create_app

    unused = Settings(_env_file=None, database_url="postgresql://unused/db", log_level="ERROR")
    paths = create_app(unused).openapi()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


OPERATIONS = _documented_operations()


def test_every_operation_is_exercised(api_schema: Any) -> None:
    live = {
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    }
    assert live == set(OPERATIONS)
    assert ("POST", "/api/v1/documents") in live  # the multipart upload
    assert ("POST", "/api/v1/chats/{chat_id}/messages") in live  # the SSE stream
    assert len(live) >= 18, live  # /health and /ready are plain routes outside the schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_matches_its_schema(
    api_schema: Any, st_auth: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    calls: list[int] = []
    selected = CHECKS
    if (method, path) == ("POST", "/api/v1/documents"):
        # An "invalid" file (a JSON object instead of a string) is still just bytes in a
        # multipart file part on the wire: accepting it as a text document is correct.
        selected = [check for check in CHECKS if check is not checks.negative_data_rejection]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=st_auth, checks=selected, timeout=30)
        calls.append(response.status_code)

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE
        pytest.skip(f"{method} {path} takes no input that could be made invalid")
    assert calls, "no request was made"
